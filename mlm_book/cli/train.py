"""``mlm-book train``: train a model from a preset, a JSON config and flags, or resume a run.

Settings come in layers: the preset, then a ``--config`` JSON file of ``TrainConfig`` fields,
then the flags. ``--resume`` starts from the run's own ``train_config.json`` instead of the
preset, and may change only what ``training.config.RESUMABLE_CHANGES`` allows (e.g. ``--steps``
to train longer).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import Any

from mlm_book.cli.args import UsageError, non_negative_int, positive_float, positive_int, whole_number

_FLAG_FIELDS = {  # flag destination -> TrainConfig field
    "corpus": "corpus",
    "paragraphs": "corpus_paragraphs",
    "steps": "steps",
    "seed": "seed",
    "batch_size": "batch_size",
    "grad_accum": "grad_accum",
    "seq_len": "seq_len",
    "lr": "lr",
    "eval_every": "eval_every",
    "save_every": "save_every",
    "precision": "precision",
    "compile": "compile",
    "packing": "packing",
}


def add_train_command(sub: Any) -> None:
    """Add ``train`` to the subparsers ``sub``."""
    train = sub.add_parser("train", help="train a model (or --resume a run)")
    train.add_argument("--out", required=True, type=Path, help="the run directory (new, empty, or --resume)")
    train.add_argument("--corpus", help="builtin (default), a file/directory/glob, or hub:NAME")
    train.add_argument("--preset", choices=("tiny", "bert-base"), help="model and training preset (default tiny)")
    train.add_argument("--config", type=Path, help="a JSON file of TrainConfig fields")
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    train.add_argument("--steps", type=positive_int, help="optimizer steps of the whole run")
    train.add_argument("--seed", type=whole_number, help="seed of initialisation, data order and masking")
    train.add_argument("--batch-size", type=positive_int, help="sequences per optimizer step")
    train.add_argument("--grad-accum", type=positive_int, help="micro-batches per step and process")
    train.add_argument("--seq-len", type=positive_int, help="tokens per sequence")
    train.add_argument("--lr", type=positive_float, help="peak learning rate")
    train.add_argument("--eval-every", type=positive_int, help="steps between evaluations")
    train.add_argument("--save-every", type=non_negative_int, help="steps between checkpoints (0: at evaluations)")
    train.add_argument("--paragraphs", type=positive_int, help="size of the built-in corpus")
    train.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), help="autocast (default auto)")
    train.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None, help="torch.compile")
    train.add_argument(
        "--packing",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="pack text into full blocks (default) or pad paragraphs",
    )
    train.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: a GPU if there is one)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(run=run_train)


def _train_config(args: argparse.Namespace, saved: Any) -> Any:
    """Preset (or the saved run's config), then ``--config``, then flags."""
    from mlm_book.training.config import TrainConfig
    from mlm_book.utils.atomic import read_json

    base = saved if saved is not None else TrainConfig.from_preset(args.preset or "tiny")
    if args.config is not None:
        fields = read_json(args.config)
        if not isinstance(fields, dict):
            raise UsageError(f"--config {args.config} must hold a JSON object of TrainConfig fields")
        try:
            base = TrainConfig.from_dict({**base.to_dict(), **fields})
        except ValueError as error:
            raise UsageError(f"--config {args.config}: {error}") from None
    flags = {field: getattr(args, dest) for dest, field in _FLAG_FIELDS.items() if getattr(args, dest) is not None}
    return dataclasses.replace(base, **flags)


def _configs(args: argparse.Namespace) -> tuple[Any, Any]:
    """The run's ``TrainConfig`` and ``ModelConfig``; checks ``--out`` before any slow work."""
    from mlm_book.model.config import ModelConfig
    from mlm_book.training.run_dir import check_out_dir, is_run, read_run

    if args.resume:
        if args.preset is not None:
            raise UsageError("--preset does not apply with --resume; the run keeps its own model and settings")
        if not is_run(args.out):
            check_out_dir(args.out, _train_config(args, None), ModelConfig.tiny(), resume=True)  # explains why
        saved = read_run(args.out)
        config, model_config = _train_config(args, saved.train_config), saved.model_config
    else:
        config, model_config = _train_config(args, None), ModelConfig.from_preset(args.preset or "tiny")
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:  # under torchrun, rank 0 checks inside train()
        check_out_dir(args.out, config, model_config, resume=args.resume)
    return config, model_config


def run_train(args: argparse.Namespace) -> int:
    """``mlm-book train``: train or resume, then print the final scores."""
    import datasets

    from mlm_book.training.data import load_inputs
    from mlm_book.training.distributed import cleanup_distributed
    from mlm_book.training.loop import train

    config, model_config = _configs(args)
    datasets.disable_progress_bars()
    inputs = load_inputs(config, model_config, resume=args.resume)
    try:
        result = train(
            config,
            model_config,
            dataset=inputs.dataset,
            tokenizer=inputs.tokenizer,
            probes=inputs.probes,
            out_dir=args.out,
            resume=args.resume,
            device=args.device,
            progress=not args.no_progress,
        )
    except KeyboardInterrupt:
        print(f"interrupted; the last checkpoint is in {args.out}; continue with --resume", flush=True)
        return 130
    context = result.context
    if context.is_main:
        print(f"trained {result.step} steps ({result.tokens_seen:,} tokens) into {args.out}")
        if result.history.eval:
            print(_scores_line(result.history.eval[-1]))
    cleanup_distributed(context)
    return 0


def _scores_line(record: Any) -> str:
    line = f"validation: loss {record.loss:.4f}, accuracy {record.accuracy:.4f}, perplexity {record.perplexity:.2f}"
    if record.probes:
        line += "; probes: " + ", ".join(f"{name} {value:.2f}" for name, value in record.probes.items())
    return line
