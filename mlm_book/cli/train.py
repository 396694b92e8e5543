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
import os
from pathlib import Path
from typing import Any

from mlm_book.cli.args import EXIT_INTERRUPTED, UsageError, positive_int
from mlm_book.cli.report import LOG_DIR, REPORT_TO, TrainingReport, hf_copy_blocker, summary_writer_class
from mlm_book.cli.settings import add_setting_arguments, train_config
from mlm_book.interop.hf_copy import HF_DIR


def add_train_command(sub: Any) -> None:
    """Add ``train`` to the subparsers ``sub``."""
    train = sub.add_parser("train", help="train a model (or --resume a run)")
    train.add_argument(
        "--out", "--output_dir", required=True, type=Path, help="the run directory (new, empty, or --resume)"
    )
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
        "(what an elastic restart of torchrun needs; set TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 for it)",
    )
    add_setting_arguments(train)
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
    train.add_argument("--no-progress", action="store_true", help="no progress bar (it is on by default)")
    train.add_argument(
        "--hf-copy",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"keep a transformers copy of the model in OUT/{HF_DIR}, refreshed at every checkpoint (default on)",
    )
    train.add_argument(
        "--report-to",
        "--report_to",
        choices=REPORT_TO,
        default="none",
        help=f"tensorboard: also write the history to OUT/{LOG_DIR} for TensorBoard (needs pip install tensorboard)",
    )
    train.set_defaults(run=run_train)


def _configs(args: argparse.Namespace) -> tuple[Any, Any]:
    """The run's ``TrainConfig`` and ``ModelConfig``, read without writing anything."""
    from mlm_book.model.config import ModelConfig
    from mlm_book.training.run_dir import check_out_dir, is_run, read_run

    if args.resume == "auto":  # the same command starts the run and continues it after a restart
        args.resume = is_run(args.out)
    if args.resume:
        if not is_run(args.out):
            check_out_dir(args.out, train_config(args, None), ModelConfig.tiny(), resume=True)  # explains why
        saved = read_run(args.out)
        if args.preset is not None:  # the run's own command again: checked against the run under the lock
            return train_config(args, None), ModelConfig.from_preset(args.preset)
        return train_config(args, saved.train_config), saved.model_config
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is a file; give a directory for the run")
    if args.out.is_dir() and not is_run(args.out):  # checked before the lock file is created in it
        from mlm_book.training.run_dir import NOT_A_CHECKPOINT, STAGING

        if any(p.name not in NOT_A_CHECKPOINT | {STAGING} for p in args.out.iterdir()):
            check_out_dir(args.out, train_config(args, None), ModelConfig.tiny(), resume=False)  # explains why
    return train_config(args, None), ModelConfig.from_preset(args.preset or "tiny")


def _is_main_process() -> bool:
    """False on the ranks > 0 of a ``torchrun`` launch (rank 0 locks and checks the directory)."""
    return int(os.environ.get("RANK", "0")) == 0


def run_train(args: argparse.Namespace) -> int:
    """``mlm-book train``: train or resume, printing the scores of each evaluation."""
    from mlm_book.cli.preflight import check_device

    config, model_config = _configs(args)
    check_device(args.device)
    if args.report_to == "tensorboard":
        summary_writer_class()  # a missing tensorboard is one line before any work
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
        main = _is_main_process()
        with TrainingReport(
            args.out, args.report_to if main else "none", hf_copy=main and _hf_copy(args, model_config)
        ) as report:
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
                on_evaluate=report.on_evaluate,
                on_save=report.on_save,
            )
    except KeyboardInterrupt:
        print(_interrupted_line(args.out), flush=True)
        return EXIT_INTERRUPTED
    context = result.context
    if context.is_main:
        print(f"trained {result.step} steps ({result.tokens_seen:,} tokens) into {args.out}")
    cleanup_distributed(context)
    return 0


def _hf_copy(args: argparse.Namespace, model_config: Any) -> bool:
    """Whether to keep ``OUT/hf``: asked for, and the model has a transformers class (else one line why not)."""
    if not args.hf_copy:
        return False
    blocker = hf_copy_blocker(model_config)
    if blocker is not None:
        print(f"no transformers copy in {args.out / HF_DIR}: {blocker}", flush=True)
    return blocker is None


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
