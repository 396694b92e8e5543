"""Tests of mlm_book.evaluation.fill_mask: agreement with transformers' fill-mask pipeline, and errors."""

import dataclasses

import pytest
import torch
from transformers import pipeline

from mlm_book.evaluation.fill_mask import MaskPrediction, fill_mask, fill_mask_from_dir
from mlm_book.interop.bert import to_transformers
from mlm_book.interop.tokenizer import to_transformers_tokenizer as wrap_tokenizer
from mlm_book.model.checkpoint import save_model
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.tokenization.tokenizer import bert_tokenizer
from mlm_book.utils.special_tokens import SPECIAL_TOKENS

torch.set_num_threads(1)
CONFIG = ModelConfig(vocab_size=99, d_model=32, n_heads=4, n_layers=2, d_ff=37, max_len=29)


def make_model(seed=0):
    model = MLMModel(CONFIG, generator=torch.Generator().manual_seed(seed)).eval()
    with torch.no_grad():  # spread the scores so that the top-k order is clear-cut
        model.head.decoder.bias.normal_(0.0, 2.0, generator=torch.Generator().manual_seed(seed))
    return model


@pytest.fixture(scope="module")
def exported(tiny_tokenizer, tmp_path_factory):
    model, tokenizer = make_model(), tiny_tokenizer
    out = to_transformers(model, tokenizer, tmp_path_factory.mktemp("export"))
    return model, tokenizer, pipeline("fill-mask", model=str(out), tokenizer=str(out))


def test_one_mask_agrees_with_the_transformers_pipeline(exported):
    model, tokenizer, hf_fill = exported
    text = "the cat [MASK] on the mat."
    ours = fill_mask(model, tokenizer, text, top_k=7)
    theirs = hf_fill(text, top_k=7)
    assert [p.token_id for p in ours] == [p["token"] for p in theirs]
    assert [p.token for p in ours] == [p["token_str"] for p in theirs]
    assert [p.score for p in ours] == pytest.approx([p["score"] for p in theirs], abs=1e-6)
    special = {tokenizer.token_to_id(t) for t in SPECIAL_TOKENS}
    for mine, hers in zip(ours, theirs):
        if mine.token_id not in special:  # the pipeline drops special tokens from the sequence; we keep them
            assert mine.sequence == hers["sequence"]
    assert {p.mask_index for p in ours} == {0}


def test_several_masks_agree_with_the_transformers_pipeline(exported):
    model, tokenizer, hf_fill = exported
    text = "the [MASK] sang in the [MASK] tree."
    ours = fill_mask(model, tokenizer, text, top_k=4)
    theirs = hf_fill(text, top_k=4)  # one list per mask
    assert [p.mask_index for p in ours] == [0] * 4 + [1] * 4
    assert [p.token_id for p in ours] == [p["token"] for row in theirs for p in row]
    assert [p.score for p in ours] == pytest.approx([p["score"] for row in theirs for p in row], abs=1e-6)
    first = ours[0]
    assert first.sequence == f"the {first.token} sang in the [MASK] tree."


def test_a_confident_model_fills_in_its_word(tiny_tokenizer):
    model, tokenizer = make_model(), tiny_tokenizer
    sat = tokenizer.token_to_id("sat")
    with torch.no_grad():
        model.head.decoder.bias[sat] = 30.0
    best = fill_mask(model, tokenizer, "The cat [MASK] on the mat.", top_k=1)
    expected = MaskPrediction("sat", sat, pytest.approx(1.0), "the cat sat on the mat.", mask_index=0)
    assert best == [expected]


def test_ids_the_tokenizer_does_not_have_are_never_proposed(tiny_tokenizer):
    tokenizer = tiny_tokenizer
    known = tokenizer.get_vocab_size()
    model = MLMModel(dataclasses.replace(CONFIG, vocab_size=known + 29), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.head.decoder.bias[known:] = 30.0  # the spare ids would win every mask
    predictions = fill_mask(model, tokenizer, "The cat [MASK] on the mat.", top_k=known)
    assert sorted(p.token_id for p in predictions) == list(range(known))
    assert all(p.token for p in predictions)
    with pytest.raises(ValueError, match=f"between 1 and the vocabulary size {known}"):
        fill_mask(model, tokenizer, "The cat [MASK] on the mat.", top_k=known + 1)


def test_model_mode_is_restored_and_no_gradient_is_recorded(tiny_tokenizer):
    model, tokenizer = make_model().train(), tiny_tokenizer
    first = fill_mask(model, tokenizer, "a [MASK] dog")
    assert model.training
    assert fill_mask(model, tokenizer, "a [MASK] dog") == first  # eval mode inside: no dropout
    assert all(p.grad is None for p in model.parameters())
    assert sum(p.score for p in fill_mask(model, tokenizer, "a [MASK] dog", top_k=99)) == pytest.approx(1.0)


def test_a_transformers_tokenizer_works_too(tiny_tokenizer):
    model, tokenizer = make_model(), tiny_tokenizer
    assert fill_mask(model, wrap_tokenizer(tokenizer), "a [MASK] dog") == fill_mask(model, tokenizer, "a [MASK] dog")


def test_fill_mask_from_dir(tiny_tokenizer, tmp_path):
    model, tokenizer = make_model(), tiny_tokenizer
    save_model(model, tmp_path / "with", tokenizer)
    assert fill_mask_from_dir(tmp_path / "with", "a [MASK] dog", 3) == fill_mask(model, tokenizer, "a [MASK] dog", 3)
    save_model(model, tmp_path / "without")
    with pytest.raises(FileNotFoundError, match=r"without/tokenizer.json does not exist; save the model with"):
        fill_mask_from_dir(tmp_path / "without", "a [MASK] dog")


@pytest.mark.parametrize(
    ("text", "top_k", "message"),
    [
        ("the cat sat", 5, r"no \[MASK\] in 'the cat sat'; write \[MASK\] where"),
        ("the [MASK] sat", 0, r"top_k=0 must be between 1 and the vocabulary size 99"),
        ("the [MASK] sat", 100, r"top_k=100 must be between 1"),
        ("the [MASK] " + "cat " * 30, 5, r"the text is 34 tokens long but the model reads at most 29"),
    ],
)
def test_bad_requests_are_rejected_with_a_message(tiny_tokenizer, text, top_k, message):
    with pytest.raises(ValueError, match=message):
        fill_mask(make_model(), tiny_tokenizer, text, top_k)


def test_a_tokenizer_without_mask_is_rejected():
    with pytest.raises(ValueError, match=r"the tokenizer has no \[MASK\] token"):
        fill_mask(make_model(), bert_tokenizer(["[UNK]", "the"]), "the [MASK]")


def test_fill_mask_from_dir_refuses_a_file_and_nan_weights(tiny_tokenizer, tmp_path):
    (tmp_path / "model.txt").write_text("not a model")
    with pytest.raises(ValueError, match=r"model.txt is a file; give the directory of a training run or a saved"):
        fill_mask_from_dir(tmp_path / "model.txt", "a [MASK] dog")
    model = make_model()
    with torch.no_grad():
        model.embeddings.token.weight[3, 1] = float("nan")
    save_model(model, tmp_path / "nan", tiny_tokenizer)
    with pytest.raises(ValueError, match=r"holds non-finite weights \(1 NaN or infinite values in embeddings"):
        fill_mask_from_dir(tmp_path / "nan", "a [MASK] dog")
