"""Tests of mlm_book.masking.strategies: per-token, whole-word and span selection.

Statistical checks use fixed generators; each tolerance is stated as a number of standard
errors of the measured rate (Bernoulli or word-level variance), so a correct implementation
fails with negligible probability while a budget 2 points off fails.
"""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mlm_book.masking.strategies import (
    select_spans,
    select_tokens,
    select_whole_words,
    span_length_probs,
    span_start_prob,
    word_units,
)

torch.set_num_threads(1)


def synthetic_batch(batch: int = 61, length: int = 37, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A maskable map with [CLS]/[SEP]/padding holes and word ids of words 1-4 pieces long."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(length // 3, length + 1, (batch,), generator=g)
    positions = torch.arange(length)[None, :]
    maskable = (positions > 0) & (positions < lengths[:, None] - 1)  # (B, T): no CLS, SEP, PAD
    new_word = torch.rand((batch, length), generator=g) < 0.45
    word_ids = torch.cumsum(new_word.long(), dim=1).masked_fill(~maskable, -1)
    return maskable, word_ids


def standard_error(p: float, n: float) -> float:
    return math.sqrt(p * (1 - p) / n)


def test_word_units_groups_runs_of_equal_word_ids():
    maskable = torch.tensor([[False, True, True, True, False, True, True, False]])
    word_ids = torch.tensor([[-1, 0, 0, 1, -1, 0, 0, -1]])  # word ids restart after the [SEP]
    units = word_units(maskable, word_ids)
    assert units.index.tolist() == [[-1, 0, 0, 1, -1, 2, 2, -1]]
    assert units.count.tolist() == [3]
    assert word_units(maskable).index.tolist() == [[-1, 0, 1, 2, -1, 3, 4, -1]]


def test_word_units_rejects_bad_word_ids():
    maskable = torch.tensor([[True, True]])
    with pytest.raises(ValueError, match=r"word_ids has shape \(1, 3\) but the token ids have shape \(1, 2\)"):
        word_units(maskable, torch.tensor([[0, 1, 2]]))
    with pytest.raises(ValueError, match="a maskable token has a negative word id"):
        word_units(maskable, torch.tensor([[0, -1]]))


@pytest.mark.parametrize("mask_prob", [0.15, 0.4])
def test_token_selection_rate(mask_prob):
    maskable, _ = synthetic_batch()
    g = torch.Generator().manual_seed(1)
    selected = torch.stack([select_tokens(maskable, mask_prob, g) for _ in range(40)])
    n = 40 * int(maskable.sum())
    rate = float(selected.sum()) / n
    assert abs(rate - mask_prob) < 4.5 * standard_error(mask_prob, n)
    assert not selected[:, ~maskable].any()


def word_budget_tolerance(mask_prob: float, units_index: torch.Tensor, draws: int) -> float:
    """4.5 standard errors of the token rate when whole units are drawn: sum of squared sizes."""
    rows = torch.arange(units_index.shape[0])[:, None] * units_index.shape[1]
    keys = (rows + units_index)[units_index >= 0]  # one key per (row, unit)
    sizes = torch.bincount(keys).float()  # tokens per unit (zeros for unused keys add nothing)
    n = float(sizes.sum())
    return 4.5 * math.sqrt(mask_prob * (1 - mask_prob) * float((sizes**2).sum()) / draws) / n


@pytest.mark.parametrize("mask_prob", [0.15, 0.4])
def test_whole_word_budget_and_words_together(mask_prob):
    maskable, word_ids = synthetic_batch()
    g = torch.Generator().manual_seed(2)
    draws = 100
    selected = torch.stack([select_whole_words(maskable, word_ids, mask_prob, g) for _ in range(draws)])
    rate = float(selected.sum()) / (draws * int(maskable.sum()))
    # rows may reuse word numbers, but here word ids increase along a row, so (row, id) is a word
    keyed = torch.arange(maskable.shape[0])[:, None] * 1000 + word_ids
    assert abs(rate - mask_prob) < word_budget_tolerance(mask_prob, word_units(maskable, word_ids).index, draws)
    assert not selected[:, ~maskable].any()
    for sample in selected[:5]:
        for key in keyed[maskable].unique():
            pieces = sample[keyed == key]
            assert pieces.all() or not pieces.any()


def test_span_length_distribution_matches_spanbert():
    probs = span_length_probs(0.2, 10)
    assert probs.shape == (10,)
    assert math.isclose(float(probs.sum()), 1.0)
    assert math.isclose(float(probs[1] / probs[0]), 0.8)
    assert round(float((probs * torch.arange(1, 11)).sum()), 2) == 3.80  # SpanBERT's mean span
    assert torch.equal(span_length_probs(1.0, 4), torch.tensor([1.0, 0, 0, 0], dtype=torch.float64))


def test_span_start_prob_solves_the_coverage_equation():
    for mask_prob, span_p, max_span in [(0.15, 0.2, 10), (0.4, 0.2, 10), (0.15, 1.0, 1), (0.3, 0.5, 3)]:
        rate = span_start_prob(mask_prob, span_p, max_span)
        survival = 1 - torch.cat([torch.zeros(1), torch.cumsum(span_length_probs(span_p, max_span), 0)[:-1]])
        coverage = 1 - float(torch.prod(1 - rate * survival))
        assert math.isclose(coverage, mask_prob, abs_tol=1e-9)
    assert math.isclose(span_start_prob(0.15, 1.0, 1), 0.15, abs_tol=1e-9)  # length-1 spans = tokens


@pytest.mark.parametrize("use_words", [False, True])
@pytest.mark.parametrize("mask_prob", [0.15, 0.4])
def test_span_budget_and_uniform_coverage(mask_prob, use_words):
    maskable, word_ids = synthetic_batch(seed=3)
    word_ids = word_ids if use_words else None
    g = torch.Generator().manual_seed(4)
    draws = 200
    selected = torch.stack([select_spans(maskable, mask_prob, word_ids=word_ids, generator=g) for _ in range(draws)])
    assert not selected[:, ~maskable].any()
    rate = float(selected.sum()) / (draws * int(maskable.sum()))
    # spans make neighbouring units dependent: allow 4.5 SE of a unit rate times sqrt(mean span 3.8)
    tolerance = math.sqrt(3.8) * word_budget_tolerance(mask_prob, word_units(maskable, word_ids).index, draws)
    assert abs(rate - mask_prob) < tolerance
    first = float(selected[:, :, 1].float().mean())  # the first word after [CLS] is not starved
    assert abs(first - mask_prob) < 5 * standard_error(mask_prob, selected[:, :, 1].numel())


def test_spans_are_longer_than_single_tokens():
    maskable = torch.ones((101, 67), dtype=torch.bool)
    g = torch.Generator().manual_seed(5)
    selected = select_spans(maskable, 0.15, generator=g)
    starts = selected & ~torch.nn.functional.pad(selected, (1, 0))[:, :-1]
    mean_run = float(selected.sum()) / float(starts.sum())
    assert 3.5 < mean_run < 5.0  # spans of mean 3.8, a little longer where spans touch
    tokens = select_tokens(maskable, 0.15, g)
    token_starts = tokens & ~torch.nn.functional.pad(tokens, (1, 0))[:, :-1]
    assert float(tokens.sum()) / float(token_starts.sum()) < 1.3


def test_word_spans_cover_whole_words():
    maskable, word_ids = synthetic_batch(seed=6)
    g = torch.Generator().manual_seed(7)
    selected = select_spans(maskable, 0.3, word_ids=word_ids, generator=g)
    keyed = torch.arange(maskable.shape[0])[:, None] * 1000 + word_ids
    for key in keyed[maskable].unique():
        pieces = selected[keyed == key]
        assert pieces.all() or not pieces.any()


@pytest.mark.parametrize("strategy", ["token", "word", "span"])
def test_selection_is_deterministic_and_depends_on_the_generator(strategy):
    maskable, word_ids = synthetic_batch(batch=9, length=23)

    def run(seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        if strategy == "token":
            return select_tokens(maskable, 0.3, g)
        if strategy == "word":
            return select_whole_words(maskable, word_ids, 0.3, g)
        return select_spans(maskable, 0.3, word_ids=word_ids, generator=g)

    assert torch.equal(run(0), run(0))
    assert not torch.equal(run(0), run(1))


@given(
    batch=st.integers(1, 5),
    length=st.integers(1, 19),
    mask_prob=st.floats(0.01, 0.99),
    max_span=st.integers(1, 12),
    seed=st.integers(0, 2**31),
)
def test_selection_never_leaves_the_maskable_positions(batch, length, mask_prob, max_span, seed):
    g = torch.Generator().manual_seed(seed)
    maskable = torch.rand((batch, length), generator=g) < 0.7
    word_ids = torch.cumsum((torch.rand((batch, length), generator=g) < 0.5).long(), 1).masked_fill(~maskable, -1)
    before = (maskable.clone(), word_ids.clone())
    for selected in (
        select_tokens(maskable, mask_prob, g),
        select_whole_words(maskable, word_ids, mask_prob, g),
        select_spans(maskable, mask_prob, max_span=max_span, generator=g),
        select_spans(maskable, mask_prob, max_span=max_span, word_ids=word_ids, generator=g),
    ):
        assert selected.shape == maskable.shape and selected.dtype == torch.bool
        assert not (selected & ~maskable).any()
    assert torch.equal(before[0], maskable) and torch.equal(before[1], word_ids)


def test_empty_batch_selects_nothing():
    maskable = torch.zeros((0, 5), dtype=torch.bool)
    assert select_whole_words(maskable, torch.zeros((0, 5), dtype=torch.long), 0.2).shape == (0, 5)
    assert select_spans(maskable, 0.2).shape == (0, 5)
