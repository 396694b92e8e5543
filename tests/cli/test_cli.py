"""The command line: every subcommand end to end, and one-line errors with exit status 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mlm_book.cli import main
from mlm_book.corpus.synthetic.generate import generate_paragraphs


def test_corpus_writes_one_paragraph_per_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "corpus.txt"
    assert main(["corpus", "--out", str(out), "--paragraphs", "7", "--seed", "3"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == generate_paragraphs(7, seed=3)
    assert "wrote 7 paragraphs" in capsys.readouterr().out
    assert not list(tmp_path.glob(".*.tmp")), "the temporary file must be gone"


def test_corpus_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "corpus.txt"
    out.write_text("precious work\n", encoding="utf-8")
    assert main(["corpus", "--out", str(out), "--paragraphs", "2"]) == 2
    err = capsys.readouterr().err
    assert "already exists; pass --force" in err and len(err.strip().splitlines()) == 1
    assert out.read_text(encoding="utf-8") == "precious work\n"
    assert main(["corpus", "--out", str(out), "--paragraphs", "2", "--force"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--paragraphs", "0"], "expected a whole number >= 1, got 0"),
        (["--paragraphs", "many"], "expected a whole number, got 'many'"),
        (["--seed", "1.5"], "expected a whole number, got '1.5'"),
    ],
)
def test_bad_numbers_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["corpus", "--out", str(tmp_path / "c.txt"), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_out_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "--out", str(tmp_path)]) == 2
    assert "is a directory; give a file name" in capsys.readouterr().err


def test_out_parent_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corpus", "--out", str(tmp_path / "no" / "c.txt")]) == 2
    assert "does not exist; create it first" in capsys.readouterr().err


def test_module_entry_point_runs_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlm_book", "corpus", "--out", str(tmp_path), "--paragraphs", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


# ---------------------------------------------------------------- train, evaluate, fill-mask, export-hf

SMALL = ["--paragraphs", "300", "--batch-size", "4", "--seq-len", "32", "--eval-every", "2", "--no-progress"]


@pytest.fixture(scope="module")
def small_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "small.json"
    path.write_text(json.dumps({"eval_sequences": 8, "probes_per_category": 2, "log_every": 1}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory, small_config: Path) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("runs") / "run"
    assert main(["train", "--out", str(out), "--steps", "3", "--config", str(small_config), *SMALL]) == 0
    return out


def test_train_writes_a_complete_run(trained_run: Path) -> None:
    assert sorted(p.name for p in trained_run.iterdir()) == [
        ".lock",
        "config.json",
        "corpus.json",
        "hf",
        "history.json",
        "model.safetensors",
        "tokenizer.json",
        "train_config.json",
        "train_state.json",
        "train_state.safetensors",
    ]
    config = json.loads((trained_run / "train_config.json").read_text())
    assert (config["steps"], config["batch_size"], config["probes_per_category"]) == (3, 4, 2)
    history = json.loads((trained_run / "history.json").read_text())
    assert [r["step"] for r in history["eval"]] == [2, 3]
    assert sorted(history["eval"][-1]["probes"]) == ["agreement", "facts", "reference", "selection"]


def test_evaluate_reproduces_the_last_validation_score(trained_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["evaluate", str(trained_run)]) == 0
    out = capsys.readouterr().out
    last = json.loads((trained_run / "history.json").read_text())["eval"][-1]
    assert f"validation: loss {last['loss']:.4f}, accuracy {last['accuracy']:.4f}" in out
    assert "probes: agreement" in out
    assert main(["evaluate", str(trained_run), "--split", "test"]) == 0
    assert capsys.readouterr().out.startswith("test: loss ")


def test_fill_mask_prints_top_k_per_mask(trained_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["fill-mask", str(trained_run), "the dogs [MASK] barking in the [MASK].", "--top-k", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[1] for line in lines] == ["1", "1", "2", "2"]
    assert float(lines[0].split()[2]) >= float(lines[1].split()[2])


def test_export_loads_in_transformers_with_the_same_predictions(trained_run: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from mlm_book.evaluation.fill_mask import fill_mask
    from mlm_book.model.checkpoint import load_model

    out = tmp_path / "hf"
    assert main(["export-hf", str(trained_run), "--out", str(out)]) == 0
    hf_model = AutoModelForMaskedLM.from_pretrained(str(out)).eval()
    hf_tokenizer = AutoTokenizer.from_pretrained(str(out))
    encoded = hf_tokenizer("the dogs [MASK] barking.", return_tensors="pt")
    ours = load_model(trained_run).model
    with torch.no_grad():
        expected = ours(encoded["input_ids"], encoded["attention_mask"]).logits
        got = hf_model(**encoded).logits
    assert torch.allclose(got, expected, atol=1e-4)
    # the model card: what the run was, and its last evaluation, from the run's own files
    card = (out / "README.md").read_text(encoding="utf-8")
    history = json.loads((trained_run / "history.json").read_text(encoding="utf-8"))
    last = history["eval"][-1]
    assert "BertForMaskedLM" in card and "## Intended use and limitations" in card
    assert f"| masked-LM loss | {last['loss']:.4f} |" in card and f"At step {last['step']:,}" in card
    # the ecosystem's own fill-mask pipeline on the export, and ours, agree
    from transformers import pipeline

    best = pipeline("fill-mask", model=str(out), device="cpu")("the dogs [MASK] barking.")[0]
    assert main(["fill-mask", str(out), "the dogs [MASK] barking.", "--top-k", "1"]) == 0
    ours_best = fill_mask(ours, load_model(trained_run).tokenizer, "the dogs [MASK] barking.", top_k=1)[0]
    assert best["token_str"].strip() == ours_best.token and abs(best["score"] - ours_best.score) < 1e-4


def test_the_run_keeps_a_transformers_copy_in_step(trained_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """RUN/hf: from_pretrained and pipeline('fill-mask') load it, with the last checkpoint's weights."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer, pipeline

    from mlm_book.model.checkpoint import load_model

    hf_dir = trained_run / "hf"
    hf_model = AutoModelForMaskedLM.from_pretrained(hf_dir).eval()
    encoded = AutoTokenizer.from_pretrained(hf_dir)("the dogs [MASK] barking.", return_tensors="pt")
    with torch.no_grad():
        expected = load_model(trained_run).model(encoded["input_ids"], encoded["attention_mask"]).logits
        assert torch.allclose(hf_model(**encoded).logits, expected, atol=1e-4)
    assert "At step 3" in (hf_dir / "README.md").read_text(encoding="utf-8")  # the card of the last checkpoint
    assert len(pipeline("fill-mask", model=str(hf_dir), device="cpu")("the dogs [MASK] barking.")) == 5
    capsys.readouterr()
    assert main(["fill-mask", str(hf_dir), "the dogs [MASK] barking.", "--top-k", "1"]) == 0
    assert capsys.readouterr().out.startswith("[MASK] 1  ")


