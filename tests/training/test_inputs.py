"""Training inputs from a config: the corpus, the tokenizer (builtin or trained) and the probes."""

import dataclasses
from pathlib import Path

import pytest

from mlm_book.model.config import ModelConfig
from mlm_book.training.config import TrainConfig
from mlm_book.training.data import load_inputs
from mlm_book.utils.special_tokens import MASK_ID, MASK_TOKEN

MODEL = ModelConfig(vocab_size=500, d_model=16, n_heads=2, n_layers=1, d_ff=37, max_len=64)


def test_builtin_corpus_has_the_book_tokenizer_and_probes() -> None:
    inputs = load_inputs(TrainConfig(corpus_paragraphs=200, probes_per_category=3), MODEL)
    assert sorted(inputs.dataset) == ["test", "train", "validation"]
    assert sum(len(split) for split in inputs.dataset.values()) == 200
    assert inputs.tokenizer is not None and inputs.tokenizer.token_to_id(MASK_TOKEN) == MASK_ID
    assert inputs.tokenizer.get_vocab_size() <= 500
    assert sorted({p.category for p in inputs.probes}) == ["agreement", "facts", "reference", "selection"]
    assert len(inputs.probes) == 12


def test_local_corpus_gets_a_trained_tokenizer_and_no_probes(tmp_path: Path) -> None:
    path = tmp_path / "text.txt"
    path.write_text("\n".join(f"line number {i} says hello to the zebra" for i in range(60)), encoding="utf-8")
    config = TrainConfig(corpus=str(path))
    inputs = load_inputs(config, MODEL)
    assert inputs.probes == () and inputs.tokenizer is not None
    assert inputs.tokenizer.encode("zebra", add_special_tokens=False).tokens == ["zebra"]
    assert load_inputs(config, MODEL, resume=True).tokenizer is None
    assert (
        load_inputs(dataclasses.replace(TrainConfig(), corpus_paragraphs=50, probes_per_category=0), MODEL).probes == ()
    )


def test_missing_corpus_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing.txt"):
        load_inputs(TrainConfig(corpus=str(tmp_path / "nothing.txt")), MODEL)
