"""Sentences about the world's characters: introductions, facts and actions.

Every sentence that states a fact of a character takes it from the world table, so facts
never contradict each other anywhere in the corpus. Actions obey selectional restrictions:
the object of a verb is drawn from the noun class the verb selects (people read readables,
drive cars, play instruments), and an animal only does what its kind can do.
"""

from __future__ import annotations

from mlm_book.synthetic.inflect import indefinite_article
from mlm_book.synthetic.phrases import Writer
from mlm_book.synthetic.world import Character

ADJECTIVE_CLASS = {
    "food": "food", "dish": "food", "drink": "drink", "readable": "readable", "place": "place",
    "plant": "plant", "animal": "animal", "pet": "animal", "person": "person", "people": "person",
    "job": "person",
}
_PERSON_FRAMES = ("person", "animate")
_INTRO_FACTS = (("job", "town"), ("town", "job"), ("job", "town", "pet"), ("age", "town"), ("town", "job"))
_FACT_OF_KIND = ("town", "town", "town", "job", "job", "pet", "pet", "pet", "food", "food", "age", "town")


def _indefinite(w: Writer, noun: str) -> None:
    w.add(indefinite_article(noun), "DET")
    w.add(noun, "NOUN")


def _words(w: Writer, text: str, tags: str) -> None:
    for word, tag in zip(text.split(), tags.split()):
        w.add(word, tag)


def intro(w: Writer, c: Character) -> None:
    """Introduce a character by name with two or three of their facts."""
    w.begin()
    kind = w.rng.below(5)
    w.stated.update((c.name, fact) for fact in _INTRO_FACTS[kind])
    if kind == 0:  # Anna is a baker from Millbrook.
        w.name(c), w.add("is", "AUX"), _indefinite(w, c.job), w.add("from", "ADP"), w.add(c.town, "PROPN")
    elif kind == 1:  # Anna lives in Millbrook and works as a baker.
        w.name(c), _words(w, "lives in", "VERB ADP"), w.add(c.town, "PROPN")
        _words(w, "and works as", "CCONJ VERB ADP"), _indefinite(w, c.job)
    elif kind == 2:  # Anna, a baker from Millbrook, has a dog.
        w.name(c), w.add(",", "PUNCT"), _indefinite(w, c.job), w.add("from", "ADP")
        w.add(c.town, "PROPN"), w.add(",", "PUNCT"), w.add("has", "VERB"), _indefinite(w, c.pet)
    elif kind == 3:  # Anna is 34 years old and lives in Millbrook.
        w.name(c), w.add("is", "AUX"), w.add(str(c.age), "NUM"), _words(w, "years old and lives in", "NOUN ADJ CCONJ VERB ADP")
        w.add(c.town, "PROPN")
    else:  # Anna, who lives in Millbrook, is a baker.
        w.name(c), _words(w, ", who lives in", "PUNCT PRON VERB ADP"), w.add(c.town, "PROPN")
        w.add(",", "PUNCT"), w.add("is", "AUX"), _indefinite(w, c.job)
    w.end()


def fact(w: Writer, c: Character) -> None:
    """State one fact of a character, by name or pronoun, in one of several templates."""
    w.begin()
    kind = w.rng.below(12)
    for _ in range(3):  # prefer a fact the paragraph has not stated yet
        if (c.name, _FACT_OF_KIND[kind]) not in w.stated:
            break
        kind = w.rng.below(12)
    w.stated.add((c.name, _FACT_OF_KIND[kind]))
    if kind < 3:
        w.mention(c)
        _words(w, ("lives in", "is from", "has always lived in")[kind], ("VERB ADP", "AUX ADP", "AUX ADV VERB ADP")[kind])
        w.add(c.town, "PROPN")
    elif kind < 5:
        w.mention(c), _words(w, ("works as", "is")[kind - 3], ("VERB ADP", "AUX")[kind - 3]), _indefinite(w, c.job)
    elif kind == 5:
        w.mention(c), w.add("has", "VERB"), _indefinite(w, c.pet)
    elif kind == 6:
        w.mention(c, "possessive"), w.add(c.pet, "NOUN"), w.add("is", "AUX"), w.add(w.adjective("animal"), "ADJ")
    elif kind == 7:
        w.mention(c), w.add(w.rng.choice(("fed", "walked", "washed", "found")), "VERB")
        w.add(c.possessive, "PRON"), w.add(c.pet, "NOUN")
    elif kind == 8:
        w.mention(c, "possessive"), _words(w, "favourite food is", "ADJ NOUN AUX"), w.add(c.food, "NOUN")
    elif kind == 9:
        w.mention(c), w.add(w.rng.choice(("cooked", "ate", "ordered")), "VERB"), w.add(c.food, "NOUN")
        w.add(",", "PUNCT"), w.add(c.possessive, "PRON"), _words(w, "favourite food", "ADJ NOUN")
    elif kind == 10:
        w.mention(c), w.add("is", "AUX"), w.add(str(c.age), "NUM"), _words(w, "years old", "NOUN ADJ")
    else:
        w.mention(c), w.add(w.rng.choice(("went", "drove", "walked")), "VERB"), _words(w, "home to", "ADV ADP")
        w.add(c.town, "PROPN")
    w.end()


