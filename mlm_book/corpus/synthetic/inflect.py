"""English inflection by rule, with a table of irregular forms for the exceptions.

The synthetic corpus writes every inflected word with these functions, so the suffixes a
subword tokenizer can discover are real and regular: plural ``-s``/``-es``/``-ies``, verb
``-s``/``-ed``/``-ing`` and comparative ``-er``/``-est``. A few very common words are
irregular, as in real English (``child -> children``, ``go -> went``, ``good -> better``).
Spelling follows British English (``travelled``, ``favourite``).
"""

from __future__ import annotations

IRREGULAR_PLURALS: dict[str, str] = {
    "child": "children",
    "person": "people",
    "mouse": "mice",
    "goose": "geese",
    "foot": "feet",
    "tooth": "teeth",
    "ox": "oxen",
    "sheep": "sheep",
    "deer": "deer",
    "fish": "fish",
    "moose": "moose",
    "salmon": "salmon",
    "trout": "trout",
    "goldfish": "goldfish",
    "knife": "knives",
    "wolf": "wolves",
    "leaf": "leaves",
    "loaf": "loaves",
    "shelf": "shelves",
    "scarf": "scarves",
    "calf": "calves",
    "thief": "thieves",
    "wife": "wives",
    "cactus": "cacti",
    "potato": "potatoes",
    "tomato": "tomatoes",
    "hero": "heroes",
    "mango": "mangoes",
    "mosquito": "mosquitoes",
    "volcano": "volcanoes",
    "human": "humans",
}

IRREGULAR_VERBS: dict[str, tuple[str, str]] = {  # base: (past, past participle)
    "be": ("was", "been"),
    "have": ("had", "had"),
    "do": ("did", "done"),
    "go": ("went", "gone"),
    "eat": ("ate", "eaten"),
    "drink": ("drank", "drunk"),
    "see": ("saw", "seen"),
    "come": ("came", "come"),
    "take": ("took", "taken"),
    "give": ("gave", "given"),
    "write": ("wrote", "written"),
    "read": ("read", "read"),
    "drive": ("drove", "driven"),
    "ride": ("rode", "ridden"),
    "fly": ("flew", "flown"),
    "swim": ("swam", "swum"),
    "sing": ("sang", "sung"),
    "run": ("ran", "run"),
    "sit": ("sat", "sat"),
    "sleep": ("slept", "slept"),
    "find": ("found", "found"),
    "lose": ("lost", "lost"),
    "hide": ("hid", "hidden"),
    "hold": ("held", "held"),
    "keep": ("kept", "kept"),
    "bring": ("brought", "brought"),
    "buy": ("bought", "bought"),
    "sell": ("sold", "sold"),
    "catch": ("caught", "caught"),
    "teach": ("taught", "taught"),
    "think": ("thought", "thought"),
    "throw": ("threw", "thrown"),
    "break": ("broke", "broken"),
    "choose": ("chose", "chosen"),
    "wear": ("wore", "worn"),
    "tear": ("tore", "torn"),
    "steal": ("stole", "stolen"),
    "shake": ("shook", "shaken"),
    "grow": ("grew", "grown"),
    "build": ("built", "built"),
    "feed": ("fed", "fed"),
    "meet": ("met", "met"),
    "leave": ("left", "left"),
    "send": ("sent", "sent"),
    "lend": ("lent", "lent"),
    "show": ("showed", "shown"),
    "sew": ("sewed", "sewn"),
    "say": ("said", "said"),
    "tell": ("told", "told"),
    "know": ("knew", "known"),
    "hear": ("heard", "heard"),
    "make": ("made", "made"),
    "cut": ("cut", "cut"),
    "put": ("put", "put"),
    "forget": ("forgot", "forgotten"),
    "draw": ("drew", "drawn"),
    "dig": ("dug", "dug"),
    "win": ("won", "won"),
    "spend": ("spent", "spent"),
    "bite": ("bit", "bitten"),
    "get": ("got", "got"),
    "freeze": ("froze", "frozen"),
    "pay": ("paid", "paid"),
    "feel": ("felt", "felt"),
    "lay": ("laid", "laid"),
    "stand": ("stood", "stood"),
    "fall": ("fell", "fallen"),
    "wake": ("woke", "woken"),
    "begin": ("began", "begun"),
    "light": ("lit", "lit"),
}

IRREGULAR_THIRD_PERSON: dict[str, str] = {"be": "is", "have": "has"}

IRREGULAR_COMPARISONS: dict[str, tuple[str, str]] = {
    "good": ("better", "best"),
    "bad": ("worse", "worst"),
    "far": ("further", "furthest"),
    "little": ("less", "least"),
    "many": ("more", "most"),
}

