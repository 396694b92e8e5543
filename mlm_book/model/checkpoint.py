"""Save a model (and its tokenizer) to a directory, and load it back.

A model directory holds ``model.safetensors`` (the weights: tensors only, no pickle),
``config.json`` (the ``ModelConfig`` plus a format name and version) and, when given,
``tokenizer.json``. The decoder weight is tied to the token embeddings, and safetensors
refuses two names for one tensor, so it is saved once and tied again on load. Every file is
written atomically (a temporary file, then a rename). Training adds its own files next to these
(optimizer state); loading a model ignores them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from tokenizers import Tokenizer

from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel, tied_weights
from mlm_book.utils.atomic import (
    read_versioned_json,
    write_bytes_atomically,
    write_json_atomically,
    write_safetensors_atomically,
)

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.json"
FORMAT = "mlm-book-model"
VERSION = 1


@dataclass
class LoadedModel:
    """A model read from a directory, with its tokenizer if one was saved.

    Attributes:
        model: the model, in eval mode.
        tokenizer: the ``tokenizers.Tokenizer`` from ``tokenizer.json``, or ``None``.
    """

    model: MLMModel
    tokenizer: Tokenizer | None


def save_model(model: MLMModel, out_dir: str | os.PathLike[str], tokenizer: Tokenizer | None = None) -> Path:
    """Write ``model.safetensors``, ``config.json`` and (if given) ``tokenizer.json`` into ``out_dir``.

    Args:
        model: the model to save.
        out_dir: directory to write into; created if missing. Other files in it are kept
            (an existing ``tokenizer.json`` too, when ``tokenizer`` is ``None``).
        tokenizer: the model's ``tokenizers.Tokenizer``; its vocabulary must fit ``vocab_size``.

    Returns:
        The directory, as a ``Path``.
    """
    directory = Path(out_dir)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"cannot save the model into {directory}: it is a file; choose a directory path")
    if tokenizer is not None and tokenizer.get_vocab_size() > model.config.vocab_size:
        raise ValueError(
            f"the tokenizer has {tokenizer.get_vocab_size()} tokens but the model's vocab_size is "
            f"{model.config.vocab_size}; save the tokenizer the model was built for"
        )
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {name: tensor for name, tensor in model.state_dict().items() if name not in tied_weights(model.config)}
    write_safetensors_atomically(directory / WEIGHTS_FILE, tensors, metadata={"format": "pt"})
    if tokenizer is not None:
        write_bytes_atomically(directory / TOKENIZER_FILE, tokenizer.to_str(pretty=True).encode("utf-8"))
    # The config goes last: a directory with a config.json is complete.
    write_json_atomically(
        directory / CONFIG_FILE, {"format": FORMAT, "version": VERSION, "model": model.config.to_dict()}
    )
    return directory


def load_model(model_dir: str | os.PathLike[str], *, device: str | torch.device = "cpu") -> LoadedModel:
    """Read a directory written by ``save_model``.

    Args:
        model_dir: the directory.
        device: where to put the weights.

    Returns:
        ``LoadedModel`` with the model in eval mode (decoder tied again) and the tokenizer or ``None``.

    Raises:
        FileNotFoundError: if the directory, its ``config.json`` or ``model.safetensors`` is missing.
        ValueError: if a file is corrupt or the weights do not fit the config.
    """
    directory = Path(model_dir)
    if not directory.is_dir():
        raise FileNotFoundError(f"no model directory {directory}; save a model there with save_model() first")
    config = read_config(directory / CONFIG_FILE)
    tensors = _read_weights(directory / WEIGHTS_FILE, device)
    model = MLMModel(config).to(device)
    _load_weights(model, tensors, directory / WEIGHTS_FILE)
    tokenizer = _read_tokenizer(directory / TOKENIZER_FILE, config) if (directory / TOKENIZER_FILE).exists() else None
    return LoadedModel(model=model.eval(), tokenizer=tokenizer)


def check_finite_weights(model: MLMModel, source: str | os.PathLike[str]) -> None:
    """Raise ValueError if any weight of ``model`` is NaN or infinite; reads only.

    A model with such a weight predicts nothing but NaN, so scoring or querying it is refused
    with one sentence instead of printing ``nan``.

    Args:
        model: a loaded model.
        source: where it was loaded from, for the message.

    Raises:
        ValueError: naming the first non-finite tensor and how many of its values are bad.
    """
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise ValueError(
                f"{source} holds non-finite weights ({bad} NaN or infinite values in {name}); the training "
                "diverged: retrain with a lower learning rate, or use an earlier checkpoint"
            )


def read_config(path: str | os.PathLike[str]) -> ModelConfig:
    """Read the ``ModelConfig`` of a model directory's ``config.json``.

    Args:
        path: the ``config.json`` file.

    Returns:
        The validated config.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; is this a directory written by save_model()?")
    body = read_versioned_json(path, FORMAT, VERSION, "a model config")
    try:
        return ModelConfig.from_dict(body["model"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path} holds an invalid model config: {error}") from error


def _read_weights(path: Path, device: str | torch.device) -> dict[str, torch.Tensor]:
    """Load a safetensors file, with errors that name it."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; the model directory is incomplete")
    try:
        return load_file(str(path), device=str(device))
    except (SafetensorError, OSError, RuntimeError) as error:
        raise ValueError(f"{path} is corrupt or not a safetensors file ({error})") from error


def _load_weights(model: MLMModel, tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Copy ``tensors`` into ``model`` after checking names and shapes; the tie survives the copy."""
    expected = {name: t.shape for name, t in model.state_dict().items() if name not in tied_weights(model.config)}
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    misshapen = sorted(
        f"{name} {tuple(tensors[name].shape)} vs {tuple(shape)}"
        for name, shape in expected.items()
        if name in tensors and tensors[name].shape != shape
    )
    if missing or unexpected or misshapen:
        raise ValueError(
            f"{path} does not match {path.parent / CONFIG_FILE}: missing {missing[:3]}, unexpected "
            f"{unexpected[:3]}, wrong shapes (saved vs config) {misshapen[:3]}; save the weights and config together"
        )
    model.load_state_dict(tensors, strict=False)  # copies in place, so a tied decoder stays tied
    tied = model.head.decoder.weight is model.embeddings.token.weight
    if tied != model.config.tie_decoder:  # pragma: no cover - a torch change
        raise RuntimeError("loading untied the decoder from the token embeddings")


def _read_tokenizer(path: Path, config: ModelConfig) -> Tokenizer:
    """Load ``tokenizer.json`` and check that its vocabulary fits the model."""
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as error:  # tokenizers raises a bare Exception for a bad file
        raise ValueError(f"{path} is corrupt or not a tokenizers JSON file ({error})") from error
    if tokenizer.get_vocab_size() > config.vocab_size:
        raise ValueError(
            f"{path} has {tokenizer.get_vocab_size()} tokens but {path.parent / CONFIG_FILE} says "
            f"vocab_size={config.vocab_size}; the tokenizer belongs to another model"
        )
    return tokenizer
