"""``mlm-book train``'s settings: run_mlm.py's spellings give the package's config, or one line."""

from collections.abc import Callable
from pathlib import Path

import pytest

from mlm_book.cli import build_parser, main
from mlm_book.cli.settings import train_config
from mlm_book.training.config import TrainConfig


def _config(*flags: str) -> TrainConfig:
    return train_config(build_parser().parse_args(["train", "--out", "run", *flags]), None)


@pytest.mark.parametrize(
    ("transformers", "ours"),
    [
        (["--max_steps", "7"], ["--steps", "7"]),
        (["--learning_rate", "3e-4"], ["--lr", "3e-4"]),
        (["--warmup_ratio", "0.3"], ["--warmup-ratio", "0.3"]),
        (["--weight_decay", "0"], ["--weight-decay", "0"]),
        (["--logging_steps", "5"], ["--log-every", "5"]),
        (["--eval_steps", "9"], ["--eval-every", "9"]),
        (["--save_steps", "7"], ["--save-every", "7"]),
        (["--mlm_probability", "0.2"], ["--mask-prob", "0.2"]),
    ],
)
def test_run_mlm_spellings_are_the_package_flags(transformers: list[str], ours: list[str]) -> None:
    assert _config(*transformers) == _config(*ours) != TrainConfig.tiny()


def test_the_text_column_text_is_what_every_corpus_is_read_from() -> None:
    assert _config("--text_column_name", "text") == TrainConfig.tiny()


def test_each_spelling_sets_its_field() -> None:
    config = _config(
        *("--max_steps", "40", "--learning_rate", "3e-4", "--warmup_ratio", "0.3", "--weight_decay", "0.05"),
        *("--logging_steps", "5", "--eval_steps", "20", "--save_steps", "10", "--seed", "11"),
    )
    assert (config.steps, config.lr, config.warmup_ratio, config.weight_decay) == (40, 3e-4, 0.3, 0.05)
    assert (config.log_every, config.eval_every, config.save_every, config.seed) == (5, 20, 10, 11)
    assert config.warmup_steps == 12
    assert build_parser().parse_args(["train", "--output_dir", "somewhere"]).out == Path("somewhere")


def test_lr_scheduler_type_is_converted_exactly() -> None:
    tiny = TrainConfig.tiny()
    assert (tiny.warmup_ratio, tiny.decay) == (0.06, "linear")
    for name, decay in (("linear", "linear"), ("cosine", "cosine")):
        config = _config("--lr_scheduler_type", name)
        assert (config.decay, config.final_lr_ratio, config.warmup_ratio) == (decay, 0.0, 0.06)
    with_warmup = _config("--lr_scheduler_type", "constant_with_warmup", "--warmup_ratio", "0.1")
    assert (with_warmup.decay, with_warmup.warmup_ratio) == ("constant", 0.1)
    constant = _config("--lr_scheduler_type", "constant")  # transformers' constant: no warmup at all
    assert (constant.decay, constant.warmup_ratio, constant.warmup_steps) == ("constant", 0.0, 0)


def test_a_decay_to_zero_replaces_a_configs_floor(tmp_path: Path) -> None:
    config_file = tmp_path / "floor.json"
    config_file.write_text('{"final_lr_ratio": 0.1, "decay": "cosine"}', encoding="utf-8")
    assert _config("--config", str(config_file)).final_lr_ratio == 0.1
    assert _config("--config", str(config_file), "--lr_scheduler_type", "linear").final_lr_ratio == 0.0
    assert _config("--config", str(config_file), "--lr_scheduler_type", "constant_with_warmup").final_lr_ratio == 0.1


def test_mlm_probability_is_one_rate_for_training_and_evaluation() -> None:
    tiny = TrainConfig.tiny()
    assert tiny.curriculum.mask_rate is not None and tiny.curriculum.mask_rate.start == 0.4
    config = _config("--mlm_probability", "0.2")
    assert config.masking.mask_prob == 0.2 and config.curriculum.mask_rate is None
    assert config.masking.replace_probs == tiny.masking.replace_probs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--per_device_train_batch_size", "8"], "--batch-size is the global batch"),
        (
            ["--text_column_name", "content"],
            "reads the column 'text' of a .jsonl/.parquet or Hub corpus, not 'content'",
        ),
        (["--eval_steps", "0.1"], "expected a whole number of steps, got 0.1 (a fraction of the run"),
        (["--save_steps", "0.5"], "expected a whole number of steps, got 0.5"),
        (["--logging_steps", "0"], "expected a whole number >= 1, got 0"),
        (["--mlm_probability", "1.5"], "expected a number strictly between 0 and 1, got 1.5"),
        (["--mlm_probability", "0"], "expected a number strictly between 0 and 1, got 0"),
        (["--warmup_ratio", "2"], "expected a number from 0 to 1, got 2"),
        (["--weight_decay", "-1"], "expected a number >= 0, got -1"),
        (["--learning_rate", "fast"], "expected a number, got 'fast'"),
        (["--lr_scheduler_type", "polynomial"], "invalid choice: 'polynomial'"),
    ],
)
def test_spellings_of_another_meaning_are_one_line(
    tmp_path: Path, one_line_error: Callable[[], str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--out", str(tmp_path / "run"), *args])
    assert exit_info.value.code == 2
    assert message in one_line_error()
    assert not (tmp_path / "run").exists()


def test_constant_with_a_warmup_is_refused(tmp_path: Path, one_line_error: Callable[[], str]) -> None:
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--lr_scheduler_type", "constant", "--warmup_ratio", "0.1"]) == 2
    assert "--lr_scheduler_type constant has no warmup" in one_line_error()
    assert not out.exists()


def test_help_says_the_batch_is_global(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "the GLOBAL batch over all processes and --grad-accum micro-batches" in text
    assert "--per_device_train_batch_size" in text  # named in --batch-size's help, not an option of its own
    for spelling in ("--output_dir", "--max_steps", "--learning_rate", "--mlm_probability", "--lr_scheduler_type"):
        assert spelling in text
