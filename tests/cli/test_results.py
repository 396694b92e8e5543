"""``mlm-book evaluate`` writes ``eval_results.json`` as run_mlm.py does, and nowhere it may not."""

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from mlm_book.cli import main

SMALL = ["--paragraphs", "300", "--batch-size", "4", "--seq-len", "32", "--eval-every", "2", "--no-progress"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    config = tmp_path_factory.mktemp("config") / "small.json"
    config.write_text(json.dumps({"eval_sequences": 8, "probes_per_category": 2}), encoding="utf-8")
    out = tmp_path_factory.mktemp("runs") / "run"
    assert main(["train", "--out", str(out), "--steps", "3", "--config", str(config), *SMALL]) == 0
    return out


def test_evaluate_writes_eval_results_json(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["evaluate", str(run)]) == 0
    printed = capsys.readouterr().out
    results = json.loads((run / "eval_results.json").read_text(encoding="utf-8"))
    last = json.loads((run / "history.json").read_text(encoding="utf-8"))["eval"][-1]
    assert results["step"] == last["step"] == 3 and results["split"] == "validation"
    assert results["eval_loss"] == pytest.approx(last["loss"], abs=1e-9)
    assert results["eval_accuracy"] == pytest.approx(last["accuracy"], abs=1e-9)
    assert results["perplexity"] == pytest.approx(last["perplexity"], rel=1e-9)
    assert {f"eval_probe_{name}" for name in last["probes"]} <= results.keys()
    assert f"({results['eval_masked_tokens']} masked tokens)" in printed
    assert printed.strip().endswith(f"wrote {run / 'eval_results.json'}")
    assert not list(run.glob(".*.tmp")), "written through a temporary file, which is gone"


def test_the_test_split_goes_to_test_results_json(run: Path) -> None:
    assert main(["evaluate", str(run), "--split", "test"]) == 0
    results = json.loads((run / "test_results.json").read_text(encoding="utf-8"))
    assert results["split"] == "test" and {"test_loss", "test_accuracy", "perplexity"} <= results.keys()
    assert not any(key.startswith("eval_") for key in results)


def test_output_writes_elsewhere_and_replaces_only_results(run: Path, tmp_path: Path) -> None:
    output = tmp_path / "scores_results.json"
    assert main(["evaluate", str(run), "--output", str(output)]) == 0
    assert json.loads(output.read_text(encoding="utf-8"))["step"] == 3
    assert main(["evaluate", str(run), "--output", str(output)]) == 0  # a results file is replaced


def test_bad_outputs_are_one_line(run: Path, tmp_path: Path, one_line_error: Callable[[], str]) -> None:
    notes = tmp_path / "notes.json"
    notes.write_text("mine", encoding="utf-8")
    history = (run / "history.json").read_bytes()
    cases = [
        (tmp_path, "is a directory; give a file name such as"),
        (tmp_path / "no" / "r.json", "does not exist; create it first"),
        (notes, "exists and is not a *results.json file; choose a new file name"),
        (run / "history.json", "exists and is not a *results.json file"),
    ]
    for output, message in cases:
        assert main(["evaluate", str(run), "--output", str(output)]) == 2, output
        assert message in one_line_error()
    assert notes.read_text(encoding="utf-8") == "mine" and (run / "history.json").read_bytes() == history


def test_a_read_only_run_needs_output(run: Path, monkeypatch: pytest.MonkeyPatch, one_line_error: Callable) -> None:
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == run else real_access(path, mode))
    assert main(["evaluate", str(run)]) == 2
    assert "(read-only); pass --output FILE to write the scores elsewhere" in one_line_error()
