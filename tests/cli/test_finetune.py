"""``mlm-book finetune``: a round trip on a tiny run, ``evaluate`` on the result, one-line errors."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import datasets
import pytest
import torch

from mlm_book.cli import main
from mlm_book.corpus import generate_paragraphs
from mlm_book.model.config import ModelConfig
from mlm_book.tokenization.tokenizer import train_tokenizer
from mlm_book.training.config import TrainConfig
from mlm_book.training.loop import train

FAST = ["--examples", "16", "--eval-examples", "12", "--steps", "2", "--batch-size", "8"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny training run: 2 steps of an odd-sized model on 200 paragraphs."""
    torch.set_num_threads(1)
    datasets.disable_progress_bars()
    paragraphs = generate_paragraphs(200, seed=3)
    tokenizer = train_tokenizer(paragraphs, 301)
    model = ModelConfig(vocab_size=301, d_model=32, n_heads=2, n_layers=2, d_ff=37, max_len=61)
    config = TrainConfig(steps=2, batch_size=4, seq_len=32, eval_every=2, eval_sequences=0, probes_per_category=0)
    out = tmp_path_factory.mktemp("runs") / "run"
    dataset = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"text": paragraphs})})
    train(config, model, dataset=dataset, tokenizer=tokenizer, out_dir=out)
    return out


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "finetune.json"
    path.write_text(json.dumps({"unseen_in": 0, "lr": 0.003}), encoding="utf-8")
    return path


def test_finetune_writes_a_model_and_scores_that_evaluate_reproduces(
    run: Path, config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ner"
    assert main(["finetune", str(run), "--task", "ner", "--out", str(out), "--config", str(config_file), *FAST]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        "eval_results.json",
        "finetune_config.json",
        "model.safetensors",
        "task_config.json",
        "tokenizer.json",
    ]
    results = json.loads((out / "eval_results.json").read_text())
    config = json.loads((out / "finetune_config.json").read_text())
    assert (config["task"], config["steps"], config["examples"], config["max_len"]) == ("ner", 2, 16, 61)
    assert len(results["history"]["train_loss"]) == 2 and results["test"]["main"] == "entity_f1"
    accuracy = results["test"]["scores"]["accuracy"]
    assert f"accuracy {accuracy:.3f}" in printed
    written = (out / "eval_results.json").read_bytes()
    assert main(["evaluate", str(out), "--split", "test"]) == 0
    assert f"ner test: accuracy {accuracy:.3f}" in capsys.readouterr().out
    assert (out / "eval_results.json").read_bytes() == written, "finetune's scores and history stay as written"
    rescored = tmp_path / "test_results.json"
    assert main(["evaluate", str(out), "--split", "test", "--output", str(rescored)]) == 0
    assert json.loads(rescored.read_text())["test"] == results["test"]
    assert main(["evaluate", str(out), "--output", str(out / "eval_results.json")]) == 2
    assert "holds finetune's scores and history" in capsys.readouterr().err
    # writing again into a fine-tuned directory is allowed: it holds a finetune output
    qa = ["finetune", str(run), "--task", "qa", "--out", str(out), "--config", str(config_file), "--doc-stride", "3"]
    assert main([*qa, *FAST]) == 0
    assert json.loads((out / "task_config.json").read_text())["kind"] == "span"
    assert json.loads((out / "finetune_config.json").read_text())["doc_stride"] == 3


def test_user_mistakes_are_one_line(run: Path, tmp_path: Path, one_line_error: Callable[[], str]) -> None:
    out = str(tmp_path / "out")
    assert main(["finetune", str(tmp_path / "nowhere"), "--task", "ner", "--out", out]) == 2
    assert "nowhere does not exist; give the --out directory of a training run" in one_line_error()
    with pytest.raises(SystemExit) as exit_info:
        main(["finetune", str(run), "--task", "parse", "--out", out])
    assert exit_info.value.code == 2 and "invalid choice: 'parse'" in one_line_error()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    assert main(["finetune", str(run), "--task", "ner", "--out", str(busy)]) == 2
    assert "is not empty and holds no fine-tuned model; choose an empty directory" in one_line_error()
    assert main(["finetune", str(run), "--task", "ner", "--out", str(run)]) == 2
    assert "is the training run itself" in one_line_error()


def test_a_replaced_tokenizer_is_refused(run: Path, tmp_path: Path, one_line_error: Callable[[], str]) -> None:
    copy = Path(shutil.copytree(run, tmp_path / "copy"))
    tokenizer = json.loads((copy / "tokenizer.json").read_text())
    for token in tokenizer["added_tokens"]:
        token["content"] = token["content"].replace("[MASK]", "[HOLE]")
    tokenizer["model"]["vocab"]["[HOLE]"] = tokenizer["model"]["vocab"].pop("[MASK]")
    (copy / "tokenizer.json").write_text(json.dumps(tokenizer))
    assert main(["finetune", str(copy), "--task", "ner", "--out", str(tmp_path / "out")]) == 2
    assert "tokenizer.json lacks [MASK] (id 4); the run's tokenizer was replaced" in one_line_error()
    assert not (tmp_path / "out").exists()
