"""Tests of the English inflection rules against hand-checked forms."""

from __future__ import annotations

import pytest

from mlm_book.corpus.synthetic import inflect


@pytest.mark.parametrize(
    "singular, plural",
    [
        ("book", "books"),
        ("box", "boxes"),
        ("bus", "buses"),
        ("dish", "dishes"),
        ("church", "churches"),
        ("story", "stories"),
        ("key", "keys"),
        ("child", "children"),
        ("mouse", "mice"),
        ("sheep", "sheep"),
        ("knife", "knives"),
        ("potato", "potatoes"),
        ("fisherman", "fishermen"),
        ("woman", "women"),
        ("person", "people"),
        ("human", "humans"),
        ("goose", "geese"),
    ],
)
def test_plural(singular, plural):
    assert inflect.plural(singular) == plural


@pytest.mark.parametrize(
    "base, third, past, ing, participle",
    [
        ("walk", "walks", "walked", "walking", "walked"),
        ("bake", "bakes", "baked", "baking", "baked"),
        ("stop", "stops", "stopped", "stopping", "stopped"),
        ("visit", "visits", "visited", "visiting", "visited"),
        ("try", "tries", "tried", "trying", "tried"),
        ("play", "plays", "played", "playing", "played"),
        ("wash", "washes", "washed", "washing", "washed"),
        ("fix", "fixes", "fixed", "fixing", "fixed"),
        ("tie", "ties", "tied", "tying", "tied"),
        ("see", "sees", "saw", "seeing", "seen"),
        ("travel", "travels", "travelled", "travelling", "travelled"),
        ("go", "goes", "went", "going", "gone"),
        ("eat", "eats", "ate", "eating", "eaten"),
        ("run", "runs", "ran", "running", "run"),
        ("have", "has", "had", "having", "had"),
        ("open", "opens", "opened", "opening", "opened"),
        ("row", "rows", "rowed", "rowing", "rowed"),
    ],
)
def test_verb_forms(base, third, past, ing, participle):
    assert inflect.third_person(base) == third
    assert inflect.past(base) == past
    assert inflect.present_participle(base) == ing
    assert inflect.past_participle(base) == participle


@pytest.mark.parametrize(
    "adjective, comparative, superlative",
    [
        ("tall", "taller", "tallest"),
        ("big", "bigger", "biggest"),
        ("nice", "nicer", "nicest"),
        ("happy", "happier", "happiest"),
        ("good", "better", "best"),
        ("bad", "worse", "worst"),
        ("slow", "slower", "slowest"),
        ("grey", "greyer", "greyest"),
        ("thin", "thinner", "thinnest"),
    ],
)
def test_comparison(adjective, comparative, superlative):
    assert inflect.comparative(adjective) == comparative
    assert inflect.superlative(adjective) == superlative


@pytest.mark.parametrize(
    "word, article",
    [
        ("apple", "an"),
        ("book", "a"),
        ("uniform", "a"),
        ("hour", "an"),
        ("owl", "an"),
        ("Owl", "an"),
        ("18", "an"),
        ("8", "an"),
        ("7", "a"),
        ("ukulele", "a"),
    ],
)
def test_indefinite_article(word, article):
    assert inflect.indefinite_article(word) == article


def test_irregular_tables_are_consistent():
    assert all(inflect.past(v) == past for v, (past, _) in inflect.IRREGULAR_VERBS.items())
    assert all(" " not in v for v in inflect.IRREGULAR_VERBS)
