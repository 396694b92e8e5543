"""The from-scratch WordPiece trainer: scores, merges, equivalence with a naive loop, errors."""

import math
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlm_book.corpus.synthetic.generate import generate_paragraphs
from mlm_book.tokenization.tokenizer import train_tokenizer
from mlm_book.tokenization.wordpiece import wordpiece_tokenize
from mlm_book.tokenization.wordpiece_training import (
    Merge,
    apply_merge,
    count_words,
    likelihood_gain,
    merge_pieces,
    score_pairs,
    split_word,
    train_wordpiece,
    unigram_log_likelihood,
)
from mlm_book.utils.special_tokens import SPECIAL_TOKENS

# The classic toy corpus: hug x10, pug x5, pun x12, bun x4, hugs x5.
TOY = ["hug"] * 10 + ["pug"] * 5 + ["pun"] * 12 + ["bun"] * 4 + ["hugs"] * 5

ENGLISH = [
    "the cat sat on the mat and the dog sat on the log",
    "cats and dogs are playing in the garden while the birds are singing",
    "she walked slowly, talking and laughing; they walked quickly, singing loudly",
    "unhappy players replayed the played games; happier players played again",
    "a tokenizer splits text into tokens, and tokens into smaller pieces",
] * 4


def _naive_training(texts: list[str], vocab_size: int, rule: str = "wordpiece") -> list[Merge]:
    """Recount everything each round with ``score_pairs``: slow but obviously right."""
    word_counts = count_words(texts)
    splits = {word: split_word(word) for word in word_counts}
    vocab = set(SPECIAL_TOKENS) | {p for pieces in splits.values() for p in pieces} | set("".join(word_counts))
    merges = []
    while len(vocab) < vocab_size:
        candidates = score_pairs(splits, word_counts, rule=rule)
        if not candidates:
            break
        best = min(candidates.values(), key=lambda m: (-m.score, -m.count, m.left, m.right))
        splits = {word: apply_merge(pieces, best.left, best.right) for word, pieces in splits.items()}
        merges.append(best)
        vocab.add(best.token)
    return merges


def test_toy_corpus_merges_by_score_not_frequency() -> None:
    training = train_wordpiece(TOY, 18)
    # ##u is in every word, so every pair with it scores low; ##g ##s is 5 / (20 * 5) = 1/20.
    assert training.merges[0] == Merge("##g", "##s", "##gs", 1 / 20, 5)
    # h ##u, p ##u and b ##u all score 1/36; the tie goes to the most frequent pair.
    assert training.merges[1] == Merge("p", "##u", "pu", 17 / (17 * 36), 17)
    alphabet = ("b", "g", "h", "n", "p", "s", "u", "##g", "##n", "##s", "##u")
    assert training.vocab == SPECIAL_TOKENS + alphabet + ("##gs", "pu")


def test_scores_of_the_first_round() -> None:
    word_counts = Counter(TOY)
    scores = score_pairs({w: split_word(w) for w in word_counts}, word_counts)
    assert scores[("p", "##u")] == Merge("p", "##u", "pu", 17 / (17 * 36), 17)
    assert scores[("##u", "##n")] == Merge("##u", "##n", "##un", 16 / (36 * 16), 16)
    assert len(scores) == 6


def test_pieces_and_merges() -> None:
    assert split_word("low") == ["l", "##o", "##w"]
    assert merge_pieces("l", "##o") == "lo" and merge_pieces("##o", "##w") == "##ow"
    assert apply_merge(["##a", "##a", "##a"], "##a", "##a") == ["##aa", "##a"]  # left to right
    pieces = ["l", "##o", "##w"]
    assert apply_merge(pieces, "l", "##o") == ["lo", "##w"] and pieces == ["l", "##o", "##w"]


@pytest.mark.parametrize("rule", ["wordpiece", "bpe"])
@pytest.mark.parametrize("vocab_size", [61, 83, 111])
def test_incremental_counting_matches_naive_recounting(vocab_size: int, rule: str) -> None:
    assert list(train_wordpiece(ENGLISH, vocab_size, rule=rule).merges) == _naive_training(ENGLISH, vocab_size, rule)


@given(words=st.lists(st.text("abcab", min_size=1, max_size=7), min_size=1, max_size=25))
def test_incremental_counting_matches_naive_recounting_on_random_words(words: list[str]) -> None:
    texts = [" ".join(words)]
    assert list(train_wordpiece(texts, 60).merges) == _naive_training(texts, 60)


