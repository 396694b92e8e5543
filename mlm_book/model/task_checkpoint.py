"""Save a fine-tuned task model to a directory, and load it back.

A task-model directory holds ``model.safetensors`` (the encoder and head weights),
``task_config.json`` (the ``ModelConfig``, the head kind, the task and its label names, with a
format name and version: the file that marks the directory as a task model) and, when given,
``tokenizer.json``. Files are written atomically, the marker last, so a directory with a
``task_config.json`` is complete.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from tokenizers import Tokenizer

from mlm_book.model.checkpoint import TOKENIZER_FILE, WEIGHTS_FILE
from mlm_book.model.config import ModelConfig
from mlm_book.model.heads import TaskModel
from mlm_book.utils.atomic import (
    read_versioned_json,
    write_bytes_atomically,
    write_json_atomically,
    write_safetensors_atomically,
)

TASK_CONFIG_FILE = "task_config.json"
TASK_FORMAT = "mlm-book-task-model"
TASK_VERSION = 1


@dataclass
class LoadedTaskModel:
    """A task model read from a directory.

    Attributes:
        model: the ``TaskModel``, in eval mode.
        tokenizer: the tokenizer, or ``None`` if none was saved.
        task: the task's name (e.g. ``"ner"``).
        label_names: the names of the label ids (empty for spans).
    """

    model: TaskModel
    tokenizer: Tokenizer | None
    task: str
    label_names: tuple[str, ...]


def is_task_model_dir(directory: str | os.PathLike[str]) -> bool:
    """True if ``directory`` holds a ``task_config.json`` (written by :func:`save_task_model`)."""
    return (Path(directory) / TASK_CONFIG_FILE).is_file()


def save_task_model(
    model: TaskModel,
    out_dir: str | os.PathLike[str],
    *,
    task: str,
    label_names: Sequence[str] = (),
    tokenizer: Tokenizer | None = None,
) -> Path:
    """Write ``model.safetensors``, ``tokenizer.json`` (if given) and ``task_config.json`` into ``out_dir``.

    Args:
        model: the fine-tuned model.
        out_dir: the directory, created if missing.
        task: the task's name, kept for the reader.
        label_names: the names of the label ids.
        tokenizer: the model's tokenizer.

    Returns:
        The directory.
    """
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    write_safetensors_atomically(directory / WEIGHTS_FILE, model.state_dict(), metadata={"format": "pt"})
    if tokenizer is not None:
        write_bytes_atomically(directory / TOKENIZER_FILE, tokenizer.to_str(pretty=True).encode("utf-8"))
    body = {
        "format": TASK_FORMAT,
        "version": TASK_VERSION,
        "model": model.config.to_dict(),
        "kind": model.kind,
        "num_labels": model.num_labels,
        "task": task,
        "label_names": list(label_names),
    }
    write_json_atomically(directory / TASK_CONFIG_FILE, body)
    return directory


def load_task_model(model_dir: str | os.PathLike[str], *, device: str | torch.device = "cpu") -> LoadedTaskModel:
    """Read a directory written by :func:`save_task_model`.

    Args:
        model_dir: the directory.
        device: where to put the weights.

    Returns:
        The model in eval mode, its tokenizer, task and label names.

    Raises:
        FileNotFoundError: if a file is missing.
        ValueError: if a file is corrupt or the weights do not fit the config.
    """
    directory = Path(model_dir)
    body = read_versioned_json(directory / TASK_CONFIG_FILE, TASK_FORMAT, TASK_VERSION, "a task model config")
    try:
        config = ModelConfig.from_dict(body["model"])
        model = TaskModel(config, body["kind"], body["num_labels"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{directory / TASK_CONFIG_FILE} holds an invalid task config: {error}") from error
    try:
        tensors = load_file(str(directory / WEIGHTS_FILE), device=str(device))
        model.to(device).load_state_dict(tensors)
    except FileNotFoundError:
        raise FileNotFoundError(f"{directory / WEIGHTS_FILE} does not exist; the directory is incomplete") from None
    except (SafetensorError, OSError, RuntimeError) as error:
        raise ValueError(
            f"{directory / WEIGHTS_FILE} does not fit {TASK_CONFIG_FILE} or is corrupt ({error})"
        ) from None
    tokenizer_path = directory / TOKENIZER_FILE
    tokenizer = Tokenizer.from_file(str(tokenizer_path)) if tokenizer_path.is_file() else None
    return LoadedTaskModel(model.eval(), tokenizer, str(body.get("task", "")), tuple(body.get("label_names", ())))
