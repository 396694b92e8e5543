"""Tests of mlm_book.masking.corruption: MaskingConfig, mask_tokens and the 80/10/10 corruption.

Statistical checks use fixed generators; tolerances are 4.5 standard errors of the measured
rate, computed from the sample size in the test.
"""

import json
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mlm_book.masking.config import MaskingConfig
from mlm_book.masking.corruption import MaskedBatch, apply_replacements, mask_tokens, select_positions
from mlm_book.utils.special_tokens import CLS_ID, IGNORE_INDEX, MASK_ID, PAD_ID, SEP_ID, SPECIAL_TOKENS

torch.set_num_threads(1)
SPECIAL_IDS = tuple(range(len(SPECIAL_TOKENS)))
VOCAB = 99


def token_batch(batch: int = 67, length: int = 41, vocab: int = VOCAB, seed: int = 0) -> torch.Tensor:
    """``[CLS] w ... w [SEP] [PAD] ...`` rows of random non-special ids, varying lengths."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(len(SPECIAL_IDS), vocab, (batch, length), generator=g)
    lengths = torch.randint(3, length + 1, (batch,), generator=g)
    positions = torch.arange(length)[None, :]
    ids[:, 0] = CLS_ID
    ids[positions == lengths[:, None] - 1] = SEP_ID
    ids[positions >= lengths[:, None]] = PAD_ID
    return ids


def masked(ids: torch.Tensor, seed: int = 0, **kwargs) -> MaskedBatch:
    arguments = dict(special_ids=SPECIAL_IDS, mask_token_id=MASK_ID, vocab_size=VOCAB)
    arguments.update(kwargs)
    return mask_tokens(ids, generator=torch.Generator().manual_seed(seed), **arguments)


def within(rate: float, target: float, n: int) -> bool:
    return abs(rate - target) < 4.5 * math.sqrt(target * (1 - target) / n)


@pytest.mark.parametrize("mask_prob", [0.15, 0.4])
def test_selection_rate_over_non_special_tokens(mask_prob):
    ids = token_batch()
    maskable = ~torch.isin(ids, torch.tensor(SPECIAL_IDS))
    results = [masked(ids, seed, mask_prob=mask_prob) for seed in range(30)]
    selected = sum(int(r.selected.sum()) for r in results)
    assert within(selected / (30 * int(maskable.sum())), mask_prob, 30 * int(maskable.sum()))


@pytest.mark.parametrize("replace_probs", [(0.8, 0.1, 0.1), (0.5, 0.3, 0.2), (0.0, 1.0, 0.0)])
def test_three_way_split_is_exact_in_expectation(replace_probs):
    ids = token_batch()
    results = [masked(ids, seed, replace_probs=replace_probs) for seed in range(40)]
    n = sum(int(r.selected.sum()) for r in results)
    for field, target in zip(("replaced_with_mask", "replaced_with_random", "kept_unchanged"), replace_probs):
        count = sum(int(getattr(r, field).sum()) for r in results)
        if target in (0.0, 1.0):
            assert count == target * n
        else:
            assert within(count / n, target, n), (field, count / n)


def test_groups_are_disjoint_and_match_the_corrupted_ids():
    ids = token_batch()
    result = masked(ids, mask_prob=0.5)
    groups = torch.stack([result.replaced_with_mask, result.replaced_with_random, result.kept_unchanged])
    assert int(groups.long().sum(0).max()) == 1
    assert (result.input_ids[result.replaced_with_mask] == MASK_ID).all()
    assert torch.equal(result.input_ids[result.kept_unchanged], ids[result.kept_unchanged])
    assert torch.equal(result.input_ids[~result.selected], ids[~result.selected])


def test_labels_hold_originals_at_selected_positions_only():
    ids = token_batch()
    result = masked(ids)
    assert torch.equal(result.labels[result.selected], ids[result.selected])
    assert (result.labels[~result.selected] == IGNORE_INDEX).all()
    assert torch.equal(result.selected, result.labels != IGNORE_INDEX)
    assert result.labels.dtype == ids.dtype and result.input_ids.dtype == ids.dtype


def test_special_ids_never_selected_nor_drawn():
    ids = token_batch(vocab=11)
    results = [masked(ids, seed, vocab_size=11, mask_prob=0.9, replace_probs=(0, 1, 0)) for seed in range(20)]
    special = torch.isin(ids, torch.tensor(SPECIAL_IDS))
    drawn = torch.cat([r.input_ids[r.replaced_with_random] for r in results])
    assert not any(r.selected[special].any() for r in results)
    assert torch.equal(torch.cat([r.input_ids[special] for r in results]), ids[special].repeat(20))
    counts = torch.bincount(drawn, minlength=11)
    assert counts[: len(SPECIAL_IDS)].sum() == 0
    expected = len(drawn) / (11 - len(SPECIAL_IDS))  # uniform over the six non-special ids
    chi_square = float(((counts[len(SPECIAL_IDS) :] - expected) ** 2 / expected).sum())
    assert chi_square < 20.5  # 99.9% quantile of chi-square with 5 degrees of freedom


def test_a_custom_special_set_is_respected():
    ids = torch.arange(5, 40).repeat(30, 1)
    result = masked(ids, special_ids=[7, 8, PAD_ID], mask_prob=0.9, replace_probs=(0, 1, 0))
    assert not result.selected[(ids == 7) | (ids == 8)].any()
    assert not torch.isin(result.input_ids[result.replaced_with_random], torch.tensor([0, 7, 8])).any()
    assert (result.input_ids[result.replaced_with_random] == MASK_ID).any()


def test_input_is_not_modified():
    ids = token_batch()
    before = ids.clone()
    masked(ids, mask_prob=0.9)
    assert torch.equal(ids, before)


def test_same_generator_state_gives_the_same_result():
    ids = token_batch()
    first, again, other = masked(ids, 3), masked(ids, 3), masked(ids, 4)
    assert torch.equal(first.input_ids, again.input_ids) and torch.equal(first.labels, again.labels)
    assert not torch.equal(first.labels, other.labels)
    torch.manual_seed(0)
    global_first = mask_tokens(ids, special_ids=SPECIAL_IDS, mask_token_id=MASK_ID, vocab_size=VOCAB)
    torch.manual_seed(0)
    global_again = mask_tokens(ids, special_ids=SPECIAL_IDS, mask_token_id=MASK_ID, vocab_size=VOCAB)
    assert torch.equal(global_first.input_ids, global_again.input_ids)


def test_any_shape_and_integer_dtype():
    ids = token_batch(batch=6, length=9).to(torch.int32)
    result = masked(ids.reshape(2, 3, 9), mask_prob=0.5)
    assert result.input_ids.shape == (2, 3, 9) and result.input_ids.dtype == torch.int32
    assert masked(ids[0], mask_prob=0.5).labels.shape == (9,)


def test_two_independent_draws_would_skew_the_split():
    """The reference mistake: mask with p=0.8, then random with p=0.1 among all selected."""
    g = torch.Generator().manual_seed(0)
    n = 200_000
    to_mask = torch.rand(n, generator=g) < 0.8
    to_random = (torch.rand(n, generator=g) < 0.1) & ~to_mask
    assert abs(float(to_random.float().mean()) - 0.02) < 0.002  # 2% random, 18% kept: wrong
    result = apply_replacements(
        torch.full((n,), 7),
        torch.ones(n, dtype=torch.bool),
        mask_token_id=MASK_ID,
        replacement_ids=torch.arange(5, VOCAB),
        generator=g,
    )
    assert within(float(result.replaced_with_random.float().mean()), 0.1, n)


@given(
    batch=st.integers(1, 4),
    length=st.integers(1, 17),
    vocab=st.integers(6, 40),
    mask_prob=st.floats(0.01, 0.99),
    weights=st.tuples(*[st.integers(0, 5)] * 3).filter(lambda w: sum(w) > 0),
    seed=st.integers(0, 2**31),
)
def test_invariants_for_any_input(batch, length, vocab, mask_prob, weights, seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (batch, length), generator=g)
    replace_probs = tuple(w / sum(weights) for w in weights)
    before = ids.clone()
    result = mask_tokens(
        ids,
        special_ids=SPECIAL_IDS,
        mask_token_id=MASK_ID,
        vocab_size=vocab,
        mask_prob=mask_prob,
        replace_probs=replace_probs,
        generator=g,
    )
    special = ids < len(SPECIAL_IDS)
    assert torch.equal(ids, before)
    assert not result.selected[special].any()
    assert torch.equal(result.labels, torch.where(result.selected, ids, IGNORE_INDEX))
    assert torch.equal(result.input_ids[~result.selected], ids[~result.selected])
    assert (result.input_ids[result.replaced_with_random] >= len(SPECIAL_IDS)).all()
    assert ((result.input_ids >= 0) & (result.input_ids < vocab)).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mask_prob": 0.0}, r"mask_prob must be strictly between 0 and 1, got 0.0; BERT uses 0.15"),
        ({"mask_prob": 1.0}, r"mask_prob must be strictly between 0 and 1, got 1.0"),
        ({"mask_prob": -0.2}, r"mask_prob must be strictly between 0 and 1, got -0.2"),
        ({"mask_prob": float("nan")}, r"mask_prob must be strictly between 0 and 1, got nan"),
        ({"replace_probs": (0.9, 0.1)}, r"replace_probs must have 3 entries \(mask, random, keep\), got \(0.9, 0.1\)"),
        ({"replace_probs": (1.1, -0.1, 0.0)}, r"replace_probs must be non-negative, got \(1.1, -0.1, 0.0\)"),
        ({"replace_probs": (0.8, 0.1, 0.2)}, r"replace_probs must sum to 1, got \(0.8, 0.1, 0.2\) \(sum 1.1\)"),
        ({"mask_token_id": 99}, r"mask_token_id 99 is outside the vocabulary 0..98; pass the \[MASK\] id"),
        ({"mask_token_id": -1}, r"mask_token_id -1 is outside the vocabulary 0..98"),
        ({"vocab_size": 0}, r"vocab_size must be a whole number >= 1, got 0"),
        ({"vocab_size": 50}, r"token id \d+ is outside the vocabulary 0..49; pass the vocab_size of the tokenizer"),
        ({"special_ids": [0, 120]}, r"special id 120 is outside the vocabulary 0..98"),
        ({"special_ids": range(99)}, r"every id of the vocabulary is special; random replacement has nothing"),
    ],
)
def test_mask_tokens_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        masked(token_batch(batch=3, length=7), **kwargs)


def test_mask_tokens_rejects_float_and_negative_ids():
    with pytest.raises(ValueError, match=r"input_ids must be an integer tensor of token ids, got dtype torch.float32"):
        masked(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"token id -5 is outside the vocabulary 0..98"):
        masked(torch.tensor([[2, -5, 3]]))


def test_config_defaults_presets_and_json_round_trip():
    config = MaskingConfig()
    assert (config.mask_prob, config.replace_probs) == (0.15, (0.8, 0.1, 0.1))
    assert (config.strategy, config.span_p, config.max_span, config.static) == ("token", 0.2, 10, False)
    assert MaskingConfig.bert() == config
    assert MaskingConfig.whole_word().strategy == "word"
    assert (MaskingConfig.spanbert().span_p, MaskingConfig.spanbert().max_span) == (0.2, 10)
    spans = MaskingConfig(mask_prob=0.4, replace_probs=[1, 0, 0], strategy="span", static=True)
    assert spans.replace_probs == (1.0, 0.0, 0.0)
    assert MaskingConfig(**json.loads(json.dumps(spans.to_dict()))) == spans
    with pytest.raises(AttributeError):
        config.mask_prob = 0.3  # frozen


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mask_prob": 1.5}, r"mask_prob must be strictly between 0 and 1, got 1.5"),
        ({"replace_probs": (0.8, 0.2, 0.2)}, r"replace_probs must sum to 1"),
        ({"strategy": "words"}, r"MaskingConfig.strategy must be one of 'token', 'word', 'span', got 'words'"),
        ({"span_p": 0.0}, r"span_p must be in \(0, 1\], got 0.0; SpanBERT uses 0.2"),
        ({"max_span": 0}, r"max_span must be an integer >= 1, got 0; SpanBERT uses 10"),
        ({"max_span": 2.5}, r"MaskingConfig.max_span must be a whole number, got 2.5"),
    ],
)
def test_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MaskingConfig(**kwargs)


def test_select_positions_dispatches_on_the_strategy():
    maskable = torch.ones((5, 13), dtype=torch.bool)
    word_ids = torch.arange(13).div(3, rounding_mode="floor").repeat(5, 1)  # words of 3 pieces
    g = torch.Generator().manual_seed(0)
    words = select_positions(maskable, MaskingConfig(mask_prob=0.5, strategy="word"), word_ids=word_ids, generator=g)
    assert torch.equal(words.view(5, -1)[:, :12].reshape(5, 4, 3).all(-1), words[:, :12].reshape(5, 4, 3).any(-1))
    spans = select_positions(maskable, MaskingConfig(mask_prob=0.5, strategy="span"), generator=g)
    assert spans.shape == (5, 13)
    tokens = select_positions(maskable, MaskingConfig(mask_prob=0.5), generator=torch.Generator().manual_seed(1))
    assert torch.equal(tokens, torch.rand((5, 13), generator=torch.Generator().manual_seed(1)) < 0.5)
    with pytest.raises(ValueError, match="strategy 'word' needs word_ids; encode them with the tokenizer or use"):
        select_positions(maskable, MaskingConfig(strategy="word"))
