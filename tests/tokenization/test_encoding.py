"""Batch encoding: truncation, padding, masks and word ids, checked against transformers."""

import dataclasses
from collections import Counter

import pytest
import torch
from datasets import Dataset
from tokenizers import Encoding, Tokenizer

import mlm_book.tokenization.encoding as encoding_module
from mlm_book.corpus.synthetic.generate import generate_paragraphs
from mlm_book.interop.tokenizer import to_transformers_tokenizer as to_transformers
from mlm_book.tokenization.encoding import EncodedBatch, encode_batch, encode_examples
from mlm_book.tokenization.tokenizer import train_tokenizer
from mlm_book.utils.special_tokens import CLS_ID, PAD_ID, SEP_ID

TEXTS = ["the cat sat.", "", "a much longer sentence about cats, dogs and unbelievably rare words", "dog"]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return train_tokenizer(generate_paragraphs(60, seed=5) + TEXTS, 157)


def _reference(tokenizer: Tokenizer, texts: list[str], max_length: int, padding: bool | str) -> dict:
    """What transformers' own call gives, with word ids as -1 where there is no word."""
    wrapped = to_transformers(tokenizer)
    out = wrapped(texts, truncation=True, max_length=max_length, padding=padding, return_special_tokens_mask=True)
    out["word_ids"] = [[-1 if w is None else w for w in out.word_ids(i)] for i in range(len(texts))]
    return out


@pytest.mark.parametrize(("max_length", "padding"), [(7, True), (9, "max_length"), (64, True), (33, "max_length")])
def test_matches_transformers(tokenizer: Tokenizer, max_length: int, padding: bool | str) -> None:
    batch = encode_batch(tokenizer, TEXTS, max_length=max_length, padding=padding)
    expected = _reference(tokenizer, TEXTS, max_length, padding)
    for name in ("input_ids", "attention_mask", "special_tokens_mask", "word_ids"):
        value = getattr(batch, name)
        assert value.dtype == torch.long and value.tolist() == expected[name], name


def test_shapes_truncation_and_padding(tokenizer: Tokenizer) -> None:
    batch = encode_batch(tokenizer, TEXTS, max_length=7)
    assert batch.input_ids.shape == batch.word_ids.shape == (4, 7)
    assert batch.input_ids[:, 0].eq(CLS_ID).all()
    assert batch.input_ids[2, -1] == SEP_ID  # the cut sequence still ends with [SEP]
    assert batch.input_ids[1].tolist() == [CLS_ID, SEP_ID] + [PAD_ID] * 5  # the empty text
    assert batch.attention_mask.sum(1).tolist() == [
        len(e) for e in encode_examples(TEXTS, tokenizer, max_length=7)["input_ids"]
    ]
    assert batch.special_tokens_mask[batch.attention_mask == 0].eq(1).all()
    assert batch.word_ids[batch.special_tokens_mask == 1].eq(-1).all()
    assert encode_batch(tokenizer, TEXTS, max_length=11, padding="max_length").input_ids.shape == (4, 11)
    longest = encode_batch(tokenizer, TEXTS, max_length=1000)
    assert longest.input_ids.shape[1] == max(len(tokenizer.encode(t).ids) for t in TEXTS) < 1000


def test_word_ids_group_the_pieces_of_a_word(tokenizer: Tokenizer) -> None:
    text = "unbelievably rare words, cats"
    row = encode_examples([text], tokenizer)
    tokens = [tokenizer.id_to_token(i) for i in row["input_ids"][0]]
    words = row["word_ids"][0]
    assert any(t.startswith("##") for t in tokens), tokens
    for token, word, previous in zip(tokens[1:], words[1:], words):
        if token.startswith("##"):
            assert word == previous  # a continuation piece belongs to the word before it
    assert sorted(set(words) - {-1}) == list(range(5))  # unbelievably rare words , cats


def test_encode_examples_for_dataset_map(tokenizer: Tokenizer) -> None:
    dataset = Dataset.from_dict({"text": TEXTS})
    mapped = dataset.map(
        encode_examples,
        batched=True,
        batch_size=3,
        input_columns="text",
        remove_columns=["text"],
        fn_kwargs={"tokenizer": tokenizer, "max_length": 7},
    )
    direct = encode_examples(TEXTS, tokenizer, max_length=7)
    assert sorted(mapped.column_names) == ["input_ids", "special_tokens_mask", "word_ids"]
    assert mapped.to_dict() == direct
    full = [len(tokenizer.encode(text).ids) for text in TEXTS]
    assert [len(ids) for ids in direct["input_ids"]] == [min(n, 7) for n in full]  # no padding
    unlimited = encode_examples(TEXTS, tokenizer)
    assert unlimited["input_ids"] == [e.ids for e in tokenizer.encode_batch(TEXTS)]


