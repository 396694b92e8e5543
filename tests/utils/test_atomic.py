"""Atomic file writes: content lands whole, temporaries vanish, failures keep the old file."""

import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mlm_book.utils.atomic import (
    current_umask,
    read_json,
    write_bytes_atomically,
    write_json_atomically,
    write_safetensors_atomically,
)


def test_json_round_trip_sorted_and_no_temporaries(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_json_atomically(path, {"b": [1, 2.5], "a": "é"})
    assert read_json(path) == {"a": "é", "b": [1, 2.5]}
    assert path.read_text(encoding="utf-8").index('"a"') < path.read_text(encoding="utf-8").index('"b"')
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_safetensors_with_metadata(tmp_path: Path) -> None:
    path = tmp_path / "t.safetensors"
    tensors = {"x": torch.arange(6).view(2, 3).t(), "s": torch.tensor(3.5)}  # non-contiguous, 0-d
    write_safetensors_atomically(path, tensors, metadata={"step": "4"})
    loaded = load_file(str(path))
    assert torch.equal(loaded["x"], tensors["x"]) and torch.equal(loaded["s"], tensors["s"])


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_bytes_atomically(path, b"old")
    with pytest.raises(TypeError):
        write_json_atomically(path, {"bad": object()})
    assert path.read_bytes() == b"old" and len(list(tmp_path.iterdir())) == 1


def test_read_json_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.json does not exist"):
        read_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.json is not valid JSON .*; the file is corrupt"):
        read_json(tmp_path / "bad.json")


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_files_follow_the_umask_like_open(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        assert current_umask() == umask and os.umask(umask) == umask  # reading it changed nothing
        write_bytes_atomically(tmp_path / "a.bin", b"x")
        (tmp_path / "b.bin").write_bytes(b"x")  # what open() gives
    finally:
        os.umask(old)
    assert (tmp_path / "a.bin").stat().st_mode & 0o777 == (tmp_path / "b.bin").stat().st_mode & 0o777 == 0o666 & ~umask
