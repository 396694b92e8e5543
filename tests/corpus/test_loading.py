"""Tests of load_corpus: builtin, local .txt/.jsonl/.parquet/globs, the Hub path, bad input."""

from __future__ import annotations

import http.server
import json
import threading

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlm_book.corpus import loading
from mlm_book.corpus.files import resolve_files
from mlm_book.corpus.loading import SPLITS, HubUnavailableError, load_corpus
from mlm_book.corpus.synthetic.generate import generate_paragraphs

datasets.disable_progress_bars()


def texts(dataset) -> list[str]:
    return [row["text"] for row in dataset]


def assert_partition(corpus, expected: list[str]) -> None:
    """The three splits are disjoint and together hold exactly the expected texts."""
    assert list(corpus) == list(SPLITS)
    parts = [texts(corpus[name]) for name in SPLITS]
    assert sorted(sum(parts, [])) == sorted(expected)
    assert all(set(a).isdisjoint(b) for i, a in enumerate(parts) for b in parts[i + 1 :])


def write_lines(path, lines) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


DOCS = [f"document number {i} with some words" for i in range(41)]


# -- builtin ---------------------------------------------------------------------------------
def test_builtin_is_the_generator_split_without_overlap():
    corpus = load_corpus("builtin", n_paragraphs=301, seed=3)
    assert_partition(corpus, generate_paragraphs(301, seed=3))
    assert [len(corpus[s]) for s in SPLITS] == [271, 15, 15]
    assert corpus["train"].column_names == ["text"]


def test_builtin_is_deterministic_and_seeded():
    a = load_corpus("builtin", n_paragraphs=50, seed=1)
    assert texts(a["test"]) == texts(load_corpus("builtin", n_paragraphs=50, seed=1)["test"])
    assert texts(a["train"]) != texts(load_corpus("builtin", n_paragraphs=50, seed=2)["train"])


def test_builtin_fractions():
    corpus = load_corpus("builtin", n_paragraphs=40, validation_fraction=0.25, test_fraction=0.0)
    assert [len(corpus[s]) for s in SPLITS] == [30, 10, 0]


def test_builtin_streaming_partitions_the_same_paragraphs():
    corpus = load_corpus("builtin", n_paragraphs=60, seed=2, streaming=True)
    assert isinstance(corpus, datasets.IterableDatasetDict)
    assert_partition(corpus, generate_paragraphs(60, seed=2))
    assert texts(corpus["validation"]) == texts(
        load_corpus("builtin", n_paragraphs=60, seed=2, streaming=True)["validation"]
    )


# -- local files -----------------------------------------------------------------------------
def test_txt_one_document_per_non_empty_line(tmp_path):
    path = write_lines(tmp_path / "corpus.txt", DOCS[:20] + ["", "   "] + DOCS[20:])
    corpus = load_corpus(path, seed=0)
    assert_partition(corpus, DOCS)
    assert [len(corpus[s]) for s in SPLITS] == [37, 2, 2]


def test_local_split_depends_on_seed_only(tmp_path):
    path = write_lines(tmp_path / "corpus.txt", DOCS)
    assert texts(load_corpus(path, seed=4)["test"]) == texts(load_corpus(path, seed=4)["test"])
    assert texts(load_corpus(path, seed=4)["test"]) != texts(load_corpus(path, seed=5)["test"])


def test_jsonl_with_named_text_column(tmp_path):
    path = tmp_path / "docs.jsonl"
    rows = [{"id": i, "body": doc} for i, doc in enumerate(DOCS)] + [{"id": 99, "body": None}]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with pytest.warns(UserWarning, match=r"dropped 1 of 42 rows whose 'body' is not a string \(e.g. None\)"):
        corpus = load_corpus(str(path), text_column="body")
    assert_partition(corpus, DOCS)
    assert corpus["train"].column_names == ["text"]


def test_parquet(tmp_path):
    path = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"text": DOCS, "n": list(range(len(DOCS)))}), path)
    assert_partition(load_corpus(str(path)), DOCS)


def test_glob_and_directory_read_every_file(tmp_path):
    write_lines(tmp_path / "part1.txt", DOCS[:10])
    write_lines(tmp_path / "part2.txt", DOCS[10:])
    assert_partition(load_corpus(str(tmp_path / "part*.txt")), DOCS)
    assert_partition(load_corpus(str(tmp_path)), DOCS)


def test_files_named_by_split_keep_their_split(tmp_path):
    write_lines(tmp_path / "train.txt", DOCS[:30])
    write_lines(tmp_path / "valid.txt", DOCS[30:35])
    write_lines(tmp_path / "test.txt", DOCS[35:])
    corpus = load_corpus(str(tmp_path / "*.txt"))
    assert texts(corpus["train"]) == DOCS[:30]
    assert texts(corpus["validation"]) == DOCS[30:35] and texts(corpus["test"]) == DOCS[35:]


