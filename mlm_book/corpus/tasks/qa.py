"""Extractive question answering: a short paragraph about some characters, a question about one.

The context introduces two or three characters of the world and states some of their facts
(by name or, when unambiguous, by pronoun); the question asks for one fact that the context
states, about one of them:

    Where does Vera live?   What is Vera's job?   What pet does Vera have?
    What is Vera's favourite food?   How old is Vera?

The answer is the word of the sentence about that character that states the fact, given as
SQuAD gives it: ``answers = {"text": [word], "answer_start": [its character offset]}``, so
``context[start : start + len(text)] == text``. The facts are the world's, which the
pretraining corpus states too: a model may know an answer before reading, but must still point
at it in the context.
"""

from __future__ import annotations

import datasets

from mlm_book.corpus.synthetic import sentences
from mlm_book.corpus.synthetic.generate import detokenize
from mlm_book.corpus.synthetic.lexicon import build_lexicon
from mlm_book.corpus.synthetic.phrases import Writer
from mlm_book.corpus.synthetic.probes import corpus_paragraphs
from mlm_book.corpus.synthetic.rng import SplitMix64
from mlm_book.corpus.synthetic.world import Character, make_world
from mlm_book.corpus.tasks.common import Row, TaskSpec, build_dataset, fill_split
from mlm_book.utils.seeding import derive_seed

QA_KINDS: dict[str, str] = {
    "town": "Where does {} live?",
    "job": "What is {}'s job?",
    "pet": "What pet does {} have?",
    "food": "What is {}'s favourite food?",
    "age": "How old is {}?",
}
"""The facts a question may ask for, with the question's template."""


def _fact(person: Character, kind: str) -> str:
    return str(person.age) if kind == "age" else getattr(person, kind)


def _write_context(w: Writer) -> list[tuple[int, int, Character]]:
    """Write the context; return ``(first word, end word, character)`` for each sentence about someone."""
    cast = w.rng.sample(w.world.characters, w.rng.between(2, 3))
    spans = []
    for index, person in enumerate(cast):
        writers = [sentences.intro]
        if w.rng.chance(0.7):
            writers.append(sentences.fact)
        if w.rng.chance(0.4):
            writers.append(lambda w, c, cast=cast[: index + 1]: sentences.action(w, c, cast))
        for write in writers:
            start = len(w.words)
            write(w, person)
            spans.append((start, len(w.words), person))
    return spans


def _example(seed: int, world_seed: int, split: str, index: int) -> tuple[str, Row]:
    """Write QA example ``index`` of a split from its own stream."""
    w = Writer(build_lexicon(), make_world(world_seed), SplitMix64(derive_seed(seed, "task", "qa", split, index)))
    spans = _write_context(w)
    candidates = []
    for start, end, person in spans:
        for kind in QA_KINDS:
            hits = [k for k in range(start, end) if w.words[k] == _fact(person, kind)]
            if hits and all(c[0] is not person or c[1] != kind for c in candidates):
                candidates.append((person, kind, hits[0]))
    person, kind, word = w.rng.choice(candidates)  # every intro states a fact, so there is one
    context = detokenize(w.words)
    answer_start = len(detokenize(w.words[: word + 1])) - len(w.words[word])
    row = {
        "question": QA_KINDS[kind].format(person.name),
        "context": context,
        "answers": {"text": [w.words[word]], "answer_start": [answer_start]},
    }
    return context, row


def qa_dataset(spec: TaskSpec) -> datasets.DatasetDict:
    """Questions about the characters of a short context, with SQuAD-style answer spans.

    Args:
        spec: the sizes and seeds; ``spec.unseen_in`` paragraphs of the pretraining corpus
            equal none of the validation and test contexts.

    Returns:
        Splits with ``question``, ``context`` and ``answers`` (``text`` and ``answer_start``
        lists of one answer each).

    """
    seed, world_seed, unseen_in = spec.seed, spec.world_seed, spec.unseen_in
    seen = frozenset(corpus_paragraphs(unseen_in, 0, world_seed)) if unseen_in else frozenset()

    def make(split: str, n: int, taken: set[str]) -> list[Row]:
        return fill_split(split, n, lambda i: _example(seed, world_seed, split, i), taken, seen)

    features = datasets.Features(
        {
            "question": datasets.Value("string"),
            "context": datasets.Value("string"),
            "answers": {
                "text": datasets.List(datasets.Value("string")),
                "answer_start": datasets.List(datasets.Value("int32")),
            },
        }
    )
    return build_dataset(spec.sizes, make, features)
