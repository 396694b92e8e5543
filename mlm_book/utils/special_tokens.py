"""The special tokens of every vocabulary in the book, with their fixed ids.

Every tokenizer the package trains puts these five tokens first, in this order, so their ids
are the same everywhere: ``[PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4``. Labels that the
loss must ignore hold ``IGNORE_INDEX`` (-100), the value PyTorch's cross-entropy skips.
"""

from __future__ import annotations

PAD_TOKEN = "[PAD]"  # fills short sequences up to the batch length; never attended to
UNK_TOKEN = "[UNK]"  # stands for a word the vocabulary cannot spell
CLS_TOKEN = "[CLS]"  # starts every sequence; its vector summarises it for classification
SEP_TOKEN = "[SEP]"  # ends a sequence (and separates the two of a pair)
MASK_TOKEN = "[MASK]"  # replaces the tokens the model must predict

SPECIAL_TOKENS: tuple[str, ...] = (PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN)

PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = range(len(SPECIAL_TOKENS))
SPECIAL_IDS: tuple[int, ...] = tuple(range(len(SPECIAL_TOKENS)))  # never masked by default

IGNORE_INDEX = -100
