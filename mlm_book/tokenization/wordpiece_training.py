"""Training a WordPiece vocabulary from scratch: merge the pair of pieces that belong together.

Every word starts spelled as characters, the first one bare and the others as continuation
pieces: ``"low"`` -> ``l ##o ##w``. Each round counts, over all words weighted by how often they
occur, every piece $a$ and every adjacent pair $(a, b)$, and merges the pair with the highest

$$\\operatorname{score}(a, b)
  = \\frac{\\operatorname{count}(ab)}{\\operatorname{count}(a)\\,\\operatorname{count}(b)},$$

a new vocabulary token (``l`` + ``##o`` -> ``lo``; ``##o`` + ``##w`` -> ``##ow``), until the
vocabulary is full or every word is a single piece. Dividing by the counts of the parts favours
pairs whose parts rarely occur apart, however rare the pair. BPE's rule, ``rule="bpe"``, merges
the most frequent pair instead: $\\operatorname{score}(a, b) = \\operatorname{count}(ab)$. Hugging
Face's ``WordPieceTrainer`` trains with the BPE rule, so it learns another vocabulary than the
WordPiece score.

``rule="likelihood"`` merges instead the pair that most raises the corpus
log-likelihood under a unigram model of the current pieces, $L = \\sum_x n_x \\ln(n_x / N)$:
merging $c$ occurrences of $(a, b)$ takes $c$ from $n_a$, $n_b$ and $N$ and adds $c$ to
$n_{ab}$, and ``likelihood_gain`` is the exact change in $L$.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mlm_book.tokenization.wordpiece import CONTINUATION_PREFIX, normalize, pre_tokenize
from mlm_book.utils.special_tokens import SPECIAL_TOKENS

RULES = ("wordpiece", "bpe", "likelihood")


@dataclass(frozen=True)
class Merge:
    """One training round: the pair merged, the new token, its score and its count."""

    left: str
    right: str
    token: str
    score: float
    count: int


@dataclass(frozen=True)
class WordPieceTraining:
    """The result of ``train_wordpiece``.

    Attributes:
        vocab: all tokens in id order: special tokens, the alphabet, then the merged tokens.
        merges: the merges, in the order they were made.
    """

    vocab: tuple[str, ...]
    merges: tuple[Merge, ...]


def count_words(texts: Iterable[str], *, lowercase: bool = True, strip_accents: bool | None = None) -> Counter[str]:
    """Normalise and pre-tokenize the texts like BERT, and count every word."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(pre_tokenize(normalize(text, lowercase=lowercase, strip_accents=strip_accents)))
    return counts


def split_word(word: str) -> list[str]:
    """Spell a word as characters, marking all but the first as continuations: ``l ##o ##w``."""
    return [char if i == 0 else CONTINUATION_PREFIX + char for i, char in enumerate(word)]


def merge_pieces(left: str, right: str) -> str:
    """The token made of two adjacent pieces: ``"l" + "##o"`` -> ``"lo"``."""
    return left + right.removeprefix(CONTINUATION_PREFIX)


def score_pairs(
    splits: dict[str, list[str]], word_counts: Counter[str], *, rule: str = "wordpiece"
) -> dict[tuple[str, str], Merge]:
    """Count every piece and adjacent pair over the corpus, and score each pair.

    Args:
        splits: each distinct word spelled in the current pieces.
        word_counts: how often each word occurs.
        rule: ``"wordpiece"`` scores ``count(ab) / (count(a) * count(b))``, ``"bpe"`` ``count(ab)``.

    Returns:
        For each pair ``(a, b)``, a ``Merge`` with its score and count.
    """
    if rule not in ("wordpiece", "bpe"):
        raise ValueError(
            f"score_pairs scores rule 'wordpiece' or 'bpe', got {rule!r}; for 'likelihood' see likelihood_gain"
        )
    piece_counts: Counter[str] = Counter()
    pair_counts: Counter[tuple[str, str]] = Counter()
    for word, pieces in splits.items():
        count = word_counts[word]
        for piece in pieces:
            piece_counts[piece] += count
        for pair in zip(pieces, pieces[1:]):
            pair_counts[pair] += count
    return {
        (a, b): Merge(a, b, merge_pieces(a, b), _score(n, piece_counts[a], piece_counts[b], rule), n)
        for (a, b), n in pair_counts.items()
    }


