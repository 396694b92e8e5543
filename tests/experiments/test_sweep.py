"""The sweep helper: an interleaved grid of arms x seeds, a tidy table, paired differences."""

import dataclasses
import math

import pytest

from mlm_book.corpus import make_probes
from mlm_book.experiments.provenance import probe_digest, tokenizer_digest
from mlm_book.experiments.sweep import Arm, SweepTable, run_rows, run_sweep
from mlm_book.model.config import ModelConfig
from mlm_book.training.config import TrainConfig

MODEL = ModelConfig(vocab_size=301, d_model=32, n_heads=2, n_layers=1, d_ff=37, max_len=32, dropout=0.0)
TRAIN = TrainConfig(
    steps=6, batch_size=8, seq_len=32, eval_every=2, eval_sequences=8, log_every=1, probes_per_category=0
)


@pytest.fixture(scope="module")
def table(setting):
    corpus, tokenizer = setting
    arms = [
        Arm("zero", MODEL, TRAIN),
        Arm("log-unigram", MODEL, dataclasses.replace(TRAIN, decoder_bias="log_unigram")),
    ]
    probes = make_probes(3, seed=0, categories=("agreement", "facts"), unseen_in=0)
    return run_sweep(arms, [0, 1, 2], dataset=corpus, tokenizer=tokenizer, probes=probes, command="pytest")


def test_the_table_has_a_row_per_run_and_evaluation_in_interleaved_order(table):
    assert table.arm_names == ["zero", "log-unigram"] and table.seeds == [0, 1, 2]
    assert len(table.rows) == 2 * 3 * 3  # arms x seeds x evaluations (steps 2, 4, 6)
    order = list(dict.fromkeys((row["seed"], row["arm"]) for row in table.rows))
    assert order == [(s, a) for s in (0, 1, 2) for a in ("zero", "log-unigram")]
    row = table.rows[0]
    assert {"loss", "unigram_loss", "tokens", "seconds", "probe:agreement", "n:agreement"} <= set(row)
    assert row["n:agreement"] == 3 and set(table.baseline_probes) == {"agreement", "facts"}
    assert table.meta["command"] == "pytest" and table.meta["threads"] == 1


def test_the_table_records_digests_of_its_probes_and_tokenizer(table, setting):
    _, tokenizer = setting
    probes = make_probes(3, seed=0, categories=("agreement", "facts"), unseen_in=0)
    assert table.meta["probes"] == probe_digest(probes) and table.meta["tokenizer"] == tokenizer_digest(tokenizer)
    assert probe_digest(list(probes)) == probe_digest(tuple(probes))  # only the probes count, not the container
    one = probes[0]
    other_answers = dataclasses.replace(one, answers=frozenset(sorted(one.answers)[:-1]) | {"zzz"})
    other_distractors = dataclasses.replace(one, distractors=one.distractors | {"zzz"})
    for changed in (other_answers, other_distractors, dataclasses.replace(one, category="facts")):
        assert probe_digest([changed, *probes[1:]]) != probe_digest(probes), changed  # same text, other scoring
    assert probe_digest(probes[::-1]) != probe_digest(probes) != probe_digest(())


def test_summaries_average_the_last_evaluations_and_pair_the_seeds(table):
    run = table.run("zero", 1)
    assert [r["step"] for r in run] == [2, 4, 6]
    assert table.final("zero", 1, last=2) == pytest.approx((run[1]["loss"] + run[2]["loss"]) / 2)
    paired = table.paired("zero", "log-unigram")
    per_seed = [table.final("log-unigram", s) - table.final("zero", s) for s in (0, 1, 2)]
    assert paired.values == pytest.approx(per_seed) and paired.n == 3
    assert paired.low < paired.mean < paired.high
    # six steps never reach 0.5 nats under the unigram; a margin of -100 is reached at once
    assert math.isnan(table.plateau_exit("zero", 0)) and table.plateau_exit("zero", 0, margin=-100) == 2.0
    with pytest.raises(ValueError, match="no run of arm 'nope' with seed 0"):
        table.run("nope", 0)
    # the first evaluation at or under a target, on each axis; never reached: nan
    target = run[1]["loss"]
    first = next(r for r in run if r["loss"] <= target)
    assert table.first_reach("zero", 1, target, "step") == first["step"]
    assert table.first_reach("zero", 1, target) == first["tokens"] and table.first_reach("zero", 1, -1.0) != 0
    assert math.isnan(table.first_reach("zero", 1, -1.0))
    reach = table.paired_reach("zero", "log-unigram", 100.0, "step")  # both reach a loss of 100 at once
    assert reach.values == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="x must be 'step', 'tokens' or 'seconds', got 'time'"):
        table.first_reach("zero", 1, target, "time")


