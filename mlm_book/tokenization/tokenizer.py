"""The book's tokenizer: a BERT-style WordPiece tokenizer trained with Hugging Face ``tokenizers``.

Text goes through BERT's normaliser (clean, separate CJK ideographs, strip accents, lowercase),
BERT's pre-tokeniser (split at whitespace and punctuation) and a WordPiece model that spells
each word with vocabulary pieces, ``##`` marking a piece that continues a word. A post-processor
wraps every sequence as ``[CLS] ... [SEP]``. The five special tokens come first in every
vocabulary, with the ids of ``mlm_book.utils.special_tokens``. ``tokenization.wordpiece`` is the same
pipeline written from scratch; ``tokenization.encoding`` turns batches of text into ids.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from mlm_book.corpus.synthetic.generate import generate_paragraphs
from mlm_book.tokenization.wordpiece import CONTINUATION_PREFIX, MAX_INPUT_CHARS_PER_WORD
from mlm_book.utils.atomic import write_bytes_atomically
from mlm_book.utils.special_tokens import CLS_TOKEN, SEP_TOKEN, SPECIAL_TOKENS, UNK_TOKEN

TOKENIZER_FILE = "tokenizer.json"
BUILTIN_VOCAB_SIZE = 2048
BUILTIN_PARAGRAPHS = 5000


def bert_tokenizer(
    vocab: Mapping[str, int] | Sequence[str] | None = None,
    *,
    lowercase: bool = True,
    strip_accents: bool | None = None,
) -> Tokenizer:
    """Build the BERT pipeline around a WordPiece vocabulary (or an empty one, to train).

    Args:
        vocab: ``{token: id}`` or tokens in id order; must hold ``[UNK]``. ``None``: empty.
        lowercase: lowercase the text.
        strip_accents: remove accents; ``None`` means "when lowercasing", as in BERT.

    Returns:
        A ``tokenizers.Tokenizer`` that adds ``[CLS]`` and ``[SEP]`` around every sequence.

    Raises:
        ValueError: if ``vocab`` has no ``[UNK]`` token.
    """
    if vocab is not None and not isinstance(vocab, Mapping):
        vocab = {token: index for index, token in enumerate(vocab)}
    if vocab is not None and UNK_TOKEN not in vocab:
        raise ValueError(
            f"the vocabulary ({len(vocab)} tokens) has no {UNK_TOKEN!r} token; put the special "
            "tokens of mlm_book.utils.special_tokens.SPECIAL_TOKENS first in it"
        )
    model = models.WordPiece(
        dict(vocab) if vocab is not None else None,
        unk_token=UNK_TOKEN,
        continuing_subword_prefix=CONTINUATION_PREFIX,
        max_input_chars_per_word=MAX_INPUT_CHARS_PER_WORD,
    )
    tokenizer = Tokenizer(model)
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=strip_accents, lowercase=lowercase
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece(prefix=CONTINUATION_PREFIX)
    if vocab is not None:
        tokenizer.add_special_tokens([token for token in SPECIAL_TOKENS if token in vocab])
        if CLS_TOKEN in vocab and SEP_TOKEN in vocab:
            _add_post_processor(tokenizer, vocab[CLS_TOKEN], vocab[SEP_TOKEN])
    return tokenizer


def train_tokenizer(
    texts: Iterable[str],
    vocab_size: int,
    *,
    lowercase: bool = True,
    strip_accents: bool | None = None,
    min_frequency: int = 0,
) -> Tokenizer:
    """Train a BERT-style WordPiece tokenizer, deterministically, reading the texts once.

    The texts are streamed once to count their words (normalised and pre-tokenized exactly
    as the trainer would); ``tokenizers``' ``WordPieceTrainer`` then learns from the counts,
    with the ``##`` pieces of the alphabet given fixed ids up front. Left alone, it numbers
    those pieces in hash-map order and the numbers break ties between equally frequent pairs,
    so two runs can learn different vocabularies (huggingface/tokenizers issue 1794).

    Args:
        texts: any iterable of strings: a list, a generator, a ``datasets`` column.
        vocab_size: the largest vocabulary, special tokens included; training stops earlier
            when every word is a single token.
        lowercase: lowercase the text.
        strip_accents: remove accents; ``None`` means "when lowercasing".
        min_frequency: pairs seen fewer times than this are never merged.

    Returns:
        The trained tokenizer; ``[PAD] [UNK] [CLS] [SEP] [MASK]`` have ids 0..4, then come the
        characters, the ``##`` characters, and the learned tokens in the order they were made.

    Raises:
        ValueError: if ``vocab_size`` cannot hold the special tokens and the alphabet, or if
            there is no text to train on.
    """
    tokenizer = bert_tokenizer(lowercase=lowercase, strip_accents=strip_accents)
    word_counts = _count_words(tokenizer, texts)
    if not word_counts:
        raise ValueError("the training corpus is empty (no text with a visible character); pass some text")
    chars = sorted({char for word in word_counts for char in word})
    continuations = sorted({CONTINUATION_PREFIX + char for word in word_counts for char in word[1:]})
    alphabet_size = len(SPECIAL_TOKENS) + len(chars) + len(continuations)
    if vocab_size < alphabet_size:
        raise ValueError(
            f"vocab_size={vocab_size} is too small for the 5 special tokens and the {len(chars)} characters of "
            f"the corpus (each alone, and as a ## piece if it occurs inside a word): use vocab_size >= "
            f"{alphabet_size}"
        )
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[*SPECIAL_TOKENS, *continuations],  # fixed ids for the ## pieces
        continuing_subword_prefix=CONTINUATION_PREFIX,
        show_progress=False,
    )
    tokenizer.train_from_iterator(_repeat_words(word_counts), trainer)
    by_id = sorted(tokenizer.get_vocab(), key=tokenizer.get_vocab().get)
    if sorted(by_id[len(SPECIAL_TOKENS) + len(continuations) : alphabet_size]) != chars:
        raise RuntimeError("tokenizers' trainer built another alphabet than expected; please report this")
    vocab = [*SPECIAL_TOKENS, *chars, *continuations, *by_id[alphabet_size:]]
    return bert_tokenizer(vocab, lowercase=lowercase, strip_accents=strip_accents)


def save_tokenizer(tokenizer: Tokenizer, path: str | os.PathLike[str]) -> Path:
    """Write the tokenizer to one JSON file, atomically (a temporary file, then a rename).

    Args:
        tokenizer: the tokenizer to save.
        path: the file to write (conventionally ``tokenizer.json``) or a directory to write
            ``tokenizer.json`` into.

    Returns:
        The path of the written file.

    Raises:
        FileNotFoundError: if the directory to write into does not exist.
    """
    path = Path(path)
    if path.is_dir():
        path = path / TOKENIZER_FILE
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save the tokenizer: no directory {path.parent}; create it first")
    write_bytes_atomically(path, tokenizer.to_str(pretty=True).encode("utf-8"))
    return path


def load_tokenizer(path: str | os.PathLike[str]) -> Tokenizer:
    """Load a tokenizer saved by ``save_tokenizer`` (a JSON file, or a directory holding one).

    Raises:
        FileNotFoundError: if there is no such file.
        ValueError: if its special tokens do not have the book's ids.
    """
    path = Path(path)
    if path.is_dir():
        path = path / TOKENIZER_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no tokenizer file at {path}; save one with save_tokenizer() first")
    tokenizer = Tokenizer.from_file(str(path))
    ids = {token: tokenizer.token_to_id(token) for token in SPECIAL_TOKENS}
    if list(ids.values()) != list(range(len(SPECIAL_TOKENS))):
        raise ValueError(f"{path} gives the special tokens the ids {ids}, not 0..4; retrain with train_tokenizer()")
    return tokenizer


def builtin_tokenizer(
    vocab_size: int = BUILTIN_VOCAB_SIZE, *, n_paragraphs: int = BUILTIN_PARAGRAPHS, seed: int = 0
) -> Tokenizer:
    """Train the book's standard tokenizer on the built-in synthetic corpus (a few seconds).

    The same arguments always give the same tokenizer. The default 5,000 paragraphs hold
    about 2,300 distinct words: with 2048 tokens, about 5% of the words of new text are split
    into pieces (1.07 tokens per word); from about 3,600 tokens on every word is whole, and a
    larger ``vocab_size`` gives the same vocabulary.

    Args:
        vocab_size: the largest vocabulary, special tokens included.
        n_paragraphs: how many paragraphs of the built-in corpus to train on.
        seed: the corpus seed.

    Returns:
        The trained tokenizer.
    """
    return train_tokenizer(generate_paragraphs(n_paragraphs, seed=seed), vocab_size)


def _add_post_processor(tokenizer: Tokenizer, cls_id: int, sep_id: int) -> None:
    """Wrap single sequences as ``[CLS] A [SEP]`` and pairs as ``[CLS] A [SEP] B [SEP]``."""
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{CLS_TOKEN} $A {SEP_TOKEN}",
        pair=f"{CLS_TOKEN} $A {SEP_TOKEN} $B:1 {SEP_TOKEN}:1",
        special_tokens=[(CLS_TOKEN, cls_id), (SEP_TOKEN, sep_id)],
    )


def _count_words(tokenizer: Tokenizer, texts: Iterable[str]) -> Counter[str]:
    """Count the words of the texts, normalised and pre-tokenized by ``tokenizer``."""
    if isinstance(texts, str):
        raise ValueError(f"texts must be an iterable of strings, not the string {texts[:30]!r}; put it in a list")
    counts: Counter[str] = Counter()
    for text in texts:
        normalized = tokenizer.normalizer.normalize_str(text)
        counts.update(word for word, _ in tokenizer.pre_tokenizer.pre_tokenize_str(normalized))
    return counts


def _repeat_words(word_counts: Counter[str], chunk: int = 1000) -> Iterator[str]:
    """Texts that hold every word as often as it was counted: ``"the the the ..."``."""
    for word, count in sorted(word_counts.items()):
        for start in range(0, count, chunk):
            yield " ".join([word] * min(chunk, count - start))
