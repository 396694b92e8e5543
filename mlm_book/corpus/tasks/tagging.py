"""Word tagging: named entities of the world, and parts of speech.

Every entity of the synthetic English is a single word, so the tags need no ``B-``/``I-``
prefixes (the IO scheme is the BIO scheme here): a character's name is ``PERSON``, a town is
``TOWN``, a job noun (``baker``, ``bakers``) is ``JOB``, an animal noun (``dog``, ``owls``) is
``ANIMAL``, every other word ``O``. The part-of-speech tags are the generator's own (a small
universal tagset), so both are right by construction.
"""

from __future__ import annotations

from functools import lru_cache

import datasets

from mlm_book.corpus.synthetic.generate import detokenize
from mlm_book.corpus.synthetic.lexicon import build_lexicon
from mlm_book.corpus.synthetic.world import make_world
from mlm_book.corpus.tasks.common import (
    Row,
    TaskSpec,
    build_dataset,
    fill_split,
    seen_sentences,
    sentence_stream,
)

NER_LABELS: tuple[str, ...] = ("O", "PERSON", "TOWN", "JOB", "ANIMAL")
"""Entity labels, by id: ``ner_tags`` holds their indices."""
POS_TAGS: tuple[str, ...] = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "VERB",
)  # fmt: skip
"""Part-of-speech tags, by id: ``pos_tags`` holds their indices."""


@lru_cache(maxsize=8)
def _entity_words(world_seed: int) -> dict[str, str]:
    """Lower-cased noun forms and exact names mapped to their entity label."""
    lex, world = build_lexicon(), make_world(world_seed)
    table = {}
    for label, lemmas in (("JOB", lex.classes["job"]), ("ANIMAL", lex.classes["animal"])):
        for lemma in lemmas:
            table[lemma] = table[lex.plurals.get(lemma, lemma)] = label
    table.update({town: "TOWN" for town in world.towns})
    table.update({person.name: "PERSON" for person in world.characters})
    return table


def ner_tag(word: str, pos: str, world_seed: int = 0) -> str:
    """The entity label of one word with its part-of-speech tag.

    Args:
        spec: the sizes and seeds; ``spec.unseen_in`` paragraphs of the pretraining corpus
            hold none of the validation and test sentences.

    Returns:
        One of :data:`NER_LABELS`.
    """
    label = _entity_words(world_seed).get(word if pos == "PROPN" else word.lower(), "O")
    if (pos == "PROPN") != (label in ("PERSON", "TOWN")) or pos not in ("PROPN", "NOUN"):
        return "O"
    return label


def tagging_dataset(spec: TaskSpec) -> datasets.DatasetDict:
    """Sentences with a named-entity tag and a part-of-speech tag for every word.

    Args:
        spec: the sizes and seeds; ``spec.unseen_in`` paragraphs of the pretraining corpus
            hold none of the validation and test sentences.

    Returns:
        Splits with ``tokens`` (words), ``ner_tags`` (ids into :data:`NER_LABELS`) and
        ``pos_tags`` (ids into :data:`POS_TAGS`); the label names are also in the features.

    """
    seed, world_seed, unseen_in = spec.seed, spec.world_seed, spec.unseen_in
    seen = seen_sentences(unseen_in, world_seed)
    ner_ids = {label: i for i, label in enumerate(NER_LABELS)}
    pos_ids = {tag: i for i, tag in enumerate(POS_TAGS)}

    def make(split: str, n: int, taken: set[str]) -> list[Row]:
        stream = sentence_stream("tagging", split, seed, world_seed)

        def draw(_: int) -> tuple[str, Row]:
            words, tags = next(stream)
            row = {
                "tokens": list(words),
                "ner_tags": [ner_ids[ner_tag(word, tag, world_seed)] for word, tag in zip(words, tags)],
                "pos_tags": [pos_ids[tag] for tag in tags],
            }
            return detokenize(words), row

        return fill_split(split, n, draw, taken, seen)

    features = datasets.Features(
        {
            "tokens": datasets.List(datasets.Value("string")),
            "ner_tags": datasets.List(datasets.ClassLabel(names=list(NER_LABELS))),
            "pos_tags": datasets.List(datasets.ClassLabel(names=list(POS_TAGS))),
        }
    )
    return build_dataset(spec.sizes, make, features)
