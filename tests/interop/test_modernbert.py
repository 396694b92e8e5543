"""Tests of mlm_book.interop.modernbert (parity with ModernBertForMaskedLM both ways) and of the dispatch."""

import dataclasses

import pytest
import torch
from transformers import AutoModelForMaskedLM, BertForMaskedLM, ModernBertConfig, ModernBertForMaskedLM, pipeline

from mlm_book.evaluation.fill_mask import fill_mask
from mlm_book.interop import (
    export_hf,
    from_transformers,
    modernbert,
    to_transformers,
    to_transformers_model,
    transformers_class,
)
from mlm_book.model.checkpoint import save_model
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.utils.special_tokens import IGNORE_INDEX

torch.set_num_threads(1)
CONFIG = dataclasses.replace(
    ModelConfig.modern(), vocab_size=99, d_model=32, n_heads=4, n_layers=2, d_ff=37, max_len=29
)
ODD = dataclasses.replace(CONFIG, d_model=30, n_heads=1, n_layers=1, d_ff=41, rope_theta=500.0)  # 30 wide, 1 head
ATOL = 1e-5


def make_model(config=CONFIG, seed=0):
    model = MLMModel(config, generator=torch.Generator().manual_seed(seed)).eval()
    with torch.no_grad():  # the init leaves biases and LayerNorms trivial; randomise them
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


def hf_modernbert(seed=0, attn="sdpa", bias=False, hidden=32, heads=4, layers=2, **changes):
    torch.manual_seed(seed)
    config = ModernBertConfig(
        vocab_size=99,
        hidden_size=hidden,
        intermediate_size=37,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        max_position_embeddings=29,
        global_attn_every_n_layers=1,
        pad_token_id=0,
        attention_bias=bias,
        mlp_bias=bias,
        norm_bias=bias,
        classifier_bias=bias,
        attn_implementation=attn,
        **changes,
    )
    model = ModernBertForMaskedLM(config).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                parameter.add_(0.1 * torch.randn(parameter.shape))
    return model


@pytest.mark.parametrize("config", [CONFIG, ODD, dataclasses.replace(CONFIG, bias=True)], ids=["modern", "odd", "bias"])
def test_export_gives_the_same_logits_and_loss_as_modernbert(config):
    model = make_model(config)
    hf_model = to_transformers_model(model)
    assert isinstance(hf_model, ModernBertForMaskedLM)
    input_ids, mask, labels = padded_batch()
    ours = model(input_ids, mask, labels, dense_head=True)
    theirs = hf_model(input_ids=input_ids, attention_mask=mask, labels=labels)
    torch.testing.assert_close(ours.logits, theirs.logits, atol=ATOL, rtol=0)
    torch.testing.assert_close(model(input_ids, mask, labels).loss, theirs.loss, atol=ATOL, rtol=0)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
@pytest.mark.parametrize(
    "sizes", [{}, {"hidden": 30, "heads": 1, "layers": 1}, {"bias": True}], ids=["plain", "odd", "bias"]
)
def test_import_of_a_random_modernbert_gives_the_same_logits(attn, sizes):
    hf_model = hf_modernbert(attn=attn, **sizes)
    model = from_transformers(hf_model).model
    assert model.config.positions == "rope" and model.config.bias == sizes.get("bias", False)
    input_ids, mask, _ = padded_batch()
    ours = model(input_ids, mask).logits
    theirs = hf_model(input_ids=input_ids, attention_mask=mask).logits
    torch.testing.assert_close(ours, theirs, atol=ATOL, rtol=0)


def test_round_trips_are_exact():
    model = make_model()
    back = modernbert.from_transformers(to_transformers_model(model)).model
    assert back.config == CONFIG
    torch.testing.assert_close(back.state_dict(), model.state_dict(), rtol=0, atol=0)
    hf_model = hf_modernbert(bias=True)
    again = modernbert.to_modernbert_state_dict(from_transformers(hf_model).model)
    torch.testing.assert_close(again, hf_model.state_dict(), rtol=0, atol=0)


def test_config_translation_uses_global_attention_and_the_books_special_ids():
    hf_config = modernbert.to_modernbert_config(CONFIG)
    assert hf_config.layer_types == ["full_attention", "full_attention"]
    assert hf_config.rope_parameters["full_attention"]["rope_theta"] == 10000.0
    assert (hf_config.pad_token_id, hf_config.cls_token_id, hf_config.sep_token_id) == (0, 2, 3)
    assert (hf_config.intermediate_size, hf_config.norm_eps, hf_config.norm_bias) == (37, 1e-5, False)
    assert modernbert.from_modernbert_config(hf_config) == CONFIG


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"global_attn_every_n_layers": 2}, r"layer_types=\['sliding_attention'\] is not supported: local attention"),
        ({"hidden_activation": "gelu_new"}, r"hidden_activation='gelu_new' is not supported"),
        ({"decoder_bias": False}, r"decoder_bias=False is not supported"),
        ({"mlp_bias": True}, r"biases=2 is not supported: they must all be on or all off"),
    ],
)
def test_unsupported_modernbert_configs_are_refused(changes, message):
    config = {"num_hidden_layers": 2, "global_attn_every_n_layers": 1, **changes}
    with pytest.raises(ValueError, match=message):
        modernbert.from_modernbert_config(ModernBertConfig(**config))


