"""One optimizer step: the global-mean loss over micro-batches, empty micro-batches, the NaN guard."""

import pytest
import torch

from mlm_book.data.batches import split_batch
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.training.distributed import DistributedContext
from mlm_book.training.optim import Schedule, make_optimizer, make_scheduler
from mlm_book.training.step import StepTools, TrainingDiverged, train_step
from mlm_book.utils.precision import Numerics
from mlm_book.utils.special_tokens import IGNORE_INDEX

CONFIG = ModelConfig(vocab_size=61, d_model=16, n_heads=2, n_layers=1, d_ff=37, max_len=16, dropout=0.0)


def _setup() -> tuple[MLMModel, StepTools]:
    model = MLMModel(CONFIG, generator=torch.Generator().manual_seed(0))
    optimizer = make_optimizer(model, lr=1e-2)
    tools = StepTools(
        optimizer,
        make_scheduler(optimizer, Schedule(4)),
        Numerics(torch.device("cpu")),
        None,
        1.0,
        DistributedContext(),
    )
    return model, tools


def _batch(rows: int = 6, length: int = 9) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(5, 61, (rows, length), generator=g)
    # Uneven masking: the first rows hold many more masked positions than the last ones.
    rate = torch.linspace(0.8, 0.1, rows)[:, None]
    labels = torch.where(torch.rand(rows, length, generator=g) < rate, ids, IGNORE_INDEX)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}


def _n(batch: dict[str, torch.Tensor]) -> int:
    return int((batch["labels"] != IGNORE_INDEX).sum())


def test_micro_batches_give_the_global_mean_loss_and_the_same_step() -> None:
    batch = _batch()
    whole_model, whole_tools = _setup()
    whole = train_step(whole_model, [batch], _n(batch), whole_tools, 0)
    split_model, split_tools = _setup()
    split = train_step(split_model, split_batch(batch, 3), _n(batch), split_tools, 0)
    assert split.loss == pytest.approx(whole.loss, abs=1e-6)
    assert split.accuracy == whole.accuracy and split.grad_norm == pytest.approx(whole.grad_norm, rel=1e-5)
    for a, b in zip(whole_model.parameters(), split_model.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    assert whole_tools.scheduler.last_epoch == 1


def test_a_micro_batch_without_masked_positions_is_harmless() -> None:
    batch = _batch()
    batch["labels"][:2] = IGNORE_INDEX
    model, tools = _setup()
    stats = train_step(model, split_batch(batch, 3), _n(batch), tools, 0)
    reference_model, reference_tools = _setup()
    reference = train_step(reference_model, [batch], _n(batch), reference_tools, 0)
    assert stats.loss == pytest.approx(reference.loss, abs=1e-6)
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())


def test_non_finite_loss_raises_without_updating() -> None:
    model, tools = _setup()
    with torch.no_grad():
        model.embeddings.token.weight[7:].fill_(float("inf"))
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(TrainingDiverged, match="the loss became nan at step 5"):
        train_step(model, [_batch()], _n(_batch()), tools, 4)
    for a, b in zip(before, model.parameters()):
        assert torch.equal(a, b) or (a.isnan() == b.isnan()).all()
    assert all(p.grad is None for p in model.parameters())
    assert tools.scheduler.last_epoch == 0
