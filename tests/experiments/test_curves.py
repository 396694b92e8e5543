"""Learning curves: pairing evaluations with tokens and time, reaching a target, spread over seeds."""

import math

import pytest

from mlm_book.experiments.curves import Curve, curve_from_history, mean_curve, reach, spread
from mlm_book.training.history import EvalRecord, History, TrainRecord


def _history() -> History:
    train = [
        TrainRecord(step=2, loss=5.0, accuracy=0.1, lr=1e-3, tokens_seen=200, tokens_per_second=100.0),
        TrainRecord(step=4, loss=4.0, accuracy=0.2, lr=1e-3, tokens_seen=400, tokens_per_second=50.0),
        TrainRecord(step=6, loss=3.0, accuracy=0.3, lr=1e-3, tokens_seen=700, tokens_per_second=150.0),
    ]
    evals = [EvalRecord(4, 4.5, 0.2, math.exp(4.5)), EvalRecord(6, 3.5, 0.3, math.exp(3.5))]
    return History(train=train, eval=evals)


def test_curve_pairs_each_evaluation_with_tokens_and_training_seconds() -> None:
    curve = curve_from_history(_history())
    assert curve.steps == (4, 6) and curve.tokens == (400, 700) and curve.loss == (4.5, 3.5)
    assert curve.seconds == pytest.approx((2.0 + 4.0, 2.0 + 4.0 + 2.0))  # 200/100 + 200/50, then + 300/150


def test_curve_needs_a_training_record_at_every_evaluation() -> None:
    history = _history()
    history.eval.append(EvalRecord(5, 3.9, 0.3, math.exp(3.9)))
    with pytest.raises(ValueError, match=r"evaluations at steps \[5\] have no training record; make eval_every"):
        curve_from_history(history)


def test_reach_interpolates_between_evaluations() -> None:
    x, loss = [10, 20, 30, 40], [6.0, 5.0, 3.0, 2.5]
    assert reach(x, loss, 4.0) == pytest.approx(25.0)  # halfway from 5.0 down to 3.0
    assert reach(x, loss, 3.0) == pytest.approx(30.0)
    assert reach(x, loss, 7.0) == 10.0  # already there at the first evaluation
    assert math.isnan(reach(x, loss, 2.0))  # never
    with pytest.raises(ValueError, match=r"x has 4 values but loss has 3; give one loss per position"):
        reach(x, loss[:3], 4.0)


def test_spread_gives_mean_sample_std_and_range_without_nan() -> None:
    summary = spread([2.0, 4.0, float("nan"), 6.0])
    assert (summary.mean, summary.low, summary.high, summary.n) == (4.0, 2.0, 6.0, 3)
    assert summary.std == pytest.approx(2.0)  # sample standard deviation (n - 1)
    assert str(summary) == "4.000 ± 2.000 (n=3)"
    assert spread([1.5]).std == 0.0
    empty = spread([float("nan")])
    assert empty.n == 0 and math.isnan(empty.mean)


def test_mean_curve_averages_runs_at_the_same_steps() -> None:
    a = Curve(steps=(1, 2), tokens=(10, 20), seconds=(1.0, 2.0), loss=(5.0, 4.0))
    b = Curve(steps=(1, 2), tokens=(10, 21), seconds=(3.0, 4.0), loss=(6.0, 3.0))
    mean = mean_curve([a, b])
    assert mean.steps == (1, 2) and mean.tokens == (10, 20)  # 20.5 rounds to the even 20
    assert mean.seconds == (2.0, 3.0) and mean.loss == (5.5, 3.5)
    with pytest.raises(ValueError, match=r"mean_curve needs at least one curve, all evaluated at the same steps"):
        mean_curve([a, Curve((1,), (10,), (1.0,), (5.0,))])
    with pytest.raises(ValueError, match=r"mean_curve needs at least one curve"):
        mean_curve([])
