"""Evaluation: masked loss/accuracy/perplexity against a dense reference; probe scoring."""

import math
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

from mlm_book.evaluation.metrics import evaluate_masked
from mlm_book.evaluation.probes import ProbeResult, probe_accuracy, score_probes
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.tokenization.tokenizer import train_tokenizer
from mlm_book.utils.special_tokens import IGNORE_INDEX, MASK_ID

CONFIG = ModelConfig(vocab_size=131, d_model=24, n_heads=2, n_layers=2, d_ff=37, max_len=40)


@dataclass(frozen=True)
class _Probe:
    text: str
    category: str
    answers: frozenset[str]
    distractors: frozenset[str]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    texts = ["the dogs are barking loudly", "the dog is barking", "an unbelievable elephant sleeps"] * 4
    return train_tokenizer(texts, 120)


def _model(seed: int = 0) -> MLMModel:
    return MLMModel(CONFIG, generator=torch.Generator().manual_seed(seed))


def _batches() -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    out = []
    for rows, length in ((3, 11), (2, 7)):
        ids = torch.randint(5, 131, (rows, length), generator=g)
        attention = torch.ones_like(ids)
        attention[0, length - 3 :] = 0
        labels = torch.where(torch.rand(rows, length, generator=g) < 0.3, ids, IGNORE_INDEX)
        labels[attention == 0] = IGNORE_INDEX
        out.append({"input_ids": ids, "attention_mask": attention, "labels": labels})
    return out


def test_evaluate_masked_matches_a_dense_reference() -> None:
    model = _model().train()
    scores = evaluate_masked(model, _batches())
    assert model.training, "the model's mode must be restored"
    model.eval()
    losses, hits = [], []
    with torch.no_grad():
        for batch in _batches():
            logits = model(batch["input_ids"], batch["attention_mask"]).logits  # (B, T, V), dense
            keep = batch["labels"] != IGNORE_INDEX
            losses.append(F.cross_entropy(logits[keep], batch["labels"][keep], reduction="none"))
            hits.append(logits[keep].argmax(-1) == batch["labels"][keep])
    loss = torch.cat(losses).mean().item()  # a mean over positions, not over batches
    assert scores.n_predictions == len(torch.cat(losses))
    assert scores.loss == pytest.approx(loss, abs=1e-5)
    assert scores.accuracy == pytest.approx(torch.cat(hits).float().mean().item())
    assert scores.perplexity == pytest.approx(math.exp(loss), rel=1e-5)


def test_evaluate_masked_needs_masked_positions() -> None:
    batch = _batches()[0]
    batch["labels"] = torch.full_like(batch["labels"], IGNORE_INDEX)
    with pytest.raises(ValueError, match="the evaluation batches hold no masked position"):
        evaluate_masked(_model(), [batch])


def _log_probs_at_masks(model: MLMModel, tokenizer: Tokenizer, text: str) -> torch.Tensor:
    ids = torch.tensor([tokenizer.encode(text).ids])
    with torch.no_grad():
        logits = model.eval()(ids).logits[0]  # (T, V)
    return logits[ids[0] == MASK_ID].log_softmax(-1)  # (k, V)


def test_score_probes_matches_a_direct_computation(tokenizer: Tokenizer) -> None:
    model = _model(3)
    probe = _Probe("the dogs [MASK] barking", "agreement", frozenset({"are"}), frozenset({"is", "barked"}))
    pieces = tokenizer.encode("barked", add_special_tokens=False).ids
    assert len(pieces) > 1, "the test needs a word of several pieces"
    one = _log_probs_at_masks(model, tokenizer, "the dogs [MASK] barking")
    many = _log_probs_at_masks(model, tokenizer, "the dogs " + " ".join(["[MASK]"] * len(pieces)) + " barking")
    expected = {
        "are": one[0, tokenizer.token_to_id("are")].item(),
        "is": one[0, tokenizer.token_to_id("is")].item(),
        "barked": sum(many[j, p].item() for j, p in enumerate(pieces)),
    }
    best = max(expected, key=expected.__getitem__)
    [result] = score_probes(model, tokenizer, [probe])
    assert result == ProbeResult(probe.text, "agreement", best == "are", best)


def test_score_probes_batching_does_not_change_results(tokenizer: Tokenizer) -> None:
    model = _model(5)
    probes = [
        _Probe(text, "x" if i % 2 else "y", frozenset({"dog"}), frozenset({"dogs", "elephant", "barking"}))
        for i, text in enumerate(["the [MASK] is barking", "[MASK] sleeps", "an unbelievable [MASK] sleeps loudly"])
    ]
    assert score_probes(model, tokenizer, probes, batch_size=1) == score_probes(model, tokenizer, probes, batch_size=8)


def test_probe_accuracy_by_category() -> None:
    results = [
        ProbeResult("a", "facts", True, "x"),
        ProbeResult("b", "facts", False, "y"),
        ProbeResult("c", "agreement", True, "z"),
    ]
    assert probe_accuracy(results) == {"facts": 0.5, "agreement": 1.0}
    assert probe_accuracy([]) == {}


def test_bad_probes(tokenizer: Tokenizer) -> None:
    with pytest.raises(ValueError, match=r"a probe needs exactly one \[MASK\], got 'no mask here'"):
        score_probes(_model(), tokenizer, [_Probe("no mask here", "x", frozenset({"a"}), frozenset())])
    long_text = "the dog is barking " * 12 + "[MASK]"
    with pytest.raises(ValueError, match=r"is \d+ tokens long but the model reads at most 40; leave it out"):
        score_probes(_model(), tokenizer, [_Probe(long_text, "x", frozenset({"dog"}), frozenset({"is"}))])
