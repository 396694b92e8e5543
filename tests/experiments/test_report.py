"""Sweep summaries: final losses, paired differences and plateau exits, read from a hand-made table."""

import math

import matplotlib
import pytest

from mlm_book.experiments.report import format_summary, plot_sweep, summarise
from mlm_book.experiments.sweep import SweepTable

matplotlib.use("Agg")

UNIGRAM = 5.0
# loss per evaluation (steps 100, 200, 300) for each arm and seed
CURVES = {
    "base": {0: [5.2, 4.8, 4.4], 1: [5.1, 5.0, 4.3], 2: [5.3, 4.9, 4.4]},
    "fast": {0: [4.4, 4.0, 3.6], 1: [4.4, 3.9, 3.5], 2: [4.5, 4.2, 3.7]},
    "stuck": {0: [5.1, 5.0, 5.0], 1: [5.2, 5.1, 5.0], 2: [5.0, 5.0, 4.9]},
}


@pytest.fixture
def table():
    rows = [
        {"arm": arm, "seed": seed, "step": 100 * (i + 1), "loss": loss, "unigram_loss": UNIGRAM + 0.01 * seed}
        for seed in (0, 1, 2)
        for arm, curves in CURVES.items()
        for i, loss in enumerate(curves[seed])
    ]
    return SweepTable(rows=rows, arms={arm: {} for arm in CURVES})


def test_final_losses_are_the_mean_of_the_last_evaluations_with_a_t_interval(table):
    base, fast, stuck = summarise(table, "base", last=2)
    assert base.final.values == pytest.approx(((4.8 + 4.4) / 2, (5.0 + 4.3) / 2, (4.9 + 4.4) / 2))
    assert base.final.low < base.final.mean < base.final.high
    assert base.difference is None and base.exit_difference is None
    assert fast.difference.values == pytest.approx((-0.8, -0.95, -0.7))
    assert fast.difference.excludes_zero() and fast.difference.high < 0
    assert base.unigram == pytest.approx(UNIGRAM + 0.01)


def test_plateau_exits_are_paired_over_the_seeds_where_both_left(table):
    base, fast, stuck = summarise(table, "base", margin=0.5)
    assert base.exits == (300.0, 300.0, 300.0) and base.all_exited
    assert fast.exits == (100.0, 100.0, 100.0)
    assert fast.exit_difference.values == (-200.0, -200.0, -200.0)
    assert all(math.isnan(step) for step in stuck.exits) and not stuck.all_exited
    assert stuck.exit_difference is None  # nothing to pair


def test_a_base_that_is_not_in_the_table_is_refused_by_name(table):
    with pytest.raises(ValueError, match="'bert' is not in the table"):
        summarise(table, "bert")


def test_the_printed_table_has_a_line_per_arm_with_its_numbers(table):
    text = format_summary(summarise(table, "base"))
    lines = text.splitlines()
    assert len(lines) == 4 and lines[0].startswith("arm")
    assert "(base)" in lines[1] and "300 300 300" in lines[1]
    assert "never never never" in lines[3] and lines[3].endswith("  -")  # no exit to pair
    assert "-200 [-200, -200]" in lines[2]


def test_the_plot_draws_each_seed_each_mean_and_the_unigram_line(table):
    ax = plot_sweep(table, ["base", "fast"])
    assert len(ax.lines) == 2 * (1 + 3) + 1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["base", "fast", "unigram (no context)"]
    assert ax.lines[-1].get_ydata()[0] == pytest.approx(UNIGRAM + 0.01)


def test_arms_evaluated_on_other_batches_get_their_own_unigram_line_and_x_can_be_tokens(table):
    rows = [
        {**row, "unigram_loss": row["unigram_loss"] + 0.5, "tokens": 10 * row["step"]}
        if row["arm"] == "fast"
        else {**row, "tokens": 10 * row["step"]}
        for row in table.rows
    ]
    other = SweepTable(rows=rows, arms=table.arms)
    ax = plot_sweep(other, ["base", "fast"], x="tokens")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["base", "fast", "unigram, base", "unigram, fast"]
    assert ax.lines[-1].get_ydata()[0] == pytest.approx(UNIGRAM + 0.01 + 0.5)
    assert ax.lines[-1].get_color() == ax.lines[4].get_color()  # in the arm's colour
    assert list(ax.lines[0].get_xdata()) == [1000, 2000, 3000] and ax.get_xlabel() == "training tokens"
    with pytest.raises(ValueError, match="x must be"):
        plot_sweep(other, x="flops")
