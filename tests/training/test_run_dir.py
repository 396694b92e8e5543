"""Run directories: the --out checks, staged checkpoints, crash recovery, config compatibility."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer

from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.tokenization.tokenizer import train_tokenizer
from mlm_book.training.config import TrainConfig
from mlm_book.training.lock import LOCK_FILE, RunLock, RunLockedError
from mlm_book.training.optim import Schedule, make_optimizer, make_scheduler
from mlm_book.training.run_dir import (
    CORPUS_FILE,
    RUN_FILES,
    STAGING,
    check_out_dir,
    commit_checkpoint,
    read_run,
    recover,
    stage_checkpoint,
)
from mlm_book.training.state import TrainState, save_train_state

MODEL = ModelConfig(vocab_size=99, d_model=16, n_heads=2, n_layers=1, d_ff=37, max_len=16)
CONFIG = TrainConfig(steps=5, batch_size=4, seq_len=16)


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return train_tokenizer(["the cat sat on the mat", "a dog barked at the cat"] * 3, 60)


def _write_run(directory: Path, tokenizer: Tokenizer, step: int = 3, config: TrainConfig = CONFIG) -> Path:
    model = MLMModel(MODEL, generator=torch.Generator().manual_seed(step))
    optimizer = make_optimizer(model, lr=1e-3)
    staging = stage_checkpoint(directory, model, tokenizer, config)
    state = TrainState(step, 0, step, 100, torch.Generator().get_state(), torch.Generator().get_state())
    save_train_state(staging, state, optimizer, make_scheduler(optimizer, Schedule(5)))
    (staging / "history.json").write_text('{"train": [], "eval": []}')
    return staging


def test_commit_moves_every_file_and_removes_staging(tmp_path: Path, tokenizer: Tokenizer) -> None:
    commit_checkpoint(_write_run(tmp_path / "run", tokenizer))
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted(RUN_FILES)
    run = read_run(tmp_path / "run")
    assert run.model_config == MODEL and run.train_config == CONFIG


def test_crash_while_moving_is_completed_and_crash_while_writing_is_discarded(
    tmp_path: Path, tokenizer: Tokenizer
) -> None:
    run = tmp_path / "run"
    commit_checkpoint(_write_run(run, tokenizer, step=3))
    staging = _write_run(run, tokenizer, step=4)
    (staging / "COMPLETE").write_text("{}")
    (staging / "model.safetensors").replace(run / "model.safetensors")  # died after the first move
    recover(run)
    assert not (run / STAGING).exists()
    assert json.loads((run / "train_state.json").read_text())["step"] == 4

    _write_run(run, tokenizer, step=5)  # died before COMPLETE: the old checkpoint stays
    recover(run)
    assert not (run / STAGING).exists()
    assert json.loads((run / "train_state.json").read_text())["step"] == 4


def test_commit_refuses_an_incomplete_staging(tmp_path: Path, tokenizer: Tokenizer) -> None:
    staging = _write_run(tmp_path / "run", tokenizer)
    (staging / "history.json").unlink()
    with pytest.raises(ValueError, match=r"lacks \['history.json'\]; it was not committed"):
        commit_checkpoint(staging)


def test_out_dir_rules(tmp_path: Path, tokenizer: Tokenizer) -> None:
    assert check_out_dir(tmp_path / "new", CONFIG, MODEL, resume=False) is None
    (tmp_path / "empty").mkdir()
    assert check_out_dir(tmp_path / "empty", CONFIG, MODEL, resume=False) is None
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="is not empty and holds no training run .*; choose a new or empty directory"):
        check_out_dir(other, CONFIG, MODEL, resume=False)
    with pytest.raises(ValueError, match="is not empty and holds no training run"):
        check_out_dir(other, CONFIG, MODEL, resume=True)
    assert (other / "notes.txt").read_text() == "mine"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file; give a directory for the run"):
        check_out_dir(tmp_path / "file", CONFIG, MODEL, resume=False)
    with pytest.raises(ValueError, match="--resume: .* holds no run to resume; drop --resume to start a new run"):
        check_out_dir(tmp_path / "empty", CONFIG, MODEL, resume=True)


def test_existing_run_needs_resume_and_a_compatible_config(tmp_path: Path, tokenizer: Tokenizer) -> None:
    run = tmp_path / "run"
    commit_checkpoint(_write_run(run, tokenizer))
    with pytest.raises(ValueError, match="already holds a run; pass --resume to continue it or choose another --out"):
        check_out_dir(run, CONFIG, MODEL, resume=False)
    assert check_out_dir(run, dataclasses.replace(CONFIG, steps=50, eval_every=7), MODEL, resume=True) is not None
    with pytest.raises(
        ValueError,
        match=r"--resume: seed is 3 but .*train_config.json has 0; a resumed run may only "
        "change compile, eval_every, log_every, precision, save_every, steps",
    ):
        check_out_dir(run, dataclasses.replace(CONFIG, seed=3), MODEL, resume=True)
    with pytest.raises(ValueError, match=r"--resume: the model's d_ff is 41 but .*config.json has 37"):
        check_out_dir(run, CONFIG, dataclasses.replace(MODEL, d_ff=41), resume=True)


def test_read_run_errors(tmp_path: Path, tokenizer: Tokenizer) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist; give the --out directory of a training run"):
        read_run(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match=r"is not a training run \(no train_config.json\)"):
        read_run(tmp_path)
    run = tmp_path / "run"
    commit_checkpoint(_write_run(run, tokenizer))
    (run / "train_config.json").write_text('{"steps": -1}')
    with pytest.raises(ValueError, match="train_config.json: TrainConfig.steps must be a whole number >= 1, got -1"):
        read_run(run)
    (run / "train_config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="train_config.json: TrainConfig fields must be a JSON object, got list"):
        read_run(run)


def _tree(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (links not followed) with its content."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_reading_a_run_never_changes_it(tmp_path: Path, tokenizer: Tokenizer) -> None:
    """A reader must not recover a staging folder: a live training may be writing it right now."""
    run = tmp_path / "run"
    commit_checkpoint(_write_run(run, tokenizer, step=3))
    _write_run(run, tokenizer, step=4)  # a trainer is half-way through writing its next checkpoint
    before = _tree(run)
    assert read_run(run).train_config == CONFIG
    assert _tree(run) == before
    (run / STAGING / "COMPLETE").write_text("{}")  # ... or half-way through moving it into place
    before = _tree(run)
    read_run(run)
    assert _tree(run) == before


def test_a_symlinked_staging_folder_is_refused_and_nothing_moves(tmp_path: Path, tokenizer: Tokenizer) -> None:
    run = tmp_path / "run"
    commit_checkpoint(_write_run(run, tokenizer))
    outside = _write_run(tmp_path / "elsewhere", tokenizer, step=4)
    (outside / "COMPLETE").write_text("{}")
    (run / STAGING).symlink_to(outside, target_is_directory=True)
    before, theirs = _tree(run), _tree(outside)
    with pytest.raises(ValueError, match=r"\.checkpoint-staging is a symbolic link, not a staging folder"):
        check_out_dir(run, CONFIG, MODEL, resume=True)
    with pytest.raises(ValueError, match="is a symbolic link"):
        recover(run)
    assert _tree(run) == before and _tree(outside) == theirs


def test_a_locked_run_is_not_recovered(tmp_path: Path, tokenizer: Tokenizer) -> None:
    run = tmp_path / "run"
    commit_checkpoint(_write_run(run, tokenizer, step=3))
    _write_run(run, tokenizer, step=4)
    before = _tree(run)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from mlm_book.training.lock import RunLock; "
            "l = RunLock(sys.argv[1]); l.acquire(); print('held', flush=True); time.sleep(120)",
            str(run),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match=rf"is in use by process {holder.pid} on "):
            check_out_dir(run, CONFIG, MODEL, resume=True)
    finally:
        holder.kill()
        holder.wait()
    assert {k: v for k, v in _tree(run).items() if k != LOCK_FILE} == before


def test_lock_and_corpus_files_alone_leave_a_directory_empty(tmp_path: Path) -> None:
    started = tmp_path / "started"
    with RunLock(started):
        (started / CORPUS_FILE).write_text("{}")
        assert check_out_dir(started, CONFIG, MODEL, resume=False) is None
        with pytest.raises(ValueError, match="holds no run to resume"):
            check_out_dir(started, CONFIG, MODEL, resume=True)
