"""What a training run reads, from its config alone: the corpus, a tokenizer and the probes.

The command line and the chapters build a run from a ``TrainConfig``: ``config.corpus`` names
the text (``"builtin"``, files, or ``"hub:NAME"``); the built-in corpus comes with the book's
standard tokenizer and with probe sentences whose answers are known, while any other corpus
gets a WordPiece tokenizer trained on its training split, of the model's vocabulary size.
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets
from tokenizers import Tokenizer

from mlm_book.config import ModelConfig
from mlm_book.train_config import TrainConfig

BUILTIN = "builtin"
CORPUS_SEED = 0
"""Seed of the built-in corpus and of the split of corpora that have none (fixed for the book)."""


@dataclass(frozen=True)
class TrainInputs:
    """The data side of a run.

    Attributes:
        dataset: splits ``train``, ``validation`` and ``test`` with a ``text`` column.
        tokenizer: the tokenizer for a new run, or ``None`` when resuming (the run has its own).
        probes: probe sentences for the built-in corpus, else empty.
    """

    dataset: datasets.DatasetDict
    tokenizer: Tokenizer | None
    probes: tuple


def load_dataset_for(config: TrainConfig) -> datasets.DatasetDict:
    """Load the corpus that ``config.corpus`` names (see ``corpus.load_corpus``).

    Args:
        config: the run's config (``corpus`` and ``corpus_paragraphs``).

    Returns:
        Splits ``train``, ``validation`` and ``test``.
    """
    from mlm_book.corpus import load_corpus

    return load_corpus(config.corpus, n_paragraphs=config.corpus_paragraphs, seed=CORPUS_SEED)


def make_tokenizer(config: TrainConfig, model_config: ModelConfig, dataset: datasets.DatasetDict) -> Tokenizer:
    """The book's tokenizer for the built-in corpus, else one trained on the training split.

    Args:
        config: the run's config.
        model_config: the model (its ``vocab_size`` caps the vocabulary).
        dataset: the corpus.

    Returns:
        A WordPiece tokenizer with the book's special tokens.
    """
    from mlm_book.tokenization import builtin_tokenizer, train_tokenizer

    if config.corpus == BUILTIN:
        return builtin_tokenizer(model_config.vocab_size)
    return train_tokenizer(dataset["train"]["text"], model_config.vocab_size)


def load_inputs(config: TrainConfig, model_config: ModelConfig, *, resume: bool = False) -> TrainInputs:
    """Load the corpus, make the tokenizer (unless resuming) and the probes of a run.

    Args:
        config: the run's config.
        model_config: the model's shape.
        resume: the run continues; it keeps the tokenizer saved in its directory.

    Returns:
        The dataset, tokenizer and probes.
    """
    from mlm_book.corpus import make_probes

    dataset = load_dataset_for(config)
    tokenizer = None if resume else make_tokenizer(config, model_config, dataset)
    probes: tuple = ()
    if config.corpus == BUILTIN and config.probes_per_category > 0:
        probes = tuple(make_probes(config.probes_per_category, seed=CORPUS_SEED))
    return TrainInputs(dataset=dataset, tokenizer=tokenizer, probes=probes)
