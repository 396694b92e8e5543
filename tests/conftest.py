"""Shared test set-up: offline Hugging Face libraries and reproducible hypothesis runs."""

import os

from hypothesis import settings

for _name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_name, "1")

settings.register_profile("book", derandomize=True, deadline=None, max_examples=60, print_blob=True)
settings.load_profile("book")

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # unit tests draw figures off screen; notebooks keep their inline backend

import string  # noqa: E402

import pytest  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

from mlm_book.model.config import ModelConfig  # noqa: E402
from mlm_book.tokenization.tokenizer import bert_tokenizer  # noqa: E402
from mlm_book.utils.special_tokens import SPECIAL_TOKENS  # noqa: E402

TINY_WORDS = (
    "the a an cat dog sat ran on in mat big small red old house tree bird sang saw is was and with to of"
    " at by he she it they we you . , ! ? ; : - ##ed ##ing sun"
)


@pytest.fixture(scope="session")
def tiny_tokenizer() -> Tokenizer:
    """A 99-token WordPiece tokenizer: the specials, every letter alone and as ##piece, some words."""
    letters = list(string.ascii_lowercase)
    vocab = [*SPECIAL_TOKENS, *sorted(set(TINY_WORDS.split()) | set(letters)), *(f"##{c}" for c in letters)]
    assert len(vocab) == 99
    return bert_tokenizer(vocab)


@pytest.fixture(scope="session")
def tiny_config() -> ModelConfig:
    """Odd sizes that catch shape bugs: vocabulary 99 (the tiny tokenizer's), width 32, d_ff 37."""
    return ModelConfig(vocab_size=99, d_model=32, n_heads=4, n_layers=2, d_ff=37, max_len=29)