def test_settings_left_on_the_tokenizer_are_ignored_and_kept(tokenizer: Tokenizer) -> None:
    configured = Tokenizer.from_str(tokenizer.to_str())
    configured.enable_truncation(3)
    configured.enable_padding(length=50)
    expected = encode_batch(tokenizer, TEXTS, max_length=9)
    actual = encode_batch(configured, TEXTS, max_length=9)
    for field in dataclasses.fields(EncodedBatch):
        assert torch.equal(getattr(actual, field.name), getattr(expected, field.name))
    assert configured.truncation["max_length"] == 3 and configured.padding["length"] == 50


def test_accepts_the_transformers_wrapper(tokenizer: Tokenizer) -> None:
    wrapped = to_transformers(tokenizer)
    wrapped(TEXTS, truncation=True, max_length=4)  # leaves truncation set on its backend
    assert torch.equal(
        encode_batch(wrapped, TEXTS, max_length=9).input_ids, encode_batch(tokenizer, TEXTS, max_length=9).input_ids
    )


def test_encoded_batch_is_frozen_and_moves(tokenizer: Tokenizer) -> None:
    batch = encode_batch(tokenizer, TEXTS[:2], max_length=8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch.input_ids = batch.word_ids  # type: ignore[misc]
    moved = batch.to("cpu")
    assert isinstance(moved, EncodedBatch) and torch.equal(moved.word_ids, batch.word_ids)


def test_errors(tokenizer: Tokenizer) -> None:
    with pytest.raises(ValueError, match=r"padding must be True, False or 'max_length', got 'longest'"):
        encode_batch(tokenizer, TEXTS, max_length=8, padding="longest")
    with pytest.raises(ValueError, match=r"cannot encode an empty batch; pass at least one text"):
        encode_batch(tokenizer, [], max_length=8)
    with pytest.raises(ValueError, match=r"the texts encode to 2..7 tokens; pass padding=True to pad them"):
        encode_batch(tokenizer, TEXTS, max_length=7, padding=False)
    with pytest.raises(ValueError, match=r"max_length=1 leaves no room for \[CLS\] and \[SEP\]; use at least 2"):
        encode_examples(TEXTS, tokenizer, max_length=1)
    with pytest.raises(
        ValueError, match=r"texts must be a list of strings, not the string 'the cat'; put it in a list"
    ):
        encode_examples("the cat", tokenizer)
    with pytest.raises(TypeError, match=r"expected a tokenizers.Tokenizer or a transformers fast tokenizer, got dict"):
        encode_batch({}, TEXTS, max_length=8)  # type: ignore[arg-type]
    equal = encode_batch(tokenizer, ["the cat", "the dog"], max_length=4, padding=False)
    assert equal.attention_mask.eq(1).all()


class _CountedEncoding:
    """An ``Encoding`` that counts how often each of its per-token lists is read."""

    LISTS = ("ids", "special_tokens_mask", "word_ids", "offsets", "tokens", "type_ids", "attention_mask")

    def __init__(self, encoding: Encoding, reads: Counter) -> None:
        self._encoding, self._reads = encoding, reads

    def __getattr__(self, name: str) -> object:
        if name in self.LISTS:
            self._reads[name] += 1
        return getattr(self._encoding, name)

    def __len__(self) -> int:
        return len(self._encoding)


class _CountingBackend:
    """The tokenizer's backend, handing out encodings that count their reads."""

    truncation = padding = None

    def __init__(self, tokenizer: Tokenizer, reads: Counter) -> None:
        self._tokenizer, self._reads = tokenizer, reads

    def encode_batch(self, texts: list[str]) -> list[_CountedEncoding]:
        return [_CountedEncoding(e, self._reads) for e in self._tokenizer.encode_batch(texts)]


@pytest.mark.parametrize("max_length", [None, 64])
def test_encoding_reads_each_per_token_list_once_however_long_the_text(
    tokenizer: Tokenizer, max_length: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A book on one line: its cost is linear only if each per-token list is read a fixed number of times.

    Every read of ``Encoding.ids`` (or ``word_ids``...) builds a new Python list of the whole text.
    Reading one inside a per-token loop made 8k words take over a second and a 50 MB line never
    finish. Counting the reads checks that directly, without timing anything: each list is read
    exactly once, for a short text and for a 40 times longer one (a timed ratio, which this
    replaces, failed on a loaded machine).
    """
    text = " ".join(generate_paragraphs(400, seed=9))
    for piece in (text[:6_000], (text * 4)[:240_000]):  # the short one first: a quadratic read fails fast
        assert len(tokenizer.encode(piece).ids) > 1_000  # long enough for a per-token read to show
        reads: Counter = Counter()
        monkeypatch.setattr(encoding_module, "_backend", lambda _, reads=reads: _CountingBackend(tokenizer, reads))
        out = encode_examples([piece], tokenizer, max_length=max_length)
        monkeypatch.undo()
        assert max(reads.values()) == 1, f"{len(piece):,} characters: per-token lists read {dict(reads)} times"
        assert set(reads) == {"ids", "special_tokens_mask", "word_ids"}
        assert out == encode_examples([piece], tokenizer, max_length=max_length)  # the counting changed nothing
    assert encode_examples([piece], tokenizer)["input_ids"][0] == tokenizer.encode(piece).ids  # nothing lost
