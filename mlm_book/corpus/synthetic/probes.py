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
random streams, never from the training paragraphs' streams, and use the same world; no text
occurs twice within a category, so every probe counts as one independent test. Streams
alone do not keep a short sentence out of the corpus, so an ``agreement``, ``selection`` or
``reference`` probe whose masked sentence, filled with a right answer, occurs word for word in
the default training corpus is drawn again: those probes test generalisation, not recall of a
sentence seen in training. ``facts`` probes are the exception by design: they ask the model to
recall a fact the corpus states, in the words the corpus states it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mlm_book.corpus.synthetic.generate import DEFAULT_N_PARAGRAPHS, detokenize, generate_paragraphs
from mlm_book.corpus.synthetic.lexicon import build_lexicon
from mlm_book.corpus.synthetic.phrases import Writer
from mlm_book.corpus.synthetic.probe_builders import BUILDERS
from mlm_book.corpus.synthetic.rng import SplitMix64
from mlm_book.corpus.synthetic.world import make_world
from mlm_book.utils.config import check_whole
from mlm_book.utils.seeding import derive_seed
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
        subject: for agreement probes, the index of the noun the masked verb agrees with among
            the probe's whitespace-separated words (which come before any punctuation, so it is
            also the tokenizer's word index): ``2`` in *The rough bowls that ...*; ``None`` for
            the other categories.
    """

    text: str
    category: str
    answers: frozenset[str]
    distractors: frozenset[str]
    construction: str
    subject: int | None = None


def copies_answer(words: list[str] | tuple[str, ...], answers: frozenset[str]) -> bool:
    """True if a correct answer occurs among the unmasked words (ignoring case)."""
    lowered = {a.lower() for a in answers}
    return any(word.lower() in lowered for word in words if word != MASK_TOKEN)


UNSEEN_CATEGORIES: tuple[str, ...] = ("agreement", "selection", "reference")
"""Categories whose masked sentence, filled with a right answer, never occurs in the training corpus."""
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@lru_cache(maxsize=4)
def corpus_paragraphs(n_paragraphs: int, seed: int = 0, world_seed: int = 0) -> tuple[str, ...]:
    """The first ``n_paragraphs`` paragraphs of a built-in corpus, generated once per process.

    Args:
        n_paragraphs: how many paragraphs (the default training corpus has ``DEFAULT_N_PARAGRAPHS``).
        seed: the corpus seed.
        world_seed: the corpus's world.

    Returns:
        The paragraphs, as ``generate_paragraphs`` returns them.
    """
    return tuple(generate_paragraphs(n_paragraphs, seed=seed, world_seed=world_seed))


@lru_cache(maxsize=4)
def corpus_sentences(n_paragraphs: int, seed: int = 0, world_seed: int = 0) -> frozenset[str]:
    """Every sentence of the first ``n_paragraphs`` paragraphs of a built-in corpus.

    Args:
        n_paragraphs: how many paragraphs (the default training corpus has ``DEFAULT_N_PARAGRAPHS``).
        seed: the corpus seed.
        world_seed: the corpus's world.

    Returns:
        The sentences, split after ``.``, ``!`` and ``?``.
    """
    paragraphs = corpus_paragraphs(n_paragraphs, seed, world_seed)
    return frozenset(sentence for paragraph in paragraphs for sentence in _SENTENCE_END.split(paragraph))


def occurs_in(text: str, answers: frozenset[str], sentences: frozenset[str]) -> bool:
    """True if the sentence of ``text`` that holds ``[MASK]``, filled with an answer, is in ``sentences``."""
    masked = next(s for s in _SENTENCE_END.split(text) if MASK_TOKEN in s)
    return any(masked.replace(MASK_TOKEN, answer) in sentences for answer in answers)


def _one_probe(category: str, index: int, seed: int, world_seed: int, seen: frozenset[str], taken: set[str]) -> Probe:
    """Build probe ``index`` of a category, redrawing until it is valid and new (not in ``taken``)."""
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
        text = detokenize(w.words)
        if category in UNSEEN_CATEGORIES and occurs_in(text, frozenset(answers), seen):
            continue  # a training sentence: the probe would test recall, not generalisation
        if text in taken:
            continue  # a probe already made: counted twice, it would narrow the interval falsely
        taken.add(text)
        subject = w.tags.index("NOUN") if category == "agreement" else None  # the first noun is the subject's
        return Probe(text, category, frozenset(answers), frozenset(distractors) - answers, name, subject)
    raise RuntimeError(f"could not build a valid {category} probe in {_MAX_TRIES} tries")  # pragma: no cover


def make_probes(
    n_per_category: int,
    *,
    seed: int = 0,
    world_seed: int = 0,
    categories: tuple[str, ...] = PROBE_CATEGORIES,
    unseen_in: int = DEFAULT_N_PARAGRAPHS,
) -> list[Probe]:
    """Make probe sentences with gold answers, ``n_per_category`` of each category.

    Args:
        n_per_category: how many probes of each category (non-negative).
        seed: probe seed; probes use streams that training paragraphs never use.
        world_seed: the world whose facts the ``facts`` probes ask about (default: the book's).
        categories: which categories, in this order (default: all of :data:`PROBE_CATEGORIES`).
        unseen_in: the size of the training corpus (corpus seed 0, same world) whose sentences
            the probes of :data:`UNSEEN_CATEGORIES` never repeat; 0 checks nothing.

    Returns:
        The probes, grouped by category in the order of ``categories``.

    Raises:
        ValueError: if ``n_per_category`` or a seed is negative or not an integer, or a
            category is unknown.
    """
    check_whole(n_per_category, "n_per_category", 0)
    check_whole(seed, "seed", 0, hint="; pass e.g. seed=0")
    check_whole(world_seed, "world_seed", 0, hint="; pass e.g. world_seed=0")
    check_whole(unseen_in, "unseen_in", 0)
    for category in categories:
        if category not in PROBE_CATEGORIES:
            raise ValueError(f"unknown probe category {category!r}; choose from {PROBE_CATEGORIES}")
    seen = corpus_sentences(unseen_in, 0, world_seed) if unseen_in else frozenset()
    probes = []
    for category in categories:
        taken: set[str] = set()
        probes += [_one_probe(category, i, seed, world_seed, seen, taken) for i in range(n_per_category)]
    return probes
