"""Learning curves of training runs, for comparing conditions honestly across seeds.

A ``Curve`` holds a run's validation loss at each evaluation, against the optimizer steps, the
tokens trained on and the training seconds (the sum of the timed training steps, evaluation
excluded; machine-dependent). ``reach`` finds when a curve first gets down to a target loss,
interpolating linearly between evaluations, and ``spread`` summarises one number over seeds
by its mean, sample standard deviation and range.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from mlm_book.training.history import History


@dataclass(frozen=True)
class Curve:
    """The validation loss of one run at each evaluation.

    Attributes:
        steps: optimizer steps taken at each evaluation.
        tokens: tokens trained on by then.
        seconds: training seconds by then (evaluation excluded).
        loss: the validation loss.
    """

    steps: tuple[int, ...]
    tokens: tuple[int, ...]
    seconds: tuple[float, ...]
    loss: tuple[float, ...]


def curve_from_history(history: History) -> Curve:
    """Pair each evaluation with the tokens and training time of the training record at its step.

    Training seconds are rebuilt from the records: each record covers the tokens since the
    previous one at its ``tokens_per_second``.

    Args:
        history: a run's history; every evaluation step needs a training record (make
            ``eval_every`` a multiple of ``log_every``).

    Returns:
        The curve.
    """
    clock, tokens_before, at_step = 0.0, 0, {}
    for record in history.train:
        new_tokens = record.tokens_seen - tokens_before
        clock += new_tokens / record.tokens_per_second if record.tokens_per_second > 0 else 0.0
        tokens_before = record.tokens_seen
        at_step[record.step] = (record.tokens_seen, clock)
    missing = [r.step for r in history.eval if r.step not in at_step]
    if missing:
        raise ValueError(
            f"evaluations at steps {missing} have no training record; make eval_every a multiple of log_every"
        )
    evals = history.eval
    return Curve(
        steps=tuple(r.step for r in evals),
        tokens=tuple(at_step[r.step][0] for r in evals),
        seconds=tuple(at_step[r.step][1] for r in evals),
        loss=tuple(r.loss for r in evals),
    )


def reach(x: Sequence[float], loss: Sequence[float], target: float) -> float:
    """The first ``x`` (tokens, seconds, steps) at which ``loss`` gets down to ``target``.

    Between the last evaluation above the target and the first at or below it, ``x`` is
    interpolated linearly. Returns ``nan`` if the loss never gets there.

    Args:
        x: increasing positions of the evaluations.
        loss: the loss at each of them.
        target: the loss to reach.

    Returns:
        The interpolated position, or ``nan``.
    """
    if len(x) != len(loss):
        raise ValueError(f"x has {len(x)} values but loss has {len(loss)}; give one loss per position")
    for i, value in enumerate(loss):
        if value <= target:
            if i == 0:
                return float(x[0])
            above = loss[i - 1]
            share = (above - target) / (above - value)
            return float(x[i - 1] + share * (x[i] - x[i - 1]))
    return math.nan


@dataclass(frozen=True)
class Spread:
    """One number measured over several seeds.

    Attributes:
        mean: the mean.
        std: the sample standard deviation (0 for one value).
        low: the smallest value.
        high: the largest value.
        n: the number of values (``nan`` values, e.g. a target never reached, are dropped).
    """

    mean: float
    std: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.std:.3f} (n={self.n})"


def spread(values: Sequence[float]) -> Spread:
    """Mean, sample standard deviation and range of ``values``, ignoring ``nan``.

    Args:
        values: one number per seed.

    Returns:
        The summary (all ``nan`` and ``n=0`` when no value is a number).
    """
    kept = [float(v) for v in values if not math.isnan(v)]
    if not kept:
        return Spread(math.nan, math.nan, math.nan, math.nan, 0)
    std = statistics.stdev(kept) if len(kept) > 1 else 0.0
    return Spread(statistics.fmean(kept), std, min(kept), max(kept), len(kept))


def mean_curve(curves: Sequence[Curve]) -> Curve:
    """The average of runs evaluated at the same steps (e.g. one condition over seeds).

    Args:
        curves: curves with equal ``steps``.

    Returns:
        A curve whose tokens, seconds and losses are the means over ``curves``.
    """
    if not curves or any(c.steps != curves[0].steps for c in curves):
        raise ValueError("mean_curve needs at least one curve, all evaluated at the same steps")
    columns = [(c.tokens, c.seconds, c.loss) for c in curves]
    tokens, seconds, loss = (
        tuple(statistics.fmean(values) for values in zip(*[column[k] for column in columns])) for k in range(3)
    )
    return Curve(steps=curves[0].steps, tokens=tuple(round(t) for t in tokens), seconds=seconds, loss=loss)
