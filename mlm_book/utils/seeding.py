"""Seeds for independent random streams, derived from one seed and a label.

A run has one seed; each of its random streams (the corpus's paragraphs, the data order, the
masking, the evaluation masks, the dropout of each step) gets a seed of its own, derived from
it and a label by hashing:

the first 8 bytes of the SHA-256 digest of the text ``"s:l1:...:lk"`` (seed and labels joined
by colons), read as a little-endian 64-bit number. The streams never overlap, any one of them can be
re-created alone, and the result is the same on every machine and Python version.
"""

from __future__ import annotations

import hashlib


def derive_seed(seed: int, *labels: object) -> int:
    """Derive a 64-bit seed for an independent stream from a seed and labels.

    Args:
        seed: the user's seed (any integer).
        *labels: names or numbers of the stream, e.g. ``("paragraph", 17)`` or ``("dropout", 0, 5)``.

    Returns:
        A seed in ``[0, 2**64)`` that changes completely when any argument changes.
    """
    key = ":".join([str(seed), *(str(label) for label in labels)]).encode("utf-8")
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little")
