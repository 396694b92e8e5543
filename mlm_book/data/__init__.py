"""Token sequences and batches: tokenize a split, pack it into blocks, order and cut batches.

``KEEPS`` names what a shorter block keeps when a length curriculum cuts the full-length blocks
(``data.blocks``): the ``"tokens"`` of the step or its ``"batch"`` of sequences. It lives here,
free of torch, so that the curriculum's config can name it.
"""

from __future__ import annotations

from typing import Literal

Keep = Literal["tokens", "batch"]
KEEPS: tuple[str, ...] = ("tokens", "batch")
