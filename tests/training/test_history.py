"""Training history: records, series for plots, JSON round trip, truncation on resume."""

import math
from pathlib import Path

import pytest

from mlm_book.training.history import EvalRecord, History, TrainRecord


def _history() -> History:
    return History(
        train=[TrainRecord(s, 5.0 - s, 0.1 * s, 1e-3, 100 * s, 50.0) for s in (1, 2, 3)],
        eval=[
            EvalRecord(2, 4.0, 0.2, math.exp(4.0), {"agreement": 0.5}),
            EvalRecord(3, 3.5, 0.3, math.exp(3.5), {"agreement": 0.75, "facts": 0.25}),
        ],
    )


def test_series() -> None:
    history = _history()
    assert history.series("train_loss") == ([1, 2, 3], [4.0, 3.0, 2.0])
    assert history.series("lr") == ([1, 2, 3], [1e-3] * 3)
    assert history.series("eval_perplexity")[1] == pytest.approx([math.exp(4.0), math.exp(3.5)])
    assert history.series("probe:facts") == ([3], [0.25])
    for bad in ("loss", "train_colour"):
        with pytest.raises(ValueError, match=f"unknown or empty history series '{bad}'"):
            history.series(bad)
    with pytest.raises(ValueError, match="unknown or empty history series 'eval_loss'"):
        History().series("eval_loss")


def test_round_trip_and_truncation(tmp_path: Path) -> None:
    history = _history()
    history.save(tmp_path / "h.json")
    assert History.load(tmp_path / "h.json") == history
    cut = history.truncated(2)
    assert [r.step for r in cut.train] == [1, 2] and [r.step for r in cut.eval] == [2]
    (tmp_path / "bad.json").write_text('{"train": [{"step": 1}]}')
    with pytest.raises(ValueError, match="bad.json is not a training history"):
        History.load(tmp_path / "bad.json")
