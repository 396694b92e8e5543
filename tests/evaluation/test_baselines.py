"""Context-free baselines: unigram counts, and a model that predicts them whatever the input."""

import math

import pytest
import torch

from mlm_book.data.sequences import Sequences
from mlm_book.evaluation.baselines import context_free_model, log_unigram_bias, unigram_log_probs
from mlm_book.evaluation.metrics import evaluate_masked
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.utils.special_tokens import CLS_ID, IGNORE_INDEX, SEP_ID, SPECIAL_IDS, UNK_ID

CONFIG = ModelConfig(vocab_size=16, d_model=8, n_heads=2, n_layers=1, d_ff=16, max_len=12)


def _sequences(rows: list[list[int]]) -> Sequences:
    ids = torch.tensor([token for row in rows for token in row])
    offsets = torch.tensor([0, *torch.tensor([len(r) for r in rows]).cumsum(0).tolist()])
    return Sequences(input_ids=ids, word_ids=torch.zeros_like(ids), offsets=offsets)


def test_unigram_counts_are_smoothed_and_skip_tokens_never_masked():
    sequences = _sequences([[CLS_ID, 7, 7, 9, SEP_ID], [CLS_ID, 7, UNK_ID, SEP_ID]])
    probs = unigram_log_probs(sequences, vocab_size=12, smoothing=0.5).exp()
    assert probs.sum().item() == pytest.approx(1.0)
    assert all(probs[i] == 0 for i in SPECIAL_IDS)
    total = 3 + 1 + 0.5 * (12 - len(SPECIAL_IDS))  # seen tokens + pseudo-counts of maskable ids
    assert probs[7].item() == pytest.approx(3.5 / total)
    assert probs[9].item() == pytest.approx(1.5 / total)
    assert probs[11].item() == pytest.approx(0.5 / total)


@pytest.mark.parametrize(
    ("vocab_size", "smoothing", "message"),
    [(8, 1.0, "the sequences hold id 9 but vocab_size is 8"), (12, 0.0, "smoothing must be positive, got 0.0")],
)
def test_unigram_errors(vocab_size, smoothing, message):
    with pytest.raises(ValueError, match=message):
        unigram_log_probs(_sequences([[CLS_ID, 9, SEP_ID]]), vocab_size, smoothing=smoothing)


def test_the_context_free_model_predicts_the_unigram_whatever_the_input():
    log_probs = torch.randn(12).log_softmax(-1)
    model = context_free_model(CONFIG, log_probs)
    ids = torch.randint(5, 12, (3, 10), generator=torch.Generator().manual_seed(0))
    logits = model(ids).logits  # (3, 10, V)
    assert torch.equal(logits[..., :12], log_probs.expand(3, 10, 12))
    assert torch.isinf(logits[..., 12:]).all()  # ids beyond the tokenizer's: never predicted
    assert not model.training


def test_its_masked_loss_is_the_unigram_cross_entropy():
    log_probs = torch.randn(16).log_softmax(-1)
    ids = torch.randint(5, 16, (4, 12), generator=torch.Generator().manual_seed(1))
    labels = torch.full_like(ids, IGNORE_INDEX)
    labels[:, ::3] = ids[:, ::3]
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    scores = evaluate_masked(context_free_model(CONFIG, log_probs), [batch])
    expected = -log_probs[labels[labels != IGNORE_INDEX]].double().mean().item()
    assert scores.loss == pytest.approx(expected, rel=1e-6)
    assert scores.perplexity == pytest.approx(math.exp(expected), rel=1e-6)
    assert scores.accuracy == pytest.approx(
        (labels[labels != IGNORE_INDEX] == log_probs.argmax()).float().mean().item()
    )


@pytest.mark.parametrize("shape", [(17,), (2, 8)])
def test_log_probs_that_do_not_fit_the_model_are_rejected(shape):
    with pytest.raises(ValueError, match="log_probs must be 1-D with at most vocab_size=16 entries"):
        context_free_model(CONFIG, torch.zeros(shape))


def test_log_unigram_bias_is_finite_and_agrees_with_the_unigram_on_labels():
    sequences = _sequences([[CLS_ID, 7, 7, 9, SEP_ID], [CLS_ID, 7, UNK_ID, SEP_ID]])
    bias = log_unigram_bias(sequences, vocab_size=16, smoothing=0.5)
    assert bias.shape == (16,) and torch.isfinite(bias).all()
    assert bias.exp().sum().item() == pytest.approx(1.0)
    labels = [i for i in range(16) if i not in SPECIAL_IDS]
    unigram = unigram_log_probs(sequences, vocab_size=16, smoothing=0.5)
    # the same distribution over labels, up to the pseudo-counts the specials keep
    differences = bias[labels] - unigram[labels]
    torch.testing.assert_close(differences, torch.full_like(differences, float(differences[0])))
    assert bias[CLS_ID] == bias[11]  # a special token keeps only the pseudo-count, like an unseen id


def test_a_model_started_at_the_log_unigram_bias_scores_near_the_unigram_loss():
    sequences = _sequences([[CLS_ID, *[7] * 6, 8, 9, 9, SEP_ID]] * 4)
    model = MLMModel(CONFIG, generator=torch.Generator().manual_seed(0)).eval()
    labels = torch.full((4, 11), IGNORE_INDEX)
    labels[:, 1:10] = sequences.input_ids.view(4, 11)[:, 1:10]
    batch = {"input_ids": sequences.input_ids.view(4, 11), "attention_mask": torch.ones(4, 11), "labels": labels}
    zero_bias = evaluate_masked(model, [batch]).loss
    with torch.no_grad():
        model.head.decoder.bias.copy_(log_unigram_bias(sequences, CONFIG.vocab_size))
    unigram = evaluate_masked(context_free_model(CONFIG, unigram_log_probs(sequences, CONFIG.vocab_size)), [batch])
    started = evaluate_masked(model, [batch]).loss
    assert abs(zero_bias - math.log(CONFIG.vocab_size)) < 0.2  # a zero bias starts at ln V
    assert abs(started - unigram.loss) < 0.2 < zero_bias - started
