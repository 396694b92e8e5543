"""Character classes against ``tokenizers``, exhaustively over every assigned Unicode character."""

import unicodedata

import pytest
from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer

from mlm_book.tokenization.unicode_classes import (
    ASCII_PUNCTUATION,
    is_accent,
    is_cjk,
    is_control,
    is_punctuation,
    is_whitespace,
    unicode_category,
)

# Every character Python's Unicode database assigns, except surrogates and the two private-use
# planes (130,000 characters that behave like the private-use characters of the first plane).
ASSIGNED = [
    chr(code)
    for code in range(0x10FFFF + 1)
    if not 0xD800 <= code <= 0xDFFF and code < 0xF0000 and unicodedata.category(chr(code)) != "Cn"
]


def _reference(normalizer: BertNormalizer, char: str) -> str:
    return normalizer.normalize_str(f"a{char}b")[1:-1]


def test_assigned_characters_cover_the_interesting_categories() -> None:
    categories = {unicodedata.category(char) for char in ASSIGNED}
    assert {"Cc", "Cf", "Co", "Mn", "Po", "Zs", "Zl", "Lo", "So"} <= categories
    assert len(ASSIGNED) > 140_000


def test_control_and_whitespace_match_bert_cleaning() -> None:
    clean = BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    wrong = []
    for char in ASSIGNED:
        expected = "" if char in "\0\ufffd" or is_control(char) else " " if is_whitespace(char) else char
        if _reference(clean, char) != expected:
            wrong.append(f"U+{ord(char):04X} {unicodedata.category(char)}")
    assert wrong == []


def test_cjk_matches_bert_chinese_handling() -> None:
    chinese = BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    wrong = [f"U+{ord(c):04X}" for c in ASSIGNED if (_reference(chinese, c) == f" {c} ") != is_cjk(c)]
    assert wrong == []


def test_accents_match_bert_accent_stripping() -> None:
    strip = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    wrong = []
    for char in ASSIGNED:
        if unicodedata.normalize("NFD", char) == char and (_reference(strip, char) == "") != is_accent(char):
            wrong.append(f"U+{ord(char):04X} {unicodedata.category(char)}")
    assert wrong == []


def test_punctuation_and_whitespace_match_the_bert_pre_tokenizer() -> None:
    pre_tokenizer = BertPreTokenizer()
    wrong = []
    for char in ASSIGNED:
        words = [word for word, _ in pre_tokenizer.pre_tokenize_str(f"a{char}b")]
        expected = ["a", char, "b"] if is_punctuation(char) else ["a", "b"] if is_whitespace(char) else [f"a{char}b"]
        if words != expected:
            wrong.append(f"U+{ord(char):04X} {unicodedata.category(char)}")
    assert wrong == []


@pytest.mark.parametrize(
    ("char", "control", "whitespace", "punctuation"),
    [
        ("\t", False, True, False),
        ("\n", False, True, False),
        ("\x0b", True, True, False),  # vertical tab: deleted as a control character first
        ("\u200b", True, False, False),  # zero-width space is a format character (Cf)
        ("\u00a0", False, True, False),  # no-break space
        ("\u3000", False, True, False),  # ideographic space
        ("$", False, False, True),  # an ASCII symbol (Sc) counts as punctuation
        ("\u00bf", False, False, True),  # inverted question mark (Po)
        ("\u2014", False, False, True),  # em dash (Pd)
        ("\u00a7", False, False, True),  # section sign (Po)
        ("\u20ac", False, False, False),  # the euro sign is a symbol (Sc), not ASCII
        ("\U0001f600", False, False, False),  # an emoji (So) stays inside its word
        ("\ue000", True, False, False),  # private use
    ],
)
def test_character_classes_of_examples(char: str, control: bool, whitespace: bool, punctuation: bool) -> None:
    assert (is_control(char), is_whitespace(char), is_punctuation(char)) == (control, whitespace, punctuation)


def test_unicode_8_view_of_characters_added_or_changed_later() -> None:
    assert unicodedata.category("\U0001e95e") == "Po" and unicode_category("\U0001e95e") == "Cn"  # Adlam, 2016
    assert unicodedata.category("\u166d") == "So" and unicode_category("\u166d") == "Po"
    assert unicode_category("a") == "Ll" and unicode_category(".") == "Po"


def test_ascii_punctuation_is_every_printable_ascii_symbol() -> None:
    expected = {chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum()}
    assert ASCII_PUNCTUATION == expected and len(ASCII_PUNCTUATION) == 32


def test_cjk_examples() -> None:
    assert is_cjk("中") and is_cjk("\U00020000") and is_cjk("\uf900")
    assert not is_cjk("あ") and not is_cjk("한") and not is_cjk("a")  # kana and hangul are letters