def test_missing_named_split_is_carved_from_train(tmp_path):
    write_lines(tmp_path / "train.txt", DOCS[:30])
    write_lines(tmp_path / "test.txt", DOCS[30:])
    corpus = load_corpus(str(tmp_path / "*.txt"), validation_fraction=0.1)
    assert texts(corpus["test"]) == DOCS[30:] and len(corpus["validation"]) == 3
    assert sorted(texts(corpus["train"]) + texts(corpus["validation"])) == sorted(DOCS[:30])


def test_local_streaming(tmp_path):
    path = write_lines(tmp_path / "corpus.txt", DOCS)
    corpus = load_corpus(path, streaming=True, validation_fraction=0.2, test_fraction=0.2)
    assert isinstance(corpus, datasets.IterableDatasetDict)
    assert_partition(corpus, DOCS)


def test_unicode_text_is_kept(tmp_path):
    lines = ["Zoë’s café — naïve 東京 🙂", "second"]
    path = write_lines(tmp_path / "u.txt", lines)
    corpus = load_corpus(path, validation_fraction=0.0, test_fraction=0.0)
    assert texts(corpus["train"]) == lines


# -- the Hub ----------------------------------------------------------------------------------
def test_hub_fails_at_once_when_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        HubUnavailableError,
        match=r"^The Hugging Face Hub cannot be reached from here "
        r"\(HF_HUB_OFFLINE is set\); use source='builtin' or local files \(.txt, .jsonl, .parquet\) instead\.$",
    ):
        load_corpus("hub:roneneldan/TinyStories")


@pytest.fixture
def hub_online(monkeypatch):
    """The Hub as if online: no offline variables, huggingface_hub's own offline flag off."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return constants


def test_hub_offline_mode_of_huggingface_hub_is_honoured(hub_online, monkeypatch):
    monkeypatch.setattr(hub_online, "HF_HUB_OFFLINE", True)  # read by huggingface_hub when it was imported
    with pytest.raises(HubUnavailableError, match=r"\(huggingface_hub is in offline mode\); use source='builtin'"):
        load_corpus("hub:roneneldan/TinyStories")


def test_hub_fails_at_once_without_connection(hub_online, monkeypatch):
    """The check goes through huggingface_hub's own HTTP client (its endpoint, proxies, token)."""
    monkeypatch.setattr(hub_online, "ENDPOINT", "http://127.0.0.1:1")  # nothing listens on port 1
    with pytest.raises(HubUnavailableError, match=r"\(ConnectError: .*\); use source='builtin'"):
        load_corpus("hub:wikitext:wikitext-103-raw-v1")
    assert issubclass(HubUnavailableError, ConnectionError) and issubclass(HubUnavailableError, ValueError)


