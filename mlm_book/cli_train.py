"""The command line's model subcommands: ``train``, ``evaluate``, ``fill-mask``, ``export-hf``.

Settings come in layers: the preset, then a ``--config`` JSON file of ``TrainConfig`` fields,
then the flags. ``--resume`` starts from the run's own ``train_config.json`` instead of the
preset, and may change only what ``train_config.RESUMABLE_CHANGES`` allows (e.g. ``--steps``
to train longer). Heavy libraries are imported inside the handlers, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import Any

from mlm_book.cli import UsageError, _non_negative_int, _positive_float, _positive_int, _int

_FLAG_FIELDS = {  # flag destination -> TrainConfig field
    "corpus": "corpus", "paragraphs": "corpus_paragraphs", "steps": "steps", "seed": "seed",
    "batch_size": "batch_size", "grad_accum": "grad_accum", "seq_len": "seq_len", "lr": "lr",
    "eval_every": "eval_every", "save_every": "save_every", "precision": "precision", "compile": "compile",
    "packing": "packing",
}


def add_train_commands(sub: Any) -> None:
    """Add ``train``, ``evaluate``, ``fill-mask`` and ``export-hf`` to the subparsers ``sub``."""
    train = sub.add_parser("train", help="train a model (or --resume a run)")
    train.add_argument("--out", required=True, type=Path, help="the run directory (new, empty, or --resume)")
    train.add_argument("--corpus", help="builtin (default), a file/directory/glob, or hub:NAME")
    train.add_argument("--preset", choices=("tiny", "bert-base"), help="model and training preset (default tiny)")
    train.add_argument("--config", type=Path, help="a JSON file of TrainConfig fields")
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    train.add_argument("--steps", type=_positive_int, help="optimizer steps of the whole run")
    train.add_argument("--seed", type=_int, help="seed of initialisation, data order and masking")
    train.add_argument("--batch-size", type=_positive_int, help="sequences per optimizer step")
    train.add_argument("--grad-accum", type=_positive_int, help="micro-batches per step and process")
    train.add_argument("--seq-len", type=_positive_int, help="tokens per sequence")
    train.add_argument("--lr", type=_positive_float, help="peak learning rate")
    train.add_argument("--eval-every", type=_positive_int, help="steps between evaluations")
    train.add_argument("--save-every", type=_non_negative_int, help="steps between checkpoints (0: at evaluations)")
    train.add_argument("--paragraphs", type=_positive_int, help="size of the built-in corpus")
    train.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), help="autocast (default auto)")
    train.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None, help="torch.compile")
    train.add_argument("--packing", action=argparse.BooleanOptionalAction, default=None,
                       help="pack text into full blocks (default) or pad paragraphs")
    train.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: a GPU if there is one)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(run=run_train)

    evaluate = sub.add_parser("evaluate", help="score a training run on its fixed evaluation batches")
    evaluate.add_argument("run_dir", type=Path, help="the --out directory of a training run")
    evaluate.add_argument("--split", choices=("validation", "test"), default="validation")
    evaluate.set_defaults(run=run_evaluate)

    fill = sub.add_parser("fill-mask", help="fill in the [MASK] of a text with a trained model")
    fill.add_argument("model_dir", type=Path, help="a training run or a saved model directory")
    fill.add_argument("text", help='e.g. "the dogs [MASK] barking."')
    fill.add_argument("--top-k", type=_positive_int, default=5, help="candidates per mask (default 5)")
    fill.set_defaults(run=run_fill_mask)

    export = sub.add_parser("export-hf", help="export a trained model for transformers (BertForMaskedLM)")
    export.add_argument("model_dir", type=Path, help="a training run or a saved model directory")
    export.add_argument("--out", required=True, type=Path, help="the directory to write")
    export.add_argument("--force", action="store_true", help="write into a non-empty --out")
    export.set_defaults(run=run_export)


def _train_config(args: argparse.Namespace, saved: Any) -> Any:
    """Preset (or the saved run's config), then ``--config``, then flags."""
    from mlm_book.atomic import read_json
    from mlm_book.train_config import TrainConfig

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
    from mlm_book.config import ModelConfig
    from mlm_book.run_dir import check_out_dir, is_run, read_run

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

    from mlm_book.distributed import cleanup_distributed, setup_distributed
    from mlm_book.precision import resolve_numerics
    from mlm_book.train_inputs import load_inputs
    from mlm_book.training import train

    config, model_config = _configs(args)
    datasets.disable_progress_bars()
    inputs = load_inputs(config, model_config, resume=args.resume)
    try:
        result = train(config, model_config, dataset=inputs.dataset, tokenizer=inputs.tokenizer, probes=inputs.probes,
                       out_dir=args.out, resume=args.resume, device=args.device, progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"interrupted; the last checkpoint is in {args.out}; continue with --resume", flush=True)
        return 130
    context = setup_distributed(resolve_numerics(config.precision, args.device).device)
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


def run_evaluate(args: argparse.Namespace) -> int:
    """``mlm-book evaluate``: masked loss, accuracy and perplexity (and probes) of a run."""
    import datasets

    from mlm_book.checkpoint import load_model
    from mlm_book.evaluation import evaluate_masked, probe_accuracy, score_probes
    from mlm_book.run_dir import read_run
    from mlm_book.train_inputs import load_inputs
    from mlm_book.train_data import build_eval_batches

    run = read_run(args.run_dir)
    loaded = load_model(args.run_dir)
    datasets.disable_progress_bars()
    inputs = load_inputs(run.train_config, run.model_config, resume=True)
    batches = build_eval_batches(inputs.dataset[args.split], loaded.tokenizer, run.train_config)
    if not batches:
        raise UsageError(f"the {args.split} split of {run.train_config.corpus!r} is empty; evaluate another split")
    scores = evaluate_masked(loaded.model, batches)
    print(
        f"{args.split}: loss {scores.loss:.4f}, accuracy {scores.accuracy:.4f}, perplexity {scores.perplexity:.2f} "
        f"({scores.n_predictions} masked tokens)"
    )
    if inputs.probes:
        accuracy = probe_accuracy(score_probes(loaded.model, loaded.tokenizer, inputs.probes))
        print("probes: " + ", ".join(f"{name} {value:.2f}" for name, value in accuracy.items()))
    return 0


def run_fill_mask(args: argparse.Namespace) -> int:
    """``mlm-book fill-mask``: the most likely tokens for each ``[MASK]``."""
    from mlm_book.fill_mask import fill_mask_from_dir

    if not args.model_dir.is_dir():
        raise UsageError(f"{args.model_dir} does not exist; give the --out directory of a training run")
    predictions = fill_mask_from_dir(args.model_dir, args.text, top_k=args.top_k)
    for prediction in predictions:
        print(f"[MASK] {prediction.mask_index + 1}  {prediction.score:.4f}  {prediction.token:<12} {prediction.sequence}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """``mlm-book export-hf``: write a ``BertForMaskedLM`` directory that transformers loads."""
    from mlm_book.interop import export_hf
    from mlm_book.run_dir import is_run

    if not args.model_dir.is_dir():
        raise UsageError(f"{args.model_dir} does not exist; give the --out directory of a training run")
    out = args.out
    if out.exists() and out.resolve() == args.model_dir.resolve():
        raise UsageError(f"--out {out} is the model's own directory; export into another directory")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a directory")
    if is_run(out):
        raise UsageError(f"--out {out} holds a training run; export into another directory")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise UsageError(f"--out {out} is not empty; pass --force to write into it")
    import transformers

    transformers.logging.disable_progress_bar()
    export_hf(args.model_dir, out)
    print(f"exported {args.model_dir} to {out}; load it with transformers' AutoModelForMaskedLM.from_pretrained")
    return 0
