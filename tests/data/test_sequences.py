"""Data pipeline: packing like group_texts, padding with length grouping, batch order, eval batches."""

import datasets
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from tokenizers import Tokenizer

from mlm_book.data.batches import batch_order, eval_batches, split_batch
from mlm_book.data.sequences import Sequences, pack_examples, prepare_split, tokenize_split
from mlm_book.masking.collator import MaskingCollator
from mlm_book.tokenization.tokenizer import train_tokenizer
from mlm_book.utils.special_tokens import CLS_ID, IGNORE_INDEX, PAD_ID, SEP_ID

TEXTS = [
    "The cat sat on the mat.",
    "",
    "Dogs bark loudly at the postman every single morning.",
    "A b c.",
    "   ",
    "Unbelievably long words tokenize into several pieces.",
]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return train_tokenizer(TEXTS * 5, 120)


@pytest.fixture(scope="module")
def dataset() -> datasets.Dataset:
    datasets.disable_progress_bars()
    return datasets.Dataset.from_dict({"text": TEXTS * 7})


def test_packing_matches_a_plain_concatenation(tokenizer: Tokenizer, dataset: datasets.Dataset) -> None:
    seq_len = 11
    sequences = prepare_split(dataset, tokenizer, seq_len=seq_len, packing=True)
    stream = [i for e in tokenizer.encode_batch([t for t in TEXTS * 7 if t.strip()]) for i in e.ids[1:]]
    n_blocks = len(stream) // (seq_len - 1)
    assert len(sequences) == n_blocks and bool((sequences.lengths == seq_len).all())
    blocks = sequences.input_ids.view(n_blocks, seq_len)
    assert bool((blocks[:, 0] == CLS_ID).all())
    assert blocks[:, 1:].flatten().tolist() == stream[: n_blocks * (seq_len - 1)]
    assert int((sequences.word_ids == -1).sum()) == int((sequences.input_ids < 5).sum())  # specials only


def test_padding_layout_cuts_and_keeps_sep(tokenizer: Tokenizer, dataset: datasets.Dataset) -> None:
    sequences = prepare_split(dataset, tokenizer, seq_len=8, packing=False)
    assert len(sequences) == 4 * 7  # the two blank texts are dropped
    assert int(sequences.lengths.max()) == 8
    for example in sequences.examples(torch.arange(len(sequences))):
        ids = example["input_ids"].tolist()
        assert ids[0] == CLS_ID and ids[-1] == SEP_ID and SEP_ID not in ids[1:-1]


@given(rows=st.lists(st.lists(st.integers(5, 50), min_size=1, max_size=30), max_size=12), seq_len=st.integers(2, 17))
def test_pack_examples_keeps_the_stream_in_order(rows: list[list[int]], seq_len: int) -> None:
    encoded = [[CLS_ID, *row, SEP_ID] for row in rows]
    words = [[-1, *range(len(row)), -1] for row in rows]
    packed = pack_examples({"input_ids": encoded, "word_ids": words}, seq_len)
    stream = [t for row in encoded for t in row[1:]]
    assert all(len(b) == seq_len and b[0] == CLS_ID for b in packed["input_ids"])
    assert [t for b in packed["input_ids"] for t in b[1:]] == stream[: len(packed["input_ids"]) * (seq_len - 1)]
    assert len(stream) - len(packed["input_ids"]) * (seq_len - 1) < seq_len - 1
    assert [len(w) for w in packed["word_ids"]] == [len(b) for b in packed["input_ids"]]


def test_batch_order_is_a_seeded_partition() -> None:
    lengths = torch.randint(3, 40, (103,), generator=torch.Generator().manual_seed(1))
    for group in (False, True):
        first = batch_order(lengths, 8, torch.Generator().manual_seed(5), group_by_length=group)
        again = batch_order(lengths, 8, torch.Generator().manual_seed(5), group_by_length=group)
        other = batch_order(lengths, 8, torch.Generator().manual_seed(6), group_by_length=group)
        assert first.shape == (12, 8) and torch.equal(first, again) and not torch.equal(first, other)
        assert len(set(first.flatten().tolist())) == 96  # no sequence twice


def test_length_grouping_reduces_padding() -> None:
    lengths = torch.randint(3, 128, (4000,), generator=torch.Generator().manual_seed(0))

    def padding_fraction(group: bool) -> float:
        batches = batch_order(lengths, 16, torch.Generator().manual_seed(0), group_by_length=group)
        batch_lengths = lengths[batches]  # (N_b, B)
        padded = batch_lengths.max(dim=1).values.sum() * 16
        return float(1 - batch_lengths.sum() / padded)

    assert padding_fraction(False) > 0.35  # random batches of U(3, 127) lengths: about 48% padding
    assert padding_fraction(True) < 0.05


def test_batch_order_needs_enough_sequences() -> None:
    with pytest.raises(ValueError, match="the split has 3 sequences, fewer than batch_size=4; use a larger corpus"):
        batch_order(torch.ones(3), 4, torch.Generator(), group_by_length=False)


def _sequences(rows: list[list[int]]) -> Sequences:
    ids = torch.tensor([t for row in rows for t in row])
    offsets = torch.tensor([0, *torch.tensor([len(r) for r in rows]).cumsum(0).tolist()])
    return Sequences(input_ids=ids, word_ids=torch.where(ids < 5, -1, torch.arange(len(ids))), offsets=offsets)


def test_eval_batches_are_fixed_and_sorted_by_length() -> None:
    rows = [[CLS_ID, *range(5, 5 + n), SEP_ID] for n in (3, 9, 5, 12, 7)]
    sequences = _sequences(rows)

    def build() -> list[dict[str, torch.Tensor]]:
        collator = MaskingCollator(vocab_size=40, generator=torch.Generator().manual_seed(3))
        return eval_batches(sequences, n_sequences=4, batch_size=3, collate=collator)

    batches, again = build(), build()
    assert [b["input_ids"].shape for b in batches] == [(3, 14), (1, 5)]
    assert batches[0]["attention_mask"].sum(dim=1).tolist() == [14, 11, 7]
    for a, b in zip(batches, again):
        assert all(torch.equal(a[k], b[k]) for k in ("input_ids", "attention_mask", "labels"))
    assert sorted(batches[0]) == ["attention_mask", "input_ids", "labels"]


def test_split_batch_trims_padding() -> None:
    ids = torch.tensor([[2, 7, 8, 3, 0], [2, 9, 3, 0, 0], [2, 6, 6, 6, 3], [2, 3, 0, 0, 0]])
    batch = {"input_ids": ids, "attention_mask": (ids != PAD_ID).long(), "labels": torch.full_like(ids, IGNORE_INDEX)}
    first, second = split_batch(batch, 2)
    assert first["input_ids"].tolist() == [[2, 7, 8, 3], [2, 9, 3, 0]]
    assert second["input_ids"].shape == (2, 5)
    with pytest.raises(ValueError, match="cannot split a batch of 4 sequences into 3 equal parts"):
        split_batch(batch, 3)


def test_missing_text_column(tokenizer: Tokenizer) -> None:
    with pytest.raises(ValueError, match=r"the dataset has no 'text' column \(columns: \['body'\]\)"):
        tokenize_split(datasets.Dataset.from_dict({"body": ["x"]}), tokenizer, seq_len=8, packing=True)
