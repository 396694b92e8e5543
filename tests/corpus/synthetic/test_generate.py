"""Tests of the paragraph generator: determinism, vocabulary, agreement and world facts.

The agreement and world checks parse the generated words independently of the generator:
they find subjects, verbs and fact statements from the words and tags alone, and compare
them with the lexicon's number forms and the world table.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlm_book.corpus.synthetic.generate import (
    AnnotatedParagraph,
    detokenize,
    generate_annotated,
    generate_paragraphs,
    iter_paragraphs,
)
from mlm_book.corpus.synthetic.lexicon import build_lexicon
from mlm_book.corpus.synthetic.world import make_world

TAGSET = {"NOUN", "VERB", "ADJ", "ADV", "DET", "PRON", "PROPN", "ADP", "AUX", "CCONJ", "SCONJ", "PART", "NUM", "PUNCT"}
SINGULAR_FINITE = {"is", "was", "has", "does"}
PLURAL_FINITE = {"are", "were", "have", "do"}


@lru_cache(maxsize=1)
def annotated_sample() -> list[AnnotatedParagraph]:
    return generate_annotated(2000, seed=7)


@lru_cache(maxsize=1)
def number_tables() -> tuple[set[str], set[str], set[str], set[str]]:
    """(singular nouns, plural nouns, 3rd-person-singular verbs, plural present verbs)."""
    lex = build_lexicon()
    plurals = set(lex.plurals.values())
    singulars = set(lex.plurals) - plurals
    plurals -= set(lex.plurals)  # "sheep", "deer": same form, no number to check
    third = {f.third for f in lex.verbs.values()}
    base = {f.base for f in lex.verbs.values() if f.base not in {f.past for f in lex.verbs.values()}}
    return singulars, plurals, third - base, base - third


def sentences_of(paragraph: AnnotatedParagraph) -> list[list[tuple[str, str]]]:
    out, current = [], []
    for word, tag in zip(paragraph.words, paragraph.tags):
        current.append((word, tag))
        if word in ".!?":
            out.append(current)
            current = []
    return out


# -- determinism ---------------------------------------------------------------------------
def test_same_seed_same_text_and_prefix_property():
    first = generate_paragraphs(30, seed=3)
    assert first == generate_paragraphs(30, seed=3)
    assert generate_paragraphs(12, seed=3) == first[:12]


def test_different_seeds_differ():
    a, b = generate_paragraphs(10, seed=0), generate_paragraphs(10, seed=1)
    assert all(x != y for x, y in zip(a, b))


def test_different_world_seeds_change_facts_not_grammar():
    a = generate_paragraphs(5, seed=0, world_seed=0)
    b = generate_paragraphs(5, seed=0, world_seed=1)
    assert a != b


def test_iter_paragraphs_continues_generate_paragraphs():
    stream = iter_paragraphs(seed=5)
    assert [next(stream) for _ in range(8)] == generate_paragraphs(8, seed=5)
    assert next(iter_paragraphs(seed=5, start=6)) == generate_paragraphs(7, seed=5)[6]


def test_annotated_text_equals_plain_text():
    annotated = generate_annotated(25, seed=11)
    assert [a.text for a in annotated] == generate_paragraphs(25, seed=11)


# -- annotations ---------------------------------------------------------------------------
def test_detokenize_rules():
    assert detokenize(["Anna", "'s", "dog", "barked", ",", "loudly", "."]) == "Anna's dog barked, loudly."
    assert detokenize([]) == ""


@given(seed=st.integers(min_value=0, max_value=2**64))
def test_any_seed_gives_valid_annotated_text(seed):
    for paragraph in generate_annotated(3, seed=seed):
        assert len(paragraph.words) == len(paragraph.tags) > 0
        assert detokenize(paragraph.words) == paragraph.text
        assert set(paragraph.tags) <= TAGSET
        assert all(w.strip() == w and w for w in paragraph.words)
        assert paragraph.words[-1] in ".!?"
        for sentence in sentences_of(paragraph):
            assert sentence[0][0][0].isupper() or sentence[0][0][0].isdigit(), sentence
        punctuation = {w for w, t in zip(paragraph.words, paragraph.tags) if t == "PUNCT"}
        assert punctuation <= {".", ",", "!", "?"}
        assert "  " not in paragraph.text and "[MASK]" not in paragraph.text


def test_tags_match_word_classes():
    lex = build_lexicon()
    names = {c.name for c in make_world(0).characters} | set(lex.towns)
    for paragraph in annotated_sample()[:300]:
        for word, tag in zip(paragraph.words, paragraph.tags):
            if word in names:
                assert tag == "PROPN", (word, tag)
            if tag == "NUM":
                assert word.isdigit() or word.lower() in {
                    "two",
                    "three",
                    "four",
                    "five",
                    "six",
                    "seven",
                    "eight",
                    "nine",
                    "ten",
                    "eleven",
                    "twelve",
                    "one",
                }
            if word.lower() in {"the", "a", "an"}:
                assert tag == "DET"


# -- vocabulary -----------------------------------------------------------------------------
def test_at_least_2000_word_types_with_inflections():
    counts = Counter(
        w.lower() for p in annotated_sample() for w, t in zip(p.words, p.tags) if t not in ("PUNCT", "NUM")
    )
    assert len(counts) >= 2000, len(counts)
    for irregular in ("children", "mice", "went", "ate", "better", "best", "geese", "wolves", "people"):
        assert counts[irregular] > 0, irregular
    suffixes = {
        s: sum(1 for w in counts if w.endswith(s) and len(w) > len(s) + 2)
        for s in ("s", "es", "ies", "ed", "ing", "er", "est")
    }
    assert all(n >= 20 for n in suffixes.values()), suffixes


def test_numbers_names_and_punctuation_occur():
    tags = Counter(t for p in annotated_sample()[:500] for t in p.tags)
    words = Counter(w for p in annotated_sample()[:500] for w in p.words)
    assert tags["NUM"] > 100 and tags["PROPN"] > 1000
    assert words[","] > 100 and words["!"] + words["."] > 1000


# -- agreement ------------------------------------------------------------------------------
def _noun_phrase_end(sentence: list[tuple[str, str]], i: int) -> int | None:
    """Index of the head noun of a noun phrase starting at ``i`` (DET/NUM ADJ* NOUN)."""
    if i < len(sentence) and sentence[i][1] in ("DET", "NUM"):
        i += 1
    while i < len(sentence) and sentence[i][1] in ("ADJ", "ADV"):
        i += 1
    return i if i < len(sentence) and sentence[i][1] == "NOUN" else None


def _skip_verb_group(sentence: list[tuple[str, str]], i: int) -> int:
    """Index after a relative clause's verb group (AUX* PART? VERB), e.g. ``have dropped``."""
    while i < len(sentence) and sentence[i][1] in ("AUX", "PART"):
        i += 1
    return i + 1


