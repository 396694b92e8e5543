"""Checks ``mlm-book train`` makes before any slow work: the device, and room for two checkpoints.

A run that can only fail should fail at once, not after the tokenizer was trained and the
first steps taken: an unknown ``--device`` or one this torch cannot use, and a disk without room
for the staged checkpoint next to the current one, are one line before anything is loaded.
(Writability needs no check of its own: the run's lock file is created first.)
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import torch

from mlm_book.cli.args import UsageError
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel, count_parameters

_BYTES_PER_PARAMETER = 4 * 3
"""float32 weights and AdamW's two moments."""
_SLACK = 32 << 20
"""Tokenizer, configs, history and file-system overhead."""


def check_device(name: str | None) -> None:
    """Raise ``UsageError`` unless ``--device name`` is a device this torch can train on.

    Args:
        name: the ``--device`` value, or ``None`` to pick one automatically.
    """
    if name is None:
        return
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise UsageError(f"--device {name!r} is not a device; use cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            why = "this torch is built without CUDA" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise UsageError(f"--device {name}: {why}; use --device cpu (or install a CUDA build of torch)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(
                f"--device {name}: there are only {torch.cuda.device_count()} CUDA GPU(s), "
                f"numbered from 0; use cuda:0 .. cuda:{torch.cuda.device_count() - 1}"
            )
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise UsageError(f"--device {name}: MPS is not available here; use --device cpu")
    elif device.type != "cpu":
        raise UsageError(f"--device {name}: mlm-book trains on cpu, cuda or mps; use one of them")


def checkpoint_bytes(model_config: ModelConfig) -> int:
    """About how many bytes one checkpoint of a run of this model takes on disk.

    Args:
        model_config: the model's shape.

    Returns:
        float32 weights plus AdamW's two moments, and some slack for the other files.
    """
    with torch.device("meta"):  # shapes only: no memory, no initialisation work
        n_parameters = count_parameters(MLMModel(model_config))
    return n_parameters * _BYTES_PER_PARAMETER + _SLACK


def check_free_space(directory: Path, model_config: ModelConfig) -> None:
    """Raise an ``OSError`` (ENOSPC) unless ``directory`` has room for two checkpoints.

    A checkpoint is written whole next to the previous one before it replaces it, so a run
    needs room for two.

    Args:
        directory: the run directory (it must exist).
        model_config: the model's shape.
    """
    needed = 2 * checkpoint_bytes(model_config)
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise OSError(
            errno.ENOSPC,
            f"--out needs about {needed / 1e6:,.0f} MB free for two checkpoints but has {free / 1e6:,.0f} MB",
            str(directory),
        )
