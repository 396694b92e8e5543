"""Sentences about things, animals and people in general: agreement, comparison, numbers.

These sentences carry the grammar a masked language model must learn beyond the world's
facts. Subjects are often followed by an *attractor*, a phrase that holds a noun of the
other number, so that agreement cannot be read off the nearest noun:

    The keys near the old cabinet are heavy.   The cake that the children baked was sweet.

Comparisons between animals follow their real sizes, so ``bigger``/``smaller`` is true.
"""

from __future__ import annotations

from mlm_book.corpus.synthetic.phrases import NUMBER_WORDS, Writer
from mlm_book.corpus.synthetic.sentences import ADJECTIVE_CLASS, comparative, place_tail
from mlm_book.corpus.synthetic.world import Character

SUBJECT_CLASSES = ("thing", "animal", "people", "job", "food", "readable", "plant", "car", "building")
ATTRACTOR_CLASSES = ("thing", "building", "plant", "car", "container")
PREPOSITIONS = ("near", "behind", "beside", "under", "on", "in", "with", "by")
_SIZE_WORDS = (("bigger", "larger", "heavier"), ("smaller", "lighter"))


def attractor_subject(w: Writer) -> tuple[str, bool]:
    """Write a subject noun phrase, often with an attractor; return (noun class, plural).

    The head noun decides agreement; the attractor (a prepositional phrase or a relative
    clause) holds a noun that is usually of the other number.
    """
    kind = w.rng.below(10)
    if kind < 3:
        return _relative_subject(w)
    noun_class = w.rng.choice(SUBJECT_CLASSES)
    plural = w.random_np(noun_class, ADJECTIVE_CLASS.get(noun_class, "thing"), w.rng.chance(0.5), "the", 0.3)
    if kind < 8:
        w.add(w.rng.choice(PREPOSITIONS), "ADP")
        other_plural = (not plural) if w.rng.chance(0.75) else plural
        w.random_np(w.rng.choice(ATTRACTOR_CLASSES), "thing", other_plural, "the", 0.4)
    return noun_class, plural


def _relative_subject(w: Writer) -> tuple[str, bool]:
    """``the cake that the children baked`` or ``the teachers who read the letter``."""
    frame = w.frame(("person", "animate", "animal"), person_object=False)
    subject_class = "person" if frame.subject == "person" else w.rng.choice(("person", "animal"))
    if frame.subject == "animal":
        subject_class = "animal"
    plural = w.rng.chance(0.5)
    inner_plural = (not plural) if w.rng.chance(0.75) else plural
    inner_tense = w.rng.choice(("present", "past", "perfect"))
    if subject_class == "person" and w.rng.chance(0.4):  # the teachers who read the letter
        plural = w.random_np("person", "person", plural, "the", 0.3)
        w.add("who", "PRON")
        w.verb_group(frame.verb, plural, inner_tense)
        w.random_np(frame.object, ADJECTIVE_CLASS.get(frame.object, "thing"), inner_plural, "the", 0.2)
        return "person", plural
    head_class = frame.object
    plural = w.random_np(head_class, ADJECTIVE_CLASS.get(head_class, "thing"), plural, "the", 0.3)
    w.add("that", "PRON")
    inner_plural = w.random_np(subject_class, ADJECTIVE_CLASS[subject_class], inner_plural, "the", 0.2)
    w.verb_group(frame.verb, inner_plural, inner_tense)
    return head_class, plural


def agreement(w: Writer, embedded: bool = False) -> None:
    """A sentence (or, if ``embedded``, a clause) whose verb agrees across an attractor."""
    if not embedded:
        w.begin()
    noun_class, plural = attractor_subject(w)
    past = w.rng.chance(0.5)
    animate = noun_class in ("animal", "people", "job", "person")
    if w.rng.chance(0.1):
        w.add(w.rng.choice(("will", "must", "might", "can")), "AUX"), w.add("be", "AUX")
        w.add(w.adjective(ADJECTIVE_CLASS.get(noun_class, "thing")), "ADJ")
    elif animate and w.rng.chance(0.5):
        verbs = w.lex.intransitive["person" if noun_class != "animal" else "animate"]
        w.verb_group(w.rng.choice(verbs), plural, ("present", "past", "progressive", "perfect")[w.rng.below(4)])
    elif w.rng.chance(0.2):
        w.add(("have", "has", "had", "had")[past * 2 + (not plural)], "AUX")
        w.add("been", "AUX")
        w.add(w.adjective(ADJECTIVE_CLASS.get(noun_class, "thing")), "ADJ")
    else:
        w.copula(plural, past)
        w.add(w.adjective(ADJECTIVE_CLASS.get(noun_class, "thing")), "ADJ")
    if not embedded:
        w.end()


def there_is(w: Writer) -> None:
    """Existential sentence with a number: ``There were seven apples in the basket.``"""
    w.begin()
    w.add("there", "PRON")
    noun_class = w.rng.choice(("food", "thing", "animal", "readable", "people", "plant"))
    lemma = w.rng.choice(w.lex.classes[noun_class])
    plural = w.rng.chance(0.6) and lemma in w.lex.plurals
    w.copula(plural, w.rng.chance(0.5))
    adj = w.adjective(ADJECTIVE_CLASS.get(noun_class, "thing")) if w.rng.chance(0.3) else None
    if plural and w.rng.chance(0.3):
        w.add(str(w.rng.between(13, 99)), "NUM")
        w.noun_phrase(lemma, True, "", adj)
    else:
        w.noun_phrase(lemma, plural, "a", adj)
    w.add(w.rng.choice(("in", "near", "behind", "at")), "ADP")
    w.random_np(w.rng.choice(("place", "container", "building")), "thing", False, "the", 0.2)
    w.end()


