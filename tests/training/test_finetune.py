"""Fine-tuning: a tiny model beats chance on every task, runs repeat exactly, configs are checked."""

import dataclasses

import datasets
import pytest
import torch
from tokenizers import Tokenizer

from mlm_book.corpus import generate_paragraphs
from mlm_book.corpus.tasks import NER_LABELS, POS_TAGS
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.tokenization.tokenizer import train_tokenizer
from mlm_book.training.config import FinetuneConfig
from mlm_book.training.finetune import evaluate_finetuned, finetune, task_dataset

MODEL = ModelConfig(vocab_size=301, d_model=32, n_heads=2, n_layers=2, d_ff=37, max_len=47, dropout=0.0)
BASE = FinetuneConfig(
    steps=40, batch_size=16, lr=3e-3, examples=320, eval_examples=150, max_len=47, eval_every=20, unseen_in=0
)


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    datasets.disable_progress_bars()
    torch.set_num_threads(1)
    return train_tokenizer(generate_paragraphs(200, seed=1), 301)


def _chance(config: FinetuneConfig) -> float:
    """A score reached without reading: the majority label's share, or a random context word's chance for QA."""
    test = task_dataset(config)["test"]
    if config.task in ("ner", "pos"):
        column, names = ("ner_tags", NER_LABELS) if config.task == "ner" else ("pos_tags", POS_TAGS)
        counts = torch.bincount(torch.tensor([t for row in test[column] for t in row]), minlength=len(names))
        return float(counts.max() / counts.sum())
    if config.task == "classify":
        return 0.5
    return sum(1 / len(context.split()) for context in test["context"]) / len(test)  # a random word of the context


@pytest.mark.parametrize(("task", "metric"), [("ner", "accuracy"), ("pos", "accuracy")])
def test_a_tiny_tagger_beats_the_majority_tag_within_a_few_dozen_steps(
    tokenizer: Tokenizer, task: str, metric: str
) -> None:
    config = dataclasses.replace(BASE, task=task)
    result = finetune(config, MODEL, tokenizer)
    low, _ = result.test.intervals[metric]
    assert low > _chance(config), (result.test.scores, _chance(config))  # the whole 95% interval above chance
    assert result.history.train_loss[-1] < result.history.train_loss[0]
    assert [record["step"] for record in result.history.eval] == [20, 40]
    assert result.history.eval[-1][metric] == result.validation.scores[metric]
    assert evaluate_finetuned(result.model, tokenizer, config, "test").scores == result.test.scores


@pytest.mark.parametrize(("task", "metric"), [("classify", "accuracy"), ("qa", "exact_match")])
def test_a_tiny_model_beats_chance_on_grammar_and_qa_in_150_steps(tokenizer: Tokenizer, task: str, metric: str) -> None:
    config = dataclasses.replace(BASE, task=task, steps=150, batch_size=32, examples=1000, eval_every=150)
    result = finetune(config, MODEL, tokenizer)
    assert result.test.intervals[metric][0] > _chance(config), (result.test.scores, _chance(config))


def test_same_seed_same_run_and_the_pretrained_model_is_not_changed(tokenizer: Tokenizer) -> None:
    pretrained = MLMModel(dataclasses.replace(MODEL, dropout=0.1), generator=torch.Generator().manual_seed(0))
    before = {k: v.clone() for k, v in pretrained.state_dict().items()}
    config = dataclasses.replace(BASE, task="qa", steps=3, examples=24, eval_examples=8, eval_every=3)
    runs = [finetune(config, pretrained, tokenizer) for _ in range(2)]
    assert runs[0].history.train_loss == runs[1].history.train_loss
    assert all(
        torch.equal(a, b) for a, b in zip(runs[0].model.state_dict().values(), runs[1].model.state_dict().values())
    )
    assert all(torch.equal(before[k], v) for k, v in pretrained.state_dict().items())
    other = finetune(dataclasses.replace(config, seed=1), pretrained, tokenizer)
    assert other.history.train_loss != runs[0].history.train_loss


def test_the_progress_bar_counts_steps_and_is_off_by_default(tokenizer: Tokenizer, capsys) -> None:
    config = dataclasses.replace(BASE, task="qa", steps=3, examples=24, eval_examples=8, eval_every=3)
    finetune(config, MODEL, tokenizer)
    assert "qa:" not in capsys.readouterr().err
    finetune(config, MODEL, tokenizer, progress=True)
    shown = capsys.readouterr().err.split("\r")[-1]  # the bar's last state
    assert shown.startswith("qa: 100%") and "3/3" in shown and "loss=" in shown


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"task": "parse"}, "FinetuneConfig.task must be one of 'ner', 'pos', 'classify', 'qa', got 'parse'"),
        ({"steps": 0}, "FinetuneConfig.steps must be a whole number >= 1, got 0"),
        ({"lr": -1.0}, "FinetuneConfig.lr must be positive, got -1.0; try 3e-4"),
        ({"max_len": 4}, "FinetuneConfig.max_len must be a whole number >= 8, got 4"),
        ({"doc_stride": -1}, "FinetuneConfig.doc_stride must be a whole number >= 0, got -1; or None for max_len"),
        ({"doc_stride": 64}, "FinetuneConfig.doc_stride=64 must be less than max_len // 2 = 64"),
    ],
)
def test_bad_configs_are_one_line(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        FinetuneConfig(**fields)


def test_inputs_that_do_not_fit_the_model_are_refused(tiny_tokenizer: Tokenizer, tokenizer: Tokenizer) -> None:
    with pytest.raises(ValueError, match="max_len=64 exceeds the model's max_len=47"):
        finetune(dataclasses.replace(BASE, max_len=64), MODEL, tokenizer)
    with pytest.raises(ValueError, match="the tokenizer has 301 tokens but the model only 99"):
        finetune(BASE, dataclasses.replace(MODEL, vocab_size=99), tokenizer)
