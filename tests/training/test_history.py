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


def test_training_clock_times_each_stretch_at_its_own_speed() -> None:
    history = History(
        train=[
            TrainRecord(10, 5.0, 0.1, 1e-3, 1000, 500.0),  # 1,000 tokens at 500/s: 2 s
            TrainRecord(20, 4.0, 0.2, 1e-3, 3000, 1000.0),  # 2,000 more at 1,000/s: 2 s
            TrainRecord(30, 3.0, 0.3, 1e-3, 4000, 0.0),  # no throughput recorded: no time
        ]
    )
    assert history.training_clock() == {10: (1000, 2.0), 20: (3000, 4.0), 30: (4000, 4.0)}
    assert history.training_seconds() == 4.0
    assert History().training_seconds() == 0.0


def test_round_trip_and_truncation(tmp_path: Path) -> None:
    history = _history()
    history.save(tmp_path / "h.json")
    assert History.load(tmp_path / "h.json") == history
    cut = history.truncated(2)
    assert [r.step for r in cut.train] == [1, 2] and [r.step for r in cut.eval] == [2]
    (tmp_path / "bad.json").write_text('{"train": [{"step": 1}]}')
    with pytest.raises(ValueError, match="bad.json is not a training history"):
        History.load(tmp_path / "bad.json")
