r"""Confidence intervals for the two kinds of number the book reports.

**A proportion** (a probe accuracy, $k$ right out of $n$): the Wilson score interval,

$$\frac{\hat p + \frac{z^2}{2n} \pm z\sqrt{\frac{\hat p(1-\hat p)}{n} + \frac{z^2}{4n^2}}}{1 + \frac{z^2}{n}},
\qquad \hat p = k / n,$$

which, unlike $\hat p \pm z\sqrt{\hat p(1-\hat p)/n}$, never leaves $[0, 1]$ and keeps its coverage
near 0 and 1 and for small $n$ (Wilson, 1927).

**A mean over a few seeds** (a paired difference between two conditions run with the same seeds):
Student's $t$ interval $\bar d \pm t_{0.975,\,n-1}\, s/\sqrt n$, with $s$ the sample standard
deviation of the $n$ per-seed differences. With 3 seeds $t_{0.975, 2} = 4.30$: the interval is wide,
which is the honest answer to "what can three seeds detect".
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054
"""The 97.5% quantile of the standard normal distribution."""

# Student's t quantiles t_{0.975, df} for df = 1 .. 30 (beyond, the expansion below is exact to 1e-4).
_T_975 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
)  # fmt: skip


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``successes / n``.

    Args:
        successes: the number of successes, ``0 <= successes <= n``.
        n: the number of trials, ``>= 1``.
        z: the normal quantile (1.96 for 95%).

    Returns:
        ``(low, high)`` within ``[0, 1]``.

    Raises:
        ValueError: for counts out of range.
    """
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got successes={successes}, n={n}")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends where rounding would miss them
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def t_quantile_975(df: int) -> float:
    """Student's ``t`` quantile at 0.975 for ``df`` degrees of freedom (two-sided 95%).

    Args:
        df: degrees of freedom, ``>= 1``.

    Returns:
        The quantile (12.71 for 1, 4.30 for 2, 1.96 in the limit).
    """
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df <= len(_T_975):
        return _T_975[df - 1]
    z = Z_95  # Cornish-Fisher expansion of the t quantile in powers of 1/df
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True)
class MeanInterval:
    """The mean of a few numbers with its 95% ``t`` interval.

    Attributes:
        mean: the sample mean.
        low: lower end of the 95% interval (``nan`` for a single value).
        high: upper end of the 95% interval (``nan`` for a single value).
        n: the number of values.
        values: the values themselves (e.g. one per seed).
    """

    mean: float
    low: float
    high: float
    n: int
    values: tuple[float, ...]

    @property
    def half_width(self) -> float:
        """Half the width of the interval: what the design can resolve."""
        return (self.high - self.low) / 2

    def excludes_zero(self) -> bool:
        """True if the whole interval lies on one side of 0."""
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.mean:+.3f} (n={self.n})"
        return f"{self.mean:+.3f} [{self.low:+.3f}, {self.high:+.3f}] (n={self.n})"


def mean_interval(values: Sequence[float]) -> MeanInterval:
    """The mean of ``values`` with Student's 95% interval (NaN values are dropped).

    Args:
        values: e.g. one paired difference per seed.

    Returns:
        The mean and its interval; with one value the interval is ``nan``.

    Raises:
        ValueError: if no value is a number.
    """
    kept = tuple(float(v) for v in values if not math.isnan(v))
    if not kept:
        raise ValueError("mean_interval needs at least one value that is a number")
    mean = statistics.fmean(kept)
    if len(kept) < 2:
        return MeanInterval(mean, math.nan, math.nan, 1, kept)
    half = t_quantile_975(len(kept) - 1) * statistics.stdev(kept) / math.sqrt(len(kept))
    return MeanInterval(mean, mean - half, mean + half, len(kept), kept)
