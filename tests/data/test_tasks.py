"""Label alignment to WordPiece pieces, answer spans to token positions, and task batches."""

import pytest
import torch
from tokenizers import Tokenizer

from mlm_book.corpus.tasks import make_task_dataset
from mlm_book.data.tasks import (
    align_labels,
    answer_positions,
    collate_task,
    count_targets,
    encode_classification,
    encode_qa,
    encode_tagging,
    encode_task,
    task_batches,
    task_inputs,
)

IGNORE = -100


def test_align_labels_gives_each_word_label_to_its_first_piece() -> None:
    assert align_labels([None, 0, 1, 1, 1, 2, None], [5, 6, 7]) == [IGNORE, 5, 6, IGNORE, IGNORE, 7, IGNORE]


def test_encode_tagging_on_a_hand_checked_sentence(tiny_tokenizer: Tokenizer) -> None:
    batch = {"tokens": [["The", "zebra", "sat", "."]], "ner_tags": [[0, 4, 0, 0]]}
    out = encode_tagging(batch, tiny_tokenizer, max_len=32)
    pieces = [tiny_tokenizer.id_to_token(i) for i in out["input_ids"][0]]
    assert pieces == ["[CLS]", "the", "z", "##e", "##b", "##r", "##a", "sat", ".", "[SEP]"]
    assert out["labels"][0] == [IGNORE, 0, 4, IGNORE, IGNORE, IGNORE, IGNORE, 0, 0, IGNORE]
    cut = encode_tagging(batch, tiny_tokenizer, max_len=4)
    assert [tiny_tokenizer.id_to_token(i) for i in cut["input_ids"][0]] == ["[CLS]", "the", "z", "[SEP]"]
    assert cut["labels"][0] == [IGNORE, 0, 4, IGNORE]


def test_encode_classification_keeps_labels_and_cuts(tiny_tokenizer: Tokenizer) -> None:
    out = encode_classification({"text": ["the cat sat .", "a dog ran"], "label": [1, 0]}, tiny_tokenizer, max_len=4)
    assert out["labels"] == [1, 0]
    assert [len(ids) for ids in out["input_ids"]] == [4, 4] and all(ids[-1] == 3 for ids in out["input_ids"])


def test_qa_positions_map_back_to_the_answer_text(tiny_tokenizer: Tokenizer) -> None:
    data = make_task_dataset("qa", 12, 1, 1, unseen_in=0)["train"]
    out = encode_qa(data[:], tiny_tokenizer, max_len=512)
    columns = zip(data, out["input_ids"], out["start_positions"], out["end_positions"], out["offsets"])
    for row, ids, start, end, offsets in columns:
        assert 0 < start <= end < len(ids) == len(offsets)
        assert row["context"][offsets[start][0] : offsets[end][1]] == row["answers"]["text"][0]
        assert ids[0] == 2 and ids[-1] == 3 and offsets[0] == offsets[-1] == [-1, -1]


def test_an_answer_cut_away_points_at_cls(tiny_tokenizer: Tokenizer) -> None:
    row = {"question": ["who sat ?"], "context": ["the cat sat on the mat by the big tree"]}
    row["answers"] = [{"text": ["tree"], "answer_start": [row["context"][0].index("tree")]}]
    kept = encode_qa(row, tiny_tokenizer, max_len=64)
    start, end = kept["start_positions"][0], kept["end_positions"][0]
    assert kept["input_ids"][0][start : end + 1] == [tiny_tokenizer.token_to_id("tree")]
    cut = encode_qa(row, tiny_tokenizer, max_len=12)
    assert len(cut["input_ids"][0]) == 12 and (cut["start_positions"][0], cut["end_positions"][0]) == (0, 0)
    assert answer_positions([(-1, -1), (0, 3), (4, 7)], 4, 7) == (2, 2)
    assert answer_positions([(-1, -1), (0, 3), (4, 6)], 4, 7) == (0, 0)
    with pytest.raises(ValueError, match="leaving no context within max_len=4"):
        encode_qa(row, tiny_tokenizer, max_len=4)


def test_long_contexts_are_read_through_overlapping_windows(tiny_tokenizer: Tokenizer) -> None:
    data = make_task_dataset("qa", 12, 1, 1, unseen_in=0)["train"]
    whole = encode_qa(data[:], tiny_tokenizer, max_len=512)
    out = encode_qa(data[:], tiny_tokenizer, max_len=48, doc_stride=8)
    assert len(out["input_ids"]) > len(data)  # some contexts need more than one window
    for i, row in enumerate(data):
        windows = [k for k, e in enumerate(out["example"]) if e == i]
        n_question = whole["input_ids"][i].index(3) + 1  # [CLS] question [SEP]
        context = whole["input_ids"][i][n_question:-1]
        pieces = [out["input_ids"][k][n_question:-1] for k in windows]
        assert all(len(out["input_ids"][k]) <= 48 for k in windows)
        assert all(out["input_ids"][k][:n_question] == whole["input_ids"][i][:n_question] for k in windows)
        for a, b in zip(pieces, pieces[1:-1]):  # windows advance by room - doc_stride, sharing 8 tokens
            assert a[-8:] == b[:8]
        assert pieces[0] == context[: len(pieces[0])] and pieces[-1] == context[len(context) - len(pieces[-1]) :]
        found = [k for k in windows if out["start_positions"][k] > 0]
        assert found  # the answer lies whole in at least one window, and maps back to its text
        for k in found:
            start, end, offsets = out["start_positions"][k], out["end_positions"][k], out["offsets"][k]
            assert row["context"][offsets[start][0] : offsets[end][1]] == row["answers"]["text"][0]
    encoded = encode_task(data, tiny_tokenizer, "span", max_len=48, doc_stride=8)
    assert encoded["example"] == out["example"]  # the split's row index, not the map batch's
    assert collate_task(encoded.to_list()[:3])["example"].tolist() == out["example"][:3]
    with pytest.raises(ValueError, match="^doc_stride=40 must be less than the"):
        encode_qa(data[:], tiny_tokenizer, max_len=48, doc_stride=40)
    with pytest.raises(ValueError, match="^doc_stride must be a whole number >= 0 or None, got -1"):
        encode_qa(data[:], tiny_tokenizer, max_len=48, doc_stride=-1)


def test_batches_pad_labels_with_ignore_and_count_targets(tiny_tokenizer: Tokenizer) -> None:
    data = make_task_dataset("tagging", 5, 1, 1, unseen_in=0)["train"]
    encoded = encode_task(data, tiny_tokenizer, "token", max_len=40, label_column="pos_tags")
    batch = collate_task(encoded.to_list())
    lengths = batch["attention_mask"].sum(dim=1)
    assert batch["input_ids"].shape == batch["labels"].shape == (5, int(lengths.max()))
    assert bool((batch["labels"][batch["attention_mask"] == 0] == IGNORE).all())
    n_words = sum(min(len(t), 40) for t in data["tokens"])
    assert count_targets(batch) == int((batch["labels"] != IGNORE).sum()) <= n_words
    inputs = task_inputs(batch)
    assert set(inputs) == {"input_ids", "attention_mask", "labels"}
    shuffled = task_batches(encoded, 2, generator=torch.Generator().manual_seed(0))
    again = task_batches(encoded, 2, generator=torch.Generator().manual_seed(0))
    assert [len(b["input_ids"]) for b in shuffled] == [2, 2, 1]
    assert all(torch.equal(a["input_ids"], b["input_ids"]) for a, b in zip(shuffled, again))
    with pytest.raises(ValueError, match="unknown task kind 'tags'"):
        encode_task(data, tiny_tokenizer, "tags", max_len=8)