class _HubAnswer(http.server.BaseHTTPRequestHandler):
    """A stand-in Hub that answers every request with ``status`` and huggingface_hub's error code."""

    status, code = 404, "RepoNotFound"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("X-Error-Code", self.code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (404, "RepoNotFound", r"^the Hub has no dataset 'someone/nothing' \(or it is private\); check the name$"),
        (403, "GatedRepo", r"^the Hub dataset 'someone/nothing' is gated; accept its terms .*log in"),
        (503, "", r"cannot be reached from here \(HfHubHTTPError: .*503.*\); use source='builtin'"),
    ],
)
def test_hub_errors_are_one_line(hub_online, monkeypatch, status, code, message):
    handler = type("Answer", (_HubAnswer,), {"status": status, "code": code})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr(hub_online, "ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(ValueError, match=message):
            load_corpus("hub:someone/nothing")
    finally:
        server.shutdown()


def test_hub_loads_with_datasets_and_completes_splits(monkeypatch):
    """With the network faked, hub: calls load_dataset(name, config) and normalises the splits."""
    monkeypatch.setattr(loading, "_hub_offline_reason", lambda: None)
    monkeypatch.setattr(loading, "_check_hub_dataset", lambda name: None)
    calls = []

    def fake_load_dataset(name, config, streaming):
        calls.append((name, config, streaming))
        return datasets.DatasetDict(
            {
                "train": datasets.Dataset.from_dict({"story": DOCS[:30]}),
                "valid": datasets.Dataset.from_dict({"story": DOCS[30:]}),
            }
        )

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    corpus = load_corpus("hub:someone/stories:small", text_column="story", test_fraction=0.1)
    assert calls == [("someone/stories", "small", False)]
    assert texts(corpus["validation"]) == DOCS[30:] and len(corpus["test"]) == 3


def test_hub_connection_error_during_download_is_one_sentence(monkeypatch):
    monkeypatch.setattr(loading, "_hub_offline_reason", lambda: None)
    monkeypatch.setattr(loading, "_check_hub_dataset", lambda name: None)

    def broken(*args, **kwargs):
        raise ConnectionError("Max retries exceeded ...")

    monkeypatch.setattr(datasets, "load_dataset", broken)
    with pytest.raises(
        HubUnavailableError, match=r"\(ConnectionError: Max retries exceeded \.\.\.\); use source='builtin'"
    ):
        load_corpus("hub:wikitext")


# -- bad input ------------------------------------------------------------------------------
def test_missing_file_and_empty_glob(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"corpus file '.*nope.txt' does not exist; check the path"):
        load_corpus(str(tmp_path / "nope.txt"))
    with pytest.raises(FileNotFoundError, match=r"no files match '.*\*.jsonl'; check the pattern"):
        load_corpus(str(tmp_path / "*.jsonl"))
    with pytest.raises(FileNotFoundError, match=r"directory '.*' holds no .txt, .jsonl, .json or .parquet files"):
        load_corpus(str(tmp_path))


def test_empty_binary_and_non_utf8_files(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"corpus file '.*empty.txt' is empty"):
        load_corpus(str(tmp_path / "empty.txt"))
    (tmp_path / "blob.txt").write_bytes(b"abc\x00\x01\x02")
    with pytest.raises(ValueError, match=r"corpus file '.*blob.txt' looks binary \(it contains NUL bytes\)"):
        load_corpus(str(tmp_path / "blob.txt"))
    (tmp_path / "latin.txt").write_bytes("café au lait\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"corpus file '.*latin.txt' is not valid UTF-8 \(byte 3\); re-encode it"):
        load_corpus(str(tmp_path / "latin.txt"))
    (tmp_path / "fake.parquet").write_text("not parquet")
    with pytest.raises(ValueError, match=r"corpus file '.*fake.parquet' is not a Parquet file"):
        load_corpus(str(tmp_path / "fake.parquet"))


def test_blank_only_file_has_nothing_to_train_on(tmp_path):
    path = write_lines(tmp_path / "blank.txt", ["", "  ", ""])
    with pytest.raises(ValueError, match=r"has no non-empty text to train on"):
        load_corpus(path)


def test_too_few_rows_to_split(tmp_path):
    path = write_lines(tmp_path / "four.txt", ["one", "two", "three", "four"])
    with pytest.raises(ValueError, match=r"has only 4 rows, too few to split; lower the fractions or add data"):
        load_corpus(path, validation_fraction=0.49, test_fraction=0.49)


def test_unsupported_and_mixed_formats(tmp_path):
    (tmp_path / "a.csv").write_text("text\nhello\n")
    with pytest.raises(ValueError, match=r"unsupported file type '.csv' in .*; use .txt, .jsonl, .json or .parquet"):
        load_corpus(str(tmp_path / "a.csv"))
    write_lines(tmp_path / "b.txt", ["x"])
    (tmp_path / "c.jsonl").write_text('{"text": "y"}\n')
    with pytest.raises(ValueError, match=r"mixes file formats \['.jsonl', '.txt'\]; load one format at a time"):
        resolve_files(str(tmp_path / "[bc].*"))


def test_missing_text_column(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"body": "x"}\n{"body": "y"}\n{"body": "z"}\n')
    with pytest.raises(ValueError, match=r"has no column 'text'; its columns are \['body'\]: pass text_column="):
        load_corpus(str(path))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"source": ""}, r"source must be 'builtin', a path or glob, or 'hub:NAME', got ''"),
        ({"source": 3}, r"source must be .* got 3"),
        ({"n_paragraphs": 0}, r"n_paragraphs must be a whole number >= 1, got 0"),
        ({"seed": -1}, r"seed must be a whole number >= 0, got -1"),
        ({"validation_fraction": 1.5}, r"validation_fraction must be in \[0, 1\), got 1.5"),
        ({"test_fraction": "0.1"}, r"test_fraction must be a number, got '0.1'"),
        (
            {"validation_fraction": 0.5, "test_fraction": 0.5},
            r"must be below 1 to leave rows for training, got 0.5 \+ 0.5",
        ),
        ({"text_column": ""}, r"text_column must be a non-empty column name, got ''"),
        ({"source": "hub:"}, r"hub source needs a dataset name, e.g. 'hub:roneneldan/TinyStories', got 'hub:'"),
    ],
)
def test_bad_arguments(kwargs, message):
    kwargs = {"source": "builtin", "n_paragraphs": 10} | kwargs
    with pytest.raises(ValueError, match=message):
        load_corpus(**kwargs)


def test_rows_whose_text_is_not_a_string_are_counted(tmp_path):
    rows = [{"text": "a first document"}, {"text": 5}, {"text": None}, {"text": ["a", "list"]}, {"text": "a second"}]
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    with pytest.warns(UserWarning, match=r"dropped 3 of 5 rows whose 'text' is not a string \(e.g. 5\)"):
        corpus = load_corpus(str(path), validation_fraction=0.0, test_fraction=0.0)
    assert texts(corpus["train"]) == ["a first document", "a second"]
    assert corpus["train"].features["text"] == datasets.Value("string")


def test_a_malformed_json_line_is_one_sentence_naming_the_file(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"text": "fine"}\n{"text": "no end\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"cannot read '.*broken.jsonl' as json data \(.*\); fix or remove the"):
        load_corpus(str(path))
