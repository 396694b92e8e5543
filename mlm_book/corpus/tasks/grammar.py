"""Grammaticality: is the sentence English, or has one verb lost its agreement with its subject?

Half the sentences of each split are left as the corpus generator wrote them (label 1), half
have one agreeing verb swapped for the other number (label 0): ``is``/``are``, ``was``/``were``,
``has``/``have``, at a position drawn at random among those the sentence holds. A sentence
without such a verb, or with a noun whose plural is the singular (``sheep``: both numbers
would be right), is not used. The labels alternate and are then shuffled, so every split is
balanced to within one example and a classifier must read the sentence to beat 50%.
"""

from __future__ import annotations

import datasets

from mlm_book.corpus.synthetic.generate import detokenize
from mlm_book.corpus.synthetic.lexicon import build_lexicon
from mlm_book.corpus.synthetic.rng import SplitMix64
from mlm_book.corpus.tasks.common import (
    Row,
    TaskSpec,
    build_dataset,
    fill_split,
    seen_sentences,
    sentence_stream,
)
from mlm_book.utils.seeding import derive_seed

GRAMMAR_LABELS: tuple[str, ...] = ("ungrammatical", "grammatical")
"""Label names by id, as in CoLA: 1 is acceptable."""
SWAPS: dict[str, str] = {"is": "are", "are": "is", "was": "were", "were": "was", "has": "have", "have": "has"}
"""Each agreeing verb form and the form of the other number."""


def _swap(word: str) -> str:
    """The other number's form, keeping a capital first letter."""
    other = SWAPS[word.lower()]
    return other.capitalize() if word[0].isupper() else other


def grammar_dataset(spec: TaskSpec) -> datasets.DatasetDict:
    """Sentences labelled grammatical (1) or with one agreement error (0), balanced.

    Args:
        spec: the sizes and seeds; ``spec.unseen_in`` paragraphs of the pretraining corpus
            hold none of the validation and test examples' source sentences.

    Returns:
        Splits with ``text`` and ``label`` (ids into :data:`GRAMMAR_LABELS`).

    """
    seed, world_seed, unseen_in = spec.seed, spec.world_seed, spec.unseen_in
    seen = seen_sentences(unseen_in, world_seed)
    invariant = {word for lemma, word in build_lexicon().plurals.items() if lemma == word}

    def make(split: str, n: int, taken: set[str]) -> list[Row]:
        stream = sentence_stream("grammar", split, seed, world_seed)
        rng = SplitMix64(derive_seed(seed, "task", "grammar", split, "choices"))

        def draw(_: int) -> tuple[str, Row] | None:
            words, _ = next(stream)
            verbs = [k for k, word in enumerate(words) if word.lower() in SWAPS]
            if not verbs or any(word.lower() in invariant for word in words):
                return None
            text = detokenize(words)
            return text, {"text": text, "source": list(words), "verbs": verbs}

        sources = fill_split(split, n, draw, taken, seen)
        rows = []
        for index, source in enumerate(sources):
            words = list(source["source"])
            if index % 2:
                k = rng.choice(source["verbs"])
                words[k] = _swap(words[k])
            rows.append({"text": detokenize(words), "label": 0 if index % 2 else 1})
        return rng.shuffled(rows)

    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=list(GRAMMAR_LABELS))}
    )
    return build_dataset(spec.sizes, make, features)
