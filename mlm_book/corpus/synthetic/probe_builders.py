"""The sentence builders behind each probe category (see :mod:`~mlm_book.corpus.synthetic.probes`).

Each builder writes one probe with a :class:`~mlm_book.corpus.synthetic.phrases.Writer`, putting
``[MASK]`` where the tested word goes, and returns ``(construction, answers, distractors)``.
Answers are computed from the same tables the corpus generator uses (the lexicon's classes,
the verbs' frames, the world's facts), so they are right by construction.
"""

from __future__ import annotations

from collections.abc import Callable

from mlm_book.corpus.synthetic import sentences
from mlm_book.corpus.synthetic.generic import ATTRACTOR_CLASSES, PREPOSITIONS
from mlm_book.corpus.synthetic.inflect import indefinite_article
from mlm_book.corpus.synthetic.phrases import Writer
from mlm_book.corpus.synthetic.sentences import ADJECTIVE_CLASS
from mlm_book.corpus.synthetic.world import Character
from mlm_book.utils.special_tokens import MASK_TOKEN

Built = tuple[str, set[str], set[str]]

_COPULA = ({"is", "was"}, {"are", "were"})  # indexed by plural
_HAVE = ({"has", "had"}, {"have", "had"})
# verbs with a narrow object class, and classes that never fit them
SELECTIVE_VERBS = {
    "read": ("food", "animal"),
    "drive": ("food", "readable"),
    "ride": ("food", "readable"),
    "wear": ("food", "animal"),
    "play": ("food", "animal"),
    "eat": ("readable", "car"),
    "drink": ("thing", "readable"),
    "sail": ("food", "animal"),
    "water": ("readable", "food"),
}
SOUND_VERBS = ("bark", "purr", "hiss", "squeak", "neigh", "bleat", "buzz", "roar", "croak", "growl", "fly")


def _forms(w: Writer, lemmas: tuple[str, ...] | list[str]) -> set[str]:
    """Every surface form (singular, plural) of some noun lemmas."""
    return {lemma for lemma in lemmas} | {w.lex.plurals[lemma] for lemma in lemmas if lemma in w.lex.plurals}


def _mask(w: Writer) -> None:
    w.add(MASK_TOKEN, "X")


# -- agreement ---------------------------------------------------------------------------
def copula_pp(w: Writer) -> Built:
    """``The keys near the old box [MASK] heavy.``"""
    w.begin()
    noun_class = w.rng.choice(("thing", "animal", "people", "job", "readable", "plant", "car"))
    plural = w.random_np(noun_class, ADJECTIVE_CLASS.get(noun_class, "thing"), w.rng.chance(0.5), "the", 0.3)
    w.add(w.rng.choice(PREPOSITIONS), "ADP")
    w.random_np(w.rng.choice(ATTRACTOR_CLASSES), "thing", not plural, "the", 0.4)
    _mask(w)
    w.add(w.adjective(ADJECTIVE_CLASS.get(noun_class, "thing")), "ADJ")
    w.end()
    return "attractor-pp", _COPULA[plural], _COPULA[not plural]


def copula_relative(w: Writer) -> Built:
    """``The cake that the children baked [MASK] sweet.``"""
    w.begin()
    frame = w.frame(person_object=False)
    plural = w.random_np(frame.object, ADJECTIVE_CLASS.get(frame.object, "thing"), w.rng.chance(0.5), "the", 0.3)
    w.add("that", "PRON")
    inner = w.random_np("person", "person", not plural, "the", 0.2)
    w.verb_group(frame.verb, inner, "past")
    _mask(w)
    w.add(w.adjective(ADJECTIVE_CLASS.get(frame.object, "thing")), "ADJ")
    w.end()
    return "attractor-relative", _COPULA[plural], _COPULA[not plural]


def have_pp(w: Writer) -> Built:
    """``The farmers behind the red van [MASK] been busy.``"""
    w.begin()
    noun_class = w.rng.choice(("animal", "people", "job"))
    plural = w.random_np(noun_class, ADJECTIVE_CLASS[noun_class], w.rng.chance(0.5), "the", 0.3)
    w.add(w.rng.choice(PREPOSITIONS), "ADP")
    w.random_np(w.rng.choice(ATTRACTOR_CLASSES), "thing", not plural, "the", 0.4)
    _mask(w)
    w.add("been", "AUX"), w.add(w.adjective(ADJECTIVE_CLASS[noun_class]), "ADJ")
    w.end()
    return "attractor-have", _HAVE[plural], _HAVE[not plural] - _HAVE[plural]


def there_is(w: Writer) -> Built:
    """``There [MASK] seven apples in the basket.``"""
    w.begin()
    w.add("there", "PRON")
    _mask(w)
    noun_class = w.rng.choice(("food", "thing", "animal", "readable", "plant"))
    lemma = w.rng.choice(w.lex.classes[noun_class])
    plural = w.rng.chance(0.5) and lemma in w.lex.plurals
    w.noun_phrase(lemma, plural, "a", None)
    w.add(w.rng.choice(("in", "near", "behind")), "ADP")
    w.random_np(w.rng.choice(("place", "building")), "thing", False, "the", 0.3)
    w.end()
    return "there-is", _COPULA[plural], _COPULA[not plural]


