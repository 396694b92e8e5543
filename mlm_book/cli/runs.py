"""The subcommands that read a trained run: ``evaluate``, ``fill-mask`` and ``export-hf``.

``evaluate`` also scores a fine-tuned directory (``mlm-book finetune``), recognised by its
``task_config.json``, on its task's validation or test split. It writes the scores of a run into
the run's ``eval_results.json`` (or ``--output``), as ``run_mlm.py`` does (``cli.results``); only
that file: the checkpoint, and a staging folder a live trainer is writing, are left alone.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mlm_book.cli.args import UsageError, positive_int


def add_run_commands(sub: Any) -> None:
    """Add ``evaluate``, ``fill-mask`` and ``export-hf`` to the subparsers ``sub``."""
    evaluate = sub.add_parser(
        "evaluate", help="score a training run on its fixed evaluation batches (into eval_results.json)"
    )
    evaluate.add_argument(
        "run_dir",
        type=Path,
        help="the --out directory of a training run or of mlm-book finetune, or a transformers masked-LM "
        "directory with the book's tokenizer (an export, RUN/hf), scored on the built-in corpus",
    )
    evaluate.add_argument("--split", choices=("validation", "test"), default="validation")
    evaluate.add_argument(
        "--output",
        type=Path,
        help="where to write the scores (default: RUN_DIR/eval_results.json, test_results.json for --split test; "
        "a fine-tuned directory keeps finetune's own and writes only to --output)",
    )
    evaluate.set_defaults(run=run_evaluate)

    fill = sub.add_parser("fill-mask", help="fill in the [MASK] of a text with a trained model")
    fill.add_argument(
        "model_dir", type=Path, help="a training run, a saved model, or a transformers masked-LM directory (an export)"
    )
    fill.add_argument("text", help='e.g. "the dogs [MASK] barking."')
    fill.add_argument("--top-k", type=positive_int, default=5, help="candidates per mask (default 5)")
    fill.set_defaults(run=run_fill_mask)

    export = sub.add_parser("export-hf", help="export a trained model for transformers (BertForMaskedLM)")
    export.add_argument("model_dir", type=Path, help="a training run or a saved model directory")
    export.add_argument("--out", required=True, type=Path, help="the directory to write")
    export.add_argument("--force", action="store_true", help="write into a non-empty --out")
    export.set_defaults(run=run_export)


def check_model_dir(path: Path) -> None:
    """Raise ``UsageError`` unless ``path`` is a directory (a run or a saved model)."""
    if path.is_file():
        raise UsageError(f"{path} is a file; give the --out directory of a training run or a saved model directory")
    if not path.is_dir():
        raise UsageError(f"{path} does not exist; give the --out directory of a training run")


def is_transformers_dir(path: Path) -> bool:
    """True if ``path`` holds a transformers model (its ``config.json`` names a ``model_type``)."""
    import json

    config = path / "config.json"
    try:
        return "model_type" in json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def check_run_tokenizer(tokenizer: Any, directory: Path) -> None:
    """Refuse a run whose ``tokenizer.json`` is missing or lacks the special tokens masking needs."""
    from mlm_book.utils.special_tokens import SPECIAL_IDS, SPECIAL_TOKENS

    if tokenizer is None:
        raise UsageError(f"{directory} has no tokenizer.json; the run is incomplete")
    wrong = [f"{t} (id {i})" for t, i in zip(SPECIAL_TOKENS, SPECIAL_IDS) if tokenizer.token_to_id(t) != i]
    if wrong:
        raise UsageError(
            f"{directory / 'tokenizer.json'} lacks {', '.join(wrong)}; the run's tokenizer was replaced: "
            "restore the tokenizer it was trained with"
        )


def checkpoint_step(directory: Path) -> int | None:
    """The step of the checkpoint in a run directory (``train_state.json``), or ``None`` if it has none."""
    from mlm_book.training.state import STATE_JSON
    from mlm_book.utils.atomic import read_json

    path = directory / STATE_JSON
    step = read_json(path).get("step") if path.is_file() else None
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def run_evaluate(args: argparse.Namespace) -> int:
    """``mlm-book evaluate``: masked loss, accuracy and perplexity (and probes) of a run, into ``eval_results.json``."""
    from mlm_book.cli.finetune import run_evaluate_finetuned
    from mlm_book.cli.results import masked_lm_results, results_path, write_results
    from mlm_book.model.task_checkpoint import is_task_model_dir
    from mlm_book.training.run_dir import read_run

    if is_task_model_dir(args.run_dir):  # a fine-tuned model: its task's scores
        return run_evaluate_finetuned(args)
    if is_transformers_dir(args.run_dir):  # an export or RUN/hf: not ours to write into, unless --output
        output = results_path(args.output, args.run_dir, args.split, owned=False)
        step, (scores, probes) = None, _score_transformers_dir(args.run_dir, args.split)
    else:
        run = read_run(args.run_dir)
        output = results_path(args.output, args.run_dir, args.split, owned=True)
        step = checkpoint_step(args.run_dir)
        scores, probes = _score_run(run, args.split)
    print(
        f"{args.split}: loss {scores.loss:.4f}, accuracy {scores.accuracy:.4f}, perplexity {scores.perplexity:.2f} "
        f"({scores.n_predictions} masked tokens)"
    )
    if probes:
        print("probes: " + ", ".join(f"{name} {value:.2f}" for name, value in probes.items()))
    if output is not None:
        write_results(output, masked_lm_results(scores, probes, args.split, step))
        print(f"wrote {output}")
    return 0


def _score_run(run: Any, split: str) -> tuple[Any, dict[str, float]]:
    """The masked-LM scores of a run's checkpoint on its fixed batches of ``split``, and its probe accuracies."""
    import datasets

    from mlm_book.evaluation.metrics import evaluate_masked
    from mlm_book.evaluation.probes import probe_accuracy, score_probes
    from mlm_book.model.checkpoint import check_finite_weights, load_model
    from mlm_book.training.data import build_eval_batches, load_inputs

    loaded = load_model(run.directory)
    check_run_tokenizer(loaded.tokenizer, run.directory)
    check_finite_weights(loaded.model, run.directory)
    datasets.disable_progress_bars()
    inputs = load_inputs(run.train_config, run.model_config, resume=True)
    batches = build_eval_batches(inputs.dataset[split], loaded.tokenizer, run.train_config)
    if not batches:
        raise UsageError(f"the {split} split of {run.train_config.corpus!r} is empty; evaluate another split")
    scores = evaluate_masked(loaded.model, batches)
    probes = probe_accuracy(score_probes(loaded.model, loaded.tokenizer, inputs.probes)) if inputs.probes else {}
    return scores, probes


