"""The command line under hostile use: live runs, locks, edited state and corpora, bad configs, full disks."""

import errno
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from mlm_book.cli import main
from mlm_book.training.run_dir import STAGING

SMALL = ["--paragraphs", "300", "--batch-size", "4", "--seq-len", "32", "--eval-every", "2", "--no-progress"]


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    config = tmp_path_factory.mktemp("config") / "small.json"
    config.write_text(json.dumps({"eval_sequences": 8, "probes_per_category": 1}), encoding="utf-8")
    out = tmp_path_factory.mktemp("runs") / "run"
    assert main(["train", "--out", str(out), "--steps", "2", "--config", str(config), *SMALL]) == 0
    return out


@pytest.fixture
def copy(run: Path, tmp_path: Path) -> Path:
    """A copy of the trained run that a test may damage."""
    return Path(shutil.copytree(run, tmp_path / "copy", symlinks=True))


def _tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _checkpoint_tree(directory: Path) -> dict[str, bytes]:
    """The run's files but the scores that ``evaluate`` writes beside the checkpoint."""
    return {name: data for name, data in _tree(directory).items() if name != "eval_results.json"}


def test_read_only_commands_leave_a_live_trainers_staging_alone(
    copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staging = copy / STAGING
    staging.mkdir()
    (staging / "model.safetensors").write_bytes(b"half written")  # a trainer is writing its next checkpoint
    before = _tree(copy)
    assert main(["evaluate", str(copy)]) == 0
    assert main(["fill-mask", str(copy), "the [MASK] barks."]) == 0
    assert main(["export-hf", str(copy), "--out", str(tmp_path / "hf")]) == 0
    assert _checkpoint_tree(copy) == before and (copy / "eval_results.json").is_file()
    (staging / "COMPLETE").write_text("{}")  # ... or moving it into place
    before = _checkpoint_tree(copy)
    assert main(["evaluate", str(copy)]) == 0
    assert _checkpoint_tree(copy) == before


def test_a_second_writer_is_refused_naming_the_holder(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from mlm_book.training.lock import RunLock; "
            "l = RunLock(sys.argv[1]); l.acquire(); print('held', flush=True); time.sleep(120)",
            str(copy),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        before = _tree(copy)
        for args in (["--resume", "--steps", "3"], ["--steps", "3", *SMALL]):
            assert main(["train", "--out", str(copy), *args]) == 2
            assert f"is in use by process {holder.pid} on " in _error(capsys)
        assert {k: v for k, v in _tree(copy).items() if k != ".lock"} == {
            k: v for k, v in before.items() if k != ".lock"
        }
    finally:
        holder.kill()
        holder.wait()


def test_resume_beyond_the_saved_steps_and_edited_positions_are_refused(
    copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = json.loads((copy / "train_state.json").read_text())
    state["step"] = 500
    (copy / "train_state.json").write_text(json.dumps(state))
    assert main(["train", "--out", str(copy), "--resume"]) == 2
    assert "is at step 500, beyond steps=2; pass --steps 500 or more" in _error(capsys)
    tensors = load_file(str(copy / "train_state.safetensors"))
    save_file(tensors, str(copy / "train_state.safetensors"), metadata={"step": "500"})
    assert main(["train", "--out", str(copy), "--resume", "--steps", "600"]) == 2
    assert "is at step 500 but its scheduler has taken 2 steps" in _error(capsys)


def test_resume_on_an_edited_corpus_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "text.txt"
    corpus.write_text("".join(f"the dogs are barking at cat number {i} .\n" for i in range(200)), encoding="utf-8")
    out = tmp_path / "run"
    args = ["--corpus", str(corpus), "--batch-size", "4", "--seq-len", "16", "--no-progress"]
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"eval_sequences": 4, "eval_every": 1}), encoding="utf-8")
    assert main(["train", "--out", str(out), "--steps", "1", "--config", str(config), *args]) == 0
    with corpus.open("a", encoding="utf-8") as handle:
        handle.write("one more line .\n")
    assert main(["train", "--out", str(out), "--resume", "--steps", "2", "--no-progress"]) == 2
    err = _error(capsys)
    assert "the corpus" in err and "changed since the run started" in err and "text.txt was " in err


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"weight_decay": float("inf")}, "weight_decay must be a finite number, got inf"),
        ({"eps": 1e-320}, "eps must be at least 1e-30"),
        ({"seed": 10**23}, "seed must be a whole number from 0 to 2**63 - 1"),
        ({"packing": "no"}, "TrainConfig.packing must be true or false, got 'no'"),
        ({"lr": "0.001"}, "TrainConfig.lr must be a number, got '0.001'"),
        ({"betas": 5}, "TrainConfig.betas must be a list of values, got 5"),
        ({"masking": {"mask_prob": "x"}}, "MaskingConfig.mask_prob must be a number, got 'x'"),
    ],
)
def test_bad_config_values_are_one_line_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fields: dict, message: str
) -> None:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps(fields), encoding="utf-8")
    assert main(["train", "--out", str(tmp_path / "run"), "--config", str(config)]) == 2
    assert message in _error(capsys)
    assert not (tmp_path / "run").exists()