def test_evaluate_scores_a_transformers_directory(
    trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """RUN/hf is scored as a tiny-preset run would be, with the scores of the run's own model; never written into."""
    from mlm_book.evaluation.metrics import evaluate_masked
    from mlm_book.model.checkpoint import load_model
    from mlm_book.training.config import TrainConfig
    from mlm_book.training.data import build_eval_batches, load_inputs

    capsys.readouterr()
    assert main(["evaluate", str(trained_run / "hf"), "--output", str(tmp_path / "eval_results.json")]) == 0
    printed = capsys.readouterr().out
    ours = load_model(trained_run)
    config = TrainConfig.tiny()
    dataset = load_inputs(config, ours.model.config, resume=True).dataset
    expected = evaluate_masked(ours.model, build_eval_batches(dataset["validation"], ours.tokenizer, config))
    assert printed.startswith(f"validation: loss {expected.loss:.4f}, accuracy {expected.accuracy:.4f}")
    assert "probes: agreement" in printed
    assert json.loads((tmp_path / "eval_results.json").read_text())["eval_loss"] == pytest.approx(
        expected.loss, abs=1e-4
    )
    assert not (trained_run / "hf" / "eval_results.json").exists()  # not ours to write into without --output
    from transformers import BertConfig, BertForMaskedLM

    bare = tmp_path / "bare"  # a BertForMaskedLM saved without a tokenizer
    BertForMaskedLM(
        BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=2)
    ).save_pretrained(bare)
    assert main(["evaluate", str(bare)]) == 2
    assert "has no tokenizer with the book's special tokens" in capsys.readouterr().err