def _score_transformers_dir(directory: Path, split: str) -> tuple[Any, dict[str, float]]:
    """A transformers masked-LM directory scored as a tiny-preset run is: the built-in corpus, batches, probes."""
    import dataclasses

    import datasets

    from mlm_book.evaluation.metrics import evaluate_masked
    from mlm_book.evaluation.probes import probe_accuracy, score_probes
    from mlm_book.interop import from_transformers
    from mlm_book.training.config import TrainConfig
    from mlm_book.training.data import build_eval_batches, load_inputs
    from mlm_book.utils.special_tokens import SPECIAL_IDS, SPECIAL_TOKENS

    try:
        loaded = from_transformers(directory)
    except (OSError, ValueError) as error:
        raise UsageError(f"{directory}: {error}") from error
    tokenizer = loaded.tokenizer
    if tokenizer is None or any(tokenizer.token_to_id(t) != i for t, i in zip(SPECIAL_TOKENS, SPECIAL_IDS)):
        raise UsageError(
            f"{directory} has no tokenizer with the book's special tokens ({', '.join(SPECIAL_TOKENS)} as ids "
            f"{', '.join(map(str, SPECIAL_IDS))}); evaluate scores models of the book (fill-mask takes any)"
        )
    config = TrainConfig.tiny()
    config = dataclasses.replace(config, seq_len=min(config.seq_len, loaded.model.config.max_len))
    datasets.disable_progress_bars()
    inputs = load_inputs(config, loaded.model.config, resume=True)
    scores = evaluate_masked(loaded.model, build_eval_batches(inputs.dataset[split], tokenizer, config))
    return scores, probe_accuracy(score_probes(loaded.model, tokenizer, inputs.probes)) if inputs.probes else {}


def run_fill_mask(args: argparse.Namespace) -> int:
    """``mlm-book fill-mask``: the most likely tokens for each ``[MASK]``."""
    from mlm_book.evaluation.fill_mask import fill_mask_from_dir

    check_model_dir(args.model_dir)
    if is_transformers_dir(args.model_dir):  # an export, or any local BertForMaskedLM / ModernBertForMaskedLM
        from mlm_book.evaluation.fill_mask import fill_mask
        from mlm_book.interop import from_transformers

        try:
            loaded = from_transformers(args.model_dir)
        except (OSError, ValueError) as error:
            raise UsageError(f"{args.model_dir}: {error}") from error
        if loaded.tokenizer is None:
            raise UsageError(f"{args.model_dir} holds no tokenizer; save the model with its tokenizer")
        predictions = fill_mask(loaded.model, loaded.tokenizer, args.text, top_k=args.top_k)
    else:
        predictions = fill_mask_from_dir(args.model_dir, args.text, top_k=args.top_k)
    for prediction in predictions:
        print(
            f"[MASK] {prediction.mask_index + 1}  {prediction.score:.4f}  {prediction.token:<12} {prediction.sequence}"
        )
    return 0


def run_export(args: argparse.Namespace) -> int:
    """``mlm-book export-hf``: write a ``BertForMaskedLM`` directory that transformers loads."""
    from mlm_book.interop import export_hf  # BertForMaskedLM or ModernBertForMaskedLM, by the model's block
    from mlm_book.training.run_dir import is_run

    check_model_dir(args.model_dir)
    out = args.out
    if out.is_symlink() and not out.exists():
        raise UsageError(f"--out {out} is a symbolic link to nothing; remove the link or give another directory")
    if out.exists() and out.resolve() == args.model_dir.resolve():
        raise UsageError(f"--out {out} is the model's own directory; export into another directory")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a directory")
    if is_run(out):
        raise UsageError(f"--out {out} holds a training run; export into another directory")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise UsageError(f"--out {out} is not empty; pass --force to write into it")
    export_hf(args.model_dir, out, progress=False)
    print(f"exported {args.model_dir} to {out}; load it with transformers' AutoModelForMaskedLM.from_pretrained")
    return 0
