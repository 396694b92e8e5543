"""The phrase builder: a writer that appends words and their part-of-speech tags.

Sentences are written word by word into two parallel lists, ``words`` and ``tags`` (a small
universal tagset: NOUN VERB ADJ ADV DET PRON PROPN ADP AUX CCONJ SCONJ PART NUM PUNCT). The
writer knows how to write a noun phrase (determiner, adjective, noun in the right number), a
verb group that agrees with its subject (``is eating``, ``have eaten``, ``eats``), and a
mention of a character: by name, or by pronoun when the pronoun is unambiguous, i.e. when
the character is the only one of their gender named so far in the paragraph.
"""

from __future__ import annotations

from itertools import accumulate

from mlm_book.corpus.synthetic.inflect import indefinite_article
from mlm_book.corpus.synthetic.lexicon import Frame, Lexicon
from mlm_book.corpus.synthetic.rng import SplitMix64
from mlm_book.corpus.synthetic.world import Character, World

TENSES = ("present", "past", "progressive", "past_progressive", "perfect", "modal", "negative")
_TENSE_WEIGHTS = (18, 40, 10, 8, 9, 8, 7)
_CUMULATIVE_TENSES = tuple(sum(_TENSE_WEIGHTS[: i + 1]) for i in range(len(_TENSE_WEIGHTS)))
MODALS = ("will", "can", "must", "should", "might", "would", "could")
NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
# Zipf-like weights 60, 30, 20, 15, ... for the verbs of a frame group, most common first
_ZIPF_CUMULATIVE = tuple(tuple(accumulate(60 // (rank + 1) for rank in range(n))) for n in range(1, 41))


class Writer:
    """Appends the words and tags of one paragraph, and remembers who has been named.

    Args:
        lexicon: the word tables.
        world: the characters and their facts.
        rng: the paragraph's random stream (the writer advances it).
    """

    def __init__(self, lexicon: Lexicon, world: World, rng: SplitMix64) -> None:
        self.lex = lexicon
        self.world = world
        self.rng = rng
        self.words: list[str] = []
        self.tags: list[str] = []
        self.named: dict[str, list[Character]] = {"female": [], "male": []}
        self.stated: set[tuple[str, str]] = set()
        self._start = 0

    # -- words -------------------------------------------------------------------------
    def add(self, word: str, tag: str) -> None:
        """Append one word with its tag."""
        self.words.append(word)
        self.tags.append(tag)

    def begin(self) -> None:
        """Mark the start of a sentence (its first word is capitalised at :meth:`end`)."""
        self._start = len(self.words)

    def end(self, mark: str = ".") -> None:
        """Capitalise the sentence's first word and close it with ``mark``."""
        first = self.words[self._start]
        self.words[self._start] = first[0].upper() + first[1:]
        self.add(mark, "PUNCT")

    # -- noun phrases ------------------------------------------------------------------
    def adjective(self, noun_class: str) -> str:
        """A random adjective that fits nouns of ``noun_class``."""
        return self.rng.choice(self.lex.adjectives[noun_class])

    def noun_phrase(self, lemma: str, plural: bool, det: str = "the", adj: str | None = None) -> None:
        """Write ``det [adj] noun`` with the noun in the right number.

        Args:
            lemma: noun lemma from the lexicon.
            plural: plural noun (ignored for mass nouns, which have one form).
            det: ``"the"``, ``"a"`` (becomes a/an, or some/a number word in the plural),
                ``"some"``, ``"this"`` (becomes this/these) or ``""`` for none.
            adj: an adjective to put before the noun, or None.
        """
        noun = self.lex.noun_form(lemma, plural)
        mass = lemma not in self.lex.plurals
        if det == "a":
            if mass:
                det = "some"
            elif plural:
                det = self.rng.choice(("some", "many", "several", *NUMBER_WORDS[:6]))
            else:
                det = indefinite_article(adj or noun)
        elif det == "this":
            det = ("these" if plural else "this") if self.rng.chance(0.5) else ("those" if plural else "that")
        if det:
            self.add(det, "NUM" if det in NUMBER_WORDS else "DET")
        if adj:
            self.add(adj, "ADJ")
        self.add(noun, "NOUN")

    def random_np(self, noun_class: str, adj_class: str, plural: bool, det: str = "the", adj_p: float = 0.35) -> bool:
        """Write a noun phrase of a random noun from ``noun_class``.

        Returns:
            Whether the phrase is plural (never for mass nouns such as ``soup``), which is
            what a verb must agree with.
        """
        lemma = self.rng.choice(self.lex.classes[noun_class])
        adj = self.adjective(adj_class) if self.rng.chance(adj_p) else None
        plural = plural and lemma in self.lex.plurals
        self.noun_phrase(lemma, plural, det, adj)
        return plural

    # -- characters --------------------------------------------------------------------
    def name(self, person: Character) -> None:
        """Write a character's name and remember that they have been named."""
        self.add(person.name, "PROPN")
        named = self.named[person.gender]
        if all(person is not other for other in named):
            named.append(person)

    def can_use_pronoun(self, person: Character) -> bool:
        """True when a pronoun would point at ``person`` unambiguously."""
        named = self.named[person.gender]
        return len(named) == 1 and named[0] is person

    def mention(self, person: Character, case: str = "subject", pronoun_p: float = 0.5) -> None:
        """Refer to a character by name or, when unambiguous, sometimes by pronoun.

        Args:
            person: the character.
            case: ``"subject"`` (she/he), ``"object"`` (her/him) or ``"possessive"``
                (her/his, or the name followed by ``'s``).
            pronoun_p: probability of a pronoun when one is allowed.
        """
        if self.can_use_pronoun(person) and self.rng.chance(pronoun_p):
            self.add(getattr(person, case), "PRON")
            return
        self.name(person)
        if case == "possessive":
            self.add("'s", "PART")

    # -- verbs -------------------------------------------------------------------------
    def frame(self, subjects: tuple[str, ...] = ("person", "animate"), person_object: bool = True) -> Frame:
        """A random transitive frame whose subject class is one of ``subjects``.

        A frame group (e.g. people + foods) is chosen uniformly, then a verb within it with
        Zipf-like weights, so ``eat`` is far more common than ``nibble``.

        Args:
            subjects: allowed subject classes of the frame.
            person_object: whether frames whose object is a person are allowed.
        """
        while True:
            group = self.rng.choice(self.lex.frame_groups)
            if group[0].subject in subjects and (person_object or group[0].object != "person"):
                return self.rng.weighted(group, _ZIPF_CUMULATIVE[len(group) - 1])

    def tense(self) -> str:
        """A random tense, mostly past and present."""
        return self.rng.weighted(TENSES, _CUMULATIVE_TENSES)

    def verb_group(self, verb: str, plural: bool, tense: str) -> None:
        """Write a verb that agrees with a third-person subject of the given number.

        Args:
            verb: verb lemma.
            plural: whether the subject is plural.
            tense: one of :data:`TENSES`.
        """
        forms = self.lex.verbs[verb]
        if tense == "present":
            self.add(forms.base if plural else forms.third, "VERB")
        elif tense == "past":
            self.add(forms.past, "VERB")
        elif tense in ("progressive", "past_progressive"):
            aux = ("are", "is", "were", "was")[(tense == "past_progressive") * 2 + (not plural)]
            self.add(aux, "AUX")
            self.add(forms.ing, "VERB")
        elif tense == "perfect":
            self.add("have" if plural else "has", "AUX")
            self.add(forms.participle, "VERB")
        elif tense == "modal":
            self.add(self.rng.choice(MODALS), "AUX")
            self.add(forms.base, "VERB")
        else:
            self.add(self.rng.choice(("did", "do" if plural else "does")), "AUX")
            self.add("not", "PART")
            self.add(forms.base, "VERB")

    def copula(self, plural: bool, past: bool) -> None:
        """Write ``is``/``are``/``was``/``were`` agreeing with the subject."""
        self.add(("are", "is", "were", "was")[past * 2 + (not plural)], "AUX")
