"""Precision: resolving names to devices and autocast dtypes, the autocast context, the scaler."""

import pytest
import torch

from mlm_book.utils.precision import Numerics, autocast, make_scaler, resolve_numerics


def test_resolve_on_cpu() -> None:
    assert resolve_numerics("auto", "cpu") == Numerics(torch.device("cpu"), None)
    assert resolve_numerics("fp32", "cpu").name == "fp32"
    assert resolve_numerics("bf16", "cpu").autocast_dtype == torch.bfloat16
    fp16 = resolve_numerics("fp16", "cpu")
    assert fp16.needs_scaler and fp16.name == "fp16"
    with pytest.raises(ValueError, match="precision must be one of auto, fp32, bf16, fp16, got 'fp8'"):
        resolve_numerics("fp8", "cpu")


def test_autocast_changes_matmul_dtype_only_when_asked() -> None:
    a = torch.randn(3, 5)
    with autocast(resolve_numerics("fp32", "cpu")):
        assert (a @ a.T).dtype == torch.float32
    with autocast(resolve_numerics("bf16", "cpu")):
        assert (a @ a.T).dtype == torch.bfloat16


def test_scaler_only_for_fp16() -> None:
    assert make_scaler(resolve_numerics("bf16", "cpu")) is None
    assert isinstance(make_scaler(resolve_numerics("fp16", "cpu")), torch.amp.GradScaler)