def pet_action(w: Writer, c: Character) -> None:
    """Something a character's pet does that its kind can do: ``Her dog barked loudly.``"""
    w.begin()
    w.mention(c, "possessive")
    w.add(c.pet, "NOUN")
    w.verb_group(w.rng.choice(w.lex.animal_verbs[c.pet]), False, w.rng.choice(("past", "present", "progressive")))
    place_tail(w, 0.6)
    w.end()


def place_tail(w: Writer, p: float) -> None:
    """With probability ``p``, add a location: ``in the garden``, ``near the old bridge``."""
    if w.rng.chance(p):
        w.add(w.rng.choice(("in", "near", "behind", "at")), "ADP")
        w.random_np("place", "place", False, "the", 0.25)


def _object(w: Writer, obj_class: str, cast: list[Character], subject: Character | None) -> bool:
    """Write the object of a verb; return True when it names a character."""
    others = [c for c in cast if c is not subject]
    if obj_class == "person" and others and w.rng.chance(0.7):
        w.mention(w.rng.choice(others), "object")
        return True
    det = w.rng.choice(("the", "a", "a", "this"))
    w.random_np(obj_class, ADJECTIVE_CLASS.get(obj_class, "thing"), w.rng.chance(0.3), det)
    return False


def action(w: Writer, c: Character, cast: list[Character]) -> None:
    """A character does something to an object their verb selects, maybe with a reason."""
    w.begin()
    tense = w.tense()
    w.mention(c)
    if w.rng.chance(0.2):
        verb = w.rng.choice(w.lex.intransitive["person"])
        w.verb_group(verb, False, tense)
        named = False
    else:
        frame = w.rng.choice(w.lex.transitive)
        while frame.subject not in _PERSON_FRAMES:
            frame = w.rng.choice(w.lex.transitive)
        w.verb_group(frame.verb, False, tense)
        named = _object(w, frame.object, cast, c)
    place_tail(w, 0.3)
    if not named and w.can_use_pronoun(c) and w.rng.chance(0.25):
        w.add(",", "PUNCT") if w.rng.chance(0.3) else None
        _words(w, "because " + c.subject, "SCONJ PRON")
        w.copula(False, tense not in ("present", "perfect", "progressive"))
        w.add(w.adjective("person"), "ADJ")
    w.end()


def meet(w: Writer, c: Character, other: Character) -> None:
    """Two characters meet somewhere: ``Anna met Tom at the market.``"""
    w.begin()
    w.mention(c)
    w.add(w.rng.choice(("met", "saw", "visited", "helped", "called")), "VERB")
    w.mention(other, "object", 0.0)
    place_tail(w, 0.8)
    w.end()


def together(w: Writer, c: Character, other: Character) -> None:
    """Two characters do something together, with a plural verb: ``Anna and Tom are cooking.``"""
    w.begin()
    w.name(c), w.add("and", "CCONJ"), w.name(other)
    tense = w.tense()
    frame = w.rng.choice(w.lex.transitive)
    if frame.subject in _PERSON_FRAMES and frame.object != "person":
        w.verb_group(frame.verb, True, tense)
        w.random_np(frame.object, ADJECTIVE_CLASS.get(frame.object, "thing"), w.rng.chance(0.5), "the")
    else:
        w.verb_group(w.rng.choice(w.lex.intransitive["person"]), True, tense)
    place_tail(w, 0.4)
    w.end()


def give(w: Writer, c: Character, other: Character) -> None:
    """One character gives another something: ``Anna gave Tom a red apple.``"""
    w.begin()
    w.mention(c)
    w.add(w.lex.verbs[w.rng.choice(("give", "hand", "show", "send", "lend", "bring", "offer"))].past, "VERB")
    obj_class = w.rng.choice(("thing", "food", "readable", "clothing"))
    if w.rng.chance(0.5):
        w.mention(other, "object")
        w.random_np(obj_class, ADJECTIVE_CLASS.get(obj_class, "thing"), w.rng.chance(0.3), "a")
    else:
        w.random_np(obj_class, ADJECTIVE_CLASS.get(obj_class, "thing"), w.rng.chance(0.3), "the")
        w.add("to", "ADP"), w.mention(other, "object")
    w.end()