def agreement_pairs(sentence: list[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    """(subject head, finite verb, attractor of other number?) pairs found in one sentence."""
    head_at = _noun_phrase_end(sentence, 0) if sentence[0][1] == "DET" else None
    if head_at is None:
        return []
    pairs, i = [], head_at + 1
    head = sentence[head_at][0]
    attractor = None
    if i < len(sentence) and sentence[i][0] in ("that", "who"):
        relative = sentence[i][0]
        if relative == "that":  # the cake that the children baked ...
            inner_at = _noun_phrase_end(sentence, i + 1)
            if inner_at is None:
                return []
            attractor = sentence[inner_at][0]
            pairs.append((attractor, sentence[inner_at + 1][0], False))
            i = _skip_verb_group(sentence, inner_at + 1)
        else:  # the teachers who read the letter ...
            pairs.append((head, sentence[i + 1][0], False))
            end = _noun_phrase_end(sentence, _skip_verb_group(sentence, i + 1))
            if end is None:
                return []
            attractor, i = sentence[end][0], end + 1
    elif i < len(sentence) and sentence[i][1] == "ADP" and sentence[i][0] != "than":
        end = _noun_phrase_end(sentence, i + 1)
        if end is None:
            return []
        attractor, i = sentence[end][0], end + 1
    if i < len(sentence):
        pairs.append((head, sentence[i][0], attractor is not None and _number(attractor) != _number(head)))
    return pairs


def _number(noun: str) -> str | None:
    singulars, plurals, _, _ = number_tables()
    return "sg" if noun in singulars else "pl" if noun in plurals else None


def _verb_number(verb: str) -> str | None:
    _, _, third, plural_present = number_tables()
    if verb in SINGULAR_FINITE or verb in third:
        return "sg"
    if verb in PLURAL_FINITE or verb in plural_present:
        return "pl"
    return None


def test_subject_verb_agreement_in_generated_sentences():
    checked = across_attractor = 0
    for paragraph in annotated_sample():
        for sentence in sentences_of(paragraph):
            for head, verb, attracted in agreement_pairs(sentence):
                if _number(head) and _verb_number(verb):
                    assert _number(head) == _verb_number(verb), (head, verb, paragraph.text)
                    checked += 1
                    across_attractor += attracted
    assert checked > 1500 and across_attractor > 300, (checked, across_attractor)


def test_there_is_agrees_with_the_following_noun():
    checked = 0
    for paragraph in annotated_sample():
        for sentence in sentences_of(paragraph):
            if sentence[0][0] == "There":
                noun = next(w for w, t in sentence[2:] if t == "NOUN")
                if _number(noun):
                    assert _number(noun) == _verb_number(sentence[1][0]), paragraph.text
                    checked += 1
    assert checked > 200


def test_coordinated_names_take_plural_verbs():
    checked = 0
    for paragraph in annotated_sample():
        for sentence in sentences_of(paragraph):
            if len(sentence) > 3 and sentence[0][1] == sentence[2][1] == "PROPN" and sentence[1][0] == "and":
                number = _verb_number(sentence[3][0])
                assert number in ("pl", None), paragraph.text
                checked += number == "pl"
    assert checked > 30


# -- selectional restrictions ---------------------------------------------------------------
def test_only_readables_are_read_and_only_animals_bark():
    lex = build_lexicon()
    readable = {f for lemma in lex.classes["readable"] for f in (lemma, lex.plurals.get(lemma))}
    barkers = {f for lemma in lex.classes["bark"] for f in (lemma, lex.plurals.get(lemma))}
    read_forms = {"read", "reads", "reading"}
    seen_read = seen_bark = 0
    for paragraph in annotated_sample():
        words = paragraph.words
        for i, word in enumerate(words[:-1]):
            if word in read_forms and paragraph.tags[i] == "VERB":
                j = _noun_phrase_end(list(zip(words, paragraph.tags)), i + 1)
                if j is not None:
                    assert words[j] in readable, paragraph.text
                    seen_read += 1
        for sentence in sentences_of(paragraph):
            if any(w in ("bark", "barked", "barks", "barking") for w, _ in sentence):
                subject = next(w for w, t in sentence if t == "NOUN")  # "The old dog", "Her dog"
                assert subject in barkers, paragraph.text
                seen_bark += 1
    assert seen_read > 20 and seen_bark > 5, (seen_read, seen_bark)


# -- world consistency ----------------------------------------------------------------------
PRONOUN_GENDER = {"she": "female", "her": "female", "he": "male", "him": "male", "his": "male"}


def sentence_subject(words: list[str], genders: dict[str, str]) -> str | None:
    """The name or pronoun that opens a sentence (after a time phrase such as ``On Monday,``)."""
    start = words.index(",") + 1 if "," in words[:4] and words[0] not in genders else 0
    first = words[start] if start < len(words) else ""
    return first if first in genders or first.lower() in ("she", "he") else None


def resolve(
    pronoun_or_name: str, position: int, words: list[str], named: dict[str, list[str]], genders: dict[str, str]
) -> str | None:
    """The character a name or pronoun refers to.

    A pronoun later in a sentence whose subject has the same gender refers to that subject
    (``Anna fed her dog``); any other pronoun needs exactly one character of its gender
    named so far in the paragraph.
    """
    if pronoun_or_name in genders:
        return pronoun_or_name
    gender = PRONOUN_GENDER.get(pronoun_or_name.lower())
    if gender is None:
        return None
    subject = sentence_subject(words, genders)
    if position > 0 and subject is not None and subject != pronoun_or_name:
        if genders.get(subject) == gender:
            return subject
    assert len(named[gender]) == 1, f"ambiguous pronoun {pronoun_or_name!r}: {named[gender]} in {words}"
    return named[gender][0]


def fact_mentions(paragraph: str, world) -> list[tuple[str, str, str]]:
    """(character, fact, value) for each fact statement, resolved sentence by sentence."""
    genders = {c.name: c.gender for c in world.characters}
    named: dict[str, list[str]] = {"female": [], "male": []}
    found = []
    for sentence in re.split(r"(?<=[.!?]) ", paragraph):
        words = re.findall(r"\w+|[^\w\s]", sentence)
        for name in words:
            if name in genders and name not in named[genders[name]]:
                named[genders[name]].append(name)
        for subject, fact, value in _facts_in_sentence(sentence):
            position = next(i for i, w in enumerate(words) if w == subject)
            person = resolve(subject, position, words, named, genders)
            if person is not None:
                found.append((person, fact, value))
    return found


def _facts_in_sentence(sentence: str) -> list[tuple[str, str, str]]:
    """(subject word, fact, value) for each fact template found in one sentence."""
    lex = build_lexicon()
    jobs, animals = set(lex.classes["job"]), set(lex.classes["animal"])
    found = []
    for pattern in (
        r"\b(\w+)(?:, who)? (?:lives in|is from|has always lived in) ([A-Z]\w+)",
        r"\b(\w+) (?:went|drove|walked) home to ([A-Z]\w+)",
        r"\b(\w+), an? \w+ from ([A-Z]\w+)",
    ):
        found += [(s, "town", v) for s, v in re.findall(pattern, sentence)]
    for pattern in (
        r"\b(\w+) (?:lives in [A-Z]\w+ and works as|works as|is) an? (\w+)",
        r"\b(\w+), (?:who lives in [A-Z]\w+, is|an?) (\w+)",
    ):
        found += [(s, "job", v) for s, v in re.findall(pattern, sentence) if v in jobs]
    found += [(s, "pet", v) for s, v in re.findall(r"\b(\w+)(?:, an? \w+ from [A-Z]\w+,)? has an? (\w+)", sentence)]
    found += [
        (s, "pet", v)
        for s, v in re.findall(r"\b(\w+)(?:'s)? (\w+)", sentence)
        if v in animals and (s[0].isupper() and s not in ("The", "A", "An") or s in ("her", "his"))
    ]
    found += [(s, "food", v) for s, v in re.findall(r"\b(\w+)(?:'s)? favourite food is (\w+)", sentence)]
    found += [(s, "food", v) for v, s in re.findall(r"\b(\w+), (her|his) favourite food", sentence)]
    found += [(s, "age", v) for s, v in re.findall(r"\b(\w+) is (\d+) years old", sentence)]
    return found


def test_every_fact_mention_agrees_with_the_world():
    world = make_world(0)
    truth = {c.name: c for c in world.characters}
    checked = Counter()
    for paragraph in generate_paragraphs(2000, seed=1):
        for person, fact, value in fact_mentions(paragraph, world):
            expected = str(getattr(truth[person], fact))
            assert value == expected, (person, fact, value, expected, paragraph)
            checked[fact] += 1
    assert min(checked[f] for f in ("town", "job", "pet", "food", "age")) > 300, checked


def test_every_pronoun_has_one_referent():
    world = make_world(0)
    genders = {c.name: c.gender for c in world.characters}
    checked = 0
    for paragraph in generate_paragraphs(1000, seed=2):
        named: dict[str, list[str]] = {"female": [], "male": []}
        for sentence in re.split(r"(?<=[.!?]) ", paragraph):
            words = re.findall(r"\w+|[^\w\s]", sentence)
            for i, word in enumerate(words):
                if word in genders and word not in named[genders[word]]:
                    named[genders[word]].append(word)
                elif word.lower() in PRONOUN_GENDER:
                    assert resolve(word, i, words, named, genders) is not None
                    checked += 1
    assert checked > 2000


def test_characters_recur_within_paragraphs():
    world = make_world(0)
    names = {c.name for c in world.characters}
    repeats = [max(Counter(w for w in p.words if w in names).values()) for p in annotated_sample()[:500]]
    assert sum(r >= 2 for r in repeats) > 400


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [-1, 2.5, "10", True])
def test_bad_paragraph_count_is_rejected(bad):
    with pytest.raises(ValueError, match=r"n_paragraphs must be a whole number( >= 0)?, got"):
        generate_paragraphs(bad)


@pytest.mark.parametrize("function", [generate_paragraphs, generate_annotated])
def test_bad_seeds_are_rejected(function):
    with pytest.raises(ValueError, match=r"seed must be a whole number >= 0, got -3; pass e.g. seed=0"):
        function(2, seed=-3)
    with pytest.raises(ValueError, match=r"world_seed must be a whole number, got 'a'"):
        function(2, world_seed="a")


def test_bad_start_is_rejected():
    with pytest.raises(ValueError, match=r"must be a whole number >= 0, got -1"):
        next(iter_paragraphs(start=-1))
