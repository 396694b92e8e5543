"""Subject number at a hidden verb: the property a linear probe reads at the ``[MASK]``.

Each sentence holds an agreeing verb (``is``/``are``, ``was``/``were``, ``has``/``have``); one
of them, drawn at random, is replaced by ``[MASK]``, and the word's label is the number the
verb must have: 0 singular (``is``, ``was``, ``has``), 1 plural. The generator wrote the
sentence grammatically, so the hidden form *is* the subject's number, right by construction.
A model can only know it from the context (the subject, which may lie across a distracting
noun of the other number, or the noun after ``there``), not from the verb itself.

Only the masked word is labelled; every other word carries ``IGNORE_INDEX`` (-100), so a
tagging encoder (``data.tasks.encode_tagging`` with ``label_column="number_tags"``) labels
exactly one token per sentence: the ``[MASK]``. Half the sentences of a split (rounded down)
hide a plural verb, half a singular one, drawn from two streams, so the majority baseline is
0.5 (to within one example) and a probe must read the context to beat it. Sentences with a noun whose plural is its
singular (``sheep``) are left out, as in the grammaticality task. No two examples share their
masked text (``The dog [MASK] old`` comes from ``is`` or ``was`` once only), and no validation
or test example's source sentence is in the pretraining corpus.
"""

from __future__ import annotations

from collections.abc import Callable

import datasets

from mlm_book.corpus.synthetic.generate import detokenize
from mlm_book.corpus.synthetic.lexicon import build_lexicon
from mlm_book.corpus.synthetic.rng import SplitMix64
from mlm_book.corpus.tasks.common import (
    UNSEEN_SPLITS,
    Row,
    TaskSpec,
    build_dataset,
    fill_split,
    seen_sentences,
    sentence_stream,
)
from mlm_book.utils.seeding import derive_seed
from mlm_book.utils.special_tokens import IGNORE_INDEX, MASK_TOKEN

NUMBER_LABELS: tuple[str, ...] = ("singular", "plural")
"""Label names by id."""
VERB_NUMBER: dict[str, int] = {"is": 0, "was": 0, "has": 0, "are": 1, "were": 1, "have": 1}
"""Each agreeing verb form and the number (label id) it shows."""


def number_dataset(spec: TaskSpec) -> datasets.DatasetDict:
    """Sentences with one agreeing verb masked, labelled with the number it must have.

    Args:
        spec: the sizes and seeds; ``spec.unseen_in`` paragraphs of the pretraining corpus
            hold none of the validation and test examples' source sentences.

    Returns:
        Splits with ``tokens`` (words, one of them ``[MASK]``), ``number_tags`` (per word:
        -100, or the label id at the mask), ``label`` (that id, an index into
        :data:`NUMBER_LABELS`) and ``verb`` (the hidden word, lower-cased).
    """
    seed, world_seed, unseen_in = spec.seed, spec.world_seed, spec.unseen_in
    seen = seen_sentences(unseen_in, world_seed)
    invariant = {word for lemma, word in build_lexicon().plurals.items() if lemma == word}

    def make(split: str, n: int, taken: set[str]) -> list[Row]:
        rng = SplitMix64(derive_seed(seed, "task", "number", split, "choices"))

        def drawer(label: int) -> Callable[[int], tuple[str, Row] | None]:
            stream = sentence_stream(f"number-{NUMBER_LABELS[label]}", split, seed, world_seed)

            def draw(_: int) -> tuple[str, Row] | None:
                words, _ = next(stream)
                verbs = [k for k, word in enumerate(words) if VERB_NUMBER.get(word.lower()) == label]
                if not verbs or any(word.lower() in invariant for word in words):
                    return None
                if split in UNSEEN_SPLITS and detokenize(words) in seen:
                    return None  # the source sentence is in the pretraining corpus
                k = rng.choice(verbs)
                tags = [IGNORE_INDEX] * len(words)
                tags[k] = label
                row = {"tokens": [*words[:k], MASK_TOKEN, *words[k + 1 :]], "number_tags": tags, "label": label}
                return detokenize(row["tokens"]), {**row, "verb": words[k].lower()}  # masked texts are distinct

            return draw

        rows = fill_split(split, n - n // 2, drawer(0), taken, seen) + fill_split(split, n // 2, drawer(1), taken, seen)
        return rng.shuffled(rows)

    features = datasets.Features(
        {
            "tokens": datasets.List(datasets.Value("string")),
            "number_tags": datasets.List(datasets.Value("int64")),
            "label": datasets.ClassLabel(names=list(NUMBER_LABELS)),
            "verb": datasets.Value("string"),
        }
    )
    return build_dataset(spec.sizes, make, features)
