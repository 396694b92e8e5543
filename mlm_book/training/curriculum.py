"""Curricula: the sequence length and the mask rate as pure functions of the optimizer step.

A *sequence-length curriculum* trains on short sequences first and lengthens them later
(BERT: 90% of the steps at 128 tokens, then 512; DeepSpeed's and Composer's sequence-length
warmup). With $T$ steps in all and the full length $L$, step $t$ trains at length

$$\\ell(t) = \\begin{cases} L & \\text{fixed} \\\\
\\ell_k \\text{ while } t < u_k T, \\text{ then } L & \\text{stepwise} \\\\
8 \\lfloor (\\ell_0 + (L - \\ell_0)\\, t / (wT)) / 8 \\rfloor \\text{ while } t < wT, \\text{ then } L
  & \\text{linear} \\end{cases}$$

(the linear one never below $\\ell_0$), and either keeps the *tokens* per step constant,
$B(t) = \\lfloor B L / \\ell(t) \\rfloor$ sequences (rounded down to a multiple of the
micro-batch count), or keeps the *batch* of $B$ sequences.
A *mask-rate schedule* moves the share of masked tokens linearly from ``start`` to ``end``.

Both are frozen, JSON-serialisable records and depend on nothing but the step, so a resumed
run recomputes exactly the length, batch and mask rate its step had.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from mlm_book.data import Keep
from mlm_book.masking.config import check_probabilities
from mlm_book.utils.config import FrozenConfig, check_whole

LengthKind = Literal["fixed", "stepwise", "linear"]
LENGTH_KINDS: tuple[str, ...] = ("fixed", "stepwise", "linear")


@dataclass(frozen=True)
class LengthSchedule(FrozenConfig):
    """The sequence length of every optimizer step, and what stays constant when it changes.

    Attributes:
        kind: ``"fixed"`` (always the full length), ``"stepwise"`` or ``"linear"``.
        lengths: stepwise only: the shorter lengths, increasing, e.g. ``(32, 64)``.
        until: stepwise only: the fraction of training at which each of ``lengths`` ends,
            increasing, in (0, 1]; after the last one the full length is used.
        start_len: linear only: the length at step 0.
        warmup: linear only: the fraction of training, in (0, 1], after which the full
            length is reached.
        multiple_of: linear only: lengths are rounded *down* to a multiple of this (8 suits
            tensor cores), but never below ``start_len``.
        keep: ``"tokens"`` keeps tokens per step constant (batch grows as length shrinks);
            ``"batch"`` keeps the number of sequences and truncates them.
    """

    kind: LengthKind = "fixed"
    lengths: tuple[int, ...] = ()
    until: tuple[float, ...] = ()
    start_len: int = 32
    warmup: float = 0.5
    multiple_of: int = 8
    keep: Keep = "tokens"

    def validate(self) -> None:
        """Check the lengths and fractions."""
        check_whole(self.start_len, "LengthSchedule.start_len", 2)
        check_whole(self.multiple_of, "LengthSchedule.multiple_of", 1)
        if not 0.0 < self.warmup <= 1.0:
            raise ValueError(f"LengthSchedule.warmup must be in (0, 1], got {self.warmup!r}; try 0.5")
        if self.kind == "stepwise":
            self._check_steps()

    def _check_steps(self) -> None:
        if not self.lengths or len(self.lengths) != len(self.until):
            raise ValueError(
                f"a stepwise LengthSchedule needs as many lengths as until fractions, got lengths="
                f"{self.lengths} and until={self.until}; e.g. lengths=(32, 64), until=(0.3, 0.6)"
            )
        for length in self.lengths:
            check_whole(length, "every stepwise length", 2)
        if any(a >= b for a, b in zip(self.lengths, self.lengths[1:])):
            raise ValueError(f"stepwise lengths must increase, got {self.lengths}")
        if any(a >= b for a, b in zip(self.until, self.until[1:])) or not 0 < self.until[0] <= self.until[-1] <= 1:
            raise ValueError(f"stepwise until fractions must increase within (0, 1], got {self.until}")

    @classmethod
    def fixed(cls) -> LengthSchedule:
        """Always the full length: no curriculum."""
        return cls()

    @classmethod
    def stepwise(cls, lengths: tuple[int, ...], until: tuple[float, ...], *, keep: Keep = "tokens") -> LengthSchedule:
        """Short lengths first, each until a fraction of training (BERT: ``(128,)``, ``(0.9,)``)."""
        return cls(kind="stepwise", lengths=lengths, until=until, keep=keep)

    @classmethod
    def linear(cls, start_len: int, warmup: float, *, multiple_of: int = 8, keep: Keep = "tokens") -> LengthSchedule:
        """Grow linearly from ``start_len`` to the full length over a ``warmup`` fraction of training."""
        return cls(kind="linear", start_len=start_len, warmup=warmup, multiple_of=multiple_of, keep=keep)

    def check_full_length(self, full_len: int) -> None:
        """Raise ValueError unless every length of the schedule fits in ``full_len``."""
        longest = self.lengths[-1] if self.kind == "stepwise" else self.start_len
        if self.kind != "fixed" and longest > full_len:
            raise ValueError(
                f"the length curriculum reaches {longest} tokens but the full length (seq_len) is "
                f"{full_len}; use shorter curriculum lengths or a longer seq_len"
            )

    def length_at(self, step: int, total_steps: int, full_len: int) -> int:
        """The sequence length of optimizer step ``step`` (0-based) of a ``total_steps`` run.

        Args:
            step: the step, ``0 <= step``; steps past the end keep the final length.
            total_steps: steps of the whole run, >= 1.
            full_len: the full sequence length (``TrainConfig.seq_len``).

        Returns:
            The length, in ``[2, full_len]``.
        """
        check_whole(step, "step", 0)
        check_whole(total_steps, "total_steps", 1)
        self.check_full_length(check_whole(full_len, "full_len", 2))
        if self.kind == "stepwise":
            for length, until in zip(self.lengths, self.until):
                if step < until * total_steps:
                    return length
            return full_len
        if self.kind == "linear":
            progress = min(1.0, step / (self.warmup * total_steps))
            raw = self.start_len + (full_len - self.start_len) * progress
            rounded = math.floor(raw + 1e-9) // self.multiple_of * self.multiple_of
            return full_len if progress >= 1.0 else min(full_len, max(self.start_len, rounded))
        return full_len

    def batch_at(self, length: int, full_len: int, batch_size: int, divisor: int = 1) -> int:
        """The number of sequences of a step at ``length``.

        With ``keep="tokens"`` it is ``batch_size * full_len // length`` rounded down to a
        multiple of ``divisor``, so a step holds at most ``batch_size * full_len`` tokens and
        falls short by less than ``divisor * length`` (by nothing when ``length`` divides
        ``batch_size * full_len / divisor``). With ``keep="batch"`` it is ``batch_size``.

        Args:
            length: the step's sequence length, in ``[1, full_len]``.
            full_len: the full length.
            batch_size: sequences per step at the full length; a multiple of ``divisor``.
            divisor: micro-batches times processes; the batch must split evenly over them.

        Returns:
            Sequences in the step.
        """
        if not 1 <= length <= full_len:
            raise ValueError(f"length={length} must be in [1, full_len={full_len}]")
        if batch_size % divisor:
            raise ValueError(f"batch_size={batch_size} is not a multiple of divisor={divisor}; choose one that is")
        if self.keep == "batch":
            return batch_size
        sequences = batch_size * full_len // length
        return sequences - sequences % divisor


@dataclass(frozen=True)
class MaskRateSchedule(FrozenConfig):
    """The training mask rate, moving linearly from ``start`` (step 0) to ``end`` (last step).

    Evaluation keeps the run's own ``MaskingConfig.mask_prob`` (usually 15%), so runs trained
    at different rates are compared on the same task.

    Attributes:
        start: the mask rate at the first step, in (0, 1).
        end: the mask rate at the last step, in (0, 1); equal to ``start`` for a fixed rate.
    """

    start: float = 0.15
    end: float = 0.15

    def validate(self) -> None:
        """Check that both rates are probabilities."""
        for name in ("start", "end"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ValueError(f"MaskRateSchedule.{name} must be strictly between 0 and 1, got {value!r}")

    @classmethod
    def fixed(cls, rate: float) -> MaskRateSchedule:
        """The same rate at every step (e.g. 0.4, as in Wettig et al., 2023)."""
        return cls(start=rate, end=rate)

    def rate_at(self, step: int, total_steps: int) -> float:
        """The mask rate of optimizer step ``step`` (0-based): ``start`` at 0, ``end`` at ``total_steps - 1``."""
        check_whole(step, "step", 0)
        check_whole(total_steps, "total_steps", 1)
        progress = min(1.0, step / (total_steps - 1)) if total_steps > 1 else 1.0
        return self.start + (self.end - self.start) * progress


@dataclass(frozen=True)
class StepPlan:
    """What one optimizer step trains on.

    Attributes:
        length: tokens per sequence (``[CLS]`` included).
        batch_size: sequences in the step.
        mask_prob: the training mask rate, or ``None`` for the run's ``MaskingConfig``.
        replace_probs: the training (mask, random, keep) split of the selected tokens, or
            ``None`` for the run's ``MaskingConfig``.
    """

    length: int
    batch_size: int
    mask_prob: float | None
    replace_probs: tuple[float, float, float] | None = None

    @property
    def tokens(self) -> int:
        """Tokens in the step, ``length * batch_size``."""
        return self.length * self.batch_size


@dataclass(frozen=True)
class Curriculum(FrozenConfig):
    """A run's curriculum: a length schedule and, optionally, a mask-rate schedule.

    Attributes:
        length: the sequence length per step (default: always the full length).
        mask_rate: the training mask rate per step, or ``None`` to train at the run's
            ``MaskingConfig.mask_prob``.
        replace_probs: what training does with a selected token, (mask, random, keep), or
            ``None`` for the run's ``MaskingConfig.replace_probs``. With ``keep`` large, a run
            *predicts* more tokens than it *corrupts*: ``mask_rate=0.4`` with
            ``(0.3, 0.0375, 0.6625)`` predicts 40% of the tokens but masks 12% and replaces
            1.5%, exactly what BERT's 15% with 80/10/10 corrupts (Wettig et al., 2023, separate
            the two effects of a higher rate this way). Evaluation keeps the run's masking.
    """

    length: LengthSchedule = field(default_factory=LengthSchedule)
    mask_rate: MaskRateSchedule | None = None
    replace_probs: tuple[float, float, float] | None = None

    def validate(self) -> None:
        """Check the training split of the selected tokens (the schedules check themselves)."""
        if self.replace_probs is not None:
            check_probabilities(self.mask_rate.start if self.mask_rate else 0.15, self.replace_probs)

    @property
    def is_plain(self) -> bool:
        """True if it changes nothing: full length, the run's own masking."""
        return self.length.kind == "fixed" and self.mask_rate is None and self.replace_probs is None

    def plan(self, step: int, total_steps: int, *, full_len: int, batch_size: int, divisor: int = 1) -> StepPlan:
        """The length, batch size and mask rate of optimizer step ``step``.

        Args:
            step: the step, from 0.
            total_steps: steps of the whole run.
            full_len: the full sequence length (``TrainConfig.seq_len``).
            batch_size: sequences per step at the full length (``TrainConfig.batch_size``).
            divisor: micro-batches times processes, which must divide every batch.

        Returns:
            The step's plan.
        """
        length = self.length.length_at(step, total_steps, full_len)
        batch = self.length.batch_at(length, full_len, batch_size, divisor)
        rate = self.mask_rate.rate_at(step, total_steps) if self.mask_rate is not None else None
        return StepPlan(length=length, batch_size=batch, mask_prob=rate, replace_probs=self.replace_probs)
