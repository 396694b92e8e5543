"""The data of a curriculum step: a step's full-length blocks, cut to the step's length.

The corpus is packed once, into blocks of the full length $L$, and the run draws its data order
over those blocks as usual: every step takes the next $B$ blocks, whatever its length $\\ell$.
So the data order, the epochs and the token budget stay those of the fixed-length run, and a
resumed run needs nothing new in its state. The step then reshapes its blocks:

- ``keep="tokens"``: the blocks' bodies (each block without its ``[CLS]``) are joined into
  one stream and cut into ``n`` pieces of $\\ell - 1$ tokens, each led by a ``[CLS]``. With
  $n = \\lfloor BL / \\ell \\rfloor$ the pieces hold as many tokens as the blocks did; the text left
  over (fewer than $\\ell - 1$ tokens, plus one token per extra ``[CLS]``) is dropped. A piece
  may join the end of one block to the start of the next, as packing joins paragraphs.
- ``keep="batch"``: each block is truncated to its first $\\ell$ tokens (DeepSpeed's
  truncation); the rest of the block is dropped.

Word ids are offset block by block, so two words that meet at a join never merge into one
(whole-word and span masking group tokens by word id). Pieces carry no ``example_id``: static
masking keys them by their content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from mlm_book.data import KEEPS, Keep
from mlm_book.utils.special_tokens import CLS_ID


def _check_blocks(examples: Sequence[Mapping[str, Any]]) -> int:
    """Return the common length of packed blocks, or raise ValueError naming what is wrong."""
    if not examples:
        raise ValueError("cut_blocks needs at least one block")
    lengths = sorted({len(example["input_ids"]) for example in examples})
    if len(lengths) != 1:
        raise ValueError(
            f"cut_blocks needs packed blocks of one length, got lengths {lengths}; a length curriculum "
            "needs packing=True"
        )
    if any(int(example["input_ids"][0]) != CLS_ID for example in examples):
        raise ValueError("every block must start with [CLS]; build the blocks with data_pipeline's packing")
    return lengths[0]


def _body_stream(examples: Sequence[Mapping[str, Any]]) -> tuple[torch.Tensor, torch.Tensor]:
    """The blocks without their ``[CLS]``, joined: ``(N_body,)`` ids and word ids offset per block."""
    ids = torch.cat([torch.as_tensor(example["input_ids"])[1:] for example in examples])
    words = [torch.as_tensor(example["word_ids"])[1:] for example in examples]
    width = 1 + max(int(w.max()) if len(w) else 0 for w in words)
    offset = [torch.where(w >= 0, w + index * width, w) for index, w in enumerate(words)]
    return ids.long(), torch.cat(offset).long()


def cut_blocks(
    examples: Sequence[Mapping[str, Any]], length: int, n_sequences: int, *, keep: Keep = "tokens"
) -> list[dict[str, torch.Tensor]]:
    """Reshape a step's packed blocks into ``n_sequences`` sequences of ``length`` tokens.

    Args:
        examples: the step's blocks, as ``Sequences.examples`` returns them: dicts with
            ``input_ids`` and ``word_ids``, 1-D, all of one length ``L``, each led by ``[CLS]``.
        length: the step's sequence length ``ℓ``, in ``[2, L]``.
        n_sequences: sequences to return; with ``keep="tokens"`` at most ``B * L // ℓ``,
            with ``keep="batch"`` exactly the number of blocks ``B``.
        keep: ``"tokens"`` (cut the joined stream into pieces) or ``"batch"`` (truncate).

    Returns:
        ``n_sequences`` dicts with ``input_ids`` and ``word_ids``, ``(ℓ,)`` each, led by
        ``[CLS]``; the input blocks are unchanged. At ``ℓ = L`` the blocks are returned as they are.

    Raises:
        ValueError: for blocks of mixed lengths, a length out of range or too many sequences.
    """
    full = _check_blocks(examples)
    if keep not in KEEPS:
        raise ValueError(f"keep must be one of {KEEPS}, got {keep!r}")
    if not 2 <= length <= full:
        raise ValueError(f"length={length} must be in [2, {full}], the length of the blocks")
    most = len(examples) * full // length if keep == "tokens" else len(examples)
    if not 1 <= n_sequences <= most or (keep == "batch" and n_sequences != most):
        wanted = f"between 1 and {most}" if keep == "tokens" else f"exactly {most}"
        raise ValueError(f"n_sequences={n_sequences} must be {wanted} for {len(examples)} blocks at length {length}")
    if length == full and n_sequences == len(examples):
        return [dict(example) for example in examples]
    if keep == "batch":
        return [
            {"input_ids": torch.as_tensor(e["input_ids"])[:length], "word_ids": torch.as_tensor(e["word_ids"])[:length]}
            for e in examples
        ]
    ids, words = _body_stream(examples)
    body = length - 1
    pieces_ids = ids[: n_sequences * body].view(n_sequences, body)  # (n, ℓ - 1)
    pieces_words = words[: n_sequences * body].view(n_sequences, body)  # (n, ℓ - 1)
    cls = torch.full((n_sequences, 1), CLS_ID, dtype=torch.long)
    input_ids = torch.cat([cls, pieces_ids], dim=1)  # (n, ℓ)
    word_ids = torch.cat([torch.full_like(cls, -1), pieces_words], dim=1)  # (n, ℓ)
    return [{"input_ids": input_ids[i], "word_ids": word_ids[i]} for i in range(n_sequences)]