def _score(pair_count: int, left_count: int, right_count: int, rule: str) -> float:
    """The score of a pair under the WordPiece or the BPE rule."""
    return pair_count / (left_count * right_count) if rule == "wordpiece" else float(pair_count)


def apply_merge(pieces: list[str], left: str, right: str) -> list[str]:
    """Replace every adjacent ``left, right`` in a word's pieces by their merge (a new list)."""
    merged: list[str] = []
    i = 0
    while i < len(pieces):
        if i + 1 < len(pieces) and pieces[i] == left and pieces[i + 1] == right:
            merged.append(merge_pieces(left, right))
            i += 2
        else:
            merged.append(pieces[i])
            i += 1
    return merged


def train_wordpiece(
    texts: Iterable[str],
    vocab_size: int,
    *,
    rule: str = "wordpiece",
    lowercase: bool = True,
    strip_accents: bool | None = None,
) -> WordPieceTraining:
    """Train a WordPiece vocabulary, one merge per round, the best-scoring pair first.

    Ties go to the more frequent pair, then to the alphabetically first, so the result is
    deterministic. Each round gives the same merge as ``score_pairs`` over the whole corpus,
    but only recounts the words that contain the merged pair.

    Args:
        texts: the training texts (streamed once).
        vocab_size: the largest vocabulary, special tokens included.
        rule: ``"wordpiece"`` (the score above), ``"bpe"`` (the most frequent pair) or
            ``"likelihood"`` (the largest ``likelihood_gain``, Schuster & Nakajima's criterion
            with a unigram model of the pieces; ``Merge.score`` is then the gain in nats).
        lowercase: lowercase the text.
        strip_accents: remove accents; ``None`` means "when lowercasing".

    Returns:
        The vocabulary and the merges.

    Raises:
        ValueError: for an unknown rule, an empty corpus, or a ``vocab_size`` below special
            tokens + alphabet.
    """
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; use 'wordpiece', 'bpe' or 'likelihood'")
    word_counts = count_words(texts, lowercase=lowercase, strip_accents=strip_accents)
    if not word_counts:
        raise ValueError("the training corpus is empty (no text with a visible character); pass some text")
    counts = _LikelihoodCounts(word_counts) if rule == "likelihood" else _Counts(word_counts, rule)
    vocab = list(SPECIAL_TOKENS) + counts.alphabet()
    if vocab_size < len(vocab):
        raise ValueError(
            f"vocab_size={vocab_size} is too small for the 5 special tokens and the {len(vocab) - 5} pieces of "
            f"the alphabet (each character alone and as a ## piece): use vocab_size >= {len(vocab)}"
        )
    known = set(vocab)
    merges: list[Merge] = []
    while len(vocab) < vocab_size and counts.pairs:
        best = counts.best_merge()
        counts.merge(best.left, best.right)
        merges.append(best)
        if best.token not in known:  # "a" + "##bc" and "ab" + "##c" make the same token
            vocab.append(best.token)
            known.add(best.token)
    return WordPieceTraining(vocab=tuple(vocab), merges=tuple(merges))


def unigram_log_likelihood(piece_counts: Mapping[str, int]) -> float:
    """The corpus log-likelihood, in nats, under the unigram model its piece counts define.

    Args:
        piece_counts: how often each piece occurs in the corpus, $n_x$.

    Returns:
        $\\sum_x n_x \\ln(n_x / N) = \\sum_x n_x \\ln n_x - N \\ln N$, with $N = \\sum_x n_x$.
    """
    return math.fsum(_xlogx(n) for n in piece_counts.values()) - _xlogx(sum(piece_counts.values()))


