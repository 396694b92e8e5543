"""``mlm-book train``: train a model from a preset, a JSON config and flags, or resume a run.

Settings come in layers: the preset, then a ``--config`` JSON file of ``TrainConfig`` fields,
then the flags. ``--resume`` starts from the run's own ``train_config.json`` instead of the
preset, and may change only what ``training.config.RESUMABLE_CHANGES`` allows (e.g. ``--steps``
to train longer); with ``--preset`` it takes the command's settings, which must then be the run's.
``--resume auto`` continues a run if ``--out`` holds one and starts it if not, so that one command
line serves a first start and every restart.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import Any

from mlm_book.cli.args import (
    EXIT_INTERRUPTED,
    UsageError,
    non_negative_int,
    positive_float,
    positive_int,
    read_config_file,
    whole_number,
)

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
    train.add_argument(
        "--preset", choices=("tiny", "bert-base", "modern"), help="model and training preset (default tiny)"
    )
    train.add_argument("--config", type=Path, help="a JSON file of TrainConfig fields")
    train.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        choices=("auto",),
        help="continue the run in --out; --resume auto: continue it if there is one, else start it "
        "(what an elastic restart of torchrun needs)",
    )
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

    base = saved if saved is not None else TrainConfig.from_preset(args.preset or "tiny")
    base = read_config_file(args.config, TrainConfig, base)
    flags = {field: getattr(args, dest) for dest, field in _FLAG_FIELDS.items() if getattr(args, dest) is not None}
    return dataclasses.replace(base, **flags)  # validated: one line for a bad value (cli.errors)


def _configs(args: argparse.Namespace) -> tuple[Any, Any]:
    """The run's ``TrainConfig`` and ``ModelConfig``, read without writing anything."""
    from mlm_book.model.config import ModelConfig
    from mlm_book.training.run_dir import check_out_dir, is_run, read_run

    if args.resume == "auto":  # the same command starts the run and continues it after a restart
        args.resume = is_run(args.out)
    if args.resume:
        if not is_run(args.out):
            check_out_dir(args.out, _train_config(args, None), ModelConfig.tiny(), resume=True)  # explains why
        saved = read_run(args.out)
        if args.preset is not None:  # the run's own command again: checked against the run under the lock
            return _train_config(args, None), ModelConfig.from_preset(args.preset)
        return _train_config(args, saved.train_config), saved.model_config
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is a file; give a directory for the run")
    if args.out.is_dir() and not is_run(args.out):  # checked before the lock file is created in it
        from mlm_book.training.run_dir import NOT_A_CHECKPOINT, STAGING

        if any(p.name not in NOT_A_CHECKPOINT | {STAGING} for p in args.out.iterdir()):
            check_out_dir(args.out, _train_config(args, None), ModelConfig.tiny(), resume=False)  # explains why
    return _train_config(args, None), ModelConfig.from_preset(args.preset or "tiny")


def _is_main_process() -> bool:
    """False on the ranks > 0 of a ``torchrun`` launch (rank 0 locks and checks the directory)."""
    return int(os.environ.get("RANK", "0")) == 0


def run_train(args: argparse.Namespace) -> int:
    """``mlm-book train``: train or resume, then print the final scores."""
    from mlm_book.cli.preflight import check_device

    config, model_config = _configs(args)
    check_device(args.device)
    if not _is_main_process():
        return _train(args, config, model_config)
    from mlm_book.training.lock import RunLock

    created = not args.out.exists()
    try:
        with RunLock(args.out):
            return _train(args, config, model_config)
    finally:
        if created:
            _remove_if_unused(args.out)