# -- selection ---------------------------------------------------------------------------
def selected_object(w: Writer) -> Built:
    """``Anna drove the [MASK] near the park.``: the object class the verb selects."""
    verb = w.rng.choice(sorted(SELECTIVE_VERBS))
    answers = _forms(w, w.lex.objects_of(verb, "person") + w.lex.objects_of(verb, "animate"))
    wrong = [lemma for cls in SELECTIVE_VERBS[verb] for lemma in w.lex.classes[cls]]
    w.begin()
    w.name(w.rng.choice(w.world.characters))
    w.verb_group(verb, False, w.rng.choice(("past", "present", "progressive", "perfect")))
    w.add("the", "DET"), _mask(w)
    sentences.place_tail(w, 0.5)
    w.end()
    return f"object-of-{verb}", answers, _forms(w, wrong) - answers


def selected_subject(w: Writer) -> Built:
    """``The [MASK] barked behind the barn.``: only animals that bark."""
    verb = w.rng.choice(SOUND_VERBS)
    able = w.lex.classes[verb]
    others = [a for a in w.lex.classes["animal"] if a not in able]
    w.begin()
    w.add("the", "DET"), _mask(w)
    w.verb_group(verb, False, "past")
    sentences.place_tail(w, 0.7)
    w.end()
    return f"subject-of-{verb}", _forms(w, able), _forms(w, others)


# -- reference ---------------------------------------------------------------------------
def _pair(w: Writer) -> tuple[Character, Character]:
    """A woman and a man of the world, met in a short context, in random order."""
    women = [c for c in w.world.characters if c.gender == "female"]
    men = [c for c in w.world.characters if c.gender == "male"]
    pair = (w.rng.choice(women), w.rng.choice(men))
    first = w.rng.below(2)
    a, b = pair[first], pair[1 - first]
    sentences.meet(w, a, b)
    for person in (a, b):
        if w.rng.chance(0.5):
            sentences.fact(w, person)
    return pair[0], pair[1]


def name_from_pronoun(w: Writer) -> Built:
    """``Anna met Tom at the park. [MASK] read a book because she was bored.``"""
    woman, man = _pair(w)
    target, other = (woman, man) if w.rng.chance(0.5) else (man, woman)
    _reason_sentence(w, target, mask_subject=True)
    return "name-from-pronoun", {target.name}, {other.name}


def pronoun_from_name(w: Writer) -> Built:
    """``Anna met Tom at the park. Tom read a book because [MASK] was bored.``"""
    woman, man = _pair(w)
    target, other = (woman, man) if w.rng.chance(0.5) else (man, woman)
    _reason_sentence(w, target, mask_subject=False)
    return "pronoun-from-name", {target.subject}, {other.subject}


def _reason_sentence(w: Writer, target: Character, mask_subject: bool) -> None:
    w.begin()
    _mask(w) if mask_subject else w.name(target)
    frame = w.frame(person_object=False)
    w.verb_group(frame.verb, False, "past")
    w.random_np(frame.object, ADJECTIVE_CLASS.get(frame.object, "thing"), w.rng.chance(0.3), "the", 0.3)
    w.add("because", "SCONJ")
    _mask(w) if not mask_subject else w.add(target.subject, "PRON")
    w.add("was", "AUX"), w.add(w.adjective("person"), "ADJ")
    w.end()


# -- facts -------------------------------------------------------------------------------
def _fact_subject(w: Writer, person: Character, possessive: bool) -> None:
    """Name the character (``Anna``, ``Anna's``), or first say what they did and then
    refer to them by pronoun (``she``, ``her``)."""
    context = w.rng.chance(0.4)
    if context:
        sentences.action(w, person, [person])
    w.begin()
    if context:
        w.mention(person, "possessive" if possessive else "subject", pronoun_p=1.0)
    else:
        w.name(person)
        if possessive:
            w.add("'s", "PART")


def fact_probe(w: Writer) -> Built:
    """``Anna lives in [MASK].``, ``Tom works as a [MASK].``, ``She is [MASK] years old.``"""
    person = w.rng.choice(w.world.characters)
    kind = w.rng.choice(("town", "job", "pet", "food", "age"))
    _fact_subject(w, person, possessive=kind == "food")
    if kind == "town":
        w.add("lives", "VERB"), w.add("in", "ADP")
        answer, pool = person.town, w.world.towns
    elif kind == "job":
        w.add("works", "VERB"), w.add("as", "ADP"), w.add(indefinite_article(person.job), "DET")
        answer, pool = person.job, w.world.jobs
    elif kind == "pet":
        w.add("has", "VERB"), w.add(indefinite_article(person.pet), "DET")
        answer, pool = person.pet, w.world.pets
    elif kind == "food":
        w.add("favourite", "ADJ"), w.add("food", "NOUN"), w.add("is", "AUX")
        answer, pool = person.food, w.world.foods
    else:
        w.add("is", "AUX")
        answer, pool = str(person.age), tuple(str(age) for age in range(19, 80))
    _mask(w)
    if kind == "age":
        w.add("years", "NOUN"), w.add("old", "ADJ")
    w.end()
    return f"fact-{kind}", {answer}, set(pool) - {answer}


BUILDERS: dict[str, tuple[Callable[[Writer], Built], ...]] = {
    "agreement": (copula_pp, copula_relative, have_pp, there_is),
    "selection": (selected_object, selected_object, selected_subject),
    "reference": (name_from_pronoun, pronoun_from_name),
    "facts": (fact_probe,),
}
