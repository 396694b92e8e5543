"""What ``mlm-book train`` reports: a line per evaluation above the progress bar, and TensorBoard's events."""

import contextlib
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from tqdm.auto import tqdm

from mlm_book.cli import main
from mlm_book.cli.report import LOG_DIR, TensorBoardReport, TrainingReport, scores_line
from mlm_book.training.history import EvalRecord

SMALL = ["--paragraphs", "300", "--batch-size", "4", "--seq-len", "32"]
RECORD = EvalRecord(step=20, loss=2.5, accuracy=0.375, perplexity=12.1825, probes={"agreement": 0.75})


@pytest.fixture(scope="module")
def small_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "small.json"
    path.write_text(json.dumps({"eval_sequences": 8, "probes_per_category": 2}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reported_run(tmp_path_factory: pytest.TempPathFactory, small_config: Path) -> tuple[Path, str]:
    """A 3-step run in run_mlm.py's spellings with --report-to tensorboard, and what it printed."""
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("runs") / "run"
    flags = ["--output_dir", str(out), "--max_steps", "3", "--eval_steps", "2", "--logging_steps", "1"]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(
            ["train", *flags, "--config", str(small_config), *SMALL, "--no-progress", "--report_to", "tensorboard"]
        )
    assert status == 0
    return out, printed.getvalue()


def _scalars(log_dir: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(log_dir))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_scores_line() -> None:
    assert scores_line(RECORD) == (
        "step 20: validation loss 2.5000, accuracy 0.3750, perplexity 12.18; probes: agreement 0.75"
    )
    nan = float("nan")
    assert scores_line(EvalRecord(5, nan, nan, nan, {"facts": 0.5})) == "step 5: probes: facts 0.50"
    assert scores_line(EvalRecord(5, nan, nan, nan)) is None  # no validation batches, no probes: nothing to say


def test_each_evaluation_is_printed_as_it_happens(reported_run: tuple[Path, str]) -> None:
    out, printed = reported_run
    history = json.loads((out / "history.json").read_text(encoding="utf-8"))
    lines = [line for line in printed.splitlines() if line.startswith("step ")]
    assert [line.split(":")[0] for line in lines] == ["step 2", "step 3"]
    for line, record in zip(lines, history["eval"]):
        assert f"validation loss {record['loss']:.4f}, accuracy {record['accuracy']:.4f}" in line
        assert f"; probes: agreement {record['probes']['agreement']:.2f}" in line
    assert printed.splitlines()[-1].startswith("trained 3 steps")


def test_the_line_does_not_cut_the_progress_bar() -> None:
    screen = io.StringIO()
    bar = tqdm(total=3, file=screen, ncols=60, mininterval=0)
    bar.update(1)
    with contextlib.redirect_stdout(screen):
        TrainingReport(Path("unused"), "none").on_evaluate(RECORD)
    bar.update(1)
    bar.close()
    text = screen.getvalue()
    before, after = text.split("step 20: validation loss 2.5000")
    assert before.endswith("\r") and before.rstrip("\r").endswith(" ")  # the bar was wiped off the line first
    assert "1/3" in after.split("\n", 1)[1]  # ... and redrawn below it


def test_the_progress_bar_is_on_unless_no_progress(
    tmp_path: Path, small_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlm_book.training.loop

    class Called(Exception):
        pass

    seen: list[dict] = []

    def fake_train(*args: object, **kwargs: object) -> None:
        seen.append(kwargs)
        raise Called

    monkeypatch.setattr(mlm_book.training.loop, "train", fake_train)
    for extra in ([], ["--no-progress"]):
        with pytest.raises(Called):
            main(["train", "--out", str(tmp_path / "run"), "--config", str(small_config), *SMALL, *extra])
    assert [kwargs["progress"] for kwargs in seen] == [True, False]
    assert all(callable(kwargs["on_evaluate"]) and callable(kwargs["on_save"]) for kwargs in seen)


def test_tensorboard_has_the_eval_scores_of_each_evaluation(reported_run: tuple[Path, str]) -> None:
    out, _ = reported_run
    history = json.loads((out / "history.json").read_text(encoding="utf-8"))
    scalars = _scalars(out / LOG_DIR)
    for tag, key in (("eval/loss", "loss"), ("eval/accuracy", "accuracy"), ("eval/perplexity", "perplexity")):
        assert scalars[tag] == [(r["step"], pytest.approx(r[key], rel=1e-6)) for r in history["eval"]], tag
    assert [step for step, _ in scalars["eval/probe_agreement"]] == [2, 3]
    assert scalars["train/loss"] == [(r["step"], pytest.approx(r["loss"], rel=1e-6)) for r in history["train"]]
    assert [step for step, _ in scalars["train/learning_rate"]] == [1, 2, 3]


def test_a_resumed_run_continues_the_curves(
    reported_run: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    run = Path(shutil.copytree(reported_run[0], tmp_path / "run"))
    assert (
        main(["train", "--out", str(run), "--resume", "--steps", "4", "--no-progress", "--report-to", "tensorboard"])
        == 0
    )
    assert "step 4: validation loss" in capsys.readouterr().out
    scalars = _scalars(run / LOG_DIR)
    assert [step for step, _ in scalars["train/loss"]] == [1, 2, 3, 4]  # the steps before the resume once each
    assert [step for step, _ in scalars["eval/loss"]] == [2, 3, 4]


def test_nothing_is_written_into_a_directory_before_its_first_checkpoint(tmp_path: Path) -> None:
    report = TensorBoardReport(tmp_path, after_step=0)
    report.evaluated(RECORD)  # a new run's first evaluation comes before its first checkpoint
    report.close()
    assert list(tmp_path.iterdir()) == [], "the directory must stay empty, so the same command can start it again"


def test_a_missing_tensorboard_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_line_error: Callable[[], str]
) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # what an environment without it imports
    assert main(["train", "--out", str(tmp_path / "run"), *SMALL, "--report-to", "tensorboard"]) == 2
    assert "--report-to tensorboard needs the tensorboard package: pip install tensorboard" in one_line_error()
    assert not (tmp_path / "run").exists()
