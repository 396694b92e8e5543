"""Training data: sequences and fixed evaluation batches, prepared once from a config."""

import dataclasses

import datasets
import pytest
import torch

from mlm_book.corpus.synthetic.generate import generate_paragraphs
from mlm_book.tokenization.tokenizer import train_tokenizer
from mlm_book.training.config import TrainConfig
from mlm_book.training.data import build_eval_batches, prepare_data
from mlm_book.utils.special_tokens import IGNORE_INDEX

CONFIG = TrainConfig(batch_size=8, seq_len=24, eval_sequences=20)


@pytest.fixture(scope="module")
def corpus() -> datasets.DatasetDict:
    datasets.disable_progress_bars()
    texts = generate_paragraphs(60, seed=4)
    return datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"text": texts[:50]}),
            "validation": datasets.Dataset.from_dict({"text": texts[50:]}),
        }
    )


def test_prepare_data_packs_train_and_masks_validation_once(corpus: datasets.DatasetDict) -> None:
    tokenizer = train_tokenizer(corpus["train"]["text"], 200)
    data = prepare_data(corpus, tokenizer, CONFIG)
    assert data.vocab_size == tokenizer.get_vocab_size()
    assert bool((data.train.lengths == 24).all())
    assert sum(len(b["input_ids"]) for b in data.eval_batches) == 20
    again = build_eval_batches(corpus["validation"], tokenizer, CONFIG)
    assert all(torch.equal(a["labels"], b["labels"]) for a, b in zip(data.eval_batches, again))
    other_seed = build_eval_batches(corpus["validation"], tokenizer, dataclasses.replace(CONFIG, seed=1))
    assert not all(torch.equal(a["labels"], b["labels"]) for a, b in zip(data.eval_batches, other_seed))
    assert all(bool((b["labels"] != IGNORE_INDEX).any()) for b in data.eval_batches)
    no_eval = prepare_data(corpus, tokenizer, dataclasses.replace(CONFIG, eval_sequences=0))
    assert no_eval.eval_batches == []


def test_prepare_data_errors(corpus: datasets.DatasetDict) -> None:
    tokenizer = train_tokenizer(corpus["train"]["text"], 200)
    only_validation = datasets.DatasetDict({"validation": corpus["validation"]})
    with pytest.raises(ValueError, match=r"the corpus has no training text \(splits: \['validation'\]\)"):
        prepare_data(only_validation, tokenizer, CONFIG)
    with pytest.raises(
        ValueError,
        match=r"the corpus gives \d+ training sequences of up to 24 tokens, fewer than "
        "batch_size=4000",
    ):
        prepare_data(corpus, tokenizer, dataclasses.replace(CONFIG, batch_size=4000))
