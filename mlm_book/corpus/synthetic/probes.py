"""Probes: sentences with one masked word whose right answers the generator knows.

Each probe tests one thing a masked language model should learn from the corpus:

* ``agreement`` -- the verb agrees with its subject across an attractor:
  ``The keys near the old box [MASK] heavy.`` (answers ``are``/``were``, not ``is``/``was``);
* ``selection`` -- only some nouns fit a verb: ``Anna drove the [MASK] to the park.``
  (vehicles, not foods); ``The [MASK] barked in the garden.`` (dogs, seals ...);
* ``reference`` -- who a pronoun points at, or which name a pronoun calls for:
  ``Anna met Tom. ... [MASK] ate a pie because she was hungry.`` (``Anna``);
* ``facts`` -- the world's facts: ``Anna lives in [MASK].`` (her home town).

Except for ``reference`` (where recalling a name from the context is the point), no correct
answer occurs elsewhere in a probe, so it cannot be copied. Probes come from their own
random streams, never from the training paragraphs' streams, and use the same world.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlm_book.corpus.synthetic.generate import detokenize
from mlm_book.corpus.synthetic.lexicon import build_lexicon
from mlm_book.corpus.synthetic.phrases import Writer
from mlm_book.corpus.synthetic.probe_builders import BUILDERS
from mlm_book.corpus.synthetic.rng import SplitMix64, derive_seed
from mlm_book.corpus.synthetic.world import make_world
from mlm_book.utils.config import check_whole
from mlm_book.utils.special_tokens import MASK_TOKEN

PROBE_CATEGORIES: tuple[str, ...] = ("agreement", "selection", "reference", "facts")
_MAX_TRIES = 50


@dataclass(frozen=True)
class Probe:
    """A text with exactly one ``[MASK]`` and the words that may (and may not) fill it.

    Attributes:
        text: the probe, with the literal ``[MASK]`` where the hidden word was.
        category: one of :data:`PROBE_CATEGORIES`.
        answers: every word that fills the mask correctly.
        distractors: contrasting wrong words (the other number, a wrong class, another
            character's fact), useful to score a model by comparing probabilities.
        construction: which kind of sentence within the category, e.g. ``"attractor-pp"``.
    """

    text: str
    category: str
    answers: frozenset[str]
    distractors: frozenset[str]
    construction: str


def copies_answer(words: list[str] | tuple[str, ...], answers: frozenset[str]) -> bool:
    """True if a correct answer occurs among the unmasked words (ignoring case)."""
    lowered = {a.lower() for a in answers}
    return any(word.lower() in lowered for word in words if word != MASK_TOKEN)


def _one_probe(category: str, index: int, seed: int, world_seed: int) -> Probe:
    """Build probe ``index`` of a category, redrawing until it is valid."""
    lex, world = build_lexicon(), make_world(world_seed)
    builders = BUILDERS[category]
    for attempt in range(_MAX_TRIES):
        rng = SplitMix64(derive_seed(seed, "probe", category, index, attempt))
        w = Writer(lex, world, rng)
        name, answers, distractors = rng.choice(builders)(w)
        if category != "reference" and copies_answer(w.words, answers):
            continue
        if category == "agreement" and any(lex.plurals.get(word) == word for word in w.words):
            continue  # "The sheep near the box [MASK] ...": both numbers would be right
        return Probe(detokenize(w.words), category, frozenset(answers), frozenset(distractors) - answers, name)
    raise RuntimeError(f"could not build a valid {category} probe in {_MAX_TRIES} tries")  # pragma: no cover


def make_probes(
    n_per_category: int, *, seed: int = 0, world_seed: int = 0, categories: tuple[str, ...] = PROBE_CATEGORIES
) -> list[Probe]:
    """Make probe sentences with gold answers, ``n_per_category`` of each category.

    Args:
        n_per_category: how many probes of each category (non-negative).
        seed: probe seed; probes use streams that training paragraphs never use.
        world_seed: the world whose facts the ``facts`` probes ask about (default: the book's).
        categories: which categories, in this order (default: all of :data:`PROBE_CATEGORIES`).

    Returns:
        The probes, grouped by category in the order of ``categories``.

    Raises:
        ValueError: if ``n_per_category`` or a seed is negative or not an integer, or a
            category is unknown.
    """
    check_whole(n_per_category, "n_per_category", 0)
    check_whole(seed, "seed", 0, hint="; pass e.g. seed=0")
    check_whole(world_seed, "world_seed", 0, hint="; pass e.g. world_seed=0")
    for category in categories:
        if category not in PROBE_CATEGORIES:
            raise ValueError(f"unknown probe category {category!r}; choose from {PROBE_CATEGORIES}")
    return [_one_probe(c, i, seed, world_seed) for c in categories for i in range(n_per_category)]