def test_an_untied_decoder_is_refused():
    hf_model = hf_modernbert()
    hf_model.decoder.weight = torch.nn.Parameter(torch.randn(99, 32))
    with pytest.raises(ValueError, match="decoder is not tied to its token embeddings"):
        from_transformers(hf_model)


def test_each_block_goes_to_the_class_that_holds_it_and_others_are_refused_in_one_line():
    block = ("norm", "embedding_norm", "positions", "feed_forward", "bias", "layer_norm_eps")
    bert = dataclasses.replace(CONFIG, **{name: getattr(ModelConfig(), name) for name in block})
    assert transformers_class(bert) == "BertForMaskedLM" and transformers_class(CONFIG) == "ModernBertForMaskedLM"
    assert isinstance(to_transformers_model(make_model(bert)), BertForMaskedLM)
    neither = dataclasses.replace(CONFIG, positions="learned")
    message = (
        r"^this model has no transformers equivalent: BertForMaskedLM cannot represent norm='pre', "
        r"feed_forward='geglu', bias=False and ModernBertForMaskedLM cannot represent "
        r"positions='learned'; change these options to export it$"
    )
    with pytest.raises(ValueError, match=message):
        to_transformers_model(make_model(neither))
    with pytest.raises(ValueError, match=r"ModernBertForMaskedLM cannot represent feed_forward='gelu', n_segments=2"):
        modernbert.to_modernbert_config(dataclasses.replace(CONFIG, feed_forward="gelu", n_segments=2))
    for head in ({"tie_decoder": False}, {"head_transform": False}):  # neither class has these heads
        ((name, value),) = head.items()
        for config in (bert, CONFIG):
            with pytest.raises(
                ValueError,
                match=rf"^this model has no transformers equivalent: BertForMaskedLM cannot represent .*{name}={value}",
            ):
                transformers_class(dataclasses.replace(config, **head))


def test_the_fill_mask_pipeline_on_the_export_agrees_with_fill_mask(tiny_tokenizer, tmp_path):
    model = make_model()
    with torch.no_grad():  # spread the scores so that the top-k order is clear-cut
        model.head.decoder.bias.normal_(0.0, 2.0, generator=torch.Generator().manual_seed(0))
    save_model(model, tmp_path / "model", tiny_tokenizer)
    out = export_hf(tmp_path / "model", tmp_path / "hf", progress=False)
    assert isinstance(AutoModelForMaskedLM.from_pretrained(out), ModernBertForMaskedLM)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no staging left behind
    hf_fill = pipeline("fill-mask", model=str(out), tokenizer=str(out))
    for text in ("the cat [MASK] on the mat.", "the [MASK] sang in the [MASK] tree."):
        ours = fill_mask(model, tiny_tokenizer, text, top_k=5)
        theirs = hf_fill(text, top_k=5)
        theirs = [p for row in theirs for p in row] if isinstance(theirs[0], list) else theirs
        assert [p.token_id for p in ours] == [p["token"] for p in theirs]
        assert [p.score for p in ours] == pytest.approx([p["score"] for p in theirs], abs=1e-6)
    loaded = from_transformers(out)
    assert loaded.tokenizer is not None and loaded.model.config == CONFIG
    torch.testing.assert_close(loaded.model.state_dict(), model.state_dict(), rtol=0, atol=0)


def test_the_dispatch_exports_a_bert_block_as_bert(tiny_tokenizer, tmp_path):
    bert = ModelConfig(vocab_size=99, d_model=32, n_heads=4, n_layers=2, d_ff=37, max_len=29)
    model = make_model(bert)
    out = to_transformers(model, tiny_tokenizer, tmp_path / "bert")
    assert isinstance(AutoModelForMaskedLM.from_pretrained(out), BertForMaskedLM)
    torch.testing.assert_close(from_transformers(out).model.state_dict(), model.state_dict(), rtol=0, atol=0)


def test_a_missing_source_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cannot read a transformers config from .*nothing.*check the path"):
        from_transformers(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match=r"cannot load a ModernBertForMaskedLM from .*nothing"):
        modernbert.from_transformers(tmp_path / "nothing")