_VOWELS = "aeiou"
_DOUBLING_EXCEPTIONS = {
    "travel": "travell",
    "cancel": "cancell",
    "label": "labell",
    "admit": "admitt",
    "refer": "referr",
    "prefer": "preferr",
    "quarrel": "quarrell",
}
_AN_EXCEPTIONS = {"hour", "honest", "heir"}
_A_EXCEPTIONS = {"uniform", "unicorn", "university", "useful", "usual", "one", "ukulele", "european"}


def _stem_for_suffix(word: str) -> str:
    """Return ``word`` with its final consonant doubled where a vowel suffix needs it.

    One-syllable words ending consonant-vowel-consonant double it (``stop -> stopp``,
    ``big -> bigg``); ``w``, ``x`` and ``y`` never double; a few longer words are listed.
    """
    if word in _DOUBLING_EXCEPTIONS:
        return _DOUBLING_EXCEPTIONS[word]
    groups = sum(1 for i, c in enumerate(word) if c in _VOWELS and (i == 0 or word[i - 1] not in _VOWELS))
    if (
        groups == 1
        and len(word) >= 3
        and word[-1] not in _VOWELS + "wxy"
        and word[-2] in _VOWELS
        and word[-3] not in _VOWELS
        and not (word[-3] == "u" or word[-3:-1] == "qu")
    ):
        return word + word[-1]
    return word


def _sibilant(word: str) -> bool:
    return word.endswith(("s", "x", "z", "ch", "sh"))


def plural(noun: str) -> str:
    """Plural of a singular noun: ``box -> boxes``, ``story -> stories``, ``child -> children``."""
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    if noun.endswith("man") and noun != "human":
        return noun[:-3] + "men"
    if _sibilant(noun):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in _VOWELS:
        return noun[:-1] + "ies"
    return noun + "s"


def third_person(verb: str) -> str:
    """Present tense, third person singular: ``eat -> eats``, ``wash -> washes``, ``go -> goes``."""
    if verb in IRREGULAR_THIRD_PERSON:
        return IRREGULAR_THIRD_PERSON[verb]
    if _sibilant(verb) or verb in ("go", "do"):
        return verb + "es"
    if verb.endswith("y") and verb[-2] not in _VOWELS:
        return verb[:-1] + "ies"
    return verb + "s"


def past(verb: str) -> str:
    """Simple past: ``walk -> walked``, ``bake -> baked``, ``stop -> stopped``, ``eat -> ate``."""
    if verb in IRREGULAR_VERBS:
        return IRREGULAR_VERBS[verb][0]
    return _regular_ed(verb)


def past_participle(verb: str) -> str:
    """Past participle: regular verbs reuse the past (``walked``); ``eat -> eaten``."""
    if verb in IRREGULAR_VERBS:
        return IRREGULAR_VERBS[verb][1]
    return _regular_ed(verb)


def _regular_ed(verb: str) -> str:
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2] not in _VOWELS:
        return verb[:-1] + "ied"
    return _stem_for_suffix(verb) + "ed"


def present_participle(verb: str) -> str:
    """The -ing form: ``walk -> walking``, ``bake -> baking``, ``run -> running``, ``tie -> tying``."""
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")) and verb != "be":
        return verb[:-1] + "ing"
    return _stem_for_suffix(verb) + "ing"


def comparative(adjective: str) -> str:
    """Comparative by suffix: ``tall -> taller``, ``big -> bigger``, ``happy -> happier``."""
    if adjective in IRREGULAR_COMPARISONS:
        return IRREGULAR_COMPARISONS[adjective][0]
    return _graded(adjective, "er")


def superlative(adjective: str) -> str:
    """Superlative by suffix: ``tall -> tallest``, ``big -> biggest``, ``good -> best``."""
    if adjective in IRREGULAR_COMPARISONS:
        return IRREGULAR_COMPARISONS[adjective][1]
    return _graded(adjective, "est")


def _graded(adjective: str, suffix: str) -> str:
    if adjective.endswith("e"):
        return adjective + suffix[1:]
    if adjective.endswith("y") and adjective[-2] not in _VOWELS:
        return adjective[:-1] + "i" + suffix
    return _stem_for_suffix(adjective) + suffix


def indefinite_article(word: str) -> str:
    """``a`` or ``an`` for the word that follows, by its sound: ``an apple``, ``a uniform``."""
    lower = word.lower()
    if lower in _AN_EXCEPTIONS:
        return "an"
    if lower in _A_EXCEPTIONS or lower[0].isdigit():
        return "a" if not lower.startswith(("8", "11", "18")) else "an"
    return "an" if lower[0] in _VOWELS else "a"