def test_vocabulary_size_alphabet_and_stopping() -> None:
    training = train_wordpiece(ENGLISH, 120)
    assert len(training.vocab) == 120 and len(set(training.vocab)) == 120
    full = train_wordpiece(ENGLISH, 10_000)  # stops when every word is one token
    words = count_words(ENGLISH)
    assert set(words) <= set(full.vocab) and len(full.vocab) < 10_000
    assert all(wordpiece_tokenize(word, full.vocab) == [word] for word in words)


def test_training_is_deterministic_and_streams() -> None:
    first = train_wordpiece(ENGLISH, 90)
    assert train_wordpiece(iter(ENGLISH), 90) == first
    assert train_wordpiece((text for text in ENGLISH), 90) == first


def test_learned_vocabulary_overlaps_the_tokenizers_vocabulary() -> None:
    ours = train_wordpiece(ENGLISH, 150).vocab
    theirs = train_tokenizer(ENGLISH, 150).get_vocab()
    learned = [token for token in ours[5:] if len(token.removeprefix("##")) > 1]
    assert set(ours) - set(learned) <= set(theirs)  # the same special tokens and alphabet
    shared = sum(token in theirs for token in learned)
    assert 20 <= shared < len(learned) == 99  # many whole words in common, different merge rules


def test_with_the_bpe_rule_the_vocabulary_is_nearly_that_of_tokenizers() -> None:
    texts = generate_paragraphs(200, seed=0)
    theirs = train_tokenizer(texts, 400).get_vocab()
    bpe = train_wordpiece(texts, 400, rule="bpe").vocab
    wordpiece = train_wordpiece(texts, 400).vocab
    assert sum(token in theirs for token in bpe) / 400 > 0.9  # tokenizers trains with the BPE rule
    assert sum(token in theirs for token in wordpiece) / 400 < 0.5
    assert train_wordpiece(TOY, 17, rule="bpe").merges[0] == Merge("##u", "##g", "##ug", 20.0, 20)


def test_errors() -> None:
    with pytest.raises(ValueError, match=r"unknown rule 'unigram'; use 'wordpiece', 'bpe' or 'likelihood'"):
        train_wordpiece(TOY, 100, rule="unigram")
    with pytest.raises(ValueError, match=r"the training corpus is empty .*; pass some text"):
        train_wordpiece(["", "  \n"], 100)
    with pytest.raises(
        ValueError, match=r"vocab_size=15 is too small for the 5 special tokens and the 11 pieces .* >= 16"
    ):
        train_wordpiece(TOY, 15)


