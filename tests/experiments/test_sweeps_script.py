"""scripts/sweeps.py keeps the runs of a table's unchanged arms and trains only the new or changed ones."""

import dataclasses
import importlib.util
from pathlib import Path

import mlm_book
from mlm_book.corpus import generate_paragraphs, make_probes
from mlm_book.experiments.sweep import Arm, SweepTable, run_sweep
from mlm_book.model.config import ModelConfig
from mlm_book.tokenization.tokenizer import train_tokenizer
from mlm_book.training.config import TrainConfig

MODEL = ModelConfig(vocab_size=301, d_model=32, n_heads=2, n_layers=1, d_ff=37, max_len=32, dropout=0.0)
TRAIN = TrainConfig(
    steps=4, batch_size=8, seq_len=32, eval_every=2, eval_sequences=8, log_every=1, probes_per_category=0
)


def _script():  # type: ignore[no-untyped-def]
    path = Path(__file__).resolve().parents[2] / "scripts" / "sweeps.py"
    spec = importlib.util.spec_from_file_location("sweeps_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_unchanged_arms_are_kept_and_only_new_or_changed_ones_train(setting, tmp_path):
    corpus, tokenizer = setting
    script = _script()
    zero, bias = Arm("zero", MODEL, TRAIN), Arm("bias", MODEL, dataclasses.replace(TRAIN, decoder_bias="log_unigram"))
    path = run_sweep([zero, bias], [0, 1], dataset=corpus, tokenizer=tokenizer, command="first").save(
        tmp_path / "t.json"
    )
    old = SweepTable.load(path)

    changed = Arm("bias", MODEL, dataclasses.replace(TRAIN, decoder_bias="log_unigram", lr=2e-3))
    new = Arm("new", dataclasses.replace(MODEL, n_layers=2), TRAIN)
    arms = [zero, changed, new]
    table, kept = script._kept_runs(path, arms, (0, 1), (), tokenizer)
    assert table.rows == old.rows
    assert {row["arm"] for row in kept} == {"zero"}  # "bias" changed its config: trained again
    assert script._kept_runs(path, arms, (0, 1, 2), (), tokenizer)[1] == []  # a seed the table lacks: nothing is kept
    assert script._kept_runs(tmp_path / "missing.json", arms, (0, 1), (), tokenizer) == (None, [])
    probes = make_probes(2, seed=0, categories=("agreement",), unseen_in=0)
    assert script._kept_runs(path, arms, (0, 1), tuple(probes), tokenizer)[1] == []  # other probes: trained again

    trained = run_sweep([changed, new], [0, 1], dataset=corpus, tokenizer=tokenizer, command="second")
    merged = script._merged(table, kept, trained, [a.name for a in arms])
    assert merged.arm_names == ["zero", "bias", "new"] and merged.seeds == [0, 1]
    assert merged.run("zero", 1) == old.run("zero", 1)  # kept rows are the table's own
    assert merged.run("bias", 0) == trained.run("bias", 0) != old.run("bias", 0)
    assert merged.configs("bias") == (changed.model, changed.train)
    order = list(dict.fromkeys((row["seed"], row["arm"]) for row in merged.rows))
    assert order == [(s, a) for s in (0, 1) for a in ("zero", "bias", "new")]  # interleaved, as run_sweep
    assert merged.meta["command"] == "second" and merged.meta["kept"]["arms"] == ["zero"]
    assert merged.meta["kept"]["meta"]["command"] == "first"
    assert SweepTable.load(merged.save(tmp_path / "m.json")).rows == merged.rows


def test_a_table_of_another_package_version_keeps_nothing(setting, tmp_path, monkeypatch):
    corpus, tokenizer = setting
    script = _script()
    zero = Arm("zero", MODEL, TRAIN)
    path = run_sweep([zero], [0], dataset=corpus, tokenizer=tokenizer, command="first").save(tmp_path / "t.json")
    assert script._kept_runs(path, [zero], (0,), (), tokenizer)[1] != []
    monkeypatch.setattr(mlm_book, "__version__", "0.0.0-other")
    assert script._kept_runs(path, [zero], (0,), (), tokenizer)[1] == []


def test_rows_scored_on_other_probes_or_another_tokenizer_are_not_kept(setting, tmp_path, capsys):
    """The same number of probes is not enough: a probe whose answers changed scores differently."""
    corpus, tokenizer = setting
    script = _script()
    zero = Arm("zero", MODEL, TRAIN)
    probes = tuple(make_probes(2, seed=0, categories=("agreement",), unseen_in=0))
    path = run_sweep([zero], [0], dataset=corpus, tokenizer=tokenizer, probes=probes).save(tmp_path / "t.json")
    assert script._kept_runs(path, [zero], (0,), probes, tokenizer)[1] != []
    first = probes[0]
    rescored = (dataclasses.replace(first, answers=first.answers | {"zzz"}), *probes[1:])  # same texts and counts
    assert script._kept_runs(path, [zero], (0,), rescored, tokenizer)[1] == []
    assert "t.json was made with other probes: every arm trains again" in capsys.readouterr().out
    other_tokenizer = train_tokenizer(generate_paragraphs(40, seed=3), 200)
    assert script._kept_runs(path, [zero], (0,), probes, other_tokenizer)[1] == []
    assert "t.json was made with another tokenizer: every arm trains again" in capsys.readouterr().out

    table = SweepTable.load(path)  # a table made before the digests were recorded: kept by its configs, with a warning
    for key in ("probes", "tokenizer"):
        del table.meta[key]
    old = table.save(tmp_path / "old.json")
    assert script._kept_runs(old, [zero], (0,), rescored, tokenizer)[1] != []
    assert "old.json records no probes digest" in capsys.readouterr().out
