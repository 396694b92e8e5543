"""The lexicon: every word of the synthetic English with its forms and its semantic class.

:func:`build_lexicon` turns the hand-written word lists of :mod:`~mlm_book.corpus.synthetic.nouns`
and :mod:`~mlm_book.corpus.synthetic.words` into lookup tables, computed once, that the grammar
reads while it writes: nouns by class with their plurals, verbs with their five forms and
the classes of subject and object they select, adjectives by the nouns they describe with
their comparative and superlative.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from mlm_book.corpus.synthetic import inflect, nouns, words


@dataclass(frozen=True)
class VerbForms:
    """The five forms of a verb: ``eat, eats, ate, eating, eaten``."""

    base: str
    third: str
    past: str
    ing: str
    participle: str


@dataclass(frozen=True)
class Frame:
    """A verb with the class of subject and the class of object it selects."""

    verb: str
    subject: str
    object: str


@dataclass(frozen=True)
class Lexicon:
    """Lookup tables of the synthetic English (built by :func:`build_lexicon`).

    Attributes:
        classes: noun class -> its lemmas, e.g. ``"readable" -> ("book", "letter", ...)``.
        plurals: count noun lemma -> plural form; mass nouns are absent.
        sizes: animal lemma -> size from 1 (tiny) to 6 (huge).
        verbs: verb lemma -> its :class:`VerbForms`.
        transitive: every (verb, subject class, object class) frame.
        frame_groups: the frames by line of the word list (one subject and object class
            each), most common verb first.
        intransitive: subject class -> verbs that need no object.
        animal_verbs: animal lemma -> intransitive verbs it can be the subject of.
        adjectives: noun class -> adjectives that can describe it.
        graded: adjective -> (comparative, superlative), for ``-er``/``-est`` adjectives.
        gradable: noun class -> its adjectives that compare (by suffix or with ``more``).
        female_names, male_names, towns: proper nouns for the world.
    """

    classes: dict[str, tuple[str, ...]]
    plurals: dict[str, str]
    sizes: dict[str, int]
    verbs: dict[str, VerbForms]
    transitive: tuple[Frame, ...]
    frame_groups: tuple[tuple[Frame, ...], ...]
    intransitive: dict[str, tuple[str, ...]]
    animal_verbs: dict[str, tuple[str, ...]]
    adjectives: dict[str, tuple[str, ...]]
    graded: dict[str, tuple[str, str]]
    gradable: dict[str, tuple[str, ...]]
    female_names: tuple[str, ...]
    male_names: tuple[str, ...]
    towns: tuple[str, ...]

    def noun_form(self, lemma: str, plural: bool) -> str:
        """The singular or plural of a noun (mass nouns keep their one form)."""
        return self.plurals.get(lemma, lemma) if plural else lemma

    def objects_of(self, verb: str, subject: str) -> tuple[str, ...]:
        """All noun lemmas the grammar may use as object of ``verb`` after such a subject."""
        found = {
            lemma
            for frame in self.transitive
            if frame.verb == verb and frame.subject == subject
            for lemma in self.classes[frame.object]
        }
        return tuple(sorted(found))


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _noun_classes() -> tuple[dict[str, tuple[str, ...]], dict[str, int]]:
    """Noun lemmas by class, including the animal classes derived from abilities."""
    classes: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    for entry in nouns.ANIMALS.split("|"):
        lemma, size, *abilities = entry.split()
        sizes[lemma] = int(size)
        classes.setdefault("animal", []).append(lemma)
        for ability in abilities:
            classes.setdefault(ability, []).append(lemma)
    simple = {
        "people": nouns.PEOPLE,
        "job": nouns.JOBS,
        "food": nouns.FOODS,
        "dish": nouns.DISHES,
        "drink": nouns.DRINKS,
        "readable": nouns.READABLES,
        "car": nouns.CARS,
        "boat": nouns.BOATS,
        "place": nouns.PLACES,
        "thing": nouns.THINGS,
        "container": nouns.CONTAINERS,
        "clothing": nouns.CLOTHING,
        "instrument": nouns.INSTRUMENTS,
        "plant": nouns.PLANTS,
        "building": nouns.BUILDINGS,
        "openable": nouns.OPENABLES,
        "time": nouns.TIMES,
    }
    for name, text in simple.items():
        classes[name] = list(_split(text))
    classes["bike"] = list(_split(nouns.BIKES)) + list(_split(words.RIDABLE_ANIMALS))
    classes["land"] = [a for a in classes["animal"] if a not in classes.get("nolegs", [])]
    classes["person"] = classes["people"] + classes["job"]
    classes["animate"] = classes["person"] + classes["animal"]
    classes["food"] = classes["food"] + classes["dish"]
    for sound in words.SOUNDS.split():
        classes.setdefault(sound, [])
    return {name: _unique(lemmas) for name, lemmas in classes.items()}, sizes


def _verb_forms(verb: str) -> VerbForms:
    return VerbForms(
        verb,
        inflect.third_person(verb),
        inflect.past(verb),
        inflect.present_participle(verb),
        inflect.past_participle(verb),
    )


def _frames() -> tuple[tuple[tuple[Frame, ...], ...], dict[str, tuple[str, ...]]]:
    groups = []
    for line in words.TRANSITIVE.splitlines():
        head, verbs = line.split(":")
        obj, subject = head.split()
        groups.append(tuple(Frame(verb, subject, obj) for verb in verbs.split()))
    intransitive: dict[str, list[str]] = {}
    for line in words.INTRANSITIVE.splitlines():
        subject, verbs = line.split(":")
        intransitive.setdefault(subject.strip(), []).extend(verbs.split())
    for sound in words.SOUNDS.split():
        intransitive[sound] = [sound]
    return tuple(groups), {k: _unique(v) for k, v in intransitive.items()}


def _adjectives() -> dict[str, tuple[str, ...]]:
    groups = {
        name: list(_split(getattr(words, name)))
        for name in ("SIZE", "COLOUR", "AGE", "QUALITY", "CONDITION", "TASTE", "MOOD", "READING", "PLACE", "WEATHER")
    }
    thing = groups["SIZE"] + groups["COLOUR"] + groups["AGE"] + groups["QUALITY"] + groups["CONDITION"]
    by_class = {
        "person": groups["MOOD"] + ["tall", "short", "old", "young", "famous", "strong", "good", "bad"],
        "animal": groups["MOOD"] + groups["SIZE"][:5] + groups["COLOUR"][:9] + ["old", "young"],
        "food": groups["TASTE"] + ["good", "bad"],
        "drink": groups["TASTE"][:12],
        "readable": groups["READING"],
        "place": groups["PLACE"],
        "weather": groups["WEATHER"],
        "thing": thing,
        "plant": groups["SIZE"][:7] + groups["COLOUR"] + ["beautiful", "young", "old", "lovely"],
    }
    return {name: _unique(adjs) for name, adjs in by_class.items()}


def _animal_verbs(
    classes: dict[str, tuple[str, ...]], intransitive: dict[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    found = {}
    for lemma in classes["animal"]:
        verbs = list(intransitive["animate"])
        for subject, extra in intransitive.items():
            if subject not in ("animate", "person") and lemma in classes[subject]:
                verbs += extra
        found[lemma] = _unique(verbs)
    return found


@lru_cache(maxsize=1)
def build_lexicon() -> Lexicon:
    """Build the lexicon from the word lists (computed once, then shared; it is read-only).

    Returns:
        The :class:`Lexicon` every generator function reads.
    """
    classes, sizes = _noun_classes()
    mass = set(classes["dish"]) | set(classes["drink"])
    plurals = {lemma: inflect.plural(lemma) for lemmas in classes.values() for lemma in lemmas if lemma not in mass}
    frame_groups, intransitive = _frames()
    transitive = tuple(frame for group in frame_groups for frame in group)
    all_verbs = {f.verb for f in transitive} | {v for vs in intransitive.values() for v in vs}
    all_verbs |= set(_split(words.DITRANSITIVE + " " + words.SAYING + " " + words.MOTION))
    all_verbs |= {"be", "have", "do", "feel", "look", "seem"}
    graded = {adj: (inflect.comparative(adj), inflect.superlative(adj)) for adj in _split(words.SUFFIX_GRADED)}
    comparable = set(graded) | set(_split(words.MORE_GRADED))
    adjectives = _adjectives()
    gradable = {name: tuple(a for a in adjs if a in comparable) for name, adjs in adjectives.items()}
    return Lexicon(
        classes=classes,
        plurals=plurals,
        sizes=sizes,
        verbs={verb: _verb_forms(verb) for verb in sorted(all_verbs)},
        transitive=transitive,
        frame_groups=frame_groups,
        intransitive=intransitive,
        animal_verbs=_animal_verbs(classes, intransitive),
        adjectives=adjectives,
        graded=graded,
        gradable=gradable,
        female_names=_split(words.FEMALE_NAMES),
        male_names=_split(words.MALE_NAMES),
        towns=_split(words.TOWNS),
    )
