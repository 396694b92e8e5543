"""A small corpus and tokenizer for the sweep tests: 100 training and 20 validation paragraphs."""

import datasets
import pytest
import torch

from mlm_book.corpus import generate_paragraphs
from mlm_book.tokenization.tokenizer import train_tokenizer


@pytest.fixture(scope="module")
def setting():
    torch.set_num_threads(1)
    datasets.disable_progress_bars()
    paragraphs = generate_paragraphs(120, seed=1)
    corpus = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"text": paragraphs[:100]}),
            "validation": datasets.Dataset.from_dict({"text": paragraphs[100:]}),
        }
    )
    return corpus, train_tokenizer(paragraphs, 300)
