"""Fine-tuning examples as the heads want them: WordPiece ids with labels aligned once.

**Tagging.** A word may be spelled by several pieces (``zookeeper`` -> ``zoo ##keeper``); its
label goes to the first piece and every other piece gets ``IGNORE_INDEX`` (-100), as do
``[CLS]``, ``[SEP]`` and padding, so the loss and the scores count each word once:

    words   Anna    is   a   zookeeper          ->  [CLS] anna is a zoo ##keeper [SEP]
    labels  PERSON  O    O   JOB                      -100  1    0  0  3   -100    -100

**Question answering.** The pair is encoded as ``[CLS] question [SEP] context [SEP]``, and the
answer's character span becomes the first and last context tokens that overlap it
(``start_positions``, ``end_positions``). Too long a pair is read through overlapping windows
of its context (``doc_stride``), or, without windows, loses the end of its context; a window
that does not hold the answer points at ``[CLS]`` (index 0), as BERT does, so it still trains
the model to say "not here".

**Classification.** The text is encoded; the label is the example's.

Longer encodings are cut to ``max_len`` tokens, keeping the final ``[SEP]``; words cut away
lose their labels. :func:`collate_task` pads rows into tensors and :func:`task_inputs` turns a
batch into the keyword arguments of ``model.heads.TaskModel.forward``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import datasets
import torch
from tokenizers import Tokenizer
from torch import Tensor

from mlm_book.utils.special_tokens import IGNORE_INDEX, PAD_ID, SEP_ID

TASK_KINDS: tuple[str, ...] = ("token", "sequence", "span")
"""What a head predicts: a label per token, one per sequence, or an answer span."""
_NOT_CONTEXT = (-1, -1)


def _backend(tokenizer: Any) -> Tokenizer:
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    if not isinstance(backend, Tokenizer):
        raise ValueError(f"expected a tokenizers.Tokenizer, got {type(tokenizer).__name__}; use the run's tokenizer")
    return backend


def _check_max_len(max_len: int, least: int = 2) -> None:
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < least:
        raise ValueError(f"max_len must be a whole number >= {least}, got {max_len!r}; try the model's max_len")


def align_labels(word_ids: Sequence[int | None], word_labels: Sequence[int]) -> list[int]:
    """Give each word's label to its first piece and ``IGNORE_INDEX`` to every other token.

    Args:
        word_ids: for every token, the index of its word, or ``None`` for ``[CLS]``, ``[SEP]``
            and padding (``Encoding.word_ids``).
        word_labels: one label per word.

    Returns:
        One label per token.
    """
    labels, previous = [], None
    for word in word_ids:
        labels.append(IGNORE_INDEX if word is None or word == previous else int(word_labels[word]))
        previous = word
    return labels


def _cut(ids: list[int], labels: list[int], max_len: int) -> tuple[list[int], list[int]]:
    """Keep the first ``max_len - 1`` tokens and the final ``[SEP]`` (label -100)."""
    if len(ids) <= max_len:
        return ids, labels
    return ids[: max_len - 1] + [SEP_ID], labels[: max_len - 1] + [IGNORE_INDEX]


def encode_tagging(
    batch: dict[str, list[Any]], tokenizer: Tokenizer, *, max_len: int, label_column: str = "ner_tags"
) -> dict[str, list[list[int]]]:
    """Encode words and align their labels: the function for ``Dataset.map(batched=True)``.

    Args:
        batch: columns ``tokens`` (lists of words) and ``label_column`` (lists of label ids).
        tokenizer: the model's tokenizer (it adds ``[CLS]`` and ``[SEP]``).
        max_len: cut longer encodings to this many tokens.
        label_column: which labels, e.g. ``"ner_tags"`` or ``"pos_tags"``.

    Returns:
        ``input_ids`` and ``labels`` (per token, -100 except at each word's first piece).
    """
    _check_max_len(max_len)
    encodings = _backend(tokenizer).encode_batch(batch["tokens"], is_pretokenized=True)
    out: dict[str, list[list[int]]] = {"input_ids": [], "labels": []}
    for encoding, word_labels in zip(encodings, batch[label_column]):
        ids, labels = _cut(encoding.ids, align_labels(encoding.word_ids, word_labels), max_len)
        out["input_ids"].append(ids)
        out["labels"].append(labels)
    return out


def encode_classification(batch: dict[str, list[Any]], tokenizer: Tokenizer, *, max_len: int) -> dict[str, list[Any]]:
    """Encode texts for sequence classification (``Dataset.map(batched=True)``).

    Args:
        batch: columns ``text`` and ``label``.
        tokenizer: the model's tokenizer.
        max_len: cut longer encodings to this many tokens.

    Returns:
        ``input_ids`` (lists) and ``labels`` (one int per text).
    """
    _check_max_len(max_len)
    encodings = _backend(tokenizer).encode_batch(batch["text"])
    ids = [_cut(e.ids, [], max_len)[0] for e in encodings]
    return {"input_ids": ids, "labels": [int(label) for label in batch["label"]]}


def answer_positions(offsets: Sequence[tuple[int, int]], start_char: int, end_char: int) -> tuple[int, int]:
    """The first and last context tokens that overlap ``[start_char, end_char)``, or ``(0, 0)``.

    Args:
        offsets: per token, its ``(start, end)`` characters in the context, or ``(-1, -1)``
            for a token outside the context.
        start_char, end_char: the answer's span in the context.

    Returns:
        Token indices ``(start, end)``; ``(0, 0)`` (``[CLS]``) if the kept context does not
        hold the whole answer.
    """
    inside = [i for i, (s, e) in enumerate(offsets) if (s, e) != _NOT_CONTEXT and s < end_char and e > start_char]
    if not inside or offsets[inside[0]][0] > start_char or offsets[inside[-1]][1] < end_char:
        return 0, 0
    return inside[0], inside[-1]


def _windows(n_context: int, room: int, doc_stride: int | None) -> list[int]:
    """First context token of each window: one window if ``doc_stride`` is None, else overlapping ones."""
    if doc_stride is None or n_context <= room:
        return [0]
    if doc_stride >= room:
        raise ValueError(
            f"doc_stride={doc_stride} must be less than the {room} context tokens a window holds; "
            "lower it or raise max_len"
        )
    return [*range(0, n_context - room, room - doc_stride), n_context - room]  # the last ends at the end


def encode_qa(
    batch: dict[str, list[Any]], tokenizer: Tokenizer, *, max_len: int, doc_stride: int | None = None
) -> dict[str, list[Any]]:
    """Encode question-context pairs and locate the answers (``Dataset.map(batched=True)``).

    With ``doc_stride`` a context too long for ``max_len`` is read through overlapping windows,
    as BERT read SQuAD: each window is ``[CLS] question [SEP] part of the context [SEP]``, the
    next window starts ``room - doc_stride`` context tokens later (``room`` is what a window
    holds), the last one ends at the context's end, and a window that does not hold the whole
    answer points at ``[CLS]`` (0, 0). Every window keeps the index of its question
    (``example``), so that decoding can pick the best span over all of a question's windows.

    Args:
        batch: columns ``question``, ``context`` and ``answers`` (SQuAD's: ``text`` and
            ``answer_start``; the first answer is the training target), and optionally
            ``example`` (each row's index in its split; default: its index in the batch).
        tokenizer: the model's tokenizer (pairs become ``[CLS] q [SEP] c [SEP]``).
        max_len: the longest window in tokens.
        doc_stride: context tokens that consecutive windows share; ``None`` keeps one window
            per question and cuts the rest of its context away.

    Returns:
        ``input_ids``, ``start_positions``, ``end_positions``, ``offsets`` (per token, its
        character span in the context, ``[-1, -1]`` outside the context) and ``example``, one
        row per window.

    Raises:
        ValueError: if a question alone leaves no room for any context, or windows would not
            advance (``doc_stride`` too large).
    """
    _check_max_len(max_len, least=4)
    if doc_stride is not None and (isinstance(doc_stride, bool) or not isinstance(doc_stride, int) or doc_stride < 0):
        raise ValueError(f"doc_stride must be a whole number >= 0 or None, got {doc_stride!r}; try max_len // 4")
    pairs = list(zip(batch["question"], batch["context"]))
    examples = batch.get("example", range(len(pairs)))
    out: dict[str, list[Any]] = {
        "input_ids": [],
        "start_positions": [],
        "end_positions": [],
        "offsets": [],
        "example": [],
    }
    for encoding, answers, example in zip(_backend(tokenizer).encode_batch(pairs), batch["answers"], examples):
        sequence_ids, offsets = encoding.sequence_ids, encoding.offsets
        n_question = sequence_ids.index(1)  # [CLS] question [SEP]
        if n_question + 2 > max_len:
            raise ValueError(f"a question takes {n_question} tokens, leaving no context within max_len={max_len}")
        n_context, room = len(encoding.ids) - n_question - 1, max_len - n_question - 1
        start_char = int(answers["answer_start"][0])
        end_char = start_char + len(answers["text"][0])
        for first in _windows(n_context, room, doc_stride):
            window = slice(n_question + first, n_question + min(first + room, n_context))
            ids = encoding.ids[:n_question] + encoding.ids[window] + [SEP_ID]
            spans = [_NOT_CONTEXT] * n_question + list(offsets[window]) + [_NOT_CONTEXT]
            start, end = answer_positions(spans, start_char, end_char)
            out["input_ids"].append(ids)
            out["start_positions"].append(start)
            out["end_positions"].append(end)
            out["offsets"].append([list(span) for span in spans])
            out["example"].append(int(example))
    return out


def _encode_qa_indexed(batch: dict[str, list[Any]], indices: list[int], **kwargs: Any) -> dict[str, list[Any]]:
    """:func:`encode_qa` with each row's index in its split as ``example``."""
    return encode_qa({**batch, "example": indices}, **kwargs)


def encode_task(
    dataset: datasets.Dataset, tokenizer: Tokenizer, kind: str, *, max_len: int, **kwargs: Any
) -> datasets.Dataset:
    """Encode a task split for a head kind, keeping only the encoded columns.

    Args:
        dataset: a split from ``corpus.tasks``.
        tokenizer: the model's tokenizer.
        kind: one of :data:`TASK_KINDS`.
        max_len: the longest encoding.
        **kwargs: passed to the encoder (``label_column`` for tagging, ``doc_stride`` for spans).

    Returns:
        The encoded split (``input_ids`` and its labels, plus ``offsets`` and ``example`` for
        spans: one row per window, which may be more rows than questions).
    """
    encoders = {"token": encode_tagging, "sequence": encode_classification, "span": _encode_qa_indexed}
    if kind not in encoders:
        raise ValueError(f"unknown task kind {kind!r}; choose from {TASK_KINDS}")
    return dataset.map(
        encoders[kind],
        batched=True,
        with_indices=kind == "span",
        remove_columns=dataset.column_names,
        fn_kwargs={"tokenizer": tokenizer, "max_len": max_len, **kwargs},
        load_from_cache_file=False,
    )


def _pad(rows: Sequence[Sequence[Any]], fill: Any) -> Tensor:
    length = max(len(row) for row in rows)
    return torch.tensor([list(row) + [fill] * (length - len(row)) for row in rows], dtype=torch.long)


def collate_task(rows: Sequence[dict[str, Any]]) -> dict[str, Tensor]:
    """Pad encoded rows into a batch of tensors, on the right.

    Args:
        rows: encoded examples (from :func:`encode_task`).

    Returns:
        ``input_ids`` and ``attention_mask`` ``(B, T)``; ``labels`` ``(B, T)`` (padded with
        -100) or ``(B,)``; ``start_positions``, ``end_positions`` and ``example`` ``(B,)``;
        ``offsets`` ``(B, T, 2)`` (padded with -1) when the rows have them.
    """
    if not rows:
        raise ValueError("cannot collate an empty batch; pass at least one row")
    batch = {
        "input_ids": _pad([r["input_ids"] for r in rows], PAD_ID),
        "attention_mask": _pad([[1] * len(r["input_ids"]) for r in rows], 0),
    }
    if "labels" in rows[0]:
        labels = [r["labels"] for r in rows]
        batch["labels"] = _pad(labels, IGNORE_INDEX) if isinstance(labels[0], list) else torch.tensor(labels)
    for key in ("start_positions", "end_positions", "example"):
        if key in rows[0]:
            batch[key] = torch.tensor([r[key] for r in rows], dtype=torch.long)
    if "offsets" in rows[0]:
        batch["offsets"] = _pad([r["offsets"] for r in rows], list(_NOT_CONTEXT))
    return batch


def task_batches(
    encoded: datasets.Dataset, batch_size: int, *, generator: torch.Generator | None = None
) -> list[dict[str, Tensor]]:
    """Cut an encoded split into collated batches, in order or shuffled by ``generator``.

    Args:
        encoded: from :func:`encode_task`.
        batch_size: rows per batch (the last batch may be smaller).
        generator: shuffles the rows when given.

    Returns:
        The batches.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
    order = torch.randperm(len(encoded), generator=generator) if generator is not None else torch.arange(len(encoded))
    rows = encoded.to_list()
    return [collate_task([rows[i] for i in chunk.tolist()]) for chunk in order.split(batch_size)]


def task_inputs(batch: dict[str, Tensor], device: torch.device | str | None = None) -> dict[str, Tensor | None]:
    """The keyword arguments of ``TaskModel.forward`` for a batch, decided on the host.

    A mask of all ones becomes ``None`` (the model's fast path, as in ``data.batches.model_inputs``);
    ``offsets`` stay behind (only decoding needs them).

    Args:
        batch: from :func:`collate_task`, on the CPU.
        device: where the model is; ``None`` leaves the tensors where they are.

    Returns:
        ``input_ids``, ``attention_mask`` (or ``None``) and the batch's targets.
    """
    mask = batch["attention_mask"]
    inputs: dict[str, Tensor | None] = {
        "input_ids": batch["input_ids"],
        "attention_mask": None if bool(mask.all()) else mask,
    }
    for key in ("labels", "start_positions", "end_positions"):
        if key in batch:
            inputs[key] = batch[key]
    if device is None:
        return inputs
    return {k: None if v is None else v.to(device, non_blocking=True) for k, v in inputs.items()}


def count_targets(batch: dict[str, Tensor]) -> int:
    """How many predictions a batch's loss averages over: labelled tokens, or examples.

    Args:
        batch: from :func:`collate_task`.

    Returns:
        The number of labels that are not -100 for token labels; the batch size otherwise.
    """
    labels = batch.get("labels")
    if labels is not None and labels.dim() == 2:
        return int((labels != IGNORE_INDEX).sum())
    return int(batch["input_ids"].size(0))
