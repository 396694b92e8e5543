"""Tests of mlm_book.model.encoder: embeddings, feed-forward and the post-/pre-LN encoder layer."""

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from mlm_book.model.config import ModelConfig
from mlm_book.model.encoder import Embeddings, EncoderLayer, FeedForward, sinusoidal_positions

torch.set_num_threads(1)
CONFIG = ModelConfig(vocab_size=99, d_model=32, n_heads=4, n_layers=2, d_ff=37, max_len=29, dropout=0.0)
ATOL = 1e-5


def ids(batch=3, length=11, seed=0):
    return torch.randint(0, 99, (batch, length), generator=torch.Generator().manual_seed(seed))


def test_embeddings_sum_token_and_position_then_normalise():
    torch.manual_seed(0)
    embeddings = Embeddings(CONFIG).eval()
    x = ids()
    raw = embeddings.token.weight[x] + embeddings.position.weight[:11]
    expected = F.layer_norm(raw, (32,), embeddings.norm.weight, embeddings.norm.bias, eps=1e-12)
    out = embeddings(x)
    assert out.shape == (3, 11, 32)
    torch.testing.assert_close(out, expected, atol=ATOL, rtol=0)


def test_pre_ln_embeddings_are_not_normalised():
    torch.manual_seed(0)
    embeddings = Embeddings(dataclasses.replace(CONFIG, norm="pre")).eval()
    assert embeddings.norm is None
    x = ids()
    torch.testing.assert_close(embeddings(x), embeddings.token.weight[x] + embeddings.position.weight[:11])


def test_segment_embeddings_default_to_segment_zero():
    torch.manual_seed(0)
    embeddings = Embeddings(dataclasses.replace(CONFIG, n_segments=2)).eval()
    x = ids()
    zeros, ones = torch.zeros_like(x), torch.ones_like(x)
    torch.testing.assert_close(embeddings(x), embeddings(x, zeros))
    assert not torch.allclose(embeddings(x, ones), embeddings(x, zeros))


def test_segment_ids_without_segment_embeddings_are_an_error():
    with pytest.raises(ValueError, match="segment_ids were given but the model has n_segments=0"):
        Embeddings(CONFIG)(ids(), torch.zeros(3, 11, dtype=torch.long))


def test_feed_forward_uses_exact_gelu():
    torch.manual_seed(0)
    ff = FeedForward(32, 37)
    x = torch.randn(2, 5, 32)
    hidden = x @ ff.up.weight.T + ff.up.bias  # (2, 5, 37)
    gelu = 0.5 * hidden * (1 + torch.erf(hidden / math.sqrt(2)))
    torch.testing.assert_close(ff(x), gelu @ ff.down.weight.T + ff.down.bias, atol=ATOL, rtol=0)


def reference_layer(layer, x, pre):
    """The layer written with the formulas of the module docstring."""
    attn = lambda h: layer.attention(h).output
    if pre:
        x = x + attn(layer.attention_norm(x))
        return x + layer.feed_forward(layer.feed_forward_norm(x))
    x = layer.attention_norm(x + attn(x))
    return layer.feed_forward_norm(x + layer.feed_forward(x))


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_encoder_layer_follows_its_norm_placement(norm):
    torch.manual_seed(0)
    layer = EncoderLayer(dataclasses.replace(CONFIG, norm=norm)).eval()
    with torch.no_grad():  # non-trivial LayerNorm parameters, so a misplaced norm shows
        for norm_module in (layer.attention_norm, layer.feed_forward_norm):
            norm_module.weight.uniform_(0.5, 1.5)
            norm_module.bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, 7, 32)
    out = layer(x, output_attentions=True)
    torch.testing.assert_close(out.output, reference_layer(layer, x, norm == "pre"), atol=ATOL, rtol=0)
    other = reference_layer(layer, x, norm != "pre")
    assert not torch.allclose(out.output, other, atol=1e-3)
    assert out.weights.shape == (2, 4, 7, 7)


def test_encoder_layer_applies_dropout_only_in_training():
    torch.manual_seed(0)
    layer = EncoderLayer(dataclasses.replace(CONFIG, dropout=0.3))
    x = torch.randn(2, 7, 32)
    assert not torch.allclose(layer.train()(x).output, layer.eval()(x).output)
    torch.testing.assert_close(layer(x).output, layer(x).output)


