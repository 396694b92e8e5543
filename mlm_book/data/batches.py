"""Batches of a split: the order of an epoch, micro-batches, and fixed evaluation batches.

A ``torch.Generator`` draws the order of every epoch, so a run can restart at any batch.
Unpadded text (packed blocks) can be batched at random; padded paragraphs are *length-grouped*:
the shuffled sequences are sorted by length within chunks of ``50 * batch_size`` and cut into
batches, whose order is shuffled again, so little is wasted on padding. Evaluation batches are
masked once, with their own seed, so validation numbers compare across steps and runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from mlm_book.data.sequences import Sequences
from mlm_book.masking.corruption import masked_positions_of

GROUPING_CHUNK = 50
"""Length grouping sorts sequences within chunks of this many batches."""


def batch_order(lengths: Tensor, batch_size: int, generator: torch.Generator, *, group_by_length: bool) -> Tensor:
    """Draw the batches of one epoch: every full batch of a random permutation.

    Args:
        lengths: ``(N,)`` the length of each sequence (used only for grouping).
        batch_size: sequences per batch.
        generator: draws the permutation (and the batch order when grouping); advanced.
        group_by_length: sort by length within chunks of ``GROUPING_CHUNK`` batches, then
            shuffle the batches, so each batch holds sequences of similar length.

    Returns:
        ``(N // batch_size, batch_size)`` long sequence indices; the last partial batch is dropped.
    """
    n = len(lengths)
    if n < batch_size:
        raise ValueError(
            f"the split has {n} sequences, fewer than batch_size={batch_size}; "
            "use a larger corpus or a smaller batch size"
        )
    permutation = torch.randperm(n, generator=generator)  # (N,)
    if group_by_length:
        chunk = GROUPING_CHUNK * batch_size
        pieces = []
        for start in range(0, n, chunk):
            part = permutation[start : start + chunk]
            pieces.append(part[torch.argsort(lengths[part], descending=True, stable=True)])
        permutation = torch.cat(pieces)
    n_batches = n // batch_size
    batches = permutation[: n_batches * batch_size].view(n_batches, batch_size)  # (N_b, B)
    if group_by_length:
        batches = batches[torch.randperm(n_batches, generator=generator)]
    return batches


def split_batch(batch: dict[str, Tensor], parts: int) -> list[dict[str, Tensor]]:
    """Cut a collated batch into ``parts`` equal micro-batches, each trimmed of padding columns.

    Args:
        batch: ``input_ids``, ``attention_mask``, ``labels``, each ``(B, T)``, right-padded.
        parts: number of micro-batches; must divide ``B``.

    Returns:
        ``parts`` dicts with the same three keys, ``(B / parts, T_i)`` with ``T_i <= T`` the
        longest sequence of micro-batch ``i``.
    """
    rows = batch["input_ids"].shape[0]
    if parts < 1 or rows % parts:
        raise ValueError(f"cannot split a batch of {rows} sequences into {parts} equal parts")
    size = rows // parts
    pieces = []
    for i in range(parts):
        piece = {key: batch[key][i * size : (i + 1) * size] for key in ("input_ids", "attention_mask", "labels")}
        length = int(piece["attention_mask"].sum(dim=1).max())
        pieces.append({key: value[:, :length] for key, value in piece.items()})
    return pieces


def eval_batches(
    sequences: Sequences,
    *,
    n_sequences: int,
    batch_size: int,
    collate: Callable[[list[dict[str, Any]]], dict[str, Tensor]],
) -> list[dict[str, Tensor]]:
    """Build the evaluation batches once: the first ``n_sequences``, sorted by length, masked once.

    Pass a collator with a fixed seed, so the masks (and hence the validation loss) are the same
    at every evaluation and in every run with that seed.

    Args:
        sequences: the validation sequences.
        n_sequences: how many to use (fewer if the split is smaller).
        batch_size: sequences per batch (the last batch may be smaller).
        collate: pads and masks a list of examples (a ``MaskingCollator``).

    Returns:
        Batches with ``input_ids``, ``attention_mask`` and ``labels``, ``(B, T)`` each.
    """
    n = min(n_sequences, len(sequences))
    indices = torch.arange(n)
    indices = indices[torch.argsort(sequences.lengths[:n], descending=True, stable=True)]
    batches = []
    for chunk in indices.split(batch_size):
        batch = collate(sequences.examples(chunk))
        batches.append({key: batch[key] for key in ("input_ids", "attention_mask", "labels")})
    return batches


def model_inputs(batch: dict[str, Tensor], device: torch.device | str | None = None) -> dict[str, Tensor | None]:
    """The keyword arguments of ``MLMModel.forward`` for a collated batch, worked out on the host.

    Everything that depends on the batch's values is decided here, on the CPU, before the
    tensors move: the labelled positions (``masked_positions``, unless the batch has them) and
    whether anything is padded (a mask of all ones becomes ``None``, the model's fast path). So
    the forward pass never has to wait for the device to learn a count.

    Args:
        batch: ``input_ids``, ``attention_mask`` and ``labels``, ``(B, T)`` each, on the CPU;
            optionally ``masked_positions``.
        device: where the model is; ``None`` leaves the tensors where they are.

    Returns:
        ``input_ids``, ``attention_mask`` (or ``None``), ``labels`` and ``masked_positions``.
    """
    labels = batch["labels"]
    positions = batch.get("masked_positions")
    if positions is None:
        positions = masked_positions_of(labels)
    mask = batch["attention_mask"]
    inputs = {
        "input_ids": batch["input_ids"],
        "attention_mask": None if bool(mask.all()) else mask,
        "labels": labels,
        "masked_positions": positions,
    }
    if device is None:
        return inputs
    return {key: None if value is None else value.to(device, non_blocking=True) for key, value in inputs.items()}
