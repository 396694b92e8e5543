"""The data of a training run, prepared once: training sequences and fixed evaluation batches.

The training split is tokenized and packed (or cut and padded) once, with batched ``map``; the
validation batches are masked once, from a generator seeded by the run's seed alone, so every
evaluation of a run, and ``mlm-book evaluate`` afterwards, scores exactly the same predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets
import torch
from tokenizers import Tokenizer

from mlm_book.collator import MaskingCollator, derive_seed
from mlm_book.data_pipeline import Sequences, eval_batches, prepare_split
from mlm_book.train_config import TrainConfig


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
    collator = MaskingCollator(config.masking, vocab_size=tokenizer.get_vocab_size(), generator=derive_seed(config.seed, "eval"))
    return eval_batches(sequences, n_sequences=config.eval_sequences, batch_size=config.batch_size, collate=collator)
