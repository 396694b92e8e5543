"""Fine-tuning tasks built from the synthetic world: tagging, grammaticality and extractive QA.

:func:`make_task_dataset` builds each; it returns a ``datasets.DatasetDict`` with ``train``, ``validation`` and ``test``
splits and the columns transformers' task scripts expect:

* ``"tagging"`` -- ``tokens`` (words), ``ner_tags`` and ``pos_tags`` (label ids;
  the names are in :data:`NER_LABELS`, :data:`POS_TAGS` and in the dataset's features);
* ``"grammar"`` -- ``text`` and ``label`` (1 grammatical, 0 an agreement
  error: one ``is/are``, ``was/were`` or ``has/have`` swapped for the other number);
* ``"qa"`` -- ``question``, ``context`` and SQuAD's ``answers``
  (``{"text": [...], "answer_start": [char offsets]}``);
* ``"number"`` -- ``tokens`` with one agreeing verb replaced by ``[MASK]``, ``number_tags``
  (-100 except at the mask: 0 singular, 1 plural), ``label`` and ``verb``: what a linear
  probe of the subject's number at the verb is fitted on.

Every example comes from random streams the pretraining corpus never uses
(``derive_seed(seed, "task", TASK, SPLIT, ...)``). The splits are built test first, then
validation, then train, each skipping any text an earlier split holds, so the test split does
not depend on the size of the others and no text is in two splits. A test or validation example
whose text occurs in the default pretraining corpus (corpus seed 0, ``unseen_in`` paragraphs)
is drawn again: sentences for tagging, grammaticality and number (the grammatical source sentence),
whole contexts for QA (its sentences state the world's facts in the corpus's own words, as
``facts`` probes do).
"""

from __future__ import annotations

import datasets

from mlm_book.corpus.synthetic.generate import DEFAULT_N_PARAGRAPHS
from mlm_book.corpus.tasks.common import TASK_SPLITS, TaskSpec
from mlm_book.corpus.tasks.grammar import GRAMMAR_LABELS, grammar_dataset
from mlm_book.corpus.tasks.number import NUMBER_LABELS, number_dataset
from mlm_book.corpus.tasks.qa import QA_KINDS, qa_dataset
from mlm_book.corpus.tasks.tagging import NER_LABELS, POS_TAGS, ner_tag, tagging_dataset

TASK_DATASETS: tuple[str, ...] = ("tagging", "grammar", "qa", "number")
"""The task datasets :func:`make_task_dataset` builds."""
_BUILDERS = {"tagging": tagging_dataset, "grammar": grammar_dataset, "qa": qa_dataset, "number": number_dataset}


def make_task_dataset(
    task: str,
    n_train: int = 2000,
    n_validation: int = 200,
    n_test: int = 500,
    *,
    seed: int = 0,
    world_seed: int = 0,
    unseen_in: int = DEFAULT_N_PARAGRAPHS,
) -> datasets.DatasetDict:
    """Build a task dataset of the synthetic world, seeded, with train/validation/test splits.

    Args:
        task: ``"tagging"`` (entities and parts of speech), ``"grammar"``, ``"qa"`` or
            ``"number"`` (the subject's number at a masked verb).
        n_train, n_validation, n_test: examples per split (non-negative).
        seed: the task seed; its streams are never the pretraining corpus's.
        world_seed: the world (default: the book's).
        unseen_in: paragraphs of the pretraining corpus (corpus seed 0) whose texts no
            validation or test example repeats; 0 checks nothing.

    Returns:
        The splits, with the columns of the module docstring.

    Raises:
        ValueError: for an unknown task, or a negative or non-integer argument.
    """
    if task not in _BUILDERS:
        raise ValueError(f"unknown task dataset {task!r}; choose from {TASK_DATASETS}")
    return _BUILDERS[task](TaskSpec(n_train, n_validation, n_test, seed, world_seed, unseen_in))


__all__ = [
    "GRAMMAR_LABELS",
    "NER_LABELS",
    "NUMBER_LABELS",
    "POS_TAGS",
    "QA_KINDS",
    "TASK_DATASETS",
    "TASK_SPLITS",
    "TaskSpec",
    "make_task_dataset",
    "ner_tag",
]