def likelihood_gain(piece_counts: Mapping[str, int], total: int, left: str, right: str, merges: int) -> float:
    """The exact change in ``unigram_log_likelihood`` when ``merges`` occurrences of a pair are merged.

    With $f(x) = x \\ln x$, merging $c$ occurrences of $(a, b)$ changes $L$ by
    $f(n_a - c) - f(n_a) + f(n_b - c) - f(n_b) + f(n_{ab} + c) - f(n_{ab}) - f(N - c) + f(N)$
    ($f(n_a - 2c) - f(n_a)$ for the parts when $a = b$). The terms are summed exactly rounded
    (``math.fsum``), so pairs with the same counts in either order get the same gain.

    Args:
        piece_counts: how often each piece occurs now, $n_x$ (a missing piece counts 0).
        total: the number of pieces in the corpus, $N = \\sum_x n_x$.
        left: the first piece of the pair, $a$.
        right: the second piece, $b$.
        merges: how many occurrences the merge replaces, $c$: the pair count, except that a
            run like ``##a ##a ##a`` holds two overlapping pairs but makes one merge.

    Returns:
        The gain in nats (negative when the merge lowers the likelihood).
    """
    changes = {left: -merges}
    changes[right] = changes.get(right, 0) - merges  # twice from one piece when left == right
    merged = merge_pieces(left, right)
    changes[merged] = changes.get(merged, 0) + merges
    terms = [_xlogx(total), -_xlogx(total - merges)]
    for piece, change in changes.items():
        count = piece_counts.get(piece, 0)
        terms += [_xlogx(count + change), -_xlogx(count)]
    return math.fsum(terms)


def _xlogx(x: int) -> float:
    """$x \\ln x$, with $0 \\ln 0 = 0$."""
    return x * math.log(x) if x > 0 else 0.0


class _Counts:
    """Piece and pair counts of a corpus, kept up to date as pairs are merged."""

    def __init__(self, word_counts: Counter[str], rule: str) -> None:
        self.word_counts = word_counts
        self.rule = rule
        self.splits = {word: split_word(word) for word in word_counts}
        self.pieces: Counter[str] = Counter()
        self.pairs: Counter[tuple[str, str]] = Counter()
        self.words_with: dict[tuple[str, str], set[str]] = defaultdict(set)
        for word in self.splits:
            self._count(word, +1)

    def alphabet(self) -> list[str]:
        """Every character, then every continuation piece ``##c`` that occurs, sorted."""
        chars = sorted({char for word in self.splits for char in word})
        return chars + sorted({piece for pieces in self.splits.values() for piece in pieces[1:]})

    def score(self, pair: tuple[str, str]) -> float:
        """The pair's score under the rule."""
        return _score(self.pairs[pair], self.pieces[pair[0]], self.pieces[pair[1]], self.rule)

    def best_merge(self) -> Merge:
        """The pair with the highest score (ties: the more frequent, then the first in order)."""
        a, b = min(self.pairs, key=lambda pair: (-self.score(pair), -self.pairs[pair], pair))
        return Merge(a, b, merge_pieces(a, b), self.score((a, b)), self.pairs[(a, b)])

    def merge(self, left: str, right: str) -> None:
        """Merge the pair in every word that contains it, updating the counts."""
        for word in sorted(self.words_with[(left, right)]):
            self._count(word, -1)
            self.splits[word] = apply_merge(self.splits[word], left, right)
            self._count(word, +1)

    def _count(self, word: str, sign: int) -> None:
        """Add (``sign=+1``) or remove (``-1``) the pieces and pairs of one word."""
        pieces, count = self.splits[word], sign * self.word_counts[word]
        for piece in pieces:
            self.pieces[piece] += count
        for pair in zip(pieces, pieces[1:]):
            self.pairs[pair] += count
            if sign > 0:
                self.words_with[pair].add(word)
            else:
                self.words_with[pair].discard(word)
            if self.pairs[pair] == 0:
                del self.pairs[pair]


class _LikelihoodCounts(_Counts):
    """``_Counts`` that scores a pair by the likelihood gain of merging it, and tracks $N$."""

    def __init__(self, word_counts: Counter[str]) -> None:
        super().__init__(word_counts, "likelihood")
        self.total = sum(self.pieces.values())

    def merges_of(self, pair: tuple[str, str]) -> int:
        """How many occurrences merging the pair replaces (fewer than its count in runs ``a a a``)."""
        if pair[0] != pair[1]:
            return self.pairs[pair]
        words = self.words_with[pair]
        return sum(self.word_counts[w] * (len(self.splits[w]) - len(apply_merge(self.splits[w], *pair))) for w in words)

    def score(self, pair: tuple[str, str]) -> float:
        """The exact gain in unigram log-likelihood of merging the pair."""
        return likelihood_gain(self.pieces, self.total, pair[0], pair[1], self.merges_of(pair))

    def merge(self, left: str, right: str) -> None:
        """Merge the pair everywhere, and take the merges from the total."""
        self.total -= self.merges_of((left, right))
        super().merge(left, right)
