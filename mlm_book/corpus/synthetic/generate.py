"""Paragraphs of the synthetic English: a cast of characters, then a few sentences about them.

Each paragraph picks one to three characters of the world, introduces the first with some of
their facts, then mixes sentences of several kinds: facts, actions, meetings, a pet doing what
its kind does, reported speech, agreement across attractors, counts and comparisons. A
character introduced early is referred to later by name or pronoun, which gives the model
long-range context to use. Paragraph ``i`` of seed ``s`` uses its own random stream derived
from ``(s, i)``, so any paragraph can be regenerated alone and a longer corpus starts with
the shorter one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mlm_book.corpus.synthetic import generic, sentences
from mlm_book.corpus.synthetic.lexicon import build_lexicon
from mlm_book.corpus.synthetic.phrases import Writer
from mlm_book.corpus.synthetic.rng import SplitMix64
from mlm_book.corpus.synthetic.world import Character, make_world
from mlm_book.utils.config import check_whole
from mlm_book.utils.seeding import derive_seed

DEFAULT_N_PARAGRAPHS = 20_000
"""Paragraphs of the default training corpus (what ``load_corpus("builtin")`` generates)."""
NO_SPACE_BEFORE = frozenset({".", ",", "!", "?", ";", ":", "'s"})


@dataclass(frozen=True)
class AnnotatedParagraph:
    """A paragraph with its words and their part-of-speech tags.

    Attributes:
        text: the paragraph as it appears in the corpus.
        words: its words and punctuation marks, in order; ``detokenize(words) == text``.
        tags: one universal part-of-speech tag per word (NOUN, VERB, AUX, PROPN, PUNCT ...).
    """

    text: str
    words: tuple[str, ...]
    tags: tuple[str, ...]


def detokenize(words: list[str] | tuple[str, ...]) -> str:
    """Join words into text: a space between words, none before punctuation or ``'s``.

    Args:
        words: words and punctuation marks, e.g. ``["Anna", "'s", "dog", "barked", "."]``.

    Returns:
        The text, e.g. ``"Anna's dog barked."``.
    """
    return "".join([word if i == 0 or word in NO_SPACE_BEFORE else " " + word for i, word in enumerate(words)])


def _cast(w: Writer) -> list[Character]:
    characters = w.world.characters
    cast = [w.rng.choice(characters)]
    for p in (0.7, 0.25):
        if len(cast) < len(characters) and w.rng.chance(p):
            other = w.rng.choice(characters)
            while any(other is c for c in cast):
                other = w.rng.choice(characters)
            cast.append(other)
    return cast


def _body_sentence(w: Writer, cast: list[Character], introduced: list[Character]) -> None:
    """Write one sentence of the paragraph's body, chosen at random."""
    pending = [c for c in cast if all(c is not i for i in introduced)]
    someone = w.rng.choice(introduced)
    roll = w.rng.below(100)
    if pending and roll < 28:
        sentences.meet(w, someone, pending[0])
        introduced.append(pending[0])
        if w.rng.chance(0.7):
            (sentences.intro if w.rng.chance(0.5) else sentences.fact)(w, pending[0])
    elif roll < 62:
        _character_sentence(w, someone, introduced)
    elif roll < 68 and len(introduced) > 1:
        other = w.rng.pick_other(introduced, someone)
        (sentences.together if w.rng.chance(0.5) else sentences.give)(w, someone, other)
    else:
        _GENERIC[w.rng.weighted(range(len(_GENERIC)), _GENERIC_CUMULATIVE)](w, someone)


def _character_sentence(w: Writer, someone: Character, introduced: list[Character]) -> None:
    roll = w.rng.below(100)
    if roll < 40:
        sentences.fact(w, someone)
    elif roll < 78:
        sentences.action(w, someone, introduced)
    elif roll < 88:
        sentences.feeling(w, someone)
    else:
        sentences.pet_action(w, someone)


_GENERIC = (
    generic.reported,
    lambda w, c: generic.agreement(w),
    lambda w, c: generic.animal_scene(w),
    lambda w, c: generic.there_is(w),
    lambda w, c: generic.comparison(w),
    lambda w, c: generic.compare_things(w),
    lambda w, c: generic.count_sentence(w),
    lambda w, c: generic.superlative(w),
)
_GENERIC_WEIGHTS = (5, 7, 6, 3, 3, 3, 2, 2)
_GENERIC_CUMULATIVE = tuple(sum(_GENERIC_WEIGHTS[: i + 1]) for i in range(len(_GENERIC_WEIGHTS)))


def _write_paragraph(seed: int, index: int, world_seed: int) -> Writer:
    """Write paragraph ``index`` of corpus seed ``seed`` and return the filled writer."""
    w = Writer(build_lexicon(), make_world(world_seed), SplitMix64(derive_seed(seed, "paragraph", index)))
    cast = _cast(w)
    if w.rng.chance(0.2):
        generic.weather(w, cast[0].town)
    (sentences.intro if w.rng.chance(0.85) else sentences.fact)(w, cast[0])
    introduced = [cast[0]]
    for _ in range(w.rng.between(3, 8)):
        _body_sentence(w, cast, introduced)
    return w


def _check(n_paragraphs: object, seed: object, world_seed: object) -> None:
    check_whole(n_paragraphs, "n_paragraphs", 0)
    check_whole(seed, "seed", 0, hint="; pass e.g. seed=0")
    check_whole(world_seed, "world_seed", 0, hint="; pass e.g. world_seed=0")


def generate_paragraphs(n_paragraphs: int, *, seed: int = 0, world_seed: int = 0) -> list[str]:
    """Generate ``n_paragraphs`` paragraphs of the synthetic English.

    Args:
        n_paragraphs: how many paragraphs (non-negative).
        seed: corpus seed; the same seed gives the same text on every machine.
        world_seed: which world of characters and facts to talk about (default: the book's).

    Returns:
        The paragraphs; ``generate_paragraphs(n)`` is a prefix of ``generate_paragraphs(m)``
        for ``n <= m``.

    Raises:
        ValueError: if an argument is negative or not an integer.
    """
    _check(n_paragraphs, seed, world_seed)
    return [detokenize(_write_paragraph(seed, i, world_seed).words) for i in range(n_paragraphs)]


def iter_paragraphs(*, seed: int = 0, world_seed: int = 0, start: int = 0) -> Iterator[str]:
    """Yield paragraphs without end (stop with ``itertools.islice`` or ``zip``).

    Args:
        seed: corpus seed, as in :func:`generate_paragraphs`.
        world_seed: the world, as in :func:`generate_paragraphs`.
        start: index of the first paragraph to yield; paragraph ``i`` is the same as
            ``generate_paragraphs(i + 1, seed=seed)[i]``.

    Yields:
        One paragraph after another.
    """
    _check(start, seed, world_seed)
    index = start
    while True:
        yield detokenize(_write_paragraph(seed, index, world_seed).words)
        index += 1


def generate_annotated(n_paragraphs: int, *, seed: int = 0, world_seed: int = 0) -> list[AnnotatedParagraph]:
    """Generate paragraphs with their words and part-of-speech tags.

    Args:
        n_paragraphs, seed, world_seed: as in :func:`generate_paragraphs`; the texts are
            the same as those it returns.

    Returns:
        One :class:`AnnotatedParagraph` per paragraph.
    """
    _check(n_paragraphs, seed, world_seed)
    out = []
    for i in range(n_paragraphs):
        w = _write_paragraph(seed, i, world_seed)
        out.append(AnnotatedParagraph(detokenize(w.words), tuple(w.words), tuple(w.tags)))
    return out
