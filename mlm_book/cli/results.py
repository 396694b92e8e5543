"""The scores files of ``evaluate`` and ``finetune``, named and keyed as transformers' scripts write them.

``mlm-book evaluate RUN`` writes ``RUN/eval_results.json`` (``RUN/test_results.json`` with
``--split test``), as ``run_mlm.py`` writes ``OUTPUT_DIR/eval_results.json``: flat keys prefixed
by the split, ``eval_loss``, ``eval_accuracy``, ``eval_masked_tokens``, ``eval_probe_CATEGORY``
(``test_...``), then ``perplexity``, the ``split`` and the ``step`` of the checkpoint scored.
A file is written only where ``evaluate`` owns one: in a training run, whose checkpoint never
touches it; a fine-tuned directory keeps the ``eval_results.json`` that ``finetune`` wrote (both
splits and the history). ``--output FILE`` writes the scores elsewhere, for a fine-tuned model or
a run in a directory one may not write; it replaces an existing file only if it is a
``*results.json`` (what these commands write), so no other file is lost to a typo.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mlm_book.cli.args import UsageError

EVAL_RESULTS_FILE = "eval_results.json"
"""The validation scores of ``evaluate`` in a run; the scores and history of ``finetune``."""
RESULTS_FILES = {"validation": EVAL_RESULTS_FILE, "test": "test_results.json"}
"""The file ``evaluate`` writes in a training run, by split (transformers' ``Trainer.save_metrics`` names)."""
PREFIXES = {"validation": "eval", "test": "test"}
"""The prefix of the keys, by split (transformers' ``metric_key_prefix``)."""


def masked_lm_results(scores: Any, probes: dict[str, float], split: str, step: int | None) -> dict[str, Any]:
    """The ``eval_results.json`` of a training run.

    Args:
        scores: the ``evaluation.metrics.MaskedLMScores`` of the split.
        probes: probe accuracy by category (empty without probes).
        split: ``"validation"`` or ``"test"``.
        step: the step of the checkpoint scored (``None`` if the run does not say).

    Returns:
        A JSON-ready dict of flat keys, as the module docstring lists.
    """
    prefix = PREFIXES[split]
    results: dict[str, Any] = {
        f"{prefix}_loss": scores.loss,
        f"{prefix}_accuracy": scores.accuracy,
        f"{prefix}_masked_tokens": scores.n_predictions,
        "perplexity": scores.perplexity,
        "split": split,
        "step": step,
    }
    results.update({f"{prefix}_probe_{name}": value for name, value in probes.items()})
    return results


def results_path(output: Path | None, directory: Path, split: str, *, owned: bool) -> Path | None:
    """Where ``evaluate`` writes its scores, checked before any work.

    Args:
        output: the ``--output`` file, or ``None`` for the default.
        directory: the directory evaluated.
        split: ``"validation"`` or ``"test"``.
        owned: whether ``evaluate`` owns a file in ``directory`` (a training run does).

    Returns:
        The file to write, or ``None`` to write nothing (no ``--output`` for a directory not owned).

    Raises:
        UsageError: for an ``--output`` that cannot or may not be written, or a read-only run.
    """
    if output is not None:
        check_output(output, directory)
        return output
    if not owned:
        return None
    path = directory / RESULTS_FILES[split]
    if not os.access(directory, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"cannot write {path} (read-only); pass --output FILE to write the scores elsewhere")
    return path


def check_output(path: Path, directory: Path) -> None:
    """Refuse an ``--output`` that is a directory, has no parent, or would replace a file not of scores.

    Args:
        path: the ``--output`` file.
        directory: the directory evaluated (its ``finetune`` results are not replaced).
    """
    if path.is_dir():
        raise UsageError(f"--output {path} is a directory; give a file name such as {path / EVAL_RESULTS_FILE}")
    if not path.parent.is_dir():
        raise UsageError(f"--output {path}: the directory {path.parent} does not exist; create it first")
    if path.exists() and not path.name.endswith("results.json"):
        raise UsageError(f"--output {path} exists and is not a *results.json file; choose a new file name")
    if path.exists() and path.resolve() == (directory / EVAL_RESULTS_FILE).resolve():
        from mlm_book.model.task_checkpoint import is_task_model_dir

        if is_task_model_dir(directory):
            raise UsageError(f"--output {path} holds finetune's scores and history; choose another file name")


def write_results(path: Path, results: dict[str, Any]) -> None:
    """Write a scores file as key-sorted JSON, atomically (``utils.atomic``)."""
    from mlm_book.utils.atomic import write_json_atomically

    write_json_atomically(path, results)