def comparison(w: Writer) -> None:
    """A true comparison of two animals by size: ``Elephants are bigger than foxes.``"""
    w.begin()
    sizes = w.lex.sizes
    animals = w.lex.classes["animal"]
    first = w.rng.choice(animals)
    second = w.rng.choice(animals)
    while abs(sizes[first] - sizes[second]) < 2:
        second = w.rng.choice(animals)
    generic = w.rng.chance(0.5)
    w.noun_phrase(first, generic, "" if generic else "the")
    w.copula(generic, False)
    w.add(w.rng.choice(_SIZE_WORDS[sizes[first] < sizes[second]]), "ADJ")
    w.add("than", "ADP")
    w.noun_phrase(second, generic, "" if generic else "a" if w.rng.chance(0.5) else "the")
    w.end()


def superlative(w: Writer) -> None:
    """``The children chose the cheapest kite in the shop.``"""
    w.begin()
    w.random_np("person", "person", w.rng.chance(0.5), "the", 0.3)
    w.add(w.rng.choice(("chose", "bought", "wanted", "found", "saw", "liked")), "VERB")
    noun_class = w.rng.choice(("thing", "food", "animal", "readable", "plant", "clothing", "car"))
    adj_class = ADJECTIVE_CLASS.get(noun_class, "thing")
    adj = w.rng.choice(w.lex.gradable[adj_class])
    w.add("the", "DET")
    if adj in w.lex.graded:
        w.add(w.lex.graded[adj][1], "ADJ")
    else:
        w.add("most", "ADV"), w.add(adj, "ADJ")
    w.random_np(noun_class, adj_class, False, "", 0.0)
    w.add("in", "ADP"), w.random_np("place", "place", False, "the", 0.0)
    w.end()


def compare_things(w: Writer) -> None:
    """``The red box is heavier than the basket.`` (things, foods or plants)."""
    w.begin()
    noun_class = w.rng.choice(("thing", "food", "plant", "readable", "clothing", "car", "building"))
    adj_class = ADJECTIVE_CLASS.get(noun_class, "thing")
    plural = w.random_np(noun_class, adj_class, w.rng.chance(0.4), "the", 0.3)
    w.copula(plural, w.rng.chance(0.5))
    comparative(w, w.rng.choice(w.lex.gradable[adj_class]))
    w.add("than", "ADP")
    w.random_np(noun_class, adj_class, w.rng.chance(0.4), "the", 0.2)
    w.end()


def animal_scene(w: Writer) -> None:
    """An animal does what its kind can do: ``The owls near the barn were hooting.``"""
    w.begin()
    lemma = w.rng.choice(w.lex.classes["animal"])
    plural = w.rng.chance(0.4)
    adj = w.adjective("animal") if w.rng.chance(0.3) else None
    w.noun_phrase(lemma, plural, w.rng.choice(("the", "a")), adj)
    if w.rng.chance(0.3):
        w.add(w.rng.choice(PREPOSITIONS[:4]), "ADP")
        w.random_np(w.rng.choice(ATTRACTOR_CLASSES), "thing", not plural, "the", 0.3)
    tense = w.rng.choice(("present", "past", "past", "progressive", "past_progressive", "perfect", "modal"))
    w.verb_group(w.rng.choice(w.lex.animal_verbs[lemma]), plural, tense)
    place_tail(w, 0.5)
    w.end()


def count_sentence(w: Writer, subject_done: bool = False) -> None:
    """Somebody has or buys a number of things: ``The baker bought twelve eggs.``"""
    w.begin()
    if not subject_done:
        w.random_np("person", "person", False, "the", 0.3)
    w.add(w.rng.choice(("bought", "sold", "counted", "carried", "found", "had")), "VERB")
    number = w.rng.choice(NUMBER_WORDS) if w.rng.chance(0.7) else str(w.rng.between(13, 60))
    w.add(number, "NUM")
    noun_class = w.rng.choice(("food", "thing", "readable", "plant"))
    lemma = w.rng.choice(w.lex.classes[noun_class])
    while lemma not in w.lex.plurals:
        lemma = w.rng.choice(w.lex.classes[noun_class])
    w.noun_phrase(lemma, True, "")
    place_tail(w, 0.3)
    w.end()


def weather(w: Writer, town: str) -> None:
    """``It was a sunny morning in Millbrook.``"""
    w.begin()
    w.add("it", "PRON"), w.add("was", "AUX")
    w.noun_phrase(w.rng.choice(w.lex.classes["time"]), False, "a", w.adjective("weather"))
    w.add("in", "ADP"), w.add(town, "PROPN")
    w.end()


def reported(w: Writer, c: Character) -> None:
    """A character says or thinks a clause: ``Anna said that the keys near the box were old.``"""
    w.begin()
    w.mention(c)
    verb = w.rng.choice(("say", "think", "know", "believe", "hope", "hear", "notice"))
    w.verb_group(verb, False, w.rng.choice(("past", "past", "present", "perfect", "modal", "negative")))
    w.add("that", "SCONJ")
    agreement(w, embedded=True)
    w.end()
