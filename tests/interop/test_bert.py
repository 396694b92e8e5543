"""Tests of mlm_book.interop.bert: parity with transformers' BertForMaskedLM, both ways, and exports."""

import dataclasses

import pytest
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer, BertConfig, BertForMaskedLM

from mlm_book.interop import export_hf  # the one exporter; it picks BertForMaskedLM for a BERT block
from mlm_book.interop.bert import (
    from_bert_config,
    from_transformers,
    to_bert_config,
    to_hf_state_dict,
    to_transformers,
    to_transformers_model,
)
from mlm_book.model.checkpoint import save_model
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.tokenization.tokenizer import bert_tokenizer
from mlm_book.utils.special_tokens import IGNORE_INDEX

torch.set_num_threads(1)
CONFIG = ModelConfig(vocab_size=99, d_model=32, n_heads=4, n_layers=2, d_ff=37, max_len=29)
ATOL = 1e-5


def make_model(config=CONFIG, seed=0):
    model = MLMModel(config, generator=torch.Generator().manual_seed(seed)).eval()
    with torch.no_grad():  # BERT-like init leaves biases and LayerNorms trivial; randomise them
        for name, parameter in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                parameter.add_(0.1 * torch.randn(parameter.shape, generator=torch.Generator().manual_seed(len(name))))
    return model


def padded_batch():
    g = torch.Generator().manual_seed(1)
    input_ids = torch.randint(0, 99, (3, 13), generator=g)
    mask = torch.ones(3, 13, dtype=torch.long)
    mask[1, 8:] = 0
    mask[2, 3:] = 0
    labels = input_ids.masked_fill(torch.rand(3, 13, generator=g) > 0.3, IGNORE_INDEX)
    labels[0, 0] = 7
    return input_ids, mask, labels


def hf_bert(segments=2, seed=0, attn="sdpa"):
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=29,
        type_vocab_size=segments,
        attn_implementation=attn,
    )
    return BertForMaskedLM(config).eval()


@pytest.mark.parametrize("config", [CONFIG, dataclasses.replace(CONFIG, n_segments=2, n_heads=2)])
def test_export_gives_the_same_logits_and_loss_as_bert(config):
    model = make_model(config)
    hf_model = to_transformers_model(model)
    input_ids, mask, labels = padded_batch()
    ours = model(input_ids, mask, labels, dense_head=True)
    theirs = hf_model(input_ids=input_ids, attention_mask=mask, labels=labels)
    torch.testing.assert_close(ours.logits, theirs.logits, atol=ATOL, rtol=0)
    torch.testing.assert_close(model(input_ids, mask, labels).loss, theirs.loss, atol=ATOL, rtol=0)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_import_of_a_random_bert_gives_the_same_logits(attn):
    hf_model = hf_bert(attn=attn)  # random token-type embeddings: imported as 2 segments
    model = from_transformers(hf_model).model
    assert model.config == dataclasses.replace(CONFIG, n_segments=2)
    input_ids, mask, _ = padded_batch()
    segments = torch.zeros_like(input_ids)
    segments[:, 6:] = 1
    for kwargs in ({}, {"token_type_ids": segments}):
        ours = model(input_ids, mask, segment_ids=kwargs.get("token_type_ids")).logits
        theirs = hf_model(input_ids=input_ids, attention_mask=mask, **kwargs).logits
        torch.testing.assert_close(ours, theirs, atol=ATOL, rtol=0)


def test_round_trips_are_exact():
    model = make_model()
    back = from_transformers(to_transformers_model(model)).model
    assert back.config == CONFIG  # zero token types come back as "no segments"
    torch.testing.assert_close(back.state_dict(), model.state_dict(), rtol=0, atol=0)
    hf_model = hf_bert(segments=3)
    again = to_hf_state_dict(from_transformers(hf_model).model)
    torch.testing.assert_close(again, hf_model.state_dict(), rtol=0, atol=0)


def test_bert_config_translation():
    bert_config = to_bert_config(CONFIG)
    assert (bert_config.hidden_size, bert_config.intermediate_size, bert_config.max_position_embeddings) == (32, 37, 29)
    assert (bert_config.hidden_act, bert_config.layer_norm_eps, bert_config.type_vocab_size) == ("gelu", 1e-12, 2)
    assert from_bert_config(bert_config, segments=False) == CONFIG
    assert from_bert_config(BertConfig()) == ModelConfig.bert_base()


def test_pre_ln_models_have_no_bert_equivalent():
    with pytest.raises(ValueError, match="a model with norm='pre' has no BERT equivalent"):
        to_transformers_model(make_model(dataclasses.replace(CONFIG, norm="pre")))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hidden_act": "gelu_new"}, r"BertConfig.hidden_act='gelu_new' is not supported; only hidden_act='gelu'"),
        ({"is_decoder": True}, r"BertConfig.is_decoder=True is not supported"),
        ({"tie_word_embeddings": False}, r"BertConfig.tie_word_embeddings=False is not supported"),
    ],
)
def test_unsupported_bert_configs_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        from_bert_config(BertConfig(**changes))


def test_an_untied_decoder_is_refused():
    hf_model = hf_bert()
    hf_model.cls.predictions.decoder.weight = torch.nn.Parameter(torch.randn(99, 32))
    with pytest.raises(ValueError, match="decoder is not tied to its word embeddings"):
        from_transformers(hf_model)


def test_export_directory_loads_with_auto_classes(tiny_tokenizer, tmp_path):
    model, tokenizer = make_model(), tiny_tokenizer
    out = to_transformers(model, tokenizer, tmp_path / "export")
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= {
        p.name for p in out.iterdir()
    }
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no staging left behind
    hf_model = AutoModelForMaskedLM.from_pretrained(out).eval()
    hf_tokenizer = AutoTokenizer.from_pretrained(out)
    assert isinstance(hf_model, BertForMaskedLM) and hf_tokenizer.model_max_length == 29
    text = "the big cats sang, and the old dogs ran."
    encoded = hf_tokenizer(text, return_tensors="pt")
    assert encoded.input_ids[0].tolist() == tokenizer.encode(text).ids
    assert (hf_tokenizer.mask_token_id, hf_tokenizer.pad_token_id) == (4, 0)
    torch.testing.assert_close(hf_model(**encoded).logits, model(encoded.input_ids).logits, atol=ATOL, rtol=0)
    loaded = from_transformers(out)
    assert loaded.tokenizer.encode(text).ids == tokenizer.encode(text).ids
    torch.testing.assert_close(loaded.model.state_dict(), model.state_dict(), rtol=0, atol=0)


def test_export_hf_reads_a_model_directory(tiny_tokenizer, tmp_path):
    model = make_model()
    save_model(model, tmp_path / "model", tiny_tokenizer)
    out = export_hf(tmp_path / "model", tmp_path / "hf")
    torch.testing.assert_close(from_transformers(out).model.state_dict(), model.state_dict(), rtol=0, atol=0)
    save_model(model, tmp_path / "bare")
    with pytest.raises(FileNotFoundError, match=r"bare/tokenizer.json does not exist; save the model with its"):
        export_hf(tmp_path / "bare", tmp_path / "hf2")


def test_a_tokenizer_without_special_tokens_is_refused(tmp_path):
    plain = bert_tokenizer(["[UNK]", "the", "cat"])
    with pytest.raises(ValueError, match=r"the tokenizer lacks the special token\(s\) \['\[PAD\]', '\[CLS\]'"):
        to_transformers(make_model(), plain, tmp_path)


def test_a_missing_source_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cannot load a BertForMaskedLM from .*nothing.*check the path"):
        from_transformers(tmp_path / "nothing")
