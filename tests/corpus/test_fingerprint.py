"""Corpus fingerprints: the same corpus gives the same fingerprint; any edit is named."""

from __future__ import annotations

import json

import datasets

from mlm_book.corpus.fingerprint import corpus_fingerprint, fingerprint_change
from mlm_book.corpus.loading import load_corpus

datasets.disable_progress_bars()


def _fingerprint(source: str, **kwargs) -> dict:
    return corpus_fingerprint(source, load_corpus(source, **kwargs))


def test_the_same_corpus_gives_the_same_json_fingerprint(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("".join(f"line number {i}\n" for i in range(30)), encoding="utf-8")
    first, second = _fingerprint(str(path)), _fingerprint(str(path))
    assert first == second and fingerprint_change(first, second) is None
    assert json.loads(json.dumps(first)) == first
    assert first["files"][0]["bytes"] == path.stat().st_size
    assert sum(split["rows"] for split in first["splits"].values()) == 30


def test_every_kind_of_change_is_named(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    first = data / "a.txt"
    first.write_text("".join(f"line number {i}\n" for i in range(30)), encoding="utf-8")
    saved = _fingerprint(str(data))
    first.write_text("".join(f"line number {i}\n" for i in range(31)), encoding="utf-8")
    assert (
        fingerprint_change(saved, _fingerprint(str(data)))
        == f"{first} was {saved['files'][0]['bytes']} bytes, now {first.stat().st_size}"
    )
    first.write_text("".join(f"line NUMBER {i}\n" for i in range(30)), encoding="utf-8")
    assert fingerprint_change(saved, _fingerprint(str(data))) == f"{first} has the same size but other content"
    first.write_text("".join(f"line number {i}\n" for i in range(30)), encoding="utf-8")
    (data / "b.txt").write_text("one more line\n", encoding="utf-8")
    assert fingerprint_change(saved, _fingerprint(str(data))) == f"{data / 'b.txt'} is new"
    assert fingerprint_change(_fingerprint(str(data)), saved) == f"{data / 'b.txt'} was read then but is gone now"


def test_builtin_text_is_fingerprinted_by_its_splits():
    small, same, other = (_fingerprint("builtin", n_paragraphs=n) for n in (40, 40, 41))
    assert small["files"] == [] and fingerprint_change(small, same) is None
    assert fingerprint_change(small, other).startswith("the ")
    edited = json.loads(json.dumps(small))
    edited["splits"]["validation"]["sha256"] = "0" * 64
    assert fingerprint_change(small, edited) == "the text of the validation split differs"
