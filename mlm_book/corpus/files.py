"""Find and check the local files of a corpus before ``datasets`` reads them.

A source is a file, a directory (its supported files) or a glob (``data/*.jsonl``). All
files must share one format: ``.txt`` (read by the ``text`` builder, one row per line),
``.jsonl``/``.json`` (``json`` builder) or ``.parquet``. Each file is checked first, so a
mistake gets a clear message naming the file instead of a deep ``datasets`` traceback:
missing, empty, binary, or not UTF-8. Files whose names say ``train``, ``validation``
(``valid``, ``dev``) or ``test`` keep those splits.
"""

from __future__ import annotations

import codecs
import glob
import os
import re
from dataclasses import dataclass

BUILDERS = {".txt": "text", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}
_SPLIT_WORDS = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
    "testing": "test",
}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class CorpusFiles:
    """Checked local files, ready for ``datasets.load_dataset(builder, data_files=...)``.

    Attributes:
        builder: ``"text"``, ``"json"`` or ``"parquet"``.
        data_files: split name -> sorted file paths (one ``train`` split when the names
            carry no split).
    """

    builder: str
    data_files: dict[str, list[str]]


def resolve_files(source: str) -> CorpusFiles:
    """Expand a path, directory or glob into checked files of one supported format.

    Args:
        source: a file path, a directory, or a glob pattern (``**`` allowed).

    Returns:
        The :class:`CorpusFiles` to load.

    Raises:
        FileNotFoundError: if nothing exists at ``source`` or the glob matches no file.
        ValueError: for an unsupported or mixed format, or an empty, binary or non-UTF-8 file.
    """
    files = _expand(source)
    suffixes = sorted({_suffix(f) for f in files})
    unsupported = [s for s in suffixes if s not in BUILDERS]
    if unsupported:
        raise ValueError(
            f"unsupported file type {unsupported[0] or '(none)'!r} in {source!r}; "
            f"use .txt, .jsonl, .json or .parquet files"
        )
    builders = sorted({BUILDERS[s] for s in suffixes})
    if len(builders) > 1:
        raise ValueError(f"{source!r} mixes file formats {suffixes}; load one format at a time")
    for path in files:
        check_file(path)
    return CorpusFiles(builders[0], _by_split(files))


def _suffix(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def _expand(source: str) -> list[str]:
    if glob.has_magic(source):
        files = sorted(p for p in glob.glob(source, recursive=True) if os.path.isfile(p))
        if not files:
            raise FileNotFoundError(f"no files match {source!r}; check the pattern, or use source='builtin'")
        return files
    if os.path.isdir(source):
        files = sorted(
            os.path.join(source, name)
            for name in os.listdir(source)
            if _suffix(name) in BUILDERS and os.path.isfile(os.path.join(source, name))
        )
        if not files:
            raise FileNotFoundError(f"directory {source!r} holds no .txt, .jsonl, .json or .parquet files")
        return files
    if not os.path.exists(source):
        raise FileNotFoundError(f"corpus file {source!r} does not exist; check the path, or use source='builtin'")
    return [source]


def check_file(path: str) -> None:
    """Raise a clear ValueError if a corpus file is empty, binary or (for text) not UTF-8.

    Args:
        path: the file to check; Parquet files must start with the ``PAR1`` magic bytes.
    """
    if os.path.getsize(path) == 0:
        raise ValueError(f"corpus file {path!r} is empty; give it some text or remove it")
    with open(path, "rb") as handle:
        head = handle.read(_CHUNK)
        if _suffix(path) == ".parquet":
            if not head.startswith(b"PAR1"):
                raise ValueError(f"corpus file {path!r} is not a Parquet file (no PAR1 header)")
            return
        if b"\x00" in head:
            raise ValueError(f"corpus file {path!r} looks binary (it contains NUL bytes); give a text file")
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset, chunk = 0, head
        try:
            while chunk:
                decoder.decode(chunk)
                offset += len(chunk)
                chunk = handle.read(_CHUNK)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            raise ValueError(
                f"corpus file {path!r} is not valid UTF-8 (byte {offset + error.start}); re-encode it as UTF-8"
            ) from None


def _by_split(files: list[str]) -> dict[str, list[str]]:
    """Group files by the split their names carry; one ``train`` split if any has none."""
    groups: dict[str, list[str]] = {}
    for path in files:
        words = re.split(r"[^a-z]+", os.path.basename(path).lower())
        splits = {_SPLIT_WORDS[w] for w in words if w in _SPLIT_WORDS}
        if len(splits) != 1:
            return {"train": files}
        groups.setdefault(splits.pop(), []).append(path)
    return groups if "train" in groups else {"train": files}
