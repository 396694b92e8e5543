"""BERT's tokenizer from scratch: clean and normalise the text, split it into words, then
spell every word with the longest vocabulary pieces, left to right.

The pipeline, one step per function:

1. ``clean_text``: delete control characters, turn every kind of whitespace into a space;
2. ``separate_cjk``: put spaces around CJK ideographs, so each one becomes a word;
3. ``remove_accents`` (when lowercasing, unless told otherwise): decompose (NFD) and delete
   the combining marks, so ``é`` becomes ``e``;
4. lowercase, one character at a time;
5. ``pre_tokenize``: split on whitespace and make every punctuation character a word;
6. ``wordpiece_word``: greedy longest-match-first. From position $i$ take the longest
   $w_{i:j}$ in the vocabulary (written ``##`` + $w_{i:j}$ when $i > 0$, a *continuation
   piece*), then continue from $j$. A word with no such piece somewhere, or longer than
   ``MAX_INPUT_CHARS_PER_WORD`` characters, becomes a single ``[UNK]``.

Given the same vocabulary, ``wordpiece_tokenize`` returns exactly the tokens of the
``tokenizers`` pipeline built by ``tokenization.tokenizer`` (without ``[CLS]`` and ``[SEP]``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from mlm_book.tokenization.unicode_classes import is_accent, is_cjk, is_control, is_punctuation, is_whitespace
from mlm_book.utils.special_tokens import SPECIAL_TOKENS, UNK_TOKEN

MAX_INPUT_CHARS_PER_WORD = 100
CONTINUATION_PREFIX = "##"


def clean_text(text: str) -> str:
    """Delete control characters, NUL and U+FFFD, and turn all whitespace into ``" "``."""
    kept = (char for char in text if char not in "\0\ufffd" and not is_control(char))
    return "".join(" " if is_whitespace(char) else char for char in kept)


def separate_cjk(text: str) -> str:
    """Surround every CJK ideograph with spaces: Chinese has no spaces between words."""
    return "".join(f" {char} " if is_cjk(char) else char for char in text)


def remove_accents(text: str) -> str:
    """Decompose characters (Unicode NFD) and delete the combining marks: ``"é"`` -> ``"e"``."""
    return "".join(char for char in unicodedata.normalize("NFD", text) if not is_accent(char))


def normalize(text: str, *, lowercase: bool = True, strip_accents: bool | None = None) -> str:
    """Run BERT's normaliser: clean, separate CJK, strip accents, lowercase (in this order).

    Args:
        text: raw text.
        lowercase: lowercase every character (``"ΟΔΟΣ"`` -> ``"οδοσ"``: one character at a
            time, so there is no final sigma).
        strip_accents: remove accents; ``None`` means "when lowercasing", as in BERT.

    Returns:
        The normalised text.
    """
    text = separate_cjk(clean_text(text))
    if lowercase if strip_accents is None else strip_accents:
        text = remove_accents(text)
    if lowercase:
        text = "".join(char.lower() for char in text)
    return text


def pre_tokenize(text: str) -> list[str]:
    """Split text into words at whitespace; every punctuation character is a word of its own.

    Args:
        text: normalised text.

    Returns:
        The words, in order, none of them empty: ``"don't!"`` -> ``["don", "'", "t", "!"]``.
    """
    words: list[str] = []
    current: list[str] = []
    for char in text:
        if is_whitespace(char) or is_punctuation(char):
            if current:
                words.append("".join(current))
                current = []
            if is_punctuation(char):
                words.append(char)
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    return words


def wordpiece_word(word: str, vocab: Collection[str], *, max_chars: int = MAX_INPUT_CHARS_PER_WORD) -> list[str]:
    """Spell one word with vocabulary pieces, greedily taking the longest piece first.

    Args:
        word: a single pre-tokenised word.
        vocab: the vocabulary (continuation pieces start with ``##``).
        max_chars: words with more characters than this become ``[UNK]``.

    Returns:
        The pieces, e.g. ``"tokenizing"`` -> ``["token", "##izing"]``, or ``["[UNK]"]`` if
        some part of the word cannot be spelled.
    """
    if len(word) > max_chars:
        return [UNK_TOKEN]
    pieces: list[str] = []
    start = 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else CONTINUATION_PREFIX + word[start:end]
            if piece in vocab:
                break
        else:  # not even the single character is in the vocabulary
            return [UNK_TOKEN]
        pieces.append(piece)
        start = end
    return pieces


def wordpiece_tokenize(
    text: str, vocab: Collection[str], *, lowercase: bool = True, strip_accents: bool | None = None
) -> list[str]:
    """Tokenize text like BERT: normalise, split into words, spell each word with WordPiece.

    Special tokens written in the text (``"[MASK]"``) are kept as they are, like ``tokenizers``
    does; ``[CLS]`` and ``[SEP]`` are not added.

    Args:
        text: raw text.
        vocab: the vocabulary, e.g. a ``{token: id}`` dict; it must contain ``[UNK]``.
        lowercase: lowercase the text (the vocabulary must have been built the same way).
        strip_accents: remove accents; ``None`` means "when lowercasing".

    Returns:
        The tokens, e.g. ``["the", "token", "##izer", "!"]``.

    Raises:
        ValueError: if the vocabulary has no ``[UNK]`` token.
    """
    pieces = set(vocab)
    if UNK_TOKEN not in pieces:
        raise ValueError(
            f"the vocabulary ({len(pieces)} tokens) has no {UNK_TOKEN!r} token; add it "
            "(mlm_book.utils.special_tokens.UNK_TOKEN) so that words it cannot spell have a token"
        )
    specials = [token for token in SPECIAL_TOKENS if token in pieces]
    tokens: list[str] = []
    for segment in _split_special_tokens(text, specials):
        if segment in specials:
            tokens.append(segment)
            continue
        normalized = normalize(segment, lowercase=lowercase, strip_accents=strip_accents)
        for word in pre_tokenize(normalized):
            tokens.extend(wordpiece_word(word, pieces))
    return tokens


def _split_special_tokens(text: str, specials: list[str]) -> list[str]:
    """Cut the text around special tokens written in it: ``"a [MASK]"`` -> ``["a ", "[MASK]"]``."""
    if not specials:
        return [text]
    pattern = "(" + "|".join(re.escape(token) for token in specials) + ")"
    return [segment for segment in re.split(pattern, text) if segment]
