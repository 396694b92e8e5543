"""``mlm-book finetune``: fine-tune a trained run on a task of the world, and score it.

``mlm-book finetune RUN_DIR --task ner --out DIR`` copies the run's encoder under a new head,
trains it on the task's training split, and writes into ``DIR`` the model
(``model.safetensors``, ``task_config.json``, ``tokenizer.json``), the config it used
(``finetune_config.json``) and its scores (``eval_results.json``: validation and test scores
with their intervals, and the history). ``mlm-book evaluate DIR`` then rescores it, and leaves that
file as it is (``--output FILE`` writes the rescored split elsewhere, ``cli.results``).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from mlm_book.cli.args import UsageError, positive_float, positive_int, read_config_file, whole_number
from mlm_book.cli.results import EVAL_RESULTS_FILE, results_path, write_results
from mlm_book.cli.runs import check_model_dir, check_run_tokenizer

FINETUNE_CONFIG_FILE = "finetune_config.json"
_FLAG_FIELDS = {
    "task": "task",
    "examples": "examples",
    "eval_examples": "eval_examples",
    "steps": "steps",
    "batch_size": "batch_size",
    "lr": "lr",
    "seed": "seed",
    "doc_stride": "doc_stride",
}


def add_finetune_command(sub: Any) -> None:
    """Add ``finetune`` to the subparsers ``sub``."""
    from mlm_book.training.config import FINETUNE_TASKS  # torch-free

    finetune = sub.add_parser("finetune", help="fine-tune a trained run on a task (ner, pos, classify, qa)")
    finetune.add_argument("run_dir", type=Path, help="the --out directory of a training run")
    finetune.add_argument("--task", required=True, choices=tuple(FINETUNE_TASKS), help="the task")
    finetune.add_argument("--out", required=True, type=Path, help="the directory to write the fine-tuned model to")
    finetune.add_argument("--examples", type=positive_int, help="training examples (default 2000)")
    finetune.add_argument("--eval-examples", type=positive_int, help="validation and test examples (default 500)")
    finetune.add_argument("--steps", type=positive_int, help="optimizer steps (default 300)")
    finetune.add_argument("--batch-size", type=positive_int, help="examples per step (default 16)")
    finetune.add_argument("--lr", type=positive_float, help="peak learning rate (default 3e-4)")
    finetune.add_argument(
        "--doc-stride", type=whole_number, help="qa: tokens shared by the windows of a long context (max_len // 4)"
    )
    finetune.add_argument("--seed", type=whole_number, help="seed of the head, the order and the dropout")
    finetune.add_argument("--config", type=Path, help="a JSON file of FinetuneConfig fields")
    finetune.add_argument("--device", default="cpu", help="cpu, cuda ... (default cpu)")
    finetune.set_defaults(run=run_finetune)


def _check_out(out: Path, run_dir: Path) -> None:
    """Refuse an ``--out`` that is a file, the run itself, or a non-empty directory of something else."""
    from mlm_book.model.task_checkpoint import is_task_model_dir

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a directory")
    if out.exists() and out.resolve() == run_dir.resolve():
        raise UsageError(f"--out {out} is the training run itself; write the fine-tuned model elsewhere")
    if out.is_dir() and any(out.iterdir()) and not is_task_model_dir(out):
        raise UsageError(f"--out {out} is not empty and holds no fine-tuned model; choose an empty directory")


def finetune_config(args: argparse.Namespace, model_max_len: int) -> Any:
    """The ``FinetuneConfig``: defaults, then ``--config``, then flags; ``max_len`` at most the model's."""
    from mlm_book.training.config import FinetuneConfig

    base = read_config_file(args.config, FinetuneConfig, FinetuneConfig())
    flags = {field: getattr(args, dest) for dest, field in _FLAG_FIELDS.items() if getattr(args, dest) is not None}
    flags["max_len"] = min(base.max_len, model_max_len)
    return dataclasses.replace(base, **flags)


def run_finetune(args: argparse.Namespace) -> int:
    """``mlm-book finetune``: fine-tune, save the model and its scores."""
    import datasets

    from mlm_book.model.checkpoint import check_finite_weights, load_model
    from mlm_book.model.task_checkpoint import save_task_model
    from mlm_book.training.finetune import finetune
    from mlm_book.utils.atomic import write_json_atomically

    check_model_dir(args.run_dir)
    _check_out(args.out, args.run_dir)
    loaded = load_model(args.run_dir)
    check_run_tokenizer(loaded.tokenizer, args.run_dir)
    check_finite_weights(loaded.model, args.run_dir)
    config = finetune_config(args, loaded.model.config.max_len)
    datasets.disable_progress_bars()
    result = finetune(config, loaded.model, loaded.tokenizer, device=args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json_atomically(args.out / FINETUNE_CONFIG_FILE, config.to_dict())
    results = {
        "task": config.task,
        "run_dir": str(args.run_dir),
        "validation": result.validation.to_dict(),
        "test": result.test.to_dict(),
        "history": dataclasses.asdict(result.history),
    }
    write_results(args.out / EVAL_RESULTS_FILE, results)
    save_task_model(
        result.model, args.out, task=config.task, label_names=result.label_names, tokenizer=loaded.tokenizer
    )
    print(f"{config.task}: test {format_scores(result.test)}; saved to {args.out}")
    return 0


def format_scores(scores: Any) -> str:
    """``accuracy 0.912 [0.88, 0.94], f1 ...``: every score, with its interval where it has one."""
    parts = []
    for name, value in scores.scores.items():
        interval = scores.intervals.get(name)
        parts.append(f"{name} {value:.3f}" + (f" [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else ""))
    return ", ".join(parts) + f" (n={scores.n})"


def run_evaluate_finetuned(args: argparse.Namespace) -> int:
    """``mlm-book evaluate`` on a fine-tuned directory: rescore it on its task's split."""
    import datasets

    from mlm_book.model.task_checkpoint import load_task_model
    from mlm_book.training.config import FinetuneConfig
    from mlm_book.training.finetune import evaluate_finetuned

    output = results_path(args.output, args.run_dir, args.split, owned=False)  # finetune's own file stays
    loaded = load_task_model(args.run_dir)
    config = read_config_file(args.run_dir / FINETUNE_CONFIG_FILE, FinetuneConfig, FinetuneConfig())
    if loaded.tokenizer is None:
        raise UsageError(f"{args.run_dir} has no tokenizer.json; the fine-tuned directory is incomplete")
    datasets.disable_progress_bars()
    scores = evaluate_finetuned(loaded.model, loaded.tokenizer, config, args.split)
    print(f"{config.task} {args.split}: {format_scores(scores)}")
    if output is not None:  # the shape of finetune's eval_results.json, for the one split
        write_results(output, {"task": config.task, "model_dir": str(args.run_dir), args.split: scores.to_dict()})
        print(f"wrote {output}")
    return 0
