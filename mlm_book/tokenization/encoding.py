"""Batches of text as the masking and the model want them: ids, masks and word ids.

A tokenizer from ``tokenization.tokenizer`` turns each text into ``[CLS] pieces... [SEP]``.
Batches cut every encoding to at most ``max_length`` tokens (keeping the final ``[SEP]``), pad
them on the right with ``[PAD]``, and record, for every token,

- ``attention_mask``: 1 at real tokens, 0 at padding, so attention ignores the padding;
- ``special_tokens_mask``: 1 at ``[CLS]``, ``[SEP]`` and ``[PAD]``, which are never masked;
- ``word_ids``: which word of the text the token comes from, so that whole-word masking can
  hide all the pieces of a word together (-1 at special tokens and padding).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Union

import torch
from tokenizers import Encoding, Tokenizer
from torch import Tensor

from mlm_book.utils.special_tokens import PAD_ID

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

TokenizerLike = Union[Tokenizer, "PreTrainedTokenizerFast"]
"""A ``tokenizers.Tokenizer`` from ``tokenization.tokenizer``, or its ``transformers`` wrapper."""


@dataclass(frozen=True)
class EncodedBatch:
    """Texts encoded as batch-first tensors, right-padded with ``[PAD]``.

    Attributes:
        input_ids: ``(B, T)`` long token ids, ``[CLS] ... [SEP] [PAD] ...``.
        attention_mask: ``(B, T)`` long, 1 at real tokens and 0 at padding.
        special_tokens_mask: ``(B, T)`` long, 1 at the ``[CLS]``, ``[SEP]`` and ``[PAD]`` the
            tokenizer added, which masking must never choose.
        word_ids: ``(B, T)`` long, the index of the word each token comes from within its text
            (pieces of one word share it), -1 at special tokens and padding.
    """

    input_ids: Tensor
    attention_mask: Tensor
    special_tokens_mask: Tensor
    word_ids: Tensor

    def to(self, device: torch.device | str) -> EncodedBatch:
        """Return a copy with every tensor on ``device``."""
        return EncodedBatch(*(getattr(self, f.name).to(device) for f in fields(self)))


def encode_examples(
    texts: Sequence[str], tokenizer: TokenizerLike, *, max_length: int | None = None
) -> dict[str, list[list[int]]]:
    """Encode texts as Python lists, without padding: the function for ``Dataset.map``.

    Use it as ``dataset.map(encode_examples, batched=True, input_columns="text",
    remove_columns=["text"], fn_kwargs={"tokenizer": tokenizer, "max_length": 128})``.

    Args:
        texts: the texts of a batch of examples.
        tokenizer: a tokenizer from this module, or its ``to_transformers`` wrapper.
        max_length: cut longer encodings to this many tokens, ``[CLS]`` and ``[SEP]`` included.

    Returns:
        ``input_ids``, ``special_tokens_mask`` (1 at ``[CLS]`` and ``[SEP]``) and ``word_ids``
        (-1 at special tokens): one list per text, of the same length.
    """
    encodings = _encode(tokenizer, texts, max_length)
    return {
        "input_ids": [e.ids for e in encodings],
        "special_tokens_mask": [e.special_tokens_mask for e in encodings],
        "word_ids": [e.word_ids for e in encodings],
    }


def encode_batch(
    tokenizer: TokenizerLike, texts: Sequence[str], *, max_length: int, padding: bool | str = True
) -> EncodedBatch:
    """Encode texts into a padded batch of tensors.

    Args:
        tokenizer: a tokenizer from this module, or its ``to_transformers`` wrapper.
        texts: ``B`` texts.
        max_length: cut longer encodings to this many tokens, ``[CLS]`` and ``[SEP]`` included.
        padding: ``True`` pads to the longest encoding, ``"max_length"`` to ``max_length``,
            ``False`` requires encodings of equal length.

    Returns:
        An ``EncodedBatch`` of ``(B, T)`` tensors.

    Raises:
        ValueError: for no texts, a bad ``padding``, or unequal lengths with ``padding=False``.
    """
    if padding not in (True, False, "max_length"):
        raise ValueError(f"padding must be True, False or 'max_length', got {padding!r}")
    if len(texts) == 0:
        raise ValueError("cannot encode an empty batch; pass at least one text")
    encodings = _encode(tokenizer, texts, max_length)
    lengths = sorted({len(e) for e in encodings})
    if padding is False and len(lengths) > 1:
        raise ValueError(f"the texts encode to {lengths[0]}..{lengths[-1]} tokens; pass padding=True to pad them")
    length = max_length if padding == "max_length" else lengths[-1]

    def padded(rows: Iterable[list[int]], fill: int) -> Tensor:  # (B, T)
        return torch.tensor([row + [fill] * (length - len(row)) for row in rows], dtype=torch.long)

    return EncodedBatch(
        input_ids=padded((e.ids for e in encodings), PAD_ID),
        attention_mask=padded(([1] * len(e) for e in encodings), 0),
        special_tokens_mask=padded((e.special_tokens_mask for e in encodings), 1),
        word_ids=padded((e.word_ids for e in encodings), -1),
    )


@dataclass(frozen=True)
class _Encoding:
    """One encoded text as Python lists (word ids use -1 for special tokens)."""

    ids: list[int]
    special_tokens_mask: list[int]
    word_ids: list[int]

    def __len__(self) -> int:
        return len(self.ids)


def _encode(tokenizer: TokenizerLike, texts: Sequence[str], max_length: int | None) -> list[_Encoding]:
    """Encode with ``[CLS]``/``[SEP]``, then keep ``max_length - 1`` tokens and the final ``[SEP]``."""
    if isinstance(texts, str):
        raise ValueError(f"texts must be a list of strings, not the string {texts[:30]!r}; put it in a list")
    if max_length is not None and max_length < 2:
        raise ValueError(f"max_length={max_length} leaves no room for [CLS] and [SEP]; use at least 2")
    backend = _backend(tokenizer)
    if backend.truncation is not None or backend.padding is not None:  # e.g. left by transformers
        backend = Tokenizer.from_str(backend.to_str())
        backend.no_truncation()
        backend.no_padding()
    return [_cut(encoding, max_length) for encoding in backend.encode_batch(list(texts))]


def _cut(encoding: Encoding, max_length: int | None) -> _Encoding:
    """Keep the first ``max_length - 1`` tokens and the final ``[SEP]``, in time linear in the length.

    Each read of an ``Encoding`` attribute (``ids``, ``word_ids``...) builds a new Python list
    of the whole text, so every attribute is read exactly once, then sliced.
    """
    ids, special, words = encoding.ids, encoding.special_tokens_mask, encoding.word_ids
    keep = len(ids) if max_length is None else min(len(ids), max_length)
    head = slice(0, keep - 1)  # all but the end, then the final [SEP]
    return _Encoding(
        ids=ids[head] + ids[-1:],
        special_tokens_mask=special[head] + special[-1:],
        word_ids=[-1 if word is None else word for word in words[head] + words[-1:]],
    )


def _backend(tokenizer: TokenizerLike) -> Tokenizer:
    """The ``tokenizers.Tokenizer`` itself, or the one inside a ``transformers`` wrapper."""
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    if not isinstance(backend, Tokenizer):
        raise TypeError(
            f"expected a tokenizers.Tokenizer or a transformers fast tokenizer, got {type(tokenizer).__name__}; "
            "make one with train_tokenizer() or load_tokenizer()"
        )
    return backend