def test_bad_devices_paths_and_seeds_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "run")
    cases = [
        (["--device", "tpu9"], "--device 'tpu9' is not a device; use cpu, cuda, cuda:N or mps"),
        (["--seed", str(10**23)], "seed must be a whole number from 0 to 2**63 - 1"),
        (["--config", str(tmp_path)], "is a directory; give a JSON file of TrainConfig fields"),
    ]
    if not torch.cuda.is_available():
        cases.append((["--device", "cuda"], "--device cuda: "))
    for args, message in cases:
        assert main(["train", "--out", out, *args]) == 2, args
        assert message in _error(capsys)
    assert not (tmp_path / "run").exists()


def test_model_commands_refuse_files_dangling_links_nan_weights_and_no_mask(
    copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file.txt").write_text("x")
    assert main(["fill-mask", str(tmp_path / "file.txt"), "a [MASK]."]) == 2
    assert "file.txt is a file; give the --out directory" in _error(capsys)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert main(["export-hf", str(copy), "--out", str(tmp_path / "dangling")]) == 2
    assert "is a symbolic link to nothing" in _error(capsys)

    tokenizer = json.loads((copy / "tokenizer.json").read_text())
    for token in tokenizer["added_tokens"]:
        token["content"] = token["content"].replace("[MASK]", "[HOLE]")
    tokenizer["model"]["vocab"]["[HOLE]"] = tokenizer["model"]["vocab"].pop("[MASK]")
    (copy / "tokenizer.json").write_text(json.dumps(tokenizer))
    for args in (["evaluate", str(copy)], ["train", "--out", str(copy), "--resume", "--steps", "3"]):
        assert main(args) == 2, args
        assert "tokenizer.json lacks [MASK] (id 4); the run's tokenizer was replaced" in _error(capsys)


def test_nan_weights_are_refused_by_evaluate_and_fill_mask(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weights = load_file(str(copy / "model.safetensors"))
    weights["embeddings.token.weight"][5, 0] = float("nan")
    save_file(weights, str(copy / "model.safetensors"), metadata={"format": "pt"})
    for args in (["evaluate", str(copy)], ["fill-mask", str(copy), "the [MASK] barks."]):
        assert main(args) == 2, args
        assert "holds non-finite weights (1 NaN or infinite values in embeddings.token.weight)" in _error(capsys)


def test_ctrl_c_before_the_first_checkpoint_says_nothing_was_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlm_book.training.loop

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(mlm_book.training.loop, "train", interrupted)
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--steps", "2", *SMALL]) == 130
    assert "interrupted before the first checkpoint; nothing was saved" in capsys.readouterr().out
    assert not out.exists(), "a run that saved nothing leaves no directory behind"


def test_a_full_disk_is_one_line_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlm_book.cli.preflight
    import mlm_book.training.loop

    monkeypatch.setattr(mlm_book.cli.preflight.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10, 9, 1))
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--steps", "2", *SMALL]) == 1
    assert "--out needs about" in _error(capsys)
    assert not out.exists()
    monkeypatch.undo()

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device", str(out / ".checkpoint-staging" / "model.safetensors"))

    monkeypatch.setattr(mlm_book.training.loop, "train", full)
    assert main(["train", "--out", str(out), "--steps", "2", *SMALL]) == 1
    err = _error(capsys)
    assert "No space left on device" in err and "free some space" in err


def test_an_out_under_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["train", "--out", str(tmp_path / "file" / "run")]) == 2
    _error(capsys)


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() == 0, reason="root")
def test_a_read_only_out_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        assert main(["train", "--out", str(locked / "run")]) == 2
        assert "Permission denied" in _error(capsys)
    finally:
        locked.chmod(0o755)
