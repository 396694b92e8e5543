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


def test_sinusoidal_positions_follow_the_transformer_formula():
    table = sinusoidal_positions(17, 9)  # odd width: five sines, four cosines
    assert table.shape == (17, 9) and table.dtype == torch.float32
    torch.testing.assert_close(table[0], torch.tensor([0.0, 1.0] * 4 + [0.0]))
    p = 5  # column pair i = 2: columns 4 (sine) and 5 (cosine)
    frequency = 10000 ** (-4 / 9)
    torch.testing.assert_close(table[p, 4:6], torch.tensor([math.sin(p * frequency), math.cos(p * frequency)]))


def test_the_same_offset_gives_the_same_similarity_anywhere():
    table = sinusoidal_positions(40, 32)
    for offset in (1, 3, 7):
        similarity = (table[:-offset] * table[offset:]).sum(-1)  # (40 - offset,): p with p + offset
        torch.testing.assert_close(similarity, similarity[:1].expand_as(similarity), atol=1e-5, rtol=0)
