"""A corpus's fingerprint: what a run was trained on, so that a resumed run can check it is the same.

The fingerprint of a loaded corpus records its source, the local files read (path, size and
SHA-256 of the bytes) and, for every split, the number of rows and the SHA-256 of their text
in order. A file edited, added or removed between a run and its ``--resume`` changes it, and so
does anything that changes the splits (the text of the built-in corpus included), so a resumed
run never trains, unawares, on other data or scores another validation split.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import datasets

from mlm_book.corpus.files import resolve_files

FORMAT = "mlm-book-corpus-fingerprint"
VERSION = 1
_BLOCK = 1 << 20


def _file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _split_digest(split: datasets.Dataset) -> str:
    digest = hashlib.sha256()
    for batch in split.iter(batch_size=10_000):
        for text in batch["text"]:
            digest.update(text.encode("utf-8"))
            digest.update(b"\0")
    return digest.hexdigest()


def corpus_fingerprint(source: str, dataset: datasets.DatasetDict) -> dict[str, Any]:
    """The fingerprint of a corpus loaded from ``source``, as a JSON-ready dict.

    Args:
        source: what ``load_corpus`` was given (``"builtin"``, a path or glob, ``"hub:NAME"``).
        dataset: what it returned (splits with a ``text`` column).

    Returns:
        ``format``, ``version``, ``source``, ``files`` (path, bytes and sha256 of each local
        file, sorted; empty for other sources) and ``splits`` (rows and sha256 per split).
    """
    files = []
    if source != "builtin" and not source.startswith("hub:"):
        paths = sorted(p for group in resolve_files(source).data_files.values() for p in group)
        files = [{"path": os.path.abspath(p), "bytes": os.path.getsize(p), "sha256": _file_digest(p)} for p in paths]
    splits = {name: {"rows": len(split), "sha256": _split_digest(split)} for name, split in sorted(dataset.items())}
    return {"format": FORMAT, "version": VERSION, "source": source, "files": files, "splits": splits}


def fingerprint_change(saved: dict[str, Any], current: dict[str, Any]) -> str | None:
    """Say how the corpus changed between two fingerprints, or ``None`` if it did not.

    Args:
        saved: the fingerprint recorded when the run started.
        current: the fingerprint of the corpus now.

    Returns:
        A short phrase naming the first difference (a file's size or content, a file added or
        removed, a split's rows or text), or ``None``.
    """
    before = {f["path"]: f for f in saved.get("files", [])}
    now = {f["path"]: f for f in current.get("files", [])}
    for path in sorted(before.keys() | now.keys()):
        if path not in now:
            return f"{path} was read then but is gone now"
        if path not in before:
            return f"{path} is new"
        if before[path]["bytes"] != now[path]["bytes"]:
            return f"{path} was {before[path]['bytes']} bytes, now {now[path]['bytes']}"
        if before[path]["sha256"] != now[path]["sha256"]:
            return f"{path} has the same size but other content"
    for name in sorted(saved.get("splits", {}).keys() | current.get("splits", {}).keys()):
        old, new = saved.get("splits", {}).get(name), current.get("splits", {}).get(name)
        if old is None or new is None or old.get("rows") != new.get("rows"):
            return f"the {name} split had {old and old.get('rows')} rows, now {new and new.get('rows')}"
        if old.get("sha256") != new.get("sha256"):
            return f"the text of the {name} split differs"
    return None
