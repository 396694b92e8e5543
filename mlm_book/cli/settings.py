"""How ``mlm-book train``'s flags become a ``TrainConfig``: the package's names and ``run_mlm.py``'s.

Each setting has the package's spelling (``--steps``) and, where transformers' ``run_mlm.py``
(its ``TrainingArguments``) has one that means the same, that spelling too (``--max_steps``).
Two are converted exactly: ``--lr_scheduler_type`` takes transformers' schedule names (``linear``
and ``cosine`` decay to 0 after the warmup, ``constant_with_warmup`` stays at the peak after it,
``constant`` has no warmup at all), and ``--mlm_probability`` is one masking rate for training and
evaluation, as ``run_mlm.py``'s collator has (it replaces a preset's training rate, tiny's 0.4).
(The package's schedules count steps as ``training.optim.Schedule`` says: ``round(ratio * steps)``
warmup steps where transformers rounds up, and the first update already at a nonzero rate.)
A spelling whose meaning differs is refused with one line, never read as something else:
``--per_device_train_batch_size`` (``--batch-size`` is the global batch: every process and
accumulation step together), an interval given as a fraction of the run (``--eval_steps 0.1``),
and a ``--text_column_name`` other than ``text`` (the column every corpus is read from).
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from mlm_book.cli.args import (
    UsageError,
    fraction,
    non_negative_float,
    positive_float,
    positive_int,
    probability,
    read_config_file,
    step_interval,
    whole_number,
)

FLAG_FIELDS = {  # flag destination -> TrainConfig field, for the flags that set one field as it is
    "corpus": "corpus",
    "paragraphs": "corpus_paragraphs",
    "steps": "steps",
    "seed": "seed",
    "batch_size": "batch_size",
    "grad_accum": "grad_accum",
    "seq_len": "seq_len",
    "lr": "lr",
    "warmup_ratio": "warmup_ratio",
    "weight_decay": "weight_decay",
    "eval_every": "eval_every",
    "save_every": "save_every",
    "log_every": "log_every",
    "precision": "precision",
    "compile": "compile",
    "packing": "packing",
}
SCHEDULES = {  # transformers' lr_scheduler_type -> (TrainConfig.decay, warmup allowed)
    "linear": ("linear", True),
    "cosine": ("cosine", True),
    "constant_with_warmup": ("constant", True),
    "constant": ("constant", False),
}
TEXT_COLUMN = "text"
"""The column every corpus is read from (``corpus.load_corpus``)."""


def add_setting_arguments(train: argparse.ArgumentParser) -> None:
    """Add the flags of ``TrainConfig`` fields, each with its ``run_mlm.py`` spelling where it has one."""
    _add_data_arguments(train)
    _add_optimizer_arguments(train)
    add = train.add_argument
    add("--eval-every", "--eval_steps", type=step_interval(1), metavar="N", help="steps between evaluations")
    add(
        "--save-every",
        "--save_steps",
        type=step_interval(0),
        metavar="N",
        help="steps between checkpoints (0: at evaluations)",
    )
    add("--log-every", "--logging_steps", type=step_interval(1), metavar="N", help="steps between history records")


def _add_data_arguments(train: argparse.ArgumentParser) -> None:
    """The batch, the sequences, the masking, and the two spellings that are refused."""
    add = train.add_argument
    add("--seed", type=whole_number, help="seed of initialisation, data order and masking")
    add(
        "--batch-size",
        type=positive_int,
        metavar="N",
        help="sequences per optimizer step: the GLOBAL batch over all processes and --grad-accum "
        "micro-batches (transformers' --per_device_train_batch_size times processes times accumulation)",
    )
    add("--per_device_train_batch_size", type=_per_device_batch, help=argparse.SUPPRESS)
    add("--grad-accum", type=positive_int, metavar="N", help="micro-batches per step and process")
    add("--seq-len", type=positive_int, metavar="N", help="tokens per sequence")
    add(
        "--mask-prob",
        "--mlm_probability",
        type=probability,
        metavar="P",
        help="share of tokens masked, in training and evaluation (replaces a preset's training rate)",
    )
    add(
        "--text_column_name",
        type=_text_column,
        metavar="COLUMN",
        help="only text: the column every corpus is read from",
    )


def _add_optimizer_arguments(train: argparse.ArgumentParser) -> None:
    """The steps, the learning rate and its schedule, and the weight decay."""
    add = train.add_argument
    add("--steps", "--max_steps", type=positive_int, metavar="N", help="optimizer steps of the whole run")
    add("--lr", "--learning_rate", type=positive_float, metavar="LR", help="peak learning rate")
    add(
        "--warmup-ratio",
        "--warmup_ratio",
        type=fraction,
        metavar="R",
        help="share of the steps warming up linearly to the peak (round(R * steps) steps)",
    )
    add(
        "--lr-scheduler-type",
        "--lr_scheduler_type",
        choices=tuple(SCHEDULES),
        metavar="TYPE",
        help="transformers' name of the schedule: linear or cosine (decay to 0 after the warmup), "
        "constant_with_warmup, or constant (no warmup either)",
    )
    add("--weight-decay", "--weight_decay", type=non_negative_float, metavar="WD", help="AdamW's weight decay")


def _text_column(text: str) -> str:
    """Argument type of ``--text_column_name``: only the column every corpus is read from."""
    if text != TEXT_COLUMN:
        raise argparse.ArgumentTypeError(
            f"mlm-book train reads the column {TEXT_COLUMN!r} of a .jsonl/.parquet or Hub corpus, not {text!r}; "
            f"rename the column to {TEXT_COLUMN!r} (or drop the flag)"
        )
    return text


def _per_device_batch(text: str) -> int:
    """Argument type of ``--per_device_train_batch_size``: always refused, with what to pass instead."""
    raise argparse.ArgumentTypeError(
        "not supported: --batch-size is the global batch (all processes and accumulation steps together); "
        "pass --batch-size PER_DEVICE*PROCESSES*GRAD_ACCUM"
    )


def train_config(args: argparse.Namespace, saved: Any) -> Any:
    """The run's ``TrainConfig``: the preset (or the saved run's config), then ``--config``, then flags.

    Args:
        args: the parsed ``train`` command line.
        saved: the resumed run's ``TrainConfig``, or ``None`` to start from ``--preset``.

    Returns:
        The validated config (a bad value raises ``ValueError``, one line on the command line).

    Raises:
        UsageError: for ``--lr_scheduler_type constant`` with a warmup.
    """
    from mlm_book.training.config import TrainConfig

    base = saved if saved is not None else TrainConfig.from_preset(args.preset or "tiny")
    base = read_config_file(args.config, TrainConfig, base)
    flags = {field: getattr(args, dest) for dest, field in FLAG_FIELDS.items() if getattr(args, dest) is not None}
    flags.update(_schedule_fields(args))
    if args.mask_prob is not None:  # run_mlm.py's one rate: masking (evaluation) and training alike
        flags["masking"] = dataclasses.replace(base.masking, mask_prob=args.mask_prob)
        flags["curriculum"] = dataclasses.replace(base.curriculum, mask_rate=None)
    return dataclasses.replace(base, **flags)


def _schedule_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The ``TrainConfig`` fields that transformers' ``--lr_scheduler_type`` stands for."""
    if args.lr_scheduler_type is None:
        return {}
    decay, warmup = SCHEDULES[args.lr_scheduler_type]
    if warmup:
        return {"decay": decay} if decay == "constant" else {"decay": decay, "final_lr_ratio": 0.0}
    if args.warmup_ratio:
        raise UsageError(
            f"--lr_scheduler_type constant has no warmup (as in transformers), but --warmup_ratio is "
            f"{args.warmup_ratio}; use --lr_scheduler_type constant_with_warmup"
        )
    return {"decay": decay, "warmup_ratio": 0.0}
