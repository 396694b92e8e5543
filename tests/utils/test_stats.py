"""Tests of mlm_book.utils.stats: the Wilson interval and Student's t interval."""

import math
import random

import pytest

from mlm_book.utils.stats import mean_interval, t_quantile_975, wilson_interval


def test_wilson_matches_published_values():
    # Newcombe (1998), Table I: 81 of 263 -> 0.2553 to 0.3662; 0 of 10 -> 0 to 0.2775
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775


def test_wilson_stays_in_the_unit_interval_and_covers_near_95_percent():
    rng = random.Random(0)
    p, n, hits, trials = 0.1, 50, 0, 4000
    for _ in range(trials):
        k = sum(rng.random() < p for _ in range(n))
        low, high = wilson_interval(k, n)
        assert 0.0 <= low <= k / n <= high <= 1.0
        hits += low <= p <= high
    assert 0.92 < hits / trials < 0.985  # Wilson coverage oscillates around 95% with n and p (Brown et al. 2001)


def test_wilson_rejects_impossible_counts():
    with pytest.raises(ValueError, match="need 0 <= successes <= n"):
        wilson_interval(11, 10)


def test_t_quantiles_and_their_large_sample_limit():
    assert t_quantile_975(1) == pytest.approx(12.7062)
    assert t_quantile_975(2) == pytest.approx(4.3027)
    assert t_quantile_975(31) == pytest.approx(2.0395, abs=2e-4)
    assert t_quantile_975(120) == pytest.approx(1.9799, abs=2e-4)
    assert t_quantile_975(10**6) == pytest.approx(1.96, abs=1e-3)


def test_mean_interval_of_three_seeds():
    interval = mean_interval([1.0, 2.0, 3.0])
    assert interval.mean == 2.0 and interval.n == 3
    assert interval.half_width == pytest.approx(4.3027 * 1.0 / math.sqrt(3))
    assert not interval.excludes_zero()  # three seeds cannot resolve a spread this large
    assert mean_interval([1.9, 2.0, 2.1]).excludes_zero()
    assert not mean_interval([-1.0, 0.5, 1.0]).excludes_zero()
    assert str(mean_interval([0.5])) == "+0.500 (n=1)" and math.isnan(mean_interval([0.5]).low)
    assert mean_interval([1.0, math.nan, 3.0]).n == 2
