"""The data side of a training run: the corpus, tokenizer and probes its config names, prepared once.

The command line and the chapters build a run from a ``TrainConfig``: ``config.corpus`` names
the text (``"builtin"``, files, or ``"hub:NAME"``); the built-in corpus comes with the book's
standard tokenizer and with probe sentences whose answers are known, while any other corpus
gets a WordPiece tokenizer trained on its training split, of the model's vocabulary size.

The training split is then tokenized and packed (or cut and padded) once, with batched ``map``;
the validation batches are masked once, from a generator seeded by the run's seed alone, so
every evaluation of a run, and ``mlm-book evaluate`` afterwards, scores exactly the same
predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets
import torch
from tokenizers import Tokenizer

from mlm_book.corpus.loading import load_corpus
from mlm_book.corpus.synthetic.probes import make_probes
from mlm_book.data.batches import eval_batches
from mlm_book.data.sequences import Sequences, prepare_split
from mlm_book.masking.collator import MaskingCollator
from mlm_book.model.config import ModelConfig
from mlm_book.tokenization.tokenizer import builtin_tokenizer, train_tokenizer
from mlm_book.training.config import TrainConfig
from mlm_book.utils.seeding import derive_seed

BUILTIN = "builtin"
CORPUS_SEED = 0
"""Seed of the built-in corpus and of the split of corpora that have none (fixed for the book)."""


@dataclass(frozen=True)
class TrainData:
    """The data of a run, prepared once.

    Attributes:
        train: the training sequences.
        eval_batches: validation batches, masked once.
        vocab_size: the tokenizer's vocabulary size (random replacements are drawn below it).
    """

    train: Sequences
    eval_batches: list[dict[str, torch.Tensor]]
    vocab_size: int


def prepare_data(dataset: datasets.DatasetDict, tokenizer: Tokenizer, config: TrainConfig) -> TrainData:
    """Tokenize the train and validation splits and build the fixed evaluation batches.

    Args:
        dataset: splits ``train`` and (optionally) ``validation`` with a ``text`` column.
        tokenizer: the run's tokenizer.
        config: sequence length, packing, masking, evaluation size and seed.

    Returns:
        The training sequences and the evaluation batches.
    """
    if "train" not in dataset or len(dataset["train"]) == 0:
        raise ValueError(f"the corpus has no training text (splits: {sorted(dataset)}); give a corpus with text")
    train = prepare_split(dataset["train"], tokenizer, seq_len=config.seq_len, packing=config.packing)
    if len(train) < config.batch_size:
        raise ValueError(
            f"the corpus gives {len(train)} training sequences of up to {config.seq_len} tokens, fewer than "
            f"batch_size={config.batch_size}; use a larger corpus or a smaller batch size"
        )
    batches: list[dict[str, torch.Tensor]] = []
    if "validation" in dataset and config.eval_sequences > 0:
        batches = build_eval_batches(dataset["validation"], tokenizer, config)
    return TrainData(train=train, eval_batches=batches, vocab_size=tokenizer.get_vocab_size())


def build_eval_batches(
    split: datasets.Dataset, tokenizer: Tokenizer, config: TrainConfig
) -> list[dict[str, torch.Tensor]]:
    """The fixed evaluation batches of a run: ``config.eval_sequences`` sequences masked once.

    The masks come from a generator seeded by the run's seed alone, so every evaluation of a
    run, and ``mlm-book evaluate`` afterwards, scores exactly the same predictions.

    Args:
        split: a split with a ``text`` column (validation or test).
        tokenizer: the run's tokenizer.
        config: sequence length, packing, masking, evaluation size, batch size and seed.

    Returns:
        Batches with ``input_ids``, ``attention_mask`` and ``labels`` (empty for an empty split).
    """
    sequences = prepare_split(split, tokenizer, seq_len=config.seq_len, packing=config.packing)
    collator = MaskingCollator(
        config.masking, vocab_size=tokenizer.get_vocab_size(), generator=derive_seed(config.seed, "eval")
    )
    return eval_batches(sequences, n_sequences=config.eval_sequences, batch_size=config.batch_size, collate=collator)


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
    dataset = load_dataset_for(config)
    tokenizer = None if resume else make_tokenizer(config, model_config, dataset)
    probes: tuple = ()
    if config.corpus == BUILTIN and config.probes_per_category > 0:
        probes = tuple(make_probes(config.probes_per_category, seed=CORPUS_SEED))
    return TrainInputs(dataset=dataset, tokenizer=tokenizer, probes=probes)
