"""Cutting a step's packed blocks to the step's length: pieces, truncation, word ids, errors."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mlm_book.data.blocks import cut_blocks
from mlm_book.masking.strategies import word_units
from mlm_book.utils.special_tokens import CLS_ID, SEP_ID


def _blocks(n: int, length: int, seed: int = 0) -> list[dict]:
    """Packed-looking blocks: [CLS] then ids 5.. with word ids counting from 0 in every block."""
    generator = torch.Generator().manual_seed(seed)
    blocks = []
    for index in range(n):
        ids = torch.randint(5, 99, (length,), generator=generator)
        ids[0] = CLS_ID
        words = torch.arange(length) - 1  # word 0, 1, 2, ... after the [CLS]
        words[0] = -1
        if length > 6:
            ids[5], words[5] = SEP_ID, -1  # a paragraph ends inside the block
        blocks.append({"input_ids": ids, "word_ids": words, "example_id": index})
    return blocks


def test_pieces_hold_the_joined_bodies_in_order() -> None:
    blocks = _blocks(3, 37)
    pieces = cut_blocks(blocks, 8, 3 * 37 // 8)
    assert len(pieces) == 13 and all(p["input_ids"].shape == (8,) for p in pieces)
    assert all(int(p["input_ids"][0]) == CLS_ID and int(p["word_ids"][0]) == -1 for p in pieces)
    stream = torch.cat([b["input_ids"][1:] for b in blocks])
    assert torch.equal(torch.cat([p["input_ids"][1:] for p in pieces]), stream[: 13 * 7])
    assert all("example_id" not in p for p in pieces)


def test_tokens_per_step_stay_those_of_the_blocks() -> None:
    blocks = _blocks(6, 32)
    for length in (8, 16, 32):
        pieces = cut_blocks(blocks, length, 6 * 32 // length)
        assert sum(len(p["input_ids"]) for p in pieces) == 6 * 32


def test_words_never_merge_across_a_join() -> None:
    blocks = _blocks(2, 9)  # every block's words count 0, 1, ...: block 1 starts with word 0 again
    blocks[0]["word_ids"][-1] = 0  # the last word of block 0 now equals the first word of block 1
    pieces = cut_blocks(blocks, 6, 3)  # bodies of 5: piece 1 holds block 0's last 3 and block 1's first 2
    words = pieces[1]["word_ids"]
    assert int(words[3]) != int(words[4])  # the end of block 0 and the start of block 1
    units = word_units((words >= 0)[None], words[None])
    assert int(units.count) == 5  # five tokens of five different words (one unit fewer if they merged)
    assert int(blocks[1]["word_ids"][1]) == 0  # the offsets went into copies


def test_the_blocks_are_not_changed() -> None:
    blocks = _blocks(4, 24)
    before = [{k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in b.items()} for b in blocks]
    pieces = cut_blocks(blocks, 12, 8)
    pieces[0]["input_ids"][1] = 0
    cut_blocks(blocks, 6, 4, keep="batch")
    for b, a in zip(blocks, before):
        assert torch.equal(b["input_ids"], a["input_ids"]) and torch.equal(b["word_ids"], a["word_ids"])


def test_keep_batch_truncates_each_block() -> None:
    blocks = _blocks(5, 40)
    cut = cut_blocks(blocks, 16, 5, keep="batch")
    assert [torch.equal(c["input_ids"], b["input_ids"][:16]) for c, b in zip(cut, blocks)] == [True] * 5
    assert [torch.equal(c["word_ids"], b["word_ids"][:16]) for c, b in zip(cut, blocks)] == [True] * 5


def test_the_full_length_returns_the_blocks_as_they_are() -> None:
    blocks = _blocks(3, 20)
    for keep in ("tokens", "batch"):
        same = cut_blocks(blocks, 20, 3, keep=keep)
        assert [s["example_id"] for s in same] == [0, 1, 2]
        assert all(torch.equal(s["input_ids"], b["input_ids"]) for s, b in zip(same, blocks))


@given(n=st.integers(1, 9), full=st.integers(2, 70), share=st.floats(0.0, 1.0))
def test_the_most_pieces_always_fit_in_the_blocks(n: int, full: int, share: float) -> None:
    length = max(2, round(share * full))
    pieces = cut_blocks(_blocks(n, full), length, n * full // length)
    assert len(pieces) == n * full // length
    assert all(len(p["input_ids"]) == length for p in pieces)


@pytest.mark.parametrize(
    ("blocks", "length", "n", "keep", "message"),
    [
        ([], 4, 1, "tokens", r"cut_blocks needs at least one block"),
        (_blocks(1, 10) + _blocks(1, 12), 4, 1, "tokens", r"one length, got lengths \[10, 12\]; .* packing=True"),
        (
            [{"input_ids": torch.tensor([7, 8, 9]), "word_ids": torch.tensor([0, 1, 2])}],
            2,
            1,
            "tokens",
            r"every block must start with \[CLS\]",
        ),
        (_blocks(2, 10), 11, 1, "tokens", r"length=11 must be in \[2, 10\], the length of the blocks"),
        (_blocks(2, 10), 1, 1, "tokens", r"length=1 must be in \[2, 10\]"),
        (_blocks(2, 10), 4, 6, "tokens", r"n_sequences=6 must be between 1 and 5 for 2 blocks at length 4"),
        (_blocks(2, 10), 4, 3, "batch", r"n_sequences=3 must be exactly 2 for 2 blocks at length 4"),
        (_blocks(2, 10), 4, 2, "flops", r"keep must be one of \('tokens', 'batch'\), got 'flops'"),
    ],
)
def test_bad_inputs_are_rejected(blocks: list, length: int, n: int, keep: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cut_blocks(blocks, length, n, keep=keep)  # type: ignore[arg-type]
