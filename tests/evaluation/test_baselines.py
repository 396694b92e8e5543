"""Context-free baselines: unigram counts, a model that predicts them whatever the input, and the bigram."""

import math

import pytest
import torch

from mlm_book.data.sequences import Sequences
from mlm_book.evaluation.baselines import (
    bigram_cross_entropy,
    bigram_log_probs,
    context_free_model,
    log_unigram_bias,
    unigram_log_probs,
)
from mlm_book.evaluation.metrics import evaluate_masked
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.utils.special_tokens import CLS_ID, IGNORE_INDEX, MASK_ID, SEP_ID, SPECIAL_IDS, UNK_ID

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


BIGRAM_ROWS = [[CLS_ID, 7, 7, 9, SEP_ID], [CLS_ID, 9, 7, 10, 7, SEP_ID], [CLS_ID, 10, SEP_ID]]


def _bigram_from_scratch(rows: list[list[int]], vocab_size: int, smoothing: float, k: float) -> dict:
    """P(b | a) with plain dictionaries: pair counts within rows, smoothed towards the unigram."""
    labels = [b for b in range(vocab_size) if b not in SPECIAL_IDS]
    unigram_counts = {b: sum(row.count(b) for row in rows) + smoothing for b in labels}
    unigram = {b: c / sum(unigram_counts.values()) for b, c in unigram_counts.items()}
    pairs = {(a, b): 0 for a in range(vocab_size) for b in labels}
    for row in rows:
        for a, b in zip(row, row[1:]):
            if b in unigram:
                pairs[a, b] += 1
    out = {}
    for a in range(vocab_size):
        total = sum(pairs[a, b] for b in labels)
        out.update({(a, b): (pairs[a, b] + k * unigram[b]) / (total + k) for b in labels})
    return out


def test_bigram_log_probs_match_a_count_from_scratch():
    log_probs = bigram_log_probs(_sequences(BIGRAM_ROWS), vocab_size=13, smoothing=0.5, prior_weight=2.0)
    assert log_probs.shape == (13, 13) and log_probs.dtype == torch.float32
    expected = _bigram_from_scratch(BIGRAM_ROWS, 13, 0.5, 2.0)
    for (a, b), p in expected.items():
        assert log_probs[a, b].exp().item() == pytest.approx(p, rel=1e-6), (a, b)
    assert torch.isinf(log_probs[:, list(SPECIAL_IDS)]).all()  # a special token is never a label
    torch.testing.assert_close(log_probs.exp().sum(dim=1), torch.ones(13))


def test_an_unseen_context_predicts_the_unigram_and_rows_do_not_cross_sequences():
    sequences = _sequences(BIGRAM_ROWS)
    log_probs = bigram_log_probs(sequences, vocab_size=13, smoothing=0.5)
    unigram = unigram_log_probs(sequences, vocab_size=13, smoothing=0.5)
    torch.testing.assert_close(log_probs[MASK_ID], unigram)  # [MASK] never occurs in training text
    torch.testing.assert_close(log_probs[12], unigram)  # nor does id 12
    # a sequence's last token is not followed by the next sequence's first one
    cut = _sequences([[CLS_ID, 7, 8], [9, 10, SEP_ID], [], [11, 8]])
    torch.testing.assert_close(
        bigram_log_probs(cut, vocab_size=13)[8], unigram_log_probs(cut, vocab_size=13), msg="8 is never followed"
    )


def test_bigram_cross_entropy_reads_the_input_token_before_each_masked_position():
    log_probs = torch.randn(13, 13).log_softmax(-1)
    ids = torch.tensor([[CLS_ID, 7, MASK_ID, 9, 10, SEP_ID], [CLS_ID, 9, 9, 7, SEP_ID, 0]])
    labels = torch.full_like(ids, IGNORE_INDEX)
    labels[0, 2], labels[0, 3], labels[1, 1], labels[1, 3] = 8, 9, 9, 11  # 9 is kept, 11 was replaced by 7
    batch = {"input_ids": ids, "attention_mask": (ids != 0).long(), "labels": labels}
    expected = -(log_probs[7, 8] + log_probs[MASK_ID, 9] + log_probs[CLS_ID, 9] + log_probs[9, 11]) / 4
    assert bigram_cross_entropy(log_probs, [batch, batch]) == pytest.approx(expected.item(), rel=1e-6)


def test_a_bigram_beats_the_unigram_on_text_with_structure():
    rows = [[CLS_ID, *[7, 8, 9] * 3, SEP_ID]] * 8  # 8 always follows 7
    sequences = _sequences(rows)
    ids = sequences.input_ids.view(8, 11)
    labels = torch.full_like(ids, IGNORE_INDEX)
    labels[:, 2::3] = ids[:, 2::3]  # the 8s, each after an unmasked 7
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    bigram = bigram_cross_entropy(bigram_log_probs(sequences, 16), [batch])
    unigram = evaluate_masked(context_free_model(CONFIG, unigram_log_probs(sequences, 16)), [batch]).loss
    assert unigram > math.log(3) - 0.1 and bigram < 0.3


@pytest.mark.parametrize(
    ("labels_at", "message"),
    [((0,), "position 0 is masked"), ((), "the batches hold no masked position")],
)
def test_bigram_cross_entropy_errors(labels_at, message):
    ids = torch.tensor([[CLS_ID, 7, 8, SEP_ID]])
    labels = torch.full_like(ids, IGNORE_INDEX)
    for position in labels_at:
        labels[0, position] = ids[0, position]
    with pytest.raises(ValueError, match=message):
        bigram_cross_entropy(torch.zeros(16, 16), [{"input_ids": ids, "labels": labels}])


def test_bigram_errors():
    with pytest.raises(ValueError, match="prior_weight must be positive, got 0.0"):
        bigram_log_probs(_sequences(BIGRAM_ROWS), 13, prior_weight=0.0)
    with pytest.raises(ValueError, match="the sequences hold id 10 but vocab_size is 8"):
        bigram_log_probs(_sequences(BIGRAM_ROWS), 8)
    ids = torch.tensor([[CLS_ID, 14, 8, SEP_ID]])
    labels = torch.tensor([[IGNORE_INDEX, IGNORE_INDEX, 8, IGNORE_INDEX]])
    with pytest.raises(ValueError, match="the batches hold id 14 but log_probs covers 13 ids"):
        bigram_cross_entropy(torch.zeros(13, 13), [{"input_ids": ids, "labels": labels}])