def test_the_table_round_trips_and_a_row_re_runs_to_the_same_numbers(table, setting, tmp_path):
    loaded = SweepTable.load(table.save(tmp_path / "sweep.json"))
    assert loaded.rows == table.rows and loaded.arms == table.arms and loaded.meta == table.meta
    model, train = loaded.configs("log-unigram")
    corpus, tokenizer = setting
    again = run_rows(Arm("log-unigram", model, train), 2, dataset=corpus, tokenizer=tokenizer)
    for fresh, stored in zip(again, loaded.run("log-unigram", 2)):
        assert fresh["loss"] == stored["loss"] and fresh["unigram_loss"] == stored["unigram_loss"]


def test_bad_grids_are_refused(setting):
    corpus, tokenizer = setting
    with pytest.raises(ValueError, match="unique arm names"):
        run_sweep([Arm("a", MODEL, TRAIN)] * 2, [0], dataset=corpus, tokenizer=tokenizer)
    with pytest.raises(ValueError, match="distinct seeds"):
        run_sweep([Arm("a", MODEL, TRAIN)], [0, 0], dataset=corpus, tokenizer=tokenizer)


def test_two_worker_processes_give_the_same_rows(setting):
    corpus, tokenizer = setting
    arms = [Arm("a", MODEL, dataclasses.replace(TRAIN, steps=2)), Arm("b", MODEL, dataclasses.replace(TRAIN, steps=4))]
    alone = run_sweep(arms, [0, 1], dataset=corpus, tokenizer=tokenizer)
    parallel = run_sweep(arms, [0, 1], dataset=corpus, tokenizer=tokenizer, workers=2)
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in alone.rows]
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in parallel.rows] == strip


def test_a_cache_keeps_finished_runs_so_an_interrupted_sweep_continues(setting, tmp_path, monkeypatch):
    import mlm_book.experiments.sweep as sweep

    corpus, tokenizer = setting
    arms = [Arm("a", MODEL, TRAIN), Arm("b", MODEL, dataclasses.replace(TRAIN, lr=3e-3))]
    cache = tmp_path / "runs.jsonl"
    first = run_sweep(arms, [0, 1, 2], dataset=corpus, tokenizer=tokenizer, cache=cache)
    assert len(cache.read_text().splitlines()) == 6
    with cache.open("a") as file:
        file.write('{"key": "cut short by a ki')  # a kill in the middle of a line

    trained = []
    real = sweep.run_rows

    def counting(arm, seed, **kwargs):
        trained.append((arm.name, seed))
        return real(arm, seed, **kwargs)

    monkeypatch.setattr(sweep, "run_rows", counting)
    again = run_sweep(arms, [0, 1, 2], dataset=corpus, tokenizer=tokenizer, cache=cache)
    assert trained == [] and again.rows == first.rows  # nothing trained twice, same table
    changed = [arms[0], Arm("b", MODEL, dataclasses.replace(TRAIN, lr=2e-3))]
    run_sweep(changed, [0, 1, 2], dataset=corpus, tokenizer=tokenizer, cache=cache)
    assert trained == [("b", 0), ("b", 1), ("b", 2)]  # a changed config is a new run
    probes = make_probes(2, seed=0, categories=("agreement",), unseen_in=0)
    run_sweep(arms[:1], [0], dataset=corpus, tokenizer=tokenizer, probes=probes, cache=cache)
    assert trained[-1] == ("a", 0)  # other probes (none before): a new run
    rescored = [dataclasses.replace(probes[0], answers=probes[0].answers | {"zzz"}), *probes[1:]]
    run_sweep(arms[:1], [0], dataset=corpus, tokenizer=tokenizer, probes=rescored, cache=cache)
    assert trained[-2:] == [("a", 0), ("a", 0)]  # the same texts with other answers: a new run again


def test_the_progress_bar_counts_runs_and_is_off_by_default(setting, capsys):
    corpus, tokenizer = setting
    arms = [Arm("a", MODEL, dataclasses.replace(TRAIN, steps=2))]
    run_sweep(arms, [0, 1], dataset=corpus, tokenizer=tokenizer)
    assert "sweep" not in capsys.readouterr().err
    run_sweep(arms, [0, 1], dataset=corpus, tokenizer=tokenizer, progress=True)
    shown = capsys.readouterr().err.split("\r")[-1]  # the bar's last state
    assert shown.startswith("sweep: 100%") and "2/2" in shown and "arm=a, seed=1, loss=" in shown
