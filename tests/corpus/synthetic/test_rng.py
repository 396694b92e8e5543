"""Tests of the portable SplitMix64 generator."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from mlm_book.corpus.synthetic.rng import SplitMix64

# First outputs of SplitMix64 seeded with 0 (the reference C implementation by Vigna).
REFERENCE_SEED0 = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_matches_reference_splitmix64():
    rng = SplitMix64(0)
    assert [rng.next_u64() for _ in range(3)] == REFERENCE_SEED0


def test_seed_is_reduced_modulo_2_to_64():
    a, b = SplitMix64(5), SplitMix64(5 + 2**64)
    assert [a.next_u64() for _ in range(4)] == [b.next_u64() for _ in range(4)]


@given(seed=st.integers(min_value=0, max_value=2**64 - 1), n=st.integers(min_value=1, max_value=10**12))
def test_below_and_between_stay_in_range(seed, n):
    rng = SplitMix64(seed)
    for _ in range(20):
        assert 0 <= rng.below(n) < n
        assert -3 <= rng.between(-3, 4) <= 4


def test_below_is_close_to_uniform():
    rng = SplitMix64(1)
    counts = Counter(rng.below(7) for _ in range(70_000))
    # 10,000 expected per value; binomial sd ~ 93, so 5 sd is 465
    assert set(counts) == set(range(7))
    assert all(abs(c - 10_000) < 465 for c in counts.values()), counts


def test_chance_frequency():
    rng = SplitMix64(2)
    hits = sum(rng.chance(0.3) for _ in range(50_000))
    assert abs(hits / 50_000 - 0.3) < 0.01  # sd ~ 0.002
    assert not any(rng.chance(0.0) for _ in range(100))
    assert all(rng.chance(1.0) for _ in range(100))


def test_weighted_follows_weights():
    rng = SplitMix64(3)
    counts = Counter(rng.weighted("abc", (1, 3, 6)) for _ in range(60_000))  # weights 1, 2, 3
    assert abs(counts["a"] / 60_000 - 1 / 6) < 0.01
    assert abs(counts["c"] / 60_000 - 1 / 2) < 0.01


def test_sample_and_shuffled_do_not_mutate_and_are_permutations():
    rng = SplitMix64(4)
    items = list(range(10))
    shuffled = rng.shuffled(items)
    assert items == list(range(10)) and sorted(shuffled) == items and shuffled != items
    picked = rng.sample(items, 4)
    assert len(set(picked)) == 4 and set(picked) <= set(items)


def test_choice_and_pick_other():
    rng = SplitMix64(5)
    assert {rng.choice("xyz") for _ in range(200)} == set("xyz")
    assert all(rng.pick_other("ab", "a") == "b" for _ in range(50))