def test_the_transformers_copy_may_be_turned_off(small_config: Path, tmp_path: Path) -> None:
    import dataclasses

    from mlm_book.cli.report import hf_copy_blocker
    from mlm_book.model.config import ModelConfig

    torch.set_num_threads(1)
    args = ["--steps", "2", "--config", str(small_config), *SMALL]
    assert main(["train", "--out", str(tmp_path / "off"), "--no-hf-copy", *args]) == 0
    assert not (tmp_path / "off" / "hf").exists()
    assert hf_copy_blocker(ModelConfig.tiny()) is None and hf_copy_blocker(ModelConfig.modern()) is None
    pre_ln = dataclasses.replace(ModelConfig.tiny(), norm="pre")  # neither BertForMaskedLM nor ModernBERT holds it
    assert "BertForMaskedLM cannot represent norm='pre'" in (hf_copy_blocker(pre_ln) or "")


def test_the_modern_preset_trains_and_exports_as_modernbert(small_config: Path, tmp_path: Path) -> None:
    from transformers import AutoConfig

    from mlm_book.model.config import ModelConfig

    torch.set_num_threads(1)
    run = tmp_path / "modern"
    assert (
        main(["train", "--out", str(run), "--preset", "modern", "--steps", "2", "--config", str(small_config), *SMALL])
        == 0
    )
    saved = json.loads((run / "config.json").read_text(encoding="utf-8"))["model"]
    assert (saved["norm"], saved["positions"], saved["feed_forward"]) == ("pre", "rope", "geglu")
    assert ModelConfig.from_dict(saved).differences(ModelConfig.modern()).keys() <= {"vocab_size"}
    assert main(["export-hf", str(run), "--out", str(tmp_path / "hf")]) == 0
    assert AutoConfig.from_pretrained(str(tmp_path / "hf")).model_type == "modernbert"


def test_resume_trains_on_and_refuses_changes(
    tmp_path: Path, small_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--steps", "2", "--config", str(small_config), *SMALL]) == 0
    before = (out / "model.safetensors").read_bytes()
    assert main(["train", "--out", str(out), "--steps", "2", *SMALL]) == 2
    assert "already holds a run; pass --resume" in capsys.readouterr().err
    assert main(["train", "--out", str(out), "--resume", "--seed", "9"]) == 2
    assert "--resume: seed is 9 but" in capsys.readouterr().err
    assert (out / "model.safetensors").read_bytes() == before, "a refused command must not touch the run"
    assert main(["train", "--out", str(out), "--resume", "--steps", "3", "--no-progress"]) == 0
    assert "trained 3 steps" in capsys.readouterr().out
    assert json.loads((out / "train_state.json").read_text())["step"] == 3


def test_the_same_command_starts_and_resumes_a_run(
    tmp_path: Path, small_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    command = ["train", "--out", str(out), "--preset", "tiny", "--config", str(small_config), *SMALL, "--no-progress"]
    assert main([*command, "--steps", "2", "--resume", "auto"]) == 0  # nothing there: a new run
    assert "trained 2 steps" in capsys.readouterr().out
    assert main([*command, "--steps", "3", "--resume", "auto"]) == 0  # a run there: continued
    assert "trained 3 steps" in capsys.readouterr().out
    assert main([*command, "--steps", "4", "--resume"]) == 0  # --preset with --resume: the run's own settings
    assert json.loads((out / "train_state.json").read_text())["step"] == 4
    assert main([*command, "--steps", "5", "--resume", "--seed", "7"]) == 2
    assert "--resume: seed is 7 but" in capsys.readouterr().err
    assert main([*command[:3], "--preset", "modern", *command[5:], "--steps", "5", "--resume"]) == 2
    assert "--resume: the model's" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*command, "--resume", "sometimes"])
    assert "invalid choice: 'sometimes'" in capsys.readouterr().err


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--steps", "0"], "expected a whole number >= 1, got 0"),
        (["--lr", "-1"], "expected a positive number, got -1"),
        (["--lr", "fast"], "expected a number, got 'fast'"),
        (["--batch-size", "many"], "expected a whole number, got 'many'"),
        (["--save-every", "-2"], "expected a whole number >= 0, got -2"),
        (["--precision", "fp8"], "invalid choice: 'fp8'"),
    ],
)
def test_train_bad_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--out", str(tmp_path / "run"), *args])
    assert exit_info.value.code == 2
    assert message in _one_line_error(capsys)
    assert not (tmp_path / "run").exists()


