"""Character classes of BERT's text pipeline: control, whitespace, punctuation, CJK, accents.

BERT's normaliser and pre-tokeniser look at one character at a time and ask which class it
belongs to. The classes come from the character's Unicode general category:

- *control* (deleted): categories ``Cc`` (control), ``Cf`` (format, e.g. zero-width joiner) and
  ``Co`` (private use), except tab, newline and carriage return, which count as whitespace;
- *whitespace* (turned into a space, then split on): tab, newline, carriage return and the
  separators ``Zs``, ``Zl``, ``Zp`` (Unicode's ``White_Space`` property);
- *punctuation* (split off as a word of its own): categories ``P*`` plus every ASCII symbol
  such as ``$ + < = > ^ ` | ~``;
- *CJK* (one token per character): the CJK Unified Ideographs blocks;
- *accent* (deleted after NFD decomposition when stripping accents): category ``Mn``.

The ``tokenizers`` library takes categories from Unicode 8.0 tables, while Python's
``unicodedata`` follows a newer Unicode version (14.0 in Python 3.11). To give exactly the same
tokens, ``unicode_category`` reports the Unicode 8.0 view: the few hundred marks, punctuation
and format characters added since are "unassigned" (``Cn``) there, and three characters have
changed category.
"""

from __future__ import annotations

import unicodedata

ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0x3400, 0x4DBF),  # Extension A
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2B73F),  # Extension C
    (0x2B740, 0x2B81F),  # Extension D
    (0x2B920, 0x2CEAF),  # Extension E (as BERT and tokenizers define it)
    (0xF900, 0xFAFF),  # Compatibility Ideographs
    (0x2F800, 0x2FA1F),  # Compatibility Ideographs Supplement
)

