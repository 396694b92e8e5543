"""Tests of mlm_book.model.config: presets, validation and the JSON round trip."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlm_book.model.config import ModelConfig


def test_tiny_preset_has_the_documented_sizes():
    config = ModelConfig.tiny()
    assert (config.vocab_size, config.d_model, config.n_heads, config.n_layers) == (3609, 128, 4, 2)
    assert (config.d_ff, config.max_len, config.dropout, config.norm) == (512, 128, 0.0, "post")
    assert config.d_head == 32
    assert config.position_init == "sinusoidal" and ModelConfig().position_init == "normal"


def test_bert_base_preset_has_bert_base_shape():
    config = ModelConfig.bert_base()
    assert (config.vocab_size, config.d_model, config.n_heads, config.n_layers) == (30522, 768, 12, 12)
    assert (config.d_ff, config.max_len, config.n_segments, config.layer_norm_eps) == (3072, 512, 2, 1e-12)


def test_from_preset_applies_overrides_and_knows_every_name():
    assert ModelConfig.from_preset("tiny", vocab_size=5000) == dataclasses.replace(ModelConfig.tiny(), vocab_size=5000)
    assert ModelConfig.from_preset("bert-base") == ModelConfig.bert_base()
    assert ModelConfig.from_preset("modern") == ModelConfig.modern()
    assert [ModelConfig.from_preset(name).d_model for name in ModelConfig.PRESETS] == [128, 768, 128]


def test_modern_preset_is_the_tiny_sizes_with_modernberts_block():
    tiny, modern = ModelConfig.tiny(), ModelConfig.modern()
    block = {"norm", "embedding_norm", "positions", "feed_forward", "bias", "layer_norm_eps", "d_ff", "position_init"}
    assert set(modern.differences(tiny)) == block
    assert (modern.norm, modern.embedding_norm, modern.positions) == ("pre", True, "rope")
    assert (modern.feed_forward, modern.bias, modern.layer_norm_eps, modern.n_segments) == ("geglu", False, 1e-5, 0)
    # GeGLU's three d_model x d_ff matrices hold as many weights as GELU's two of width 512
    assert abs(3 * modern.d_ff - 2 * tiny.d_ff) <= 1


def test_embedding_norm_defaults_to_what_the_norm_placement_implies():
    assert ModelConfig(norm="post").normalises_embeddings
    assert not ModelConfig(norm="pre").normalises_embeddings
    assert ModelConfig(norm="pre", embedding_norm=True).normalises_embeddings
    assert not ModelConfig(norm="post", embedding_norm=False).normalises_embeddings


def test_a_config_saved_before_the_block_options_loads_as_the_same_bert_block():
    old = {  # a config.json written before positions, feed_forward, bias and embedding_norm existed
        "vocab_size": 99, "d_model": 32, "n_heads": 4, "n_layers": 2, "d_ff": 37, "max_len": 29, "dropout": 0.1,
        "norm": "pre", "n_segments": 0, "layer_norm_eps": 1e-12, "init_std": 0.02, "position_init": "sinusoidal",
    }  # fmt: skip
    config = ModelConfig.from_dict(old)
    assert (config.positions, config.feed_forward, config.bias, config.embedding_norm) == (
        "learned",
        "gelu",
        True,
        None,
    )
    assert not config.normalises_embeddings


def test_from_preset_rejects_unknown_names():
    with pytest.raises(ValueError, match=r"unknown ModelConfig preset 'huge'; choose one of tiny, bert-base"):
        ModelConfig.from_preset("huge")


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelConfig.tiny().d_model = 8  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"vocab_size": 0}, r"ModelConfig.vocab_size must be a whole number >= 1, got 0"),
        ({"max_len": 2.5}, r"ModelConfig.max_len must be a whole number, got 2.5"),
        ({"n_layers": True}, r"ModelConfig.n_layers must be a whole number, got True"),
        ({"d_model": 30, "n_heads": 4}, r"d_model=30 is not divisible by n_heads=4"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
        ({"dropout": -0.1}, r"dropout must be in \[0, 1\), got -0.1"),
        ({"norm": "middle"}, r"ModelConfig.norm must be one of 'post', 'pre', got 'middle'"),
        ({"n_segments": -1}, r"ModelConfig.n_segments must be a whole number >= 0, got -1"),
        ({"position_init": "zeros"}, r"ModelConfig.position_init must be one of 'normal', 'sinusoidal', got 'zeros'"),
        ({"layer_norm_eps": 0.0}, r"layer_norm_eps and init_std must be positive, got 0.0 and 0.02"),
        ({"init_std": -1.0}, r"layer_norm_eps and init_std must be positive, got 1e-12 and -1.0"),
        ({"positions": "alibi"}, r"ModelConfig.positions must be one of 'learned', 'sinusoidal', 'rope', 'none'"),
        ({"feed_forward": "swiglu"}, r"ModelConfig.feed_forward must be one of 'gelu', 'geglu', got 'swiglu'"),
        ({"bias": "no"}, r"ModelConfig.bias must be true or false, got 'no'"),
        ({"embedding_norm": 1}, r"ModelConfig.embedding_norm must be true or false, got 1"),
        ({"rope_theta": 1.0}, r"ModelConfig.rope_theta must be > 1, got 1.0"),
        ({"positions": "rope", "d_model": 36, "n_heads": 4}, r"head width d_model / n_heads = 9 is odd"),
    ],
)
def test_invalid_configs_are_rejected_with_a_message(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(ModelConfig.tiny(), **changes)


configs = st.builds(
    lambda heads, width, layers, vocab, d_ff, max_len, dropout, norm, segments, block: ModelConfig(
        vocab_size=vocab,
        d_model=heads * width,
        n_heads=heads,
        n_layers=layers,
        d_ff=d_ff,
        max_len=max_len,
        dropout=dropout,
        norm=norm,
        n_segments=segments,
        **block,
    ),
    st.integers(1, 16),
    st.integers(1, 64),
    st.integers(1, 24),
    st.integers(1, 100_000),
    st.integers(1, 8192),
    st.integers(1, 4096),
    st.floats(0.0, 0.99),
    st.sampled_from(["post", "pre"]),
    st.integers(0, 4),
    st.fixed_dictionaries(
        {
            "positions": st.sampled_from(["learned", "sinusoidal", "none"]),
            "feed_forward": st.sampled_from(["gelu", "geglu"]),
            "bias": st.booleans(),
            "embedding_norm": st.sampled_from([None, True, False]),
            "rope_theta": st.floats(2.0, 1e6),
        }
    ),
)


@given(configs)
def test_json_round_trip_gives_an_equal_config(config):
    assert ModelConfig.from_json(config.to_json()) == config
    assert ModelConfig.from_dict(config.to_dict()) == config


def test_from_dict_fills_missing_fields_with_defaults():
    assert ModelConfig.from_dict({"vocab_size": 99}) == dataclasses.replace(ModelConfig(), vocab_size=99)


def test_from_dict_rejects_unknown_fields():
    with pytest.raises(ValueError, match=r"unknown ModelConfig field\(s\) \['hidden_size'\]"):
        ModelConfig.from_dict({"hidden_size": 32})


def test_from_json_rejects_bad_json_and_non_objects():
    with pytest.raises(ValueError, match="ModelConfig JSON is not valid JSON"):
        ModelConfig.from_json("{vocab_size: 3")
    with pytest.raises(ValueError, match="ModelConfig fields must be a JSON object, got list"):
        ModelConfig.from_json("[1, 2]")
