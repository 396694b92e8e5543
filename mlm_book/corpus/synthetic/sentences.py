"""Sentences about the world's characters: introductions, facts and actions.

Every sentence that states a fact of a character takes it from the world table, so facts
never contradict each other anywhere in the corpus. Actions obey selectional restrictions:
the object of a verb is drawn from the noun class the verb selects (people read readables,
drive cars, play instruments), and an animal only does what its kind can do.
"""

from __future__ import annotations

from mlm_book.corpus.synthetic.inflect import indefinite_article
from mlm_book.corpus.synthetic.phrases import Writer
from mlm_book.corpus.synthetic.words import MOTION as _MOTION
from mlm_book.corpus.synthetic.world import Character

MOTION = tuple(_MOTION.split())
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

ADJECTIVE_CLASS = {
    "food": "food",
    "dish": "food",
    "drink": "drink",
    "readable": "readable",
    "place": "place",
    "plant": "plant",
    "animal": "animal",
    "pet": "animal",
    "person": "person",
    "people": "person",
    "job": "person",
}
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
        (
            w.name(c),
            w.add("is", "AUX"),
            w.add(str(c.age), "NUM"),
            _words(w, "years old and lives in", "NOUN ADJ CCONJ VERB ADP"),
        )
        w.add(c.town, "PROPN")
    else:  # Anna, who lives in Millbrook, is a baker.
        w.name(c), _words(w, ", who lives in", "PUNCT PRON VERB ADP"), w.add(c.town, "PROPN")
        w.add(",", "PUNCT"), w.add("is", "AUX"), _indefinite(w, c.job)
    w.end()


def fact(w: Writer, c: Character) -> None:
    """State one fact of a character, by name or pronoun, in one of several templates."""
    w.begin()
    kind = w.rng.below(12)
    for _ in range(6):  # prefer a fact the paragraph has not stated yet
        if (c.name, _FACT_OF_KIND[kind]) not in w.stated:
            break
        kind = w.rng.below(12)
    w.stated.add((c.name, _FACT_OF_KIND[kind]))
    if kind < 3:
        w.mention(c)
        _words(
            w, ("lives in", "is from", "has always lived in")[kind], ("VERB ADP", "AUX ADP", "AUX ADV VERB ADP")[kind]
        )
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


def opener(w: Writer, tense: str) -> None:
    """Sometimes start a past-tense sentence with a time phrase: ``On Monday,``."""
    if tense not in ("past", "past_progressive") or not w.rng.chance(0.25):
        return
    kind = w.rng.below(6)
    if kind == 0:
        _words(w, "in the", "ADP DET"), w.add(w.rng.choice(w.lex.classes["time"]), "NOUN")
    elif kind == 1:
        w.add("on", "ADP"), w.add(w.rng.choice(DAYS), "PROPN")
    elif kind == 2:
        (
            w.add(w.rng.choice(("last", "that", "one")), "DET"),
            w.add(w.rng.choice(("week", "year", "day", "summer", "winter")), "NOUN"),
        )
    elif kind == 3:
        w.add(w.rng.choice(("later", "yesterday", "afterwards", "suddenly", "then")), "ADV")
    elif kind == 4:
        (
            w.add(w.rng.choice(("after", "before")), "ADP"),
            w.add(w.rng.choice(("lunch", "dinner", "breakfast", "school", "work")), "NOUN"),
        )
    else:
        _words(w, "at night", "ADP NOUN")
    w.add(",", "PUNCT")


def action(w: Writer, c: Character, cast: list[Character]) -> None:
    """A character does something: to an object their verb selects, or goes somewhere."""
    w.begin()
    tense = w.tense()
    opener(w, tense)
    w.mention(c)
    roll = w.rng.below(100)
    named = False
    if roll < 15:
        w.verb_group(w.rng.choice(w.lex.intransitive["person"]), False, tense)
    elif roll < 30:
        w.verb_group(w.rng.choice(MOTION), False, tense)
        w.add("to", "ADP")
        if w.rng.chance(0.3):
            w.add(w.rng.choice(w.lex.towns), "PROPN")
        else:
            w.random_np("place", "place", False, "the", 0.3)
    else:
        frame = w.frame()
        w.verb_group(frame.verb, False, tense)
        named = _object(w, frame.object, cast, c)
    place_tail(w, 0.3)
    if not named and w.can_use_pronoun(c) and w.rng.chance(0.25):
        _reason(w, c, tense)
    w.end()


def _reason(w: Writer, c: Character, tense: str) -> None:
    """``because she was hungry``: the pronoun always points back at the subject."""
    if w.rng.chance(0.3):
        w.add(",", "PUNCT")
    _words(w, "because " + c.subject, "SCONJ PRON")
    w.copula(False, tense not in ("present", "perfect", "progressive"))
    w.add(w.adjective("person"), "ADJ")


def feeling(w: Writer, c: Character) -> None:
    """How a character feels, often compared: ``Anna looked happier than ever.``"""
    w.begin()
    w.mention(c)
    w.add(w.rng.choice(("felt", "looked", "seemed", "was")), "VERB")
    if w.rng.chance(0.6):
        comparative(w, w.rng.choice(w.lex.gradable["person"]))
        w.add("than", "ADP"), w.add(w.rng.choice(("before", "ever", "yesterday", "usual")), "ADV")
    else:
        w.add(w.adjective("person"), "ADJ")
    w.end()


def comparative(w: Writer, adj: str) -> None:
    """Write the comparative of a gradable ``adj``: ``happier``, ``better``, ``more curious``."""
    if adj in w.lex.graded:
        w.add(w.lex.graded[adj][0], "ADJ")
    else:
        w.add("more", "ADV"), w.add(adj, "ADJ")


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
    if w.rng.chance(0.8):
        frame = w.frame(person_object=False)
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
    verb = w.rng.choice(("give", "hand", "show", "send", "lend", "bring", "offer", "sell", "throw"))
    w.verb_group(verb, False, w.rng.choice(("past", "past", "present", "perfect", "modal", "progressive")))
    obj_class = w.rng.choice(("thing", "food", "readable", "clothing"))
    if w.rng.chance(0.5):
        w.mention(other, "object")
        w.random_np(obj_class, ADJECTIVE_CLASS.get(obj_class, "thing"), w.rng.chance(0.3), "a")
    else:
        w.random_np(obj_class, ADJECTIVE_CLASS.get(obj_class, "thing"), w.rng.chance(0.3), "the")
        w.add("to", "ADP"), w.mention(other, "object")
    w.end()
