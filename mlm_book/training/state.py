"""The training state beyond the weights, saved so that a resumed run continues exactly.

Resuming must reproduce an uninterrupted run bit for bit on a CPU, so a checkpoint holds
everything the next step depends on: AdamW's moments, the scheduler's step, the data position
(epoch and batches consumed), the state of the data-order generator at the start of the epoch,
and the masking generator. (Dropout draws from torch's global generator, which the training
loop seeds afresh at every step from the run's seed and the step, so it needs no saving.)
Tensors go to
``train_state.safetensors`` and everything else to ``train_state.json``, where each tensor
appears as ``{"__tensor__": name}``: loading never unpickles anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from mlm_book.utils.atomic import read_versioned_json, write_json_atomically, write_safetensors_atomically

STATE_TENSORS = "train_state.safetensors"
STATE_JSON = "train_state.json"
FORMAT = "mlm-book-train-state"
VERSION = 1


@dataclass(frozen=True)
class TrainState:
    """Where a run stands after ``step`` optimizer steps.

    Attributes:
        step: optimizer steps taken.
        epoch: the current pass over the training data, from 0.
        batch_in_epoch: global batches of this epoch already consumed.
        tokens_seen: non-padding tokens trained on so far, over all processes.
        order_state: ``torch.Generator`` state (uint8) that drew this epoch's data order.
        masking_state: ``torch.Generator`` state (uint8) of the masking generator now.
        window: the sums the next history record averages, over the steps since the last one
            (``loss``, ``accuracy``, ``steps``, ``tokens``, ``seconds``): saved so that the record
            that straddles a resume averages the same steps as in an uninterrupted run.
    """

    step: int
    epoch: int
    batch_in_epoch: int
    tokens_seen: int
    order_state: torch.Tensor
    masking_state: torch.Tensor
    window: dict[str, float] = field(default_factory=dict)


def _split(value: Any, name: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Replace every tensor in a nested structure by a reference and collect the tensors."""
    if isinstance(value, torch.Tensor):
        tensors[name] = value.detach().cpu().clone()
        return {"__tensor__": name}
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {key: _split(item, f"{name}.{key}", tensors) for key, item in value.items()}
        return {"__items__": [[key, _split(item, f"{name}.{key}", tensors)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_split(item, f"{name}.{i}", tensors) for i, item in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot save {name} of type {type(value).__name__} in a training state")


def _join(value: Any, tensors: dict[str, torch.Tensor], source: Path) -> Any:
    """Undo ``_split``: put the tensors back where the references are."""
    if isinstance(value, dict):
        if set(value) == {"__tensor__"}:
            if value["__tensor__"] not in tensors:
                raise ValueError(
                    f"{source} lacks the tensor {value['__tensor__']!r} that {STATE_JSON} names; "
                    "the checkpoint is incomplete or its files come from different saves"
                )
            return tensors[value["__tensor__"]]
        if set(value) == {"__items__"}:
            return {key: _join(item, tensors, source) for key, item in value["__items__"]}
        return {key: _join(item, tensors, source) for key, item in value.items()}
    if isinstance(value, list):
        return [_join(item, tensors, source) for item in value]
    return value


def save_train_state(
    directory: Path,
    state: TrainState,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler | None = None,
) -> None:
    """Write ``train_state.safetensors`` and ``train_state.json`` into ``directory``, atomically.

    Args:
        directory: an existing directory.
        state: the position of the run and its generator states.
        optimizer: its state dict is saved (moments as tensors, hyper-parameters as JSON).
        scheduler: its state dict is saved (JSON numbers).
        scaler: the fp16 gradient scaler, if any.
    """
    tensors: dict[str, torch.Tensor] = {}
    body = {
        "format": FORMAT,
        "version": VERSION,
        "step": state.step,
        "epoch": state.epoch,
        "batch_in_epoch": state.batch_in_epoch,
        "tokens_seen": state.tokens_seen,
        "window": dict(state.window),
        "rng": _split({"order": state.order_state, "masking": state.masking_state}, "rng", tensors),
        "optimizer": _split(optimizer.state_dict(), "optimizer", tensors),
        "scheduler": _split(scheduler.state_dict(), "scheduler", tensors),
        "scaler": _split(scaler.state_dict(), "scaler", tensors) if scaler is not None else None,
    }
    directory = Path(directory)
    write_safetensors_atomically(directory / STATE_TENSORS, tensors, metadata={"step": str(state.step)})
    write_json_atomically(directory / STATE_JSON, body)


def _read_tensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Load a safetensors file and its metadata, with errors that name the file."""
    from safetensors import safe_open

    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; the checkpoint is incomplete")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
        return load_file(str(path)), metadata
    except (SafetensorError, OSError, RuntimeError) as error:
        raise ValueError(f"{path} is corrupt or not a safetensors file ({error})") from error


def _check_optimizer_state(saved: dict[str, Any], optimizer: torch.optim.Optimizer, source: Path) -> None:
    """Raise ValueError unless the saved optimizer state fits the optimizer's parameters."""
    sizes = [len(group["params"]) for group in optimizer.param_groups]
    saved_sizes = [len(group["params"]) for group in saved["param_groups"]]
    if sizes != saved_sizes:
        raise ValueError(
            f"{source} holds optimizer state for parameter groups of sizes {saved_sizes}, but the "
            f"model has {sizes}; the checkpoint was saved for a different model"
        )
    params = [p for group in optimizer.param_groups for p in group["params"]]
    ids = [i for group in saved["param_groups"] for i in group["params"]]
    for position, (param_id, param) in enumerate(zip(ids, params)):
        for key, value in saved["state"].get(param_id, {}).items():
            if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != param.shape:
                raise ValueError(
                    f"{source} holds optimizer state {key!r} of shape {tuple(value.shape)} for parameter "
                    f"{position}, whose shape is {tuple(param.shape)}; the checkpoint was saved for a "
                    "different model"
                )


_COUNTERS = ("step", "epoch", "batch_in_epoch", "tokens_seen")


def _check_counters(body: dict[str, Any], source: Path) -> None:
    """Raise ValueError unless every position counter is a whole number >= 0."""
    for name in _COUNTERS:
        value = body.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(
                f"{source} holds {name}={value!r}, not a whole number >= 0; the training state is corrupt "
                "or was edited: resume from an untouched run"
            )


def check_position(state: TrainState, *, steps: int, batches_per_epoch: int, source: Path | str = "the run") -> None:
    """Check that a loaded position fits the run about to continue.

    Every step consumes one batch of the epoch's order, so a consistent state has
    ``batch_in_epoch <= batches_per_epoch`` and ``step == epoch * batches_per_epoch + batch_in_epoch``.

    Args:
        state: from ``load_train_state``.
        steps: the run's ``TrainConfig.steps`` (the resumed run's, which may be larger).
        batches_per_epoch: global batches per epoch of the prepared training data.
        source: the run directory, for the message.

    Raises:
        ValueError: naming the bad value and the fix.
    """
    if state.step > steps:
        raise ValueError(
            f"{source} is at step {state.step}, beyond steps={steps}; pass --steps {state.step} or more to "
            "train on (a run cannot be shortened)"
        )
    if state.batch_in_epoch > batches_per_epoch or state.step != state.epoch * batches_per_epoch + state.batch_in_epoch:
        raise ValueError(
            f"{source} is at step {state.step}, epoch {state.epoch}, batch {state.batch_in_epoch}, which does not fit "
            f"{batches_per_epoch} batches per epoch; the training state was edited, or the corpus or batch size "
            "changed: resume on the run's own data"
        )


def load_train_state(
    directory: Path,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler | None = None,
) -> TrainState:
    """Read a training state and load it into the optimizer, scheduler and scaler.

    Args:
        directory: a checkpoint directory written by ``save_train_state``.
        optimizer: built for the same model and config; its state is replaced.
        scheduler: attached to ``optimizer``; its state is replaced.
        scaler: the fp16 gradient scaler, if the resumed run uses one.

    Returns:
        The run's position and generator states.

    Raises:
        FileNotFoundError: if a file is missing.
        ValueError: if a file is corrupt, the two files disagree, or the state does not fit.
    """
    directory = Path(directory)
    json_path, tensor_path = directory / STATE_JSON, directory / STATE_TENSORS
    body = read_versioned_json(json_path, FORMAT, VERSION, "a training state")
    tensors, metadata = _read_tensors(tensor_path)
    if metadata.get("step") != str(body["step"]):
        raise ValueError(
            f"{tensor_path} is from step {metadata.get('step')} but {json_path} from step {body['step']}; "
            "the two files come from different saves"
        )
    _check_counters(body, json_path)
    rng = _join(body["rng"], tensors, tensor_path)
    optimizer_state = _join(body["optimizer"], tensors, tensor_path)
    _check_optimizer_state(optimizer_state, optimizer, tensor_path)
    for group in optimizer_state["param_groups"]:
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
    optimizer.load_state_dict(optimizer_state)
    scheduler_state = _join(body["scheduler"], tensors, tensor_path)
    if not isinstance(scheduler_state, dict) or scheduler_state.get("last_epoch") != body["step"]:
        raise ValueError(
            f"{json_path} is at step {body['step']} but its scheduler has taken "
            f"{scheduler_state.get('last_epoch') if isinstance(scheduler_state, dict) else None} steps; "
            "the training state is corrupt or was edited: resume from an untouched run"
        )
    if "lr_lambdas" in scheduler_state:  # the schedule itself comes from the (possibly longer) config
        scheduler_state["lr_lambdas"] = [None] * len(scheduler_state["lr_lambdas"])
    scheduler.load_state_dict(scheduler_state)
    if scaler is not None and body.get("scaler") is not None:
        scaler.load_state_dict(_join(body["scaler"], tensors, tensor_path))
    window = body.get("window", {})  # absent in states saved before it was recorded
    if not isinstance(window, dict) or not all(
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
        for value in window.values()
    ):
        raise ValueError(
            f"{json_path} holds window={window!r}, not sums >= 0; the training state is corrupt or was edited: "
            "resume from an untouched run"
        )
    return TrainState(
        window=dict(window),
        step=int(body["step"]),
        epoch=int(body["epoch"]),
        batch_in_epoch=int(body["batch_in_epoch"]),
        tokens_seen=int(body["tokens_seen"]),
        order_state=rng["order"],
        masking_state=rng["masking"],
    )