def test_train_user_mistakes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "run")
    cases = [
        (["--corpus", str(tmp_path / "missing.txt")], "missing.txt"),
        (["--batch-size", "6", "--grad-accum", "4"], "batch_size=6 is not divisible by grad_accum=4"),
        (["--resume"], "holds no run to resume; drop --resume"),
        (["--resume", "--preset", "tiny"], "holds no run to resume; drop --resume"),
        (["--config", str(tmp_path / "nope.json")], "nope.json does not exist"),
    ]
    for args, message in cases:
        assert main(["train", "--out", out, *args]) == 2, args
        assert message in _one_line_error(capsys)
    (tmp_path / "empty.txt").write_text("\n  \n", encoding="utf-8")
    assert main(["train", "--out", out, "--corpus", str(tmp_path / "empty.txt")]) == 2
    assert "empty" in _one_line_error(capsys)
    bad = tmp_path / "bad.json"
    for text, message in (
        ("[1]", "must hold a JSON object"),
        ('{"stepz": 1}', r"unknown TrainConfig field(s) ['stepz']"),
    ):
        bad.write_text(text, encoding="utf-8")
        assert main(["train", "--out", out, "--config", str(bad)]) == 2
        assert message in _one_line_error(capsys)
    assert not (tmp_path / "run").exists()


def test_train_refuses_an_unrelated_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "thesis.tex").write_text("precious", encoding="utf-8")
    for extra in ([], ["--resume"]):
        assert main(["train", "--out", str(tmp_path), *extra]) == 2
        assert "is not empty and holds no training run" in _one_line_error(capsys)
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]


def test_model_commands_user_mistakes(trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x", encoding="utf-8")
    cases = [
        (["evaluate", str(tmp_path / "nothing")], "does not exist; give the --out directory of a training run"),
        (["evaluate", str(tmp_path)], "is not a training run (no train_config.json)"),
        (["fill-mask", str(tmp_path / "nothing"), "a [MASK]."], "does not exist"),
        (["fill-mask", str(trained_run), "no mask here"], "no [MASK] in 'no mask here'"),
        (["export-hf", str(trained_run), "--out", str(trained_run)], "is the model's own directory"),
        (["export-hf", str(trained_run), "--out", str(tmp_path / "full")], "is not empty; pass --force"),
        (["export-hf", str(tmp_path / "nothing"), "--out", str(tmp_path / "hf")], "does not exist"),
    ]
    for args, message in cases:
        assert main(args) == 2, args
        assert message in _one_line_error(capsys)
    assert (tmp_path / "full" / "x").read_text(encoding="utf-8") == "x"


def test_train_entry_point_error_has_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mlm_book", "train", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "holds no training run" in result.stderr
