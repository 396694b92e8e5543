"""Seeds for independent random streams, derived from one seed and a label.

A run has one seed; each of its random streams (the data order, the masking, the evaluation
masks, the dropout of each step) gets a seed of its own, derived from it by hashing, so the
streams never overlap and any one of them can be re-created alone.
"""

from __future__ import annotations

import hashlib


def derive_seed(seed: int, key: object) -> int:
    """A 63-bit seed from a base seed and a key, stable across runs and processes.

    Args:
        seed: the base seed.
        key: anything with a stable ``repr`` (an int, a bytes digest, a worker id).

    Returns:
        A non-negative integer below 2**63.
    """
    digest = hashlib.blake2b(f"{seed}:{key!r}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)
