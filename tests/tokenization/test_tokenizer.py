"""The book's tokenizer: training, special tokens, saving and loading, transformers, errors."""

import json
from pathlib import Path

import pytest
from datasets import Dataset
from hypothesis import given
from hypothesis import strategies as st
from tokenizers import Tokenizer

from mlm_book.corpus.synthetic.generate import generate_paragraphs
from mlm_book.interop.tokenizer import to_transformers_tokenizer as to_transformers
from mlm_book.tokenization.tokenizer import (
    bert_tokenizer,
    builtin_tokenizer,
    load_tokenizer,
    save_tokenizer,
    train_tokenizer,
)
from mlm_book.tokenization.wordpiece import normalize
from mlm_book.utils.special_tokens import CLS_ID, MASK_ID, PAD_ID, SEP_ID, SPECIAL_TOKENS, UNK_ID

TEXTS = generate_paragraphs(120, seed=3)
NEW_TEXTS = generate_paragraphs(20, seed=4)


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return train_tokenizer(TEXTS, 301)


def _by_id(tokenizer: Tokenizer) -> list[str]:
    vocab = tokenizer.get_vocab()
    return sorted(vocab, key=vocab.get)


def test_special_tokens_have_the_fixed_ids(tokenizer: Tokenizer) -> None:
    assert (PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID) == (0, 1, 2, 3, 4)
    assert _by_id(tokenizer)[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] == list(SPECIAL_TOKENS)
    assert [tokenizer.id_to_token(i) for i in range(5)] == list(SPECIAL_TOKENS)


def test_vocabulary_layout_specials_alphabet_continuations_learned(tokenizer: Tokenizer) -> None:
    tokens = _by_id(tokenizer)
    assert len(tokens) == tokenizer.get_vocab_size() == 301
    chars = sorted({c for text in TEXTS for c in normalize(text) if not c.isspace()})
    assert tokens[5 : 5 + len(chars)] == chars
    continuations = [t for t in tokens if t.startswith("##") and len(t) == 3]
    assert tokens[5 + len(chars) : 5 + len(chars) + len(continuations)] == continuations == sorted(continuations)
    assert all(len(t.removeprefix("##")) > 1 for t in tokens[5 + len(chars) + len(continuations) :])


def test_sequences_are_wrapped_in_cls_and_sep(tokenizer: Tokenizer) -> None:
    single = tokenizer.encode("the cat")
    assert single.ids[0] == CLS_ID and single.ids[-1] == SEP_ID
    assert single.special_tokens_mask == [1] + [0] * (len(single.ids) - 2) + [1]
    pair = tokenizer.encode("the cat", "a dog")
    assert pair.tokens.count("[SEP]") == 2 and pair.type_ids[-1] == 1 and pair.type_ids[0] == 0


def test_training_is_deterministic_and_streams(tokenizer: Tokenizer) -> None:
    expected = tokenizer.to_str()
    assert train_tokenizer(TEXTS, 301).to_str() == expected
    assert train_tokenizer((text for text in TEXTS), 301).to_str() == expected  # a one-shot generator
    assert train_tokenizer(Dataset.from_dict({"text": TEXTS})["text"], 301).to_str() == expected


def test_vocabulary_stops_growing_when_every_word_is_whole() -> None:
    small = train_tokenizer(TEXTS[:10], 10_000)
    assert small.get_vocab_size() < 10_000
    for text in TEXTS[:10]:
        assert "##" not in " ".join(small.encode(text).tokens)


def test_settings_change_normalisation() -> None:
    texts = ["Café Naïve café naive"] * 3
    assert "café" in train_tokenizer(texts, 100, strip_accents=False).get_vocab()
    cased = train_tokenizer(texts, 100, lowercase=False)
    assert {"Café", "café", "Naïve"} <= set(cased.get_vocab())


@given(
    words=st.lists(
        st.sampled_from(sorted({w for t in TEXTS for w in normalize(t).split() if w.isalpha()})), max_size=20
    )
)
def test_decoding_gives_back_in_vocabulary_text(tokenizer: Tokenizer, words: list[str]) -> None:
    text = " ".join(words)
    assert tokenizer.decode(tokenizer.encode(text).ids) == text


