"""What a sweep table says: one summary per arm, a printed table, and the curves with the unigram line.

``summarise`` turns a ``SweepTable`` into one ``ArmSummary`` per arm: the final loss over the
seeds (the mean of the last few evaluations of each run) with its 95% ``t`` interval, the paired
difference from a base arm, the step at which each seed left the unigram plateau and the paired
difference of those steps. ``format_summary`` prints them as a fixed-width table and
``plot_sweep`` draws every run's validation loss, the mean of each arm, and the context-free
(unigram) loss of the same batches.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlm_book.experiments.sweep import SweepTable
from mlm_book.utils.stats import MeanInterval, mean_interval

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass(frozen=True)
class ArmSummary:
    """One arm of a sweep, over its seeds.

    Attributes:
        arm: the arm's name.
        final: the final validation loss (mean of the last evaluations of each seed) with its interval.
        difference: ``arm - base`` of the final loss, paired by seed (``None`` for the base itself).
        exits: the plateau-exit step of each seed, in the table's seed order (``nan``: never left).
        exit_difference: ``arm - base`` of the exit step, over the seeds where both left (``None`` for
            the base, or when no seed of one of them left).
        unigram: the context-free loss on the same validation batches (mean over seeds).
    """

    arm: str
    final: MeanInterval
    difference: MeanInterval | None
    exits: tuple[float, ...]
    exit_difference: MeanInterval | None
    unigram: float

    @property
    def all_exited(self) -> bool:
        """True if every seed left the plateau within the budget."""
        return not any(math.isnan(step) for step in self.exits)


def summarise(table: SweepTable, base: str, *, margin: float = 0.5, last: int = 3) -> list[ArmSummary]:
    """Summarise every arm of ``table`` against the arm ``base``.

    Args:
        table: the sweep.
        base: the arm the others are compared with (paired by seed).
        margin: nats under the unigram loss that count as having left the plateau.
        last: how many of the last evaluations of a run make its final loss.

    Returns:
        One summary per arm, in the table's order.

    Raises:
        ValueError: if ``base`` is not an arm of the table.
    """
    if base not in table.arms:
        raise ValueError(f"the base arm {base!r} is not in the table; arms: {table.arm_names}")
    summaries = []
    for arm in table.arm_names:
        exits = tuple(table.plateau_exit(arm, seed, margin) for seed in table.seeds)
        pairs = [table.plateau_exit(arm, seed, margin) - table.plateau_exit(base, seed, margin) for seed in table.seeds]
        compared = arm != base
        summaries.append(
            ArmSummary(
                arm=arm,
                final=mean_interval([table.final(arm, seed, last=last) for seed in table.seeds]),
                difference=table.paired(base, arm, last=last) if compared else None,
                exits=exits,
                exit_difference=mean_interval(pairs) if compared and any(not math.isnan(p) for p in pairs) else None,
                unigram=statistics.fmean(table.run(arm, seed)[0]["unigram_loss"] for seed in table.seeds),
            )
        )
    return summaries


def format_summary(summaries: Sequence[ArmSummary]) -> str:
    """A fixed-width table: final loss, paired difference, exit steps, paired exit difference."""

    def interval(value: MeanInterval | None, digits: int, base: bool) -> str:
        if value is None:
            return "(base)" if base else "-"
        if value.n < 2:
            return f"{value.mean:+.{digits}f} (n={value.n})"
        return f"{value.mean:+.{digits}f} [{value.low:+.{digits}f}, {value.high:+.{digits}f}]"

    width = max(len(s.arm) for s in summaries)
    lines = [
        f"{'arm':<{width}}  unigram  final loss [95% CI]    vs base [95% CI]        "
        "left the plateau at   vs base [95% CI]"
    ]
    for s in summaries:
        exits = " ".join("never" if math.isnan(step) else f"{step:.0f}" for step in s.exits)
        lines.append(
            f"{s.arm:<{width}}  {s.unigram:7.3f}  {s.final.mean:.3f} [{s.final.low:.3f}, {s.final.high:.3f}]  "
            f"{interval(s.difference, 3, s.difference is None):<22}  {exits:<19}  "
            f"{interval(s.exit_difference, 0, s.difference is None)}"
        )
    return "\n".join(lines)


def plot_sweep(
    table: SweepTable, arms: Sequence[str] | None = None, *, ax: Axes | None = None, x: str = "step"
) -> Axes:
    """Validation loss against step: a thin line per seed, a thick one for the arm's mean, the unigram line.

    Arms evaluated on the same batches share one unigram line (black). Where their unigram losses differ
    by more than 0.01 nats (another block length evaluates other batches), each arm gets its own line,
    dashed in its colour, so that a curve is read against its own baseline.

    Args:
        table: the sweep.
        arms: which arms to draw (default: all, in the table's order).
        ax: the axes to draw on (default: a new figure).
        x: the row field on the horizontal axis: ``"step"``, ``"tokens"`` or ``"seconds"``.

    Returns:
        The axes.
    """
    import matplotlib.pyplot as plt

    if x not in ("step", "tokens", "seconds"):
        raise ValueError(f"x must be 'step', 'tokens' or 'seconds', not {x!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.2, 3.8))
    unigram: dict[str, tuple[float, str]] = {}
    for arm in arms if arms is not None else table.arm_names:
        runs = [table.run(arm, seed) for seed in table.seeds]
        xs = [statistics.fmean(r[i][x] for r in runs) for i in range(len(runs[0]))]
        (line,) = ax.plot(xs, [statistics.fmean(r[i]["loss"] for r in runs) for i in range(len(xs))], lw=2)
        line.set_label(arm)
        for run in runs:
            ax.plot([row[x] for row in run], [row["loss"] for row in run], color=line.get_color(), lw=0.6)
        unigram[arm] = (statistics.fmean(run[0]["unigram_loss"] for run in runs), line.get_color())
    values = [value for value, _ in unigram.values()]
    if max(values) - min(values) <= 0.01:
        ax.axhline(statistics.fmean(values), color="black", ls="--", lw=1, label="unigram (no context)")
    else:
        for arm, (value, color) in unigram.items():
            ax.axhline(value, color=color, ls="--", lw=1, label=f"unigram, {arm}")
    ax.set(xlabel={"step": "step", "tokens": "training tokens", "seconds": "training seconds"}[x])
    ax.set(ylabel="validation masked-LM loss")
    ax.legend(fontsize=8)
    return ax
