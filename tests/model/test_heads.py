"""Task heads: losses equal a from-scratch computation, pretrained weights are copied, files round-trip."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mlm_book.model.config import ModelConfig
from mlm_book.model.heads import TaskModel
from mlm_book.model.mlm import MLMModel
from mlm_book.model.task_checkpoint import is_task_model_dir, load_task_model, save_task_model

CONFIG = ModelConfig(vocab_size=301, d_model=32, n_heads=2, n_layers=2, d_ff=37, max_len=23, dropout=0.0)


def _batch(generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(5, 301, (3, 11), generator=generator)
    mask = torch.ones(3, 11, dtype=torch.long)
    mask[1, 7:] = 0
    return ids, mask


def test_token_loss_is_cross_entropy_over_labelled_tokens() -> None:
    g = torch.Generator().manual_seed(0)
    model = TaskModel(CONFIG, "token", 5, generator=g).eval()
    ids, mask = _batch(g)
    labels = torch.randint(0, 5, (3, 11), generator=g)
    labels[:, 0] = labels[1, 7:] = labels[2, 3] = -100
    out = model(ids, mask, labels)
    assert out.logits.shape == (3, 11, 5)
    kept = labels != -100
    assert torch.allclose(out.loss, F.cross_entropy(out.logits[kept], labels[kept]))


def test_sequence_head_pools_cls_with_tanh_and_its_loss_is_cross_entropy() -> None:
    g = torch.Generator().manual_seed(1)
    model = TaskModel(CONFIG, "sequence", 3, generator=g).eval()
    ids, mask = _batch(g)
    labels = torch.tensor([0, 2, 1])
    out = model(ids, mask, labels)
    hidden = model.encoder.encode(ids, mask).hidden_states[:, 0]
    expected = model.head.classifier(torch.tanh(model.head.pooler(hidden)))
    assert torch.allclose(out.logits, expected, atol=1e-6)
    assert torch.allclose(out.loss, F.cross_entropy(expected, labels), atol=1e-6)


def test_span_loss_is_the_mean_of_start_and_end_cross_entropies() -> None:
    g = torch.Generator().manual_seed(2)
    model = TaskModel(CONFIG, "span", generator=g).eval()
    ids, mask = _batch(g)
    starts, ends = torch.tensor([1, 4, 2]), torch.tensor([3, 4, 6])
    out = model(ids, mask, start_positions=starts, end_positions=ends)
    assert out.logits.shape == (3, 11, 2) and model.num_labels == 2
    expected = (F.cross_entropy(out.start_logits, starts) + F.cross_entropy(out.end_logits, ends)) / 2
    assert torch.allclose(out.loss, expected)
    assert model(ids, mask).loss is None


def test_from_pretrained_copies_the_encoder_and_leaves_the_model_alone() -> None:
    pretrained = MLMModel(CONFIG, generator=torch.Generator().manual_seed(3))
    before = {k: v.clone() for k, v in pretrained.state_dict().items()}
    model = TaskModel.from_pretrained(pretrained, "token", 4, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    assert all(torch.equal(before[k], v) for k, v in pretrained.state_dict().items())
    ids, _ = _batch(torch.Generator().manual_seed(5))
    fresh = TaskModel.from_pretrained(pretrained, "token", 4, generator=torch.Generator().manual_seed(4)).eval()
    assert torch.allclose(fresh.encoder.encode(ids).hidden_states, pretrained.eval().encode(ids).hidden_states)
    assert not any(k.startswith("encoder.head.") for k in fresh.state_dict())
    scratch = [TaskModel(CONFIG, "token", 4, generator=torch.Generator().manual_seed(6)) for _ in range(2)]
    assert all(torch.equal(a, b) for a, b in zip(scratch[0].state_dict().values(), scratch[1].state_dict().values()))


def test_layer_states_are_optional_and_end_at_the_hidden_states() -> None:
    model = MLMModel(CONFIG, generator=torch.Generator().manual_seed(7)).eval()
    ids, mask = _batch(torch.Generator().manual_seed(8))
    plain = model.encode(ids, mask)
    full = model.encode(ids, mask, output_hidden_states=True)
    assert plain.layer_states is None and len(full.layer_states) == CONFIG.n_layers + 1
    assert torch.equal(full.layer_states[-1], full.hidden_states) and torch.equal(
        plain.hidden_states, full.hidden_states
    )
    assert torch.allclose(full.layer_states[0], model.embeddings(ids))


def test_a_task_model_round_trips_through_its_directory(tmp_path: Path, tiny_tokenizer) -> None:
    model = TaskModel(CONFIG, "sequence", 3, generator=torch.Generator().manual_seed(9)).eval()
    save_task_model(model, tmp_path / "m", task="classify", label_names=("a", "b", "c"), tokenizer=tiny_tokenizer)
    assert is_task_model_dir(tmp_path / "m") and not is_task_model_dir(tmp_path)
    loaded = load_task_model(tmp_path / "m")
    ids, mask = _batch(torch.Generator().manual_seed(10))
    assert torch.equal(loaded.model(ids, mask).logits, model(ids, mask).logits)
    assert (loaded.task, loaded.label_names, loaded.tokenizer.get_vocab_size()) == ("classify", ("a", "b", "c"), 99)


@pytest.mark.parametrize(
    ("kind", "labels", "message"), [("tags", 2, "unknown head kind 'tags'"), ("token", 1, "num_labels must be")]
)
def test_bad_heads_are_refused(kind: str, labels: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TaskModel(CONFIG, kind, labels)
