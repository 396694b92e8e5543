"""Tests of the lexicon tables built from the hand-written word lists."""

from __future__ import annotations

import re

from mlm_book.corpus.synthetic.lexicon import build_lexicon


def test_noun_classes_are_real_lowercase_words_of_useful_size():
    lex = build_lexicon()
    sizes = {name: len(lemmas) for name, lemmas in lex.classes.items()}
    for name in ("job", "animal", "food", "readable", "car", "place", "thing", "clothing", "instrument"):
        assert sizes[name] >= 10, sizes
    assert (
        sum(
            len(v)
            for k, v in lex.classes.items()
            if k
            in (
                "people",
                "job",
                "animal",
                "food",
                "drink",
                "readable",
                "car",
                "bike",
                "boat",
                "place",
                "thing",
                "clothing",
                "instrument",
                "plant",
                "building",
            )
        )
        >= 450
    )
    for lemmas in lex.classes.values():
        assert all(re.fullmatch(r"[a-z]+", lemma) for lemma in lemmas), lemmas
        assert len(set(lemmas)) == len(lemmas)


def test_classes_that_verbs_tell_apart_do_not_overlap():
    lex = build_lexicon()
    disjoint = ["food", "drink", "readable", "car", "boat", "animal", "person", "instrument", "place"]
    for i, a in enumerate(disjoint):
        for b in disjoint[i + 1 :]:
            assert not set(lex.classes[a]) & set(lex.classes[b]), (a, b, set(lex.classes[a]) & set(lex.classes[b]))


def test_every_frame_names_known_classes_and_verbs():
    lex = build_lexicon()
    for frame in lex.transitive:
        assert frame.object in lex.classes and frame.subject in lex.classes, frame
        assert frame.verb in lex.verbs
    assert sum(len(g) for g in lex.frame_groups) == len(lex.transitive)
    for verbs in lex.intransitive.values():
        assert all(v in lex.verbs for v in verbs)


def test_objects_of_follow_the_frames():
    lex = build_lexicon()
    assert set(lex.objects_of("read", "person")) == set(lex.classes["readable"])
    assert set(lex.objects_of("drive", "person")) == set(lex.classes["car"])
    assert "cake" in lex.objects_of("eat", "animate") and "book" not in lex.objects_of("eat", "animate")


def test_animals_have_sizes_and_only_able_verbs():
    lex = build_lexicon()
    assert set(lex.sizes) == set(lex.classes["animal"]) and set(lex.sizes.values()) == set(range(1, 7))
    assert "bark" in lex.animal_verbs["dog"] and "bark" not in lex.animal_verbs["cat"]
    assert "walk" not in lex.animal_verbs["goldfish"] and "swim" in lex.animal_verbs["goldfish"]
    assert "fly" in lex.animal_verbs["owl"] and "fly" not in lex.animal_verbs["elephant"]


def test_mass_nouns_have_no_plural_and_count_nouns_do():
    lex = build_lexicon()
    assert "soup" not in lex.plurals and "tea" not in lex.plurals
    assert lex.noun_form("soup", True) == "soup"
    assert lex.noun_form("child", True) == "children" and lex.noun_form("child", False) == "child"


def test_gradable_adjectives_compare():
    lex = build_lexicon()
    assert lex.graded["good"] == ("better", "best") and lex.graded["big"] == ("bigger", "biggest")
    assert "red" not in lex.gradable["thing"] and "beautiful" in lex.gradable["thing"]
    for adjectives in lex.gradable.values():
        assert adjectives


def test_names_and_towns():
    lex = build_lexicon()
    names = lex.female_names + lex.male_names
    assert len(set(names)) == len(names) >= 120
    assert len(set(lex.towns)) == len(lex.towns) >= 30
    lower_words = {w for lemmas in lex.classes.values() for w in lemmas}
    assert not {n.lower() for n in names + lex.towns} & lower_words