def scratch_layer(state, x, config, input_normalised=False):
    """One encoder layer from raw tensor operations on the layer's state dict (no package module)."""
    d, heads = config.d_model, config.n_heads
    weight = lambda name: state[f"{name}.weight"]
    bias = lambda name: state.get(f"{name}.bias")
    norm = lambda h, name: F.layer_norm(h, (d,), weight(name), bias(name), config.layer_norm_eps)
    linear = lambda h, name: F.linear(h, weight(name), bias(name))

    def attention(h):
        batch, length, _ = h.shape
        q, k, v = linear(h, "attention.qkv").view(batch, length, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
        if config.positions == "rope":  # rotate pairs (i, i + d/2) by angle t * theta^(-2i/d_head)
            half = d // heads // 2
            freq = config.rope_theta ** (-torch.arange(half, dtype=torch.float64) / half)
            angle = torch.arange(length, dtype=torch.float64)[:, None] * freq
            cos, sin = angle.cos().float(), angle.sin().float()
            turn = lambda z: torch.cat(
                (z[..., :half] * cos - z[..., half:] * sin, z[..., half:] * cos + z[..., :half] * sin), -1
            )
            q, k = turn(q), turn(k)
        scores = (q @ k.transpose(-1, -2) / math.sqrt(d // heads)).softmax(-1)
        return linear((scores @ v).transpose(1, 2).reshape(batch, length, d), "attention.out")

    def feed_forward(h):
        up = linear(h, "feed_forward.up")
        if config.feed_forward == "geglu":
            value, gate = up.chunk(2, dim=-1)
            return linear(F.gelu(value) * gate, "feed_forward.down")
        return linear(F.gelu(up), "feed_forward.down")

    if config.norm == "pre":
        x = x + attention(x if input_normalised else norm(x, "attention_norm"))
        return x + feed_forward(norm(x, "feed_forward_norm"))
    x = norm(x + attention(x), "attention_norm")
    return norm(x + feed_forward(x), "feed_forward_norm")


MODERN = dataclasses.replace(
    CONFIG, norm="pre", embedding_norm=True, positions="rope", feed_forward="geglu", bias=False
)
ODD = dataclasses.replace(CONFIG, d_model=30, n_heads=1, d_ff=41)  # width not a power of two, one head


@pytest.mark.parametrize(
    ("config", "input_normalised"),
    [
        (CONFIG, False),
        (dataclasses.replace(CONFIG, norm="pre"), False),
        (MODERN, False),
        (MODERN, True),
        (ODD, False),
        (dataclasses.replace(ODD, norm="pre", positions="rope", feed_forward="geglu"), False),
        (dataclasses.replace(CONFIG, feed_forward="geglu", bias=False), False),
    ],
)
def test_encoder_layer_equals_a_from_scratch_layer(config, input_normalised):
    torch.manual_seed(0)
    layer = EncoderLayer(config, input_normalised=input_normalised).eval()
    with torch.no_grad():  # non-trivial LayerNorm parameters, so a misplaced norm shows
        for name, parameter in layer.named_parameters():
            if "norm" in name:
                parameter.uniform_(0.5, 1.5) if name.endswith("weight") else parameter.uniform_(-0.5, 0.5)
    x = torch.randn(2, 7, config.d_model)
    expected = scratch_layer(layer.state_dict(), x, config, input_normalised)
    torch.testing.assert_close(layer(x).output, expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(layer(x, output_attentions=True).output, expected, atol=ATOL, rtol=0)
    wrong = dataclasses.replace(config, norm="post" if config.norm == "pre" else "pre")
    if not input_normalised:
        assert not torch.allclose(scratch_layer(layer.state_dict(), x, wrong), expected, atol=1e-3)


def test_a_pre_ln_layer_after_a_normalised_input_skips_only_its_attention_norm():
    pre = EncoderLayer(MODERN, input_normalised=True)
    assert isinstance(pre.attention_norm, torch.nn.Identity) and isinstance(pre.feed_forward_norm, torch.nn.LayerNorm)
    post = EncoderLayer(CONFIG, input_normalised=True)  # post-LN normalises sums, not inputs: nothing to skip
    assert isinstance(post.attention_norm, torch.nn.LayerNorm)


def test_biases_off_leaves_no_bias_in_the_layer():
    names = [name for name, _ in EncoderLayer(MODERN).named_parameters()]
    assert names and not [name for name in names if "bias" in name]
    assert sum("bias" in name for name, _ in EncoderLayer(CONFIG).named_parameters()) == 6  # 4 linear, 2 norms


def test_geglu_gates_gelu_of_the_first_half_with_the_second():
    torch.manual_seed(0)
    ff = FeedForward(32, 21, gated=True)
    x = torch.randn(2, 5, 32)
    value, gate = (x @ ff.up.weight.T + ff.up.bias).split(21, dim=-1)
    gelu = 0.5 * value * (1 + torch.erf(value / math.sqrt(2)))
    torch.testing.assert_close(ff(x), (gelu * gate) @ ff.down.weight.T + ff.down.bias, atol=ATOL, rtol=0)


def test_geglu_at_two_thirds_of_the_width_has_the_parameters_of_gelu():
    count = lambda module: sum(p.numel() for name, p in module.named_parameters() if "weight" in name)
    assert count(FeedForward(256, 1024)) == 2 * 256 * 1024
    assert abs(count(FeedForward(256, 683, gated=True)) - count(FeedForward(256, 1024))) / (2 * 256 * 1024) < 1e-3


@pytest.mark.parametrize("positions", ["rope", "none"])
def test_rotary_and_no_positions_add_nothing_to_the_embeddings(positions):
    torch.manual_seed(0)
    embeddings = Embeddings(dataclasses.replace(CONFIG, positions=positions)).eval()
    assert embeddings.position is None and embeddings.fixed_position is None
    x = ids()
    expected = F.layer_norm(embeddings.token.weight[x], (32,), embeddings.norm.weight, embeddings.norm.bias, eps=1e-12)
    torch.testing.assert_close(embeddings(x), expected, atol=ATOL, rtol=0)


def test_fixed_sinusoidal_positions_are_a_scaled_table_that_is_neither_trained_nor_saved():
    config = dataclasses.replace(CONFIG, positions="sinusoidal", norm="pre")
    embeddings = Embeddings(config).eval()
    assert embeddings.position is None and "fixed_position" not in embeddings.state_dict()
    x = ids()
    table = config.init_std * sinusoidal_positions(config.max_len, config.d_model)
    torch.testing.assert_close(embeddings(x), embeddings.token.weight[x] + table[:11])
    assert all(p.requires_grad for p in embeddings.parameters()) and len(list(embeddings.parameters())) == 1


def test_modern_embeddings_are_normalised_without_a_bias():
    embeddings = Embeddings(MODERN)
    assert embeddings.norm is not None and embeddings.norm.bias is None
