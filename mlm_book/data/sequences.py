"""From a text dataset to token sequences: tokenize, then pack into blocks or cut to length.

Two layouts of the token stream:

- **packed** (as transformers' ``group_texts``, RoBERTa's FULL-SENTENCES): every paragraph
  is encoded, its ``[CLS]`` dropped, and the paragraphs, each ending in ``[SEP]``, are joined
  into one stream cut into blocks of ``seq_len - 1`` tokens, each then started with ``[CLS]``.
  No padding is ever computed; the leftover of each ``map`` batch is dropped.
- **padded**: one paragraph per sequence (cut to ``seq_len``), padded per batch (see
  ``data.batches`` for length grouping).

Sequences are kept flat in memory (ids, word ids, offsets), so any batch of them is cheap to
gather.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
import pyarrow.compute as pc
import torch
from torch import Tensor

from mlm_book.tokenization.encoding import TokenizerLike, encode_examples
from mlm_book.utils.special_tokens import CLS_ID


@dataclass(frozen=True)
class Sequences:
    """The token sequences of one split, stored flat.

    Attributes:
        input_ids: ``(N_tokens,)`` long, every sequence's ids one after another.
        word_ids: ``(N_tokens,)`` long, the word index of each token (-1 at special tokens).
        offsets: ``(N + 1,)`` long, sequence ``i`` is ``input_ids[offsets[i]:offsets[i + 1]]``.
    """

    input_ids: Tensor
    word_ids: Tensor
    offsets: Tensor

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> Tensor:
        """``(N,)`` long, the number of tokens of each sequence."""
        return self.offsets[1:] - self.offsets[:-1]

    @property
    def n_tokens(self) -> int:
        """Total number of tokens."""
        return int(self.offsets[-1])

    def examples(self, indices: Tensor) -> list[dict[str, Any]]:
        """The sequences at ``indices`` as examples for ``MaskingCollator``.

        Args:
            indices: ``(B,)`` long sequence indices.

        Returns:
            One dict per index with ``input_ids`` and ``word_ids`` (1-D long tensors) and
            ``example_id`` (the index, the key of static masking).
        """
        out = []
        for index in indices.tolist():
            start, end = int(self.offsets[index]), int(self.offsets[index + 1])
            out.append(
                {"input_ids": self.input_ids[start:end], "word_ids": self.word_ids[start:end], "example_id": index}
            )
        return out


def pack_examples(batch: dict[str, list[list[int]]], seq_len: int) -> dict[str, list[list[int]]]:
    """Join encoded paragraphs into one stream and cut it into ``[CLS]``-led blocks.

    A ``Dataset.map(batched=True)`` function. Each paragraph's leading ``[CLS]`` is dropped
    (its final ``[SEP]`` stays as the separator), the stream is cut into pieces of
    ``seq_len - 1`` tokens, and each piece gets a ``[CLS]``; the incomplete last piece is dropped.

    Args:
        batch: columns ``input_ids`` and ``word_ids`` of encoded paragraphs.
        seq_len: tokens per block, ``[CLS]`` included.

    Returns:
        Columns ``input_ids`` and ``word_ids`` of the blocks (possibly none).
    """
    ids = [token for row in batch["input_ids"] for token in row[1:]]
    words = [word for row in batch["word_ids"] for word in row[1:]]
    body = seq_len - 1
    n_blocks = len(ids) // body
    return {
        "input_ids": [[CLS_ID, *ids[i * body : (i + 1) * body]] for i in range(n_blocks)],
        "word_ids": [[-1, *words[i * body : (i + 1) * body]] for i in range(n_blocks)],
    }


def tokenize_split(
    dataset: datasets.Dataset, tokenizer: TokenizerLike, *, seq_len: int, packing: bool
) -> datasets.Dataset:
    """Encode a split's ``text`` column with batched ``map``, then pack it into blocks or cut it.

    Blank texts are dropped first. Without packing, each paragraph is cut to ``seq_len``
    tokens (its final ``[SEP]`` kept).

    Args:
        dataset: a split with a ``text`` column.
        tokenizer: the run's tokenizer.
        seq_len: tokens per sequence, ``[CLS]`` and ``[SEP]`` included.
        packing: pack into full blocks (True) or keep one paragraph per sequence (False).

    Returns:
        A dataset with columns ``input_ids`` and ``word_ids``.
    """
    if "text" not in dataset.column_names:
        raise ValueError(
            f"the dataset has no 'text' column (columns: {dataset.column_names}); load it with load_corpus"
        )
    dataset = dataset.filter(lambda texts: [bool(t and t.strip()) for t in texts], batched=True, input_columns="text")
    encoded = dataset.map(
        encode_examples,
        batched=True,
        input_columns="text",
        remove_columns=dataset.column_names,
        fn_kwargs={"tokenizer": tokenizer, "max_length": None if packing else seq_len},
    )
    encoded = encoded.remove_columns("special_tokens_mask")
    if not packing:
        return encoded
    return encoded.map(pack_examples, batched=True, batch_size=1000, fn_kwargs={"seq_len": seq_len})


def to_sequences(dataset: datasets.Dataset) -> Sequences:
    """Copy the ``input_ids`` and ``word_ids`` columns into flat tensors (via Arrow, no Python loop).

    Args:
        dataset: the output of ``tokenize_split``.

    Returns:
        The sequences, stored flat.
    """
    columns = {}
    for name in ("input_ids", "word_ids"):
        array = dataset.data.column(name).combine_chunks()
        columns[name] = torch.from_numpy(np.array(array.flatten().to_numpy(zero_copy_only=False), dtype=np.int64))
        lengths = np.asarray(pc.list_value_length(array).to_numpy(zero_copy_only=False), dtype=np.int64)
    offsets = torch.zeros(len(lengths) + 1, dtype=torch.long)
    offsets[1:] = torch.from_numpy(np.cumsum(lengths))
    return Sequences(input_ids=columns["input_ids"], word_ids=columns["word_ids"], offsets=offsets)


def prepare_split(dataset: datasets.Dataset, tokenizer: TokenizerLike, *, seq_len: int, packing: bool) -> Sequences:
    """``tokenize_split`` then ``to_sequences``: a text split ready for batching.

    Args:
        dataset: a split with a ``text`` column.
        tokenizer: the run's tokenizer.
        seq_len: tokens per sequence.
        packing: pack into full blocks or keep one paragraph per sequence.

    Returns:
        The split's sequences.
    """
    return to_sequences(tokenize_split(dataset, tokenizer, seq_len=seq_len, packing=packing))
