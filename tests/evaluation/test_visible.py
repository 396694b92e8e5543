"""Evaluation at visible tokens: against a dense reference, with padding and specials left out."""

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from mlm_book.evaluation.visible import evaluate_visible
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.utils.special_tokens import CLS_ID, IGNORE_INDEX, MASK_ID

CONFIG = ModelConfig(vocab_size=131, d_model=24, n_heads=2, n_layers=2, d_ff=37, max_len=40)


def _batch(rows: int = 3, length: int = 11, seed: int = 1) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 131, (rows, length), generator=g)
    ids[:, 0] = CLS_ID
    attention = torch.ones_like(ids)
    attention[0, length - 3 :] = 0
    selected = (torch.rand(rows, length, generator=g) < 0.3) & attention.bool()
    selected[:, 0] = False
    labels = torch.where(selected, ids, IGNORE_INDEX)
    return {"input_ids": ids.masked_fill(selected, MASK_ID), "attention_mask": attention, "labels": labels}


def test_matches_a_dense_reference() -> None:
    model = MLMModel(CONFIG, generator=torch.Generator().manual_seed(0)).train()
    batches = [_batch(), _batch(2, 7, seed=2)]
    logits, targets = [], []
    model.eval()
    with torch.no_grad():
        for b in batches:
            out = model(b["input_ids"], b["attention_mask"]).logits  # (B, T, V)
            keep = b["attention_mask"].bool() & (b["labels"] == IGNORE_INDEX) & (b["input_ids"] > MASK_ID)
            logits.append(out[keep])
            targets.append(b["input_ids"][keep])
    model.train()
    logits, targets = torch.cat(logits), torch.cat(targets)
    scores = evaluate_visible(model, batches)
    assert scores.n_predictions == len(targets)
    assert math.isclose(scores.loss, float(F.cross_entropy(logits, targets)), rel_tol=1e-5)
    assert scores.accuracy == pytest.approx(float((logits.argmax(-1) == targets).float().mean()))
    assert model.training  # its mode is restored


def test_padding_specials_and_selected_positions_are_not_scored() -> None:
    model = MLMModel(CONFIG, generator=torch.Generator().manual_seed(0))
    batch = _batch()
    real = batch["attention_mask"].bool()
    expected = real & (batch["labels"] == IGNORE_INDEX) & (batch["input_ids"] != CLS_ID)
    assert evaluate_visible(model, [batch]).n_predictions == int(expected.sum())


def test_a_model_that_copies_its_input_scores_perfectly() -> None:
    class Copier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = torch.nn.Parameter(torch.tensor(50.0))

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> SimpleNamespace:
            return SimpleNamespace(logits=self.scale * F.one_hot(input_ids, 131).float())

    scores = evaluate_visible(Copier(), [_batch()])
    assert scores.accuracy == 1.0 and scores.loss < 1e-6


def test_no_visible_token_is_an_error() -> None:
    model = MLMModel(CONFIG)
    batch = _batch()
    batch["labels"] = batch["input_ids"].clone()  # everything selected
    with pytest.raises(ValueError, match="no unselected real token"):
        evaluate_visible(model, [batch])
