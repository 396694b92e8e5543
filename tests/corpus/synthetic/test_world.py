"""Tests of the fixed world of characters."""

from __future__ import annotations

import pytest

from mlm_book.corpus.synthetic.lexicon import build_lexicon
from mlm_book.corpus.synthetic.world import N_CHARACTERS_PER_GENDER, make_world


def test_world_is_deterministic_and_seed_dependent():
    assert make_world(0) == make_world(0)
    assert make_world(0).characters != make_world(1).characters


def test_characters_have_unique_names_and_valid_facts():
    world, lex = make_world(0), build_lexicon()
    names = [c.name for c in world.characters]
    assert len(names) == len(set(names)) == 2 * N_CHARACTERS_PER_GENDER
    assert names == sorted(names)
    for c in world.characters:
        assert c.name in (lex.female_names if c.gender == "female" else lex.male_names)
        assert c.job in world.jobs and c.town in world.towns and c.pet in world.pets and c.food in world.foods
        assert 19 <= c.age <= 79
    assert set(world.pets) <= set(lex.classes["pet"]) and set(world.foods) == set(lex.classes["dish"])


def test_facts_are_spread_over_their_values():
    world = make_world(0)
    assert len({c.town for c in world.characters}) >= 25
    assert len({c.job for c in world.characters}) >= 40
    assert len({c.pet for c in world.characters}) == len(world.pets)


def test_pronouns():
    world = make_world(0)
    woman = next(c for c in world.characters if c.gender == "female")
    man = next(c for c in world.characters if c.gender == "male")
    assert (woman.subject, woman.object, woman.possessive) == ("she", "her", "her")
    assert (man.subject, man.object, man.possessive) == ("he", "him", "his")


def test_character_lookup():
    world = make_world(0)
    first = world.characters[0]
    assert world.character(first.name) is first
    with pytest.raises(KeyError, match=r"no character named 'Nobody' in world 0; see world\(\).characters"):
        world.character("Nobody")


@pytest.mark.parametrize("bad", [-1, 1.5, "0", None, True])
def test_bad_world_seed(bad):
    with pytest.raises(ValueError, match=r"world_seed must be a whole number( >= 0)?, got .*; pass e.g. world_seed=0"):
        make_world(bad)
