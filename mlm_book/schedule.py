"""Learning-rate schedules: a linear warmup, then a linear or cosine decay.

Adam's first updates are noisy (its moment estimates rest on a handful of gradients), so the
learning rate climbs linearly from 0 during ``warmup`` steps, then decays to a floor
``final_ratio`` times the peak over the remaining steps. With progress
$p = (t - w) / (T - w) \\in [0, 1]$ after the warmup, the multiplier of the peak rate is

$$f(t) = \\begin{cases} t / w & t < w \\\\
r + (1 - r)(1 - p) & \\text{linear} \\\\
r + (1 - r)\\,\\tfrac12 (1 + \\cos \\pi p) & \\text{cosine} \\end{cases}$$

``Schedule`` is a frozen, callable record, so ``torch.optim.lr_scheduler.LambdaLR`` can use it
and its state stays plain numbers (saved as JSON in a checkpoint).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

DecayKind = Literal["linear", "cosine", "constant"]
DECAY_KINDS: tuple[str, ...] = ("linear", "cosine", "constant")


@dataclass(frozen=True)
class Schedule:
    """The multiplier of the peak learning rate at each optimizer step.

    Attributes:
        total_steps: optimizer steps of the whole run, >= 1.
        warmup_steps: steps of linear warmup, in ``[0, total_steps]``.
        decay: ``"linear"``, ``"cosine"`` or ``"constant"`` after the warmup.
        final_ratio: the multiplier reached at the last step, in ``[0, 1]``.
    """

    total_steps: int
    warmup_steps: int = 0
    decay: DecayKind = "linear"
    final_ratio: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.total_steps, bool) or not isinstance(self.total_steps, int) or self.total_steps < 1:
            raise ValueError(f"total_steps must be an integer >= 1, got {self.total_steps!r}")
        if not isinstance(self.warmup_steps, int) or not 0 <= self.warmup_steps <= self.total_steps:
            raise ValueError(
                f"warmup_steps must be an integer in [0, total_steps={self.total_steps}], "
                f"got {self.warmup_steps!r}; shorten the warmup or train for more steps"
            )
        if self.decay not in DECAY_KINDS:
            raise ValueError(f"decay must be one of {DECAY_KINDS}, got {self.decay!r}")
        if not 0.0 <= self.final_ratio <= 1.0:
            raise ValueError(f"final_ratio must be in [0, 1], got {self.final_ratio!r}")

    def __call__(self, step: int) -> float:
        """Return the multiplier for optimizer step ``step`` (0-based; the first update is step 0).

        Warmup uses ``(step + 1) / warmup_steps`` so that the first update is not wasted with a
        zero learning rate; the decay reaches ``final_ratio`` at the last step, ``total_steps - 1``.
        """
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        if self.decay == "constant":
            return 1.0
        span = self.total_steps - 1 - self.warmup_steps
        progress = min(1.0, (step - self.warmup_steps) / span) if span > 0 else 0.0
        if self.decay == "linear":
            shape = 1.0 - progress
        else:
            shape = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.final_ratio + (1.0 - self.final_ratio) * shape

    def values(self) -> list[float]:
        """Return the multiplier at every step ``0 .. total_steps - 1`` (for plots)."""
        return [self(step) for step in range(self.total_steps)]


def make_scheduler(optimizer: torch.optim.Optimizer, schedule: Schedule) -> torch.optim.lr_scheduler.LambdaLR:
    """Attach ``schedule`` to every parameter group of ``optimizer``.

    Each group's learning rate becomes ``initial_lr * schedule(step)``, where ``step`` counts the
    scheduler's ``step()`` calls; the optimizer's rates are set for step 0 at once.

    Args:
        optimizer: an optimizer whose groups hold their peak learning rate in ``"lr"``.
        schedule: the multiplier per step.

    Returns:
        A ``LambdaLR``; call its ``step()`` after each ``optimizer.step()``.
    """
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=schedule)
