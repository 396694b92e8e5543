"""The fixed world the corpus talks about: named characters and their facts.

Every character has a name, a gender (which decides ``he``/``she``), a job, a home town, a
pet, a favourite food and an age. The world is drawn once from a *world seed* with the
portable generator of :mod:`~mlm_book.corpus.synthetic.rng`, and every corpus seed reuses it, so a
fact such as "Anna lives in Millbrook" holds in every paragraph: a model can learn it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from mlm_book.corpus.synthetic.lexicon import build_lexicon
from mlm_book.corpus.synthetic.rng import SplitMix64
from mlm_book.utils.config import check_whole
from mlm_book.utils.seeding import derive_seed

N_CHARACTERS_PER_GENDER = 60


@dataclass(frozen=True)
class Character:
    """One named character and the facts that are true of them everywhere in the corpus."""

    name: str
    gender: str  # "female" or "male"
    job: str
    town: str
    pet: str
    food: str
    age: int

    @property
    def subject(self) -> str:
        """Subject pronoun: ``she`` or ``he``."""
        return "she" if self.gender == "female" else "he"

    @property
    def object(self) -> str:
        """Object pronoun: ``her`` or ``him``."""
        return "her" if self.gender == "female" else "him"

    @property
    def possessive(self) -> str:
        """Possessive determiner: ``her`` or ``his``."""
        return "her" if self.gender == "female" else "his"


@dataclass(frozen=True)
class World:
    """The characters of one world seed, and the value sets their facts are drawn from.

    Attributes:
        seed: the world seed.
        characters: every character, sorted by name.
        towns, jobs, pets, foods: the values facts may take.
    """

    seed: int
    characters: tuple[Character, ...]
    towns: tuple[str, ...]
    jobs: tuple[str, ...]
    pets: tuple[str, ...]
    foods: tuple[str, ...]

    def character(self, name: str) -> Character:
        """Return the character called ``name``.

        Raises:
            KeyError: if nobody in this world has that name.
        """
        for person in self.characters:
            if person.name == name:
                return person
        raise KeyError(f"no character named {name!r} in world {self.seed}; see world().characters")


@lru_cache(maxsize=8)
def make_world(world_seed: int = 0) -> World:
    """Draw the world of a world seed: who lives where, works as what, keeps which pet.

    Args:
        world_seed: non-negative integer; the default world (0) is the book's.

    Returns:
        A frozen :class:`World`; the same seed gives the same world on every machine.

    Raises:
        ValueError: if ``world_seed`` is not a non-negative integer.
    """
    check_whole(world_seed, "world_seed", 0, hint="; pass e.g. world_seed=0")
    lex = build_lexicon()
    rng = SplitMix64(derive_seed(world_seed, "world"))
    jobs, pets, foods, towns = lex.classes["job"], lex.classes["pet"], lex.classes["dish"], lex.towns
    chosen = [(name, "female") for name in rng.sample(lex.female_names, N_CHARACTERS_PER_GENDER)]
    chosen += [(name, "male") for name in rng.sample(lex.male_names, N_CHARACTERS_PER_GENDER)]
    characters = [
        Character(
            name, gender, rng.choice(jobs), rng.choice(towns), rng.choice(pets), rng.choice(foods), rng.between(19, 79)
        )
        for name, gender in chosen
    ]
    return World(
        seed=world_seed,
        characters=tuple(sorted(characters, key=lambda c: c.name)),
        towns=towns,
        jobs=jobs,
        pets=pets,
        foods=foods,
    )