def _train(args: argparse.Namespace, config: Any, model_config: Any) -> int:
    """Check the directory, load the data, check the corpus, train, report."""
    import datasets

    from mlm_book.cli.preflight import check_free_space
    from mlm_book.training.data import load_inputs
    from mlm_book.training.distributed import cleanup_distributed
    from mlm_book.training.loop import train

    if _is_main_process():
        _check_directory(args, config, model_config)
        check_free_space(args.out, model_config)
    datasets.disable_progress_bars()
    inputs = load_inputs(config, model_config, resume=args.resume)
    if _is_main_process():
        _check_corpus(args.out, config, inputs.dataset, resume=args.resume)
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
        print(_interrupted_line(args.out), flush=True)
        return EXIT_INTERRUPTED
    context = result.context
    if context.is_main:
        print(f"trained {result.step} steps ({result.tokens_seen:,} tokens) into {args.out}")
        if result.history.eval:
            print(_scores_line(result.history.eval[-1]))
    cleanup_distributed(context)
    return 0


def _check_directory(args: argparse.Namespace, config: Any, model_config: Any) -> None:
    """Under the lock: may this run use ``--out``, and is a resumed run's position within ``--steps``?"""
    from mlm_book.training.run_dir import check_out_dir
    from mlm_book.training.state import STATE_JSON
    from mlm_book.utils.atomic import read_json

    if check_out_dir(args.out, config, model_config, resume=args.resume) is None:
        return
    from tokenizers import Tokenizer

    from mlm_book.cli.runs import check_run_tokenizer
    from mlm_book.model.checkpoint import TOKENIZER_FILE

    tokenizer_file, tokenizer = args.out / TOKENIZER_FILE, None
    if tokenizer_file.is_file():
        try:
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
        except Exception as error:  # tokenizers raises a bare Exception for a bad file
            raise UsageError(f"{tokenizer_file} is corrupt or not a tokenizers JSON file ({error})") from None
    check_run_tokenizer(tokenizer, args.out)
    step = read_json(args.out / STATE_JSON).get("step")
    if isinstance(step, int) and not isinstance(step, bool) and step > config.steps:
        raise UsageError(
            f"--resume: {args.out} is at step {step}, beyond steps={config.steps}; "
            f"pass --steps {step} or more to train on (a run cannot be shortened)"
        )


def _check_corpus(out: Path, config: Any, dataset: Any, *, resume: bool) -> None:
    """Record the corpus's fingerprint in a new run; refuse a resumed run whose corpus changed."""
    from mlm_book.corpus.fingerprint import corpus_fingerprint, fingerprint_change
    from mlm_book.training.run_dir import CORPUS_FILE
    from mlm_book.utils.atomic import read_json, write_json_atomically

    current = corpus_fingerprint(config.corpus, dataset)
    path = out / CORPUS_FILE
    if resume and path.is_file():
        change = fingerprint_change(read_json(path), current)
        if change is not None:
            raise UsageError(
                f"--resume: the corpus {config.corpus!r} changed since the run started ({change}); "
                "resume on the same corpus, or start a new run in another --out"
            )
        return
    write_json_atomically(path, current)  # a new run, or a run from before fingerprints


def _interrupted_line(out: Path) -> str:
    """What Ctrl-C during training leaves: the last checkpoint, or none yet."""
    from mlm_book.training.state import STATE_JSON
    from mlm_book.utils.atomic import read_json

    try:
        step = read_json(out / STATE_JSON)["step"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"interrupted before the first checkpoint; nothing was saved in {out}; start again (no --resume)"
    return f"interrupted; the last checkpoint (step {step}) is in {out}; continue with --resume"


def _remove_if_unused(directory: Path) -> None:
    """Remove a directory this command created if it holds nothing but a lock and a corpus fingerprint."""
    from mlm_book.training.run_dir import NOT_A_CHECKPOINT

    try:
        if directory.is_dir() and all(p.name in NOT_A_CHECKPOINT and p.is_file() for p in directory.iterdir()):
            for name in NOT_A_CHECKPOINT:
                (directory / name).unlink(missing_ok=True)
            directory.rmdir()
    except OSError:
        pass  # best effort: what stays is harmless (a new run ignores these files)


def _scores_line(record: Any) -> str:
    line = f"validation: loss {record.loss:.4f}, accuracy {record.accuracy:.4f}, perplexity {record.perplexity:.2f}"
    if record.probes:
        line += "; probes: " + ", ".join(f"{name} {value:.2f}" for name, value in record.probes.items())
    return line
