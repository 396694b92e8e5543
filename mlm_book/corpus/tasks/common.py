"""What the task builders share: argument checks, sentence streams and the split loop.

A split is filled example by example from its own random stream; an example is kept only if
its text is new (no split already holds it) and, for ``validation`` and ``test``, unseen in the
pretraining corpus. ``test`` is built first, so it stays the same whatever the other sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any

import datasets

from mlm_book.corpus.synthetic.generate import DEFAULT_N_PARAGRAPHS, generate_annotated
from mlm_book.corpus.synthetic.probes import corpus_sentences
from mlm_book.utils.config import check_whole
from mlm_book.utils.seeding import derive_seed

TASK_SPLITS: tuple[str, ...] = ("train", "validation", "test")
BUILD_ORDER: tuple[str, ...] = ("test", "validation", "train")
UNSEEN_SPLITS: frozenset[str] = frozenset({"validation", "test"})
"""Splits whose texts never occur in the pretraining corpus."""
_TRIES_PER_EXAMPLE = 50

Row = dict[str, Any]
Draw = Callable[[int], "tuple[str, Row] | None"]
"""Draw candidate ``i`` of a split: ``(text to check, row)``, or ``None`` to skip it."""


@dataclass(frozen=True)
class TaskSpec:
    """How big a task dataset is and where it comes from.

    Attributes:
        n_train, n_validation, n_test: examples per split (non-negative).
        seed: the task seed; its streams are never the pretraining corpus's.
        world_seed: the world (default: the book's).
        unseen_in: paragraphs of the pretraining corpus (corpus seed 0) whose texts no
            validation or test example repeats; 0 checks nothing.
    """

    n_train: int = 2000
    n_validation: int = 200
    n_test: int = 500
    seed: int = 0
    world_seed: int = 0
    unseen_in: int = DEFAULT_N_PARAGRAPHS

    def __post_init__(self) -> None:
        for split in TASK_SPLITS:
            check_whole(getattr(self, f"n_{split}"), f"n_{split}", 0, hint=f"; pass e.g. n_{split}=100")
        check_whole(self.seed, "seed", 0, hint="; pass e.g. seed=0")
        check_whole(self.world_seed, "world_seed", 0, hint="; pass e.g. world_seed=0")
        check_whole(self.unseen_in, "unseen_in", 0, hint="; 0 checks nothing, DEFAULT_N_PARAGRAPHS the default corpus")

    @property
    def sizes(self) -> dict[str, int]:
        """Examples per split, by split name."""
        return {split: getattr(self, f"n_{split}") for split in TASK_SPLITS}


def split_sentences(words: tuple[str, ...], tags: tuple[str, ...]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Cut a paragraph's words and tags into sentences, each ending at a final ``.``, ``!`` or ``?``."""
    sentences, start = [], 0
    for i, (word, tag) in enumerate(zip(words, tags)):
        if tag == "PUNCT" and word in (".", "!", "?"):
            sentences.append((words[start : i + 1], tags[start : i + 1]))
            start = i + 1
    return sentences


def sentence_stream(task: str, split: str, seed: int, world_seed: int) -> Iterator[tuple[tuple[str, ...], ...]]:
    """Yield ``(words, tags)`` of sentences of a task split, paragraph ``j`` from stream ``(seed, task, split, j)``."""
    for j in count():
        paragraph = generate_annotated(1, seed=derive_seed(seed, "task", task, split, j), world_seed=world_seed)[0]
        yield from split_sentences(paragraph.words, paragraph.tags)


def fill_split(split: str, n: int, draw: Draw, taken: set[str], seen: frozenset[str]) -> list[Row]:
    """Draw candidates until ``n`` rows are kept: new texts, and unseen ones for validation and test.

    Args:
        split: the split's name.
        n: how many rows.
        draw: makes candidate ``i``.
        taken: texts of the rows already kept (updated).
        seen: texts of the pretraining corpus.

    Returns:
        The rows.
    """
    rows: list[Row] = []
    for i in range(_TRIES_PER_EXAMPLE * n + 100):
        if len(rows) == n:
            return rows
        candidate = draw(i)
        if candidate is None:
            continue
        text, row = candidate
        if text in taken or (split in UNSEEN_SPLITS and text in seen):
            continue
        taken.add(text)
        rows.append(row)
    if len(rows) == n:
        return rows
    raise ValueError(f"could only find {len(rows)} distinct {split} examples of {n}; ask for fewer")


def seen_sentences(unseen_in: int, world_seed: int) -> frozenset[str]:
    """The sentences of the first ``unseen_in`` paragraphs of the pretraining corpus (none for 0)."""
    return corpus_sentences(unseen_in, 0, world_seed) if unseen_in else frozenset()


def build_dataset(
    sizes: dict[str, int], make: Callable[[str, int, set[str]], list[Row]], features: datasets.Features
) -> datasets.DatasetDict:
    """Build the splits in :data:`BUILD_ORDER` with ``make(split, n, taken)``; return them as a ``DatasetDict``."""
    taken: set[str] = set()
    rows = {split: make(split, sizes[split], taken) for split in BUILD_ORDER}
    columns = {split: {name: [row[name] for row in rows[split]] for name in features} for split in TASK_SPLITS}
    return datasets.DatasetDict(
        {split: datasets.Dataset.from_dict(columns[split], features=features) for split in TASK_SPLITS}
    )
