"""The from-scratch BERT tokenizer gives exactly the tokens of the ``tokenizers`` pipeline."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tokenizers import Tokenizer

from mlm_book.corpus.synthetic.generate import generate_paragraphs
from mlm_book.tokenization.tokenizer import bert_tokenizer, train_tokenizer
from mlm_book.tokenization.wordpiece import (
    MAX_INPUT_CHARS_PER_WORD,
    clean_text,
    normalize,
    pre_tokenize,
    remove_accents,
    separate_cjk,
    wordpiece_tokenize,
    wordpiece_word,
)
from mlm_book.utils.special_tokens import SPECIAL_TOKENS, UNK_TOKEN

TRAINING_TEXTS = [
    "The quick brown fox jumps over the lazy dog. Tokenizers split words into pieces!",
    "Unbelievable: tokenizing, tokenized, tokenizer, tokens; re-tokenize (again) & again?",
    "Café, naïve, résumé, Ångström, façade, jalapeño, Straße, ΟΔΟΣ, İstanbul, ǅemal.",
    "Привет, мир! Γειά σου κόσμε. مرحبا بالعالم. שלום עולם. नमस्ते दुनिया. สวัสดีชาวโลก",
    "我爱北京天安门。东京タワーに行きました。안녕하세요 세계. 👍🏽 😀 🎉 👨‍👩‍👧 ❤️",
    "Numbers 3.14159, 2,718 and 1e-9; e-mail: someone@example.com; cost: $42 (or €40).",
] * 3

HARD_TEXTS = [
    "",
    "   ",
    "\t\n\r",
    "Café naïve Ångström FAÇADE",
    "Привет мир, γειά σου κόσμε, مَرْحَبًا",
    "我爱北京天安门",
    "東京タワーに行きました。한국어도 있어요",
    "emoji 👍🏽 family 👨‍👩‍👧 flags 🇫🇷🇩🇪 😀🎉",
    "control\x00chars\x07and\u200bzero\u200dwidth\ufffdreplacement\x7f",
    "vertical\x0btab\x0cform\x85feed\u2028line\u2029para",
    "a" * MAX_INPUT_CHARS_PER_WORD,
    "a" * (MAX_INPUT_CHARS_PER_WORD + 1),
    "tokenization" * 9,
    "!!!...??? --->>> ((([[[{{{",
    "¿Qué? ¡Sí! «quotes» „German“ ‘single’ … — –",
    "[MASK] the [CLS]cat[SEP] sat [mask] on [PAD][UNK]",
    "can't won't U.S.A. 3.14159 e-mail@example.com",
    "İstanbul ΟΔΟΣ ﬁne ＡＢＣ ß ǅ",
    "\u0301\u0301abc e\u0301 n\u0303",
    "ℌ𝔢𝔩𝔩𝔬 𝕨𝕠𝕣𝕝𝕕 ①②③ ¹²³ ½",
    "\ue000private\U000f0000use",
]

SETTINGS = [
    {"lowercase": True, "strip_accents": None},
    {"lowercase": False, "strip_accents": None},
    {"lowercase": True, "strip_accents": False},
    {"lowercase": False, "strip_accents": True},
]


@pytest.fixture(scope="module")
def reference() -> Tokenizer:
    return train_tokenizer(TRAINING_TEXTS, 400)


def _reference_tokens(tokenizer: Tokenizer, text: str) -> list[str]:
    return tokenizer.encode(text, add_special_tokens=False).tokens


@pytest.mark.parametrize("text", HARD_TEXTS)
def test_matches_tokenizers_on_hard_text(reference: Tokenizer, text: str) -> None:
    assert wordpiece_tokenize(text, reference.get_vocab()) == _reference_tokens(reference, text)


def test_matches_tokenizers_on_the_builtin_corpus() -> None:
    tokenizer = train_tokenizer(generate_paragraphs(300, seed=0), 701)
    vocab = tokenizer.get_vocab()
    for text in generate_paragraphs(150, seed=1):
        assert wordpiece_tokenize(text, vocab) == _reference_tokens(tokenizer, text)


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_matches_tokenizers_with_every_normalisation_setting(settings: dict) -> None:
    tokenizer = train_tokenizer(TRAINING_TEXTS, 300, **settings)
    vocab = tokenizer.get_vocab()
    for text in HARD_TEXTS + TRAINING_TEXTS:
        assert wordpiece_tokenize(text, vocab, **settings) == _reference_tokens(tokenizer, text)


assigned_chars = st.characters(exclude_categories=("Cs", "Cn"))  # any character Python's Unicode knows
fragments = st.one_of(
    st.text(assigned_chars, max_size=8),
    st.sampled_from(["token", "##izer", "Café", "İ", "中文", " ", "  ", "\t", ".", "'", "[MASK]", "a" * 101]),
    st.sampled_from(" ".join(TRAINING_TEXTS).split()),
)


@given(text=st.lists(fragments, max_size=12).map("".join))
def test_matches_tokenizers_on_generated_text(reference: Tokenizer, text: str) -> None:
    assert wordpiece_tokenize(text, reference.get_vocab()) == _reference_tokens(reference, text)


@given(text=st.text(assigned_chars, max_size=30), settings=st.sampled_from(SETTINGS))
def test_normalize_and_pre_tokenize_match_tokenizers(text: str, settings: dict) -> None:
    tokenizer = bert_tokenizer(**settings)
    normalized = tokenizer.normalizer.normalize_str(text)
    assert normalize(text, **settings) == normalized
    assert pre_tokenize(normalized) == [word for word, _ in tokenizer.pre_tokenizer.pre_tokenize_str(normalized)]


def test_matches_tokenizers_given_a_hand_made_vocabulary() -> None:
    vocab = [*SPECIAL_TOKENS, "a", "ab", "##c", "##bcd", "un", "una", "##ff", "##able", "##aff", ",", "##d"]
    tokenizer = bert_tokenizer(vocab)
    for text in ["abcd", "unaffable", "una,ab abc", "ab" * 60, "[MASK]una"]:
        assert wordpiece_tokenize(text, vocab) == _reference_tokens(tokenizer, text)


def test_greedy_longest_match_first() -> None:
    vocab = {UNK_TOKEN, "un", "una", "##ff", "##able", "##aff", "a", "ab", "##c", "##bcd"}
    assert wordpiece_word("unaffable", vocab) == ["una", "##ff", "##able"]  # "una" beats "un"
    # Greedy is not a search: "ab" + "##c" leaves "d" unspelled although "a" + "##bcd" works.
    assert wordpiece_word("abcd", vocab) == [UNK_TOKEN]
    assert wordpiece_word("xyz", vocab) == [UNK_TOKEN]
    assert wordpiece_word("", vocab) == []


def test_words_longer_than_the_limit_become_unknown() -> None:
    vocab = {UNK_TOKEN, "a", "##a"}
    assert wordpiece_word("a" * 100, vocab) == ["a"] + ["##a"] * 99
    assert wordpiece_word("a" * 101, vocab) == [UNK_TOKEN]
    assert wordpiece_word("aaa", vocab, max_chars=2) == [UNK_TOKEN]


def test_pipeline_steps() -> None:
    assert clean_text("a\x00b\tc\u200bd\u3000e\ufffd") == "ab cd e"
    assert separate_cjk("我爱ab") == " 我  爱 ab"
    assert remove_accents("Café Ångström") == "Cafe Angstrom"
    assert normalize("Héllo WÖRLD") == "hello world"
    assert normalize("Héllo", lowercase=False) == "Héllo"  # accents are kept unless lowercasing...
    assert normalize("Héllo", lowercase=False, strip_accents=True) == "Hello"  # ...or asked
    assert normalize("ΟΔΟΣ") == "οδοσ"  # one character at a time: no final sigma
    assert pre_tokenize("don't stop—ever!") == ["don", "'", "t", "stop", "—", "ever", "!"]


def test_special_tokens_in_the_text_are_kept() -> None:
    vocab = {*SPECIAL_TOKENS, "the", "cat"}
    assert wordpiece_tokenize("the [MASK] cat[SEP]", vocab) == ["the", "[MASK]", "cat", "[SEP]"]
    assert wordpiece_tokenize("the [mask]", vocab) == ["the", UNK_TOKEN, UNK_TOKEN, UNK_TOKEN]


def test_vocabulary_without_unknown_token_is_refused() -> None:
    with pytest.raises(ValueError, match=r"the vocabulary \(2 tokens\) has no '\[UNK\]' token; add it"):
        wordpiece_tokenize("hello", ["hello", "world"])
