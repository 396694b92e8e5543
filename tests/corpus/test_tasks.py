"""The task datasets: determinism, disjoint splits, right labels, spans, no test text seen in pretraining."""

import pytest

from mlm_book.corpus import DEFAULT_N_PARAGRAPHS, detokenize, world
from mlm_book.corpus.synthetic.probes import corpus_paragraphs, corpus_sentences
from mlm_book.corpus.tasks import (
    GRAMMAR_LABELS,
    NER_LABELS,
    NUMBER_LABELS,
    POS_TAGS,
    TASK_DATASETS,
    make_task_dataset,
    ner_tag,
)
from mlm_book.corpus.tasks.grammar import SWAPS
from mlm_book.corpus.tasks.number import VERB_NUMBER
from mlm_book.utils.special_tokens import IGNORE_INDEX, MASK_TOKEN


def _texts(split) -> list[str]:
    column = "tokens" if "tokens" in split.column_names else "text" if "text" in split.column_names else "context"
    return [" ".join(t) if isinstance(t, list) else t for t in split[column]]


@pytest.mark.parametrize("task", TASK_DATASETS)
def test_seeded_disjoint_and_test_split_independent_of_train_size(task: str) -> None:
    small = make_task_dataset(task, 3, 2, 4, seed=1, unseen_in=0)
    assert small["train"].to_list() == make_task_dataset(task, 3, 2, 4, seed=1, unseen_in=0)["train"].to_list()
    assert _texts(small["test"]) != _texts(make_task_dataset(task, 3, 2, 4, seed=2, unseen_in=0)["test"])
    larger = make_task_dataset(task, 9, 2, 4, seed=1, unseen_in=0)
    assert larger["test"].to_list() == small["test"].to_list()
    assert larger["validation"].to_list() == small["validation"].to_list()
    assert [len(larger[s]) for s in ("train", "validation", "test")] == [9, 2, 4]
    splits = [set(_texts(larger[s])) for s in ("train", "validation", "test")]
    assert not (splits[0] & splits[1] or splits[0] & splits[2] or splits[1] & splits[2])


def test_entity_tags_of_hand_picked_words() -> None:
    person = world().characters[0]
    assert ner_tag(person.name, "PROPN") == "PERSON"
    assert ner_tag(person.town, "PROPN") == "TOWN"
    assert ner_tag(person.job, "NOUN") == "JOB"
    assert ner_tag("dogs", "NOUN") == ner_tag("Dog", "NOUN") == "ANIMAL"
    assert ner_tag("Monday", "PROPN") == ner_tag("the", "DET") == ner_tag(person.name, "NOUN") == "O"


def test_tagging_columns_and_label_names() -> None:
    data = make_task_dataset("tagging", 20, 1, 1, unseen_in=0)
    assert data["train"].features["ner_tags"].feature.names == list(NER_LABELS)
    assert data["train"].features["pos_tags"].feature.names == list(POS_TAGS)
    names, people = set(), {c.name for c in world().characters}
    for row in data["train"]:
        assert len(row["tokens"]) == len(row["ner_tags"]) == len(row["pos_tags"])
        names |= {w for w, t in zip(row["tokens"], row["ner_tags"]) if NER_LABELS[t] == "PERSON"}
    assert names and names <= people
    assert {NER_LABELS[t] for row in data["train"] for t in row["ner_tags"]} >= {"O", "PERSON", "TOWN"}


def test_grammar_is_balanced_and_errors_are_one_swap() -> None:
    data = make_task_dataset("grammar", 41, 10, 10, unseen_in=0)
    for split in data.values():
        labels = split["label"]
        assert abs(labels.count(0) - labels.count(1)) <= 1
    assert data["train"].features["label"].names == list(GRAMMAR_LABELS)
    for row in data["train"]:
        assert any(word.strip(".").lower() in SWAPS for word in row["text"].split())


def _unmasked(row: dict) -> str:
    """The source sentence of a number example: the hidden verb put back."""
    k = row["tokens"].index(MASK_TOKEN)
    verb = row["verb"].capitalize() if k == 0 else row["verb"]
    return detokenize([*row["tokens"][:k], verb, *row["tokens"][k + 1 :]])


def test_number_hides_one_agreeing_verb_and_labels_only_it() -> None:
    data = make_task_dataset("number", 41, 10, 11, unseen_in=0)
    assert data["train"].features["label"].names == list(NUMBER_LABELS)
    for split in data.values():
        labels = split["label"]
        assert labels.count(1) == len(labels) // 2  # balanced: the majority baseline is 0.5
        for row in split:
            k = row["tokens"].index(MASK_TOKEN)
            assert row["tokens"].count(MASK_TOKEN) == 1 and len(row["number_tags"]) == len(row["tokens"])
            assert row["number_tags"][k] == row["label"] == VERB_NUMBER[row["verb"]]
            assert all(tag == IGNORE_INDEX for i, tag in enumerate(row["number_tags"]) if i != k)
    texts = [detokenize(row["tokens"]) for split in data.values() for row in split]
    assert len(set(texts)) == len(texts)  # no masked text twice, in a split or across splits


def test_qa_answers_are_spans_of_the_context_about_the_named_character() -> None:
    data = make_task_dataset("qa", 30, 5, 5, unseen_in=0)
    for split in data.values():
        for row in split:
            (text,), (start,) = row["answers"]["text"], row["answers"]["answer_start"]
            assert row["context"][start : start + len(text)] == text
            name = row["question"].replace("'s", " ").rstrip("?").split()
            assert any(
                word in row["context"] for word in name if word[0].isupper() and word not in ("Where", "What", "How")
            )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_train": -1}, "n_train must be a whole number >= 0, got -1"),
        ({"n_test": 2.5}, "n_test must be a whole number, got 2.5"),
        ({"seed": "x"}, "seed must be a whole number, got 'x'; pass e.g. seed=0"),
        ({"unseen_in": -3}, "unseen_in must be a whole number >= 0"),
    ],
)
@pytest.mark.parametrize("task", TASK_DATASETS)
def test_bad_arguments_are_one_line(task: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace("?", r"\?")):
        make_task_dataset(task, **{"n_train": 1, "n_validation": 1, "n_test": 1, "unseen_in": 0, **kwargs})


def test_no_test_text_occurs_in_the_default_pretraining_corpus() -> None:
    sentences = corpus_sentences(DEFAULT_N_PARAGRAPHS)
    paragraphs = set(corpus_paragraphs(DEFAULT_N_PARAGRAPHS))
    tagging = make_task_dataset("tagging", 0, 50, 200)
    grammar = make_task_dataset("grammar", 0, 50, 200)
    qa = make_task_dataset("qa", 0, 20, 100)
    number = make_task_dataset("number", 0, 50, 200)
    for split in ("validation", "test"):
        assert not {detokenize(words) for words in tagging[split]["tokens"]} & sentences
        assert not set(grammar[split]["text"]) & sentences
        assert not set(qa[split]["context"]) & paragraphs
        assert not {_unmasked(row) for row in number[split]} & sentences
    # the check is not idle: without it, the test split would repeat pretraining sentences
    unchecked = make_task_dataset("tagging", 0, 0, 200, unseen_in=0)["test"]["tokens"]
    assert {detokenize(words) for words in unchecked} & sentences
    assert {_unmasked(row) for row in make_task_dataset("number", 0, 0, 200, unseen_in=0)["test"]} & sentences


def test_an_unknown_task_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown task dataset 'parse'; choose from"):
        make_task_dataset("parse")