def _piece_counts(splits: dict[str, list[str]], word_counts: Counter[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for word, pieces in splits.items():
        for piece in pieces:
            counts[piece] += word_counts[word]
    return counts


def _merged(splits: dict[str, list[str]], pair: tuple[str, str]) -> dict[str, list[str]]:
    return {word: apply_merge(pieces, *pair) for word, pieces in splits.items()}


def _naive_likelihood_training(texts: list[str], vocab_size: int) -> list[Merge]:
    """Recount everything each round; count each pair's merges by doing them: slow but obviously right."""
    word_counts = count_words(texts)
    splits = {word: split_word(word) for word in word_counts}
    vocab = set(SPECIAL_TOKENS) | {p for pieces in splits.values() for p in pieces} | set("".join(word_counts))
    merges = []
    while len(vocab) < vocab_size:
        pairs = {pair: merge.count for pair, merge in score_pairs(splits, word_counts).items()}
        if not pairs:
            break
        counts, total = _piece_counts(splits, word_counts), sum(_piece_counts(splits, word_counts).values())
        gains = {}
        for pair in pairs:
            done = total - sum(_piece_counts(_merged(splits, pair), word_counts).values())
            gains[pair] = likelihood_gain(counts, total, *pair, done)
        a, b = min(pairs, key=lambda pair: (-gains[pair], -pairs[pair], pair))
        merges.append(Merge(a, b, merge_pieces(a, b), gains[(a, b)], pairs[(a, b)]))
        splits = _merged(splits, (a, b))
        vocab.add(merge_pieces(a, b))
    return merges


def test_unigram_log_likelihood() -> None:
    assert unigram_log_likelihood({"a": 2, "b": 2}) == pytest.approx(4 * math.log(1 / 2))
    assert unigram_log_likelihood({"a": 3, "b": 0}) == 0.0  # a piece with probability 1 costs nothing


@given(words=st.lists(st.text("aab#", min_size=1, max_size=7), min_size=1, max_size=12))
def test_likelihood_gain_is_the_exact_change_of_the_log_likelihood(words: list[str]) -> None:
    word_counts = Counter(words)
    splits = {word: split_word(word) for word in word_counts}
    for _ in range(3):  # the first rounds, so that merged tokens can already have counts
        before = _piece_counts(splits, word_counts)
        total = sum(before.values())
        pairs = sorted(score_pairs(splits, word_counts))
        for pair in pairs:  # "##a ##a" pairs overlap in runs: count the merges actually made
            after = _piece_counts(_merged(splits, pair), word_counts)
            gain = likelihood_gain(before, total, *pair, total - sum(after.values()))
            assert gain == pytest.approx(unigram_log_likelihood(after) - unigram_log_likelihood(before), abs=1e-9)
        if not pairs:
            break
        splits = _merged(splits, pairs[0])


def _xlogx(x: int) -> float:
    return x * math.log(x) if x else 0.0


# The toy corpus in characters: N = 113 pieces.
TOY_COUNTS = {"h": 15, "p": 17, "b": 4, "##u": 36, "##g": 20, "##n": 16, "##s": 5}


def test_likelihood_gain_on_the_toy_corpus() -> None:
    # ##u ##g, 20 times: ##u 36 -> 16, ##g 20 -> 0, ##ug 0 -> 20, N 113 -> 93.
    expected = _xlogx(16) - _xlogx(36) + _xlogx(0) - _xlogx(20) + _xlogx(20) - _xlogx(0) - _xlogx(93) + _xlogx(113)
    assert (
        likelihood_gain(TOY_COUNTS, 113, "##u", "##g", 20) == pytest.approx(expected) == pytest.approx(28.018, abs=1e-3)
    )
    # ##a ##a, merged twice: ##a loses 4, ##aa gains 2.
    expected = _xlogx(1) - _xlogx(5) + _xlogx(2) - _xlogx(8) + _xlogx(10)
    assert likelihood_gain({"a": 5, "##a": 5}, 10, "##a", "##a", 2) == pytest.approx(expected)
    # The same counts in the other order give exactly the same gain (an exactly rounded sum).
    assert likelihood_gain({"x": 36, "##y": 20}, 56, "x", "##y", 20) == likelihood_gain(
        {"x": 20, "##y": 36}, 56, "x", "##y", 20
    )


def test_likelihood_training_of_the_toy_corpus() -> None:
    merges = train_wordpiece(TOY, 21, rule="likelihood").merges
    assert [m.token for m in merges] == ["##ug", "##un", "hug", "pun", "pug"]  # frequent pairs first, like BPE
    assert merges[0].score == likelihood_gain(TOY_COUNTS, 113, "##u", "##g", 20) and merges[0].count == 20


@pytest.mark.parametrize("vocab_size", [61, 83])
def test_likelihood_training_matches_naive_recounting(vocab_size: int) -> None:
    assert list(train_wordpiece(ENGLISH, vocab_size, rule="likelihood").merges) == _naive_likelihood_training(
        ENGLISH, vocab_size
    )


@given(words=st.lists(st.text("aab", min_size=1, max_size=7), min_size=1, max_size=25))
def test_likelihood_training_matches_naive_recounting_on_random_words(words: list[str]) -> None:
    texts = [" ".join(words)]
    assert list(train_wordpiece(texts, 40, rule="likelihood").merges) == _naive_likelihood_training(texts, 40)


def test_likelihood_training_vocabulary_and_errors() -> None:
    training = train_wordpiece(ENGLISH, 120, rule="likelihood")
    assert len(training.vocab) == 120 and len(set(training.vocab)) == 120
    assert training.vocab[:5] == SPECIAL_TOKENS and all(m.score > 0 for m in training.merges)
    assert train_wordpiece(iter(ENGLISH), 120, rule="likelihood") == training
    with pytest.raises(ValueError, match=r"the training corpus is empty .*; pass some text"):
        train_wordpiece(["", "  \n"], 100, rule="likelihood")
    with pytest.raises(ValueError, match=r"vocab_size=15 is too small .* >= 16"):
        train_wordpiece(TOY, 15, rule="likelihood")
