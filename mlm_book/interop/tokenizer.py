"""The book's tokenizer inside ``transformers``: a ``PreTrainedTokenizerFast`` with its special tokens.

``tokenizers`` does the work; the wrapper only tells transformers which tokens are special, so
its collators, pipelines and ``save_pretrained`` treat them right.
"""

from __future__ import annotations

import os
from pathlib import Path

from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from mlm_book.utils.special_tokens import CLS_TOKEN, MASK_TOKEN, PAD_TOKEN, SEP_TOKEN, UNK_TOKEN


def to_transformers_tokenizer(tokenizer: Tokenizer, *, model_max_length: int | None = None) -> PreTrainedTokenizerFast:
    """Wrap the tokenizer for ``transformers`` (its models, collators and ``save_pretrained``).

    Args:
        tokenizer: a tokenizer from ``train_tokenizer`` or ``load_tokenizer`` (it is copied).
        model_max_length: the longest sequence the model takes, if known.

    Returns:
        A ``PreTrainedTokenizerFast`` with its pad, unk, cls, sep and mask tokens set.
    """
    extra = {} if model_max_length is None else {"model_max_length": model_max_length}
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token=PAD_TOKEN,
        unk_token=UNK_TOKEN,
        cls_token=CLS_TOKEN,
        sep_token=SEP_TOKEN,
        mask_token=MASK_TOKEN,
        **extra,
    )


TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json")
"""The files of a saved transformers tokenizer; a local directory with none of them has no tokenizer."""


def load_backend_tokenizer(source: str | os.PathLike[str]) -> Tokenizer | None:
    """The ``tokenizers.Tokenizer`` of the transformers tokenizer saved at ``source``, or ``None``.

    A local directory without any tokenizer file has none (``AutoTokenizer`` would otherwise
    build an empty one from the model's config).

    Args:
        source: a local model directory, or a Hub name (when online).
    """
    from transformers import AutoTokenizer

    path = Path(source)
    if path.is_dir() and not any((path / name).is_file() for name in TOKENIZER_FILES):
        return None
    try:
        return AutoTokenizer.from_pretrained(str(source)).backend_tokenizer
    except (OSError, ValueError, AttributeError):
        return None  # a model saved without its tokenizer
