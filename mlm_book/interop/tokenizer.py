"""The book's tokenizer inside ``transformers``: a ``PreTrainedTokenizerFast`` with its special tokens.

``tokenizers`` does the work; the wrapper only tells transformers which tokens are special, so
its collators, pipelines and ``save_pretrained`` treat them right.
"""

from __future__ import annotations

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