@pytest.mark.parametrize("text", NEW_TEXTS[:5])
def test_decoding_then_encoding_gives_the_same_ids(tokenizer: Tokenizer, text: str) -> None:
    ids = tokenizer.encode(text).ids
    assert UNK_ID not in ids
    assert tokenizer.encode(tokenizer.decode(ids)).ids == ids


def test_save_and_load_round_trip(tokenizer: Tokenizer, tmp_path: Path) -> None:
    path = save_tokenizer(tokenizer, tmp_path / "tokenizer.json")
    assert json.loads(path.read_text(encoding="utf-8"))["model"]["type"] == "WordPiece"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokenizer.json"]  # no temporary file left
    for loaded in (load_tokenizer(path), load_tokenizer(tmp_path)):
        assert loaded.to_str() == tokenizer.to_str()
        assert [e.ids for e in loaded.encode_batch(NEW_TEXTS)] == [e.ids for e in tokenizer.encode_batch(NEW_TEXTS)]
    assert save_tokenizer(tokenizer, tmp_path) == path  # a directory gets tokenizer.json


def test_transformers_wrapper(tokenizer: Tokenizer, tmp_path: Path) -> None:
    wrapped = to_transformers(tokenizer, model_max_length=64)
    assert (wrapped.pad_token_id, wrapped.unk_token_id, wrapped.cls_token_id) == (PAD_ID, UNK_ID, CLS_ID)
    assert (wrapped.sep_token_id, wrapped.mask_token_id, wrapped.model_max_length) == (SEP_ID, MASK_ID, 64)
    assert wrapped(NEW_TEXTS)["input_ids"] == [e.ids for e in tokenizer.encode_batch(NEW_TEXTS)]
    ids = tokenizer.encode(NEW_TEXTS[0]).ids
    assert wrapped.decode(ids, skip_special_tokens=True) == normalize(NEW_TEXTS[0])  # "vera's", no spaces
    wrapped.save_pretrained(tmp_path)
    reloaded = type(wrapped).from_pretrained(tmp_path)
    assert reloaded(NEW_TEXTS)["input_ids"] == wrapped(NEW_TEXTS)["input_ids"] and reloaded.mask_token == "[MASK]"


def test_builtin_tokenizer_is_reproducible() -> None:
    first = builtin_tokenizer(400, n_paragraphs=150, seed=2)
    assert first.get_vocab_size() == 400
    assert builtin_tokenizer(400, n_paragraphs=150, seed=2).to_str() == first.to_str()
    assert train_tokenizer(generate_paragraphs(150, seed=2), 400).to_str() == first.to_str()


def test_training_errors() -> None:
    with pytest.raises(
        ValueError, match=r"vocab_size=16 is too small for the 5 special tokens and the 6 characters .* >= 17"
    ):
        train_tokenizer(["abc abd", "cab dog"], 16)
    with pytest.raises(ValueError, match=r"the training corpus is empty \(no text with a visible character\)"):
        train_tokenizer([], 100)
    with pytest.raises(ValueError, match=r"the training corpus is empty"):
        train_tokenizer(["", "  \n", "\x00"], 100)
    with pytest.raises(
        ValueError, match=r"texts must be an iterable of strings, not the string 'hello world'; put it in a list"
    ):
        train_tokenizer("hello world", 100)


def test_vocabulary_without_unknown_token_is_refused() -> None:
    with pytest.raises(ValueError, match=r"the vocabulary \(3 tokens\) has no '\[UNK\]' token; put the special tokens"):
        bert_tokenizer(["[PAD]", "a", "b"])


def test_loading_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no tokenizer file at .*missing.json; save one with save_tokenizer"):
        load_tokenizer(tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError, match=r"no tokenizer file at .*tokenizer.json"):
        load_tokenizer(tmp_path)
    shuffled = bert_tokenizer(["a", "[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"])
    path = save_tokenizer(shuffled, tmp_path / "shuffled.json")
    with pytest.raises(ValueError, match=r"shuffled.json gives the special tokens the ids \{'\[PAD\]': 2, .* not 0..4"):
        load_tokenizer(path)
    with pytest.raises(FileNotFoundError, match=r"cannot save the tokenizer: no directory .*nowhere; create it first"):
        save_tokenizer(shuffled, tmp_path / "nowhere" / "tokenizer.json")
