"""Mixed precision: which device to train on, and in which floating-point format.

Matmuls in bfloat16 or float16 run several times faster than float32 on a modern GPU.
``torch.autocast`` runs the matmuls of the forward pass in the low-precision format while the
weights, the optimizer and the loss reduction stay in float32. bfloat16 keeps float32's
exponent range, so it needs nothing more; float16 does not, so its small gradients would
underflow to zero unless the loss is multiplied by a large factor first and the gradients
divided by it again before the step: a *gradient scaler* (``torch.amp.GradScaler``), which
also skips the steps whose gradients overflowed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Numerics:
    """Where and how a run computes.

    Attributes:
        device: the device of the model and the batches.
        autocast_dtype: ``torch.bfloat16`` or ``torch.float16`` under autocast, or ``None``
            for plain float32.
    """

    device: torch.device
    autocast_dtype: torch.dtype | None = None

    @property
    def needs_scaler(self) -> bool:
        """True for float16, whose gradients need loss scaling."""
        return self.autocast_dtype == torch.float16

    @property
    def name(self) -> str:
        """``"fp32"``, ``"bf16"`` or ``"fp16"``."""
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.autocast_dtype]


def default_device() -> torch.device:
    """The first CUDA GPU if there is one, else the CPU."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def resolve_numerics(precision: str, device: torch.device | str | None = None) -> Numerics:
    """Turn a precision name into a device and an autocast dtype.

    Args:
        precision: ``"auto"`` (bfloat16 on a GPU that supports it, else float32), ``"fp32"``,
            ``"bf16"`` or ``"fp16"``. bf16 and fp16 also work on a CPU (slowly: a way to test).
        device: where to compute; ``None`` picks ``default_device()``.

    Returns:
        The device and autocast dtype.
    """
    device = default_device() if device is None else torch.device(device)
    if precision == "auto":
        bf16_ok = device.type == "cuda" and torch.cuda.is_bf16_supported()
        return Numerics(device, torch.bfloat16 if bf16_ok else None)
    if precision == "fp32":
        return Numerics(device, None)
    if precision in _DTYPES:
        return Numerics(device, _DTYPES[precision])
    raise ValueError(f"precision must be one of auto, fp32, bf16, fp16, got {precision!r}")


@contextlib.contextmanager
def autocast(numerics: Numerics) -> Iterator[None]:
    """Run the body under ``torch.autocast`` in the run's dtype (or do nothing for float32)."""
    if numerics.autocast_dtype is None:
        yield
    else:
        with torch.autocast(device_type=numerics.device.type, dtype=numerics.autocast_dtype):
            yield


def make_scaler(numerics: Numerics) -> torch.amp.GradScaler | None:
    """A gradient scaler for float16, ``None`` otherwise."""
    return torch.amp.GradScaler(numerics.device.type) if numerics.needs_scaler else None