# Marks, punctuation and format characters added in Unicode 9.0 to 14.0 (first, last code point).
_ADDED_AFTER_UNICODE_8: tuple[tuple[int, int], ...] = (
    (0x0061D, 0x0061D),
    (0x007FD, 0x007FD),
    (0x00890, 0x00891),
    (0x00898, 0x0089F),
    (0x008CA, 0x008E2),
    (0x009FD, 0x009FE),
    (0x00A76, 0x00A76),
    (0x00AFA, 0x00AFF),
    (0x00B55, 0x00B55),
    (0x00C04, 0x00C04),
    (0x00C3C, 0x00C3C),
    (0x00C77, 0x00C77),
    (0x00C84, 0x00C84),
    (0x00D00, 0x00D00),
    (0x00D3B, 0x00D3C),
    (0x00D81, 0x00D81),
    (0x00EBA, 0x00EBA),
    (0x0180F, 0x0180F),
    (0x01885, 0x01886),
    (0x01ABF, 0x01ACE),
    (0x01B7D, 0x01B7E),
    (0x01DF6, 0x01DFB),
    (0x02E43, 0x02E4F),
    (0x02E52, 0x02E5D),
    (0x0A82C, 0x0A82C),
    (0x0A8C5, 0x0A8C5),
    (0x0A8FF, 0x0A8FF),
    (0x0A9BD, 0x0A9BD),
    (0x10D24, 0x10D27),
    (0x10EAB, 0x10EAD),
    (0x10F46, 0x10F50),
    (0x10F55, 0x10F59),
    (0x10F82, 0x10F89),
    (0x11070, 0x11070),
    (0x11073, 0x11074),
    (0x110C2, 0x110C2),
    (0x110CD, 0x110CD),
    (0x111CF, 0x111CF),
    (0x1123E, 0x1123E),
    (0x1133B, 0x1133B),
    (0x11438, 0x1143F),
    (0x11442, 0x11444),
    (0x11446, 0x11446),
    (0x1144B, 0x1144F),
    (0x1145A, 0x1145B),
    (0x1145D, 0x1145E),
    (0x11660, 0x1166C),
    (0x116B9, 0x116B9),
    (0x1182F, 0x11837),
    (0x11839, 0x1183B),
    (0x1193B, 0x1193C),
    (0x1193E, 0x1193E),
    (0x11943, 0x11946),
    (0x119D4, 0x119D7),
    (0x119DA, 0x119DB),
    (0x119E0, 0x119E0),
    (0x119E2, 0x119E2),
    (0x11A01, 0x11A0A),
    (0x11A33, 0x11A38),
    (0x11A3B, 0x11A47),
    (0x11A51, 0x11A56),
    (0x11A59, 0x11A5B),
    (0x11A8A, 0x11A96),
    (0x11A98, 0x11A9C),
    (0x11A9E, 0x11AA2),
    (0x11C30, 0x11C36),
    (0x11C38, 0x11C3D),
    (0x11C3F, 0x11C3F),
    (0x11C41, 0x11C45),
    (0x11C70, 0x11C71),
    (0x11C92, 0x11CA7),
    (0x11CAA, 0x11CB0),
    (0x11CB2, 0x11CB3),
    (0x11CB5, 0x11CB6),
    (0x11D31, 0x11D36),
    (0x11D3A, 0x11D3A),
    (0x11D3C, 0x11D3D),
    (0x11D3F, 0x11D45),
    (0x11D47, 0x11D47),
    (0x11D90, 0x11D91),
    (0x11D95, 0x11D95),
    (0x11D97, 0x11D97),
    (0x11EF3, 0x11EF4),
    (0x11EF7, 0x11EF8),
    (0x11FFF, 0x11FFF),
    (0x12FF1, 0x12FF2),
    (0x13430, 0x13438),
    (0x16E97, 0x16E9A),
    (0x16F4F, 0x16F4F),
    (0x16FE2, 0x16FE2),
    (0x16FE4, 0x16FE4),
    (0x1CF00, 0x1CF2D),
    (0x1CF30, 0x1CF46),
    (0x1E000, 0x1E006),
    (0x1E008, 0x1E018),
    (0x1E01B, 0x1E021),
    (0x1E023, 0x1E024),
    (0x1E026, 0x1E02A),
    (0x1E130, 0x1E136),
    (0x1E2AE, 0x1E2AE),
    (0x1E2EC, 0x1E2EF),
    (0x1E944, 0x1E94A),
    (0x1E95E, 0x1E95F),
)
_CHANGED_SINCE_UNICODE_8 = {"\u166d": "Po", "\u1734": "Mn", "\U000111c9": "Po"}
_UNICODE_8_VIEW: dict[str, str] = {
    chr(code): "Cn" for first, last in _ADDED_AFTER_UNICODE_8 for code in range(first, last + 1)
} | _CHANGED_SINCE_UNICODE_8


def unicode_category(char: str) -> str:
    """Return the Unicode general category of ``char`` as the ``tokenizers`` library sees it.

    Args:
        char: a single character.

    Returns:
        A two-letter category such as ``"Lu"`` or ``"Po"``: Python's ``unicodedata.category``,
        except for the characters whose category differs in Unicode 8.0.
    """
    return _UNICODE_8_VIEW.get(char) or unicodedata.category(char)


def is_control(char: str) -> bool:
    """Whether cleaning deletes ``char``: a control, format or private-use character.

    Tab, newline and carriage return are whitespace, not control characters.
    """
    if char in "\t\n\r":
        return False
    return unicode_category(char) in ("Cc", "Cf", "Co")


def is_whitespace(char: str) -> bool:
    """Whether ``char`` separates words: ASCII and Unicode spaces, line and paragraph breaks.

    Vertical tab, form feed and U+0085 are whitespace too, but cleaning deletes them first as
    control characters.
    """
    return char in "\t\n\v\f\r\x85" or unicode_category(char) in ("Zs", "Zl", "Zp")


def is_punctuation(char: str) -> bool:
    """Whether ``char`` becomes a word of its own: Unicode punctuation or any ASCII symbol."""
    return char in ASCII_PUNCTUATION or unicode_category(char).startswith("P")


def is_cjk(char: str) -> bool:
    """Whether ``char`` is a CJK ideograph, which BERT treats as a word of its own."""
    code = ord(char)
    return any(first <= code <= last for first, last in CJK_RANGES)


def is_accent(char: str) -> bool:
    """Whether ``char`` is a non-spacing combining mark, which accent stripping deletes."""
    return unicode_category(char) == "Mn"
