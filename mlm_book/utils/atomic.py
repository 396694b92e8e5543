"""Write files atomically: to a temporary file in the same directory, then rename it.

``os.replace`` within one directory is atomic on POSIX and Windows, so a reader (or a run
restarted after a crash) sees either the old file or the new one, never half of one.
Tensors go to ``safetensors`` (no pickle), everything else to JSON.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save as save_safetensors_bytes


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux).

    Returns:
        The umask bits, e.g. ``0o022``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere the only way to read it is to set it, briefly
    os.umask(mask)
    return mask


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Args:
        path: destination; its directory must exist.
        data: the whole content.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes the file 0600; give it the mode open() would
            os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomically(path: Path, data: Any) -> None:
    """Write ``data`` as indented, key-sorted JSON (UTF-8), atomically.

    Args:
        path: destination file.
        data: anything ``json.dumps`` accepts.
    """
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    write_bytes_atomically(path, text.encode("utf-8"))


def write_safetensors_atomically(
    path: Path, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None
) -> None:
    """Write tensors to a ``.safetensors`` file, atomically.

    Args:
        path: destination file.
        tensors: names mapped to tensors (made contiguous on the CPU; they must not share memory).
        metadata: optional string-to-string header entries.
    """
    ready = {name: t.detach().to("cpu").contiguous() for name, t in tensors.items()}
    data = save_safetensors_bytes(ready, metadata=dict(metadata) if metadata else None)
    write_bytes_atomically(path, data)


def read_json(path: Path) -> Any:
    """Read a JSON file, with errors that name the file.

    Args:
        path: the file.

    Returns:
        The parsed value.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if it is not valid UTF-8 JSON.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}); the file is corrupt") from error


def read_versioned_json(path: Path, format_name: str, version: int, what: str) -> dict[str, Any]:
    """Read a JSON object that names its format and version, and check both.

    Args:
        path: the file.
        format_name: the ``"format"`` it must hold, e.g. ``"mlm-book-model"``.
        version: the ``"version"`` this package reads.
        what: what the file is, for the error, e.g. ``"a model config"``.

    Returns:
        The parsed object.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if it is not valid JSON, names another format, or another version.
    """
    body = read_json(path)
    if not isinstance(body, dict) or body.get("format") != format_name:
        raise ValueError(f"{path} is not {what} written by mlm_book (no 'format': {format_name!r})")
    if body.get("version") != version:
        raise ValueError(f"{path} has format version {body.get('version')!r}; this mlm_book reads version {version}")
    return body
