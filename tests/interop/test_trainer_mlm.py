"""``transformers.Trainer`` trains the package's own MLMModel, fed by the package's masking collator."""

from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer
from transformers import PrinterCallback, Trainer, TrainingArguments

from mlm_book.interop.trainer import TrainerModel
from mlm_book.masking.collator import MaskingCollator
from mlm_book.masking.config import MaskingConfig
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel

CONFIG = ModelConfig(vocab_size=99, d_model=32, n_heads=2, n_layers=2, d_ff=37, max_len=32, dropout=0.0)


def test_the_output_reads_like_a_model_output() -> None:
    model = MLMModel(CONFIG, generator=torch.Generator().manual_seed(0)).eval()
    ids = torch.randint(5, 99, (2, 8), generator=torch.Generator().manual_seed(1))
    labels = torch.full_like(ids, -100)
    labels[:, 3] = ids[:, 3]
    out = model(ids, labels=labels)
    assert out.keys() == ["loss", "logits", "hidden_states"] and out[0] is out.loss and out["logits"] is out[1]
    assert out.logits.shape == (2, 99) and len(out.to_tuple()) == 3 and out[1:] == (out.logits, out.hidden_states)
    unlabelled = model(ids)
    assert unlabelled[0] is unlabelled.logits and unlabelled.logits.shape == (2, 8, 99)
    with pytest.raises(KeyError, match="'loss' is not set in this output"):
        unlabelled["loss"]


def test_trainer_trains_the_package_model_with_its_collator(tiny_tokenizer: Tokenizer, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    sentences = ["the cat sat on the mat", "a dog ran to the big tree", "the bird sat by the tree"] * 8
    rows = [{"input_ids": tiny_tokenizer.encode(s).ids} for s in sentences]
    collator = MaskingCollator(MaskingConfig(mask_prob=0.3), vocab_size=99, generator=torch.Generator().manual_seed(0))
    model = MLMModel(CONFIG, generator=torch.Generator().manual_seed(0))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    args = TrainingArguments(
        output_dir=str(tmp_path), max_steps=4, per_device_train_batch_size=8, learning_rate=1e-3, report_to=[],
        use_cpu=True, save_strategy="no", disable_tqdm=True, logging_steps=1, seed=0,
    )  # fmt: skip
    trainer = Trainer(model=TrainerModel(model), args=args, train_dataset=rows, data_collator=collator)
    trainer.remove_callback(PrinterCallback)
    result = trainer.train()
    assert result.global_step == 4 and torch.isfinite(torch.tensor(result.training_loss))
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert len(losses) == 4 and all(loss > 0 for loss in losses)
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())  # the model itself moved
    # accumulation: two halves, each summed over the whole step's count, add up to the step's mean
    batch = collator(rows[:8])
    whole = TrainerModel(model)(**batch).loss
    n = int((batch["labels"] != -100).sum())
    halves = [
        TrainerModel(model)(**{k: v[i : i + 4] for k, v in batch.items()}, num_items_in_batch=n).loss for i in (0, 4)
    ]
    assert torch.allclose(halves[0] + halves[1], whole, atol=1e-5)
    with pytest.raises(ValueError, match="TrainerModel wraps an MLMModel, got Linear"):
        TrainerModel(torch.nn.Linear(2, 2))
