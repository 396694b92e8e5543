"""A tiny seeded random number generator that gives the same numbers everywhere.

The corpus must be bit-for-bit identical on every machine, Python and numpy version, so it
does not use Python's ``random`` module or numpy's generators (whose algorithms may change).
It uses SplitMix64 (Steele, Lea and Flood, 2014), written with plain integer arithmetic:

    state <- state + 0x9E3779B97F4A7C15 (mod 2^64)
    z     <- mix(state), three xor-shift-multiply rounds

A number below ``n`` is ``(z * n) >> 64`` (Lemire's multiply-shift), which only needs exact
integer products, so Python computes it identically everywhere. Independent streams (one
per paragraph, one for probes) are derived from a seed and a label with SHA-256
(``utils.seeding.derive_seed``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


class SplitMix64:
    """SplitMix64 generator: fast, seedable with any integer, portable bit for bit.

    Args:
        seed: any Python integer; it is reduced modulo 2**64.
    """

    __slots__ = ("state",)

    def __init__(self, seed: int) -> None:
        self.state = seed & _MASK64

    def next_u64(self) -> int:
        """Return the next 64-bit unsigned integer of the stream."""
        self.state = (self.state + _GOLDEN) & _MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        """Return an integer in ``[0, n)``; ``n`` must be positive."""
        return (self.next_u64() * n) >> 64

    def between(self, low: int, high: int) -> int:
        """Return an integer in ``[low, high]``, both ends included."""
        return low + self.below(high - low + 1)

    def chance(self, p: float) -> bool:
        """Return True with probability ``p`` (compared on a 2**-53 grid, exactly)."""
        self.state = z = (self.state + _GOLDEN) & _MASK64  # next_u64, inlined
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return ((z ^ (z >> 31)) >> 11) < int(p * (1 << 53))

    def choice(self, items: Sequence[T]) -> T:
        """Return one element of a non-empty sequence, uniformly."""
        # next_u64, inlined: this is the generator's hottest call
        self.state = z = (self.state + _GOLDEN) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return items[((z ^ (z >> 31)) * len(items)) >> 64]

    def weighted(self, items: Sequence[T], cumulative: Sequence[int]) -> T:
        """Return one of ``items`` with probability proportional to integer weights.

        Args:
            items: the candidates.
            cumulative: running sums of their positive integer weights (same length).
        """
        return items[bisect_right(cumulative, self.below(cumulative[-1]))]

    def pick_other(self, items: Sequence[T], avoid: T) -> T:
        """Return an element of ``items`` different from ``avoid`` (needs two distinct items)."""
        while True:
            item = items[(self.next_u64() * len(items)) >> 64]
            if item != avoid:
                return item

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        """Return ``k`` distinct positions' elements, in draw order, without changing ``items``."""
        pool = list(items)
        out = []
        for i in range(k):
            j = i + self.below(len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
            out.append(pool[i])
        return out

    def shuffled(self, items: Sequence[T]) -> list[T]:
        """Return a shuffled copy of ``items`` (Fisher-Yates); the input is not changed."""
        return self.sample(items, len(items))
