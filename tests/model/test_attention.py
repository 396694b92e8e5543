"""Tests of mlm_book.model.attention against PyTorch's scaled_dot_product_attention."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from mlm_book.model.attention import MultiHeadSelfAttention, scaled_dot_product_attention
from mlm_book.model.dropout import dropout_mask

torch.set_num_threads(1)
ATOL = 1e-5  # float32 sums of a few dozen terms


def random_qkv(batch=3, heads=2, length=7, d=5, d_v=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(batch, heads, length, d, generator=g),
        torch.randn(batch, heads, length, d, generator=g),
        torch.randn(batch, heads, length, d_v, generator=g),
    )


def padding_mask(lengths, total):
    return torch.arange(total)[None, :] < torch.tensor(lengths)[:, None]  # (B, T) True = real


def test_explicit_attention_matches_pytorch_without_mask():
    q, k, v = random_qkv()
    ours = scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(ours.output, F.scaled_dot_product_attention(q, k, v), atol=ATOL, rtol=0)
    assert ours.weights.shape == (3, 2, 7, 7)


@pytest.mark.parametrize("causal", [False, True])
def test_explicit_attention_matches_pytorch_with_padding(causal):
    q, k, v = random_qkv()
    keep = padding_mask([7, 4, 1], 7)
    reference_mask = keep[:, None, None, :]
    if causal:
        reference_mask = reference_mask & torch.ones(7, 7, dtype=torch.bool).tril()
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=reference_mask)
    ours = scaled_dot_product_attention(q, k, v, keep, causal=causal)
    torch.testing.assert_close(ours.output, expected, atol=ATOL, rtol=0)


def test_weights_rows_sum_to_one_with_zero_weight_on_padding():
    q, k, v = random_qkv()
    keep = padding_mask([7, 4, 2], 7)
    weights = scaled_dot_product_attention(q, k, v, keep.long()).weights  # a 0/1 mask works too
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 2, 7))
    assert torch.all(weights.masked_select(~keep[:, None, None, :].expand_as(weights)) == 0)
    assert torch.all(weights.masked_select(keep[:, None, None, :].expand_as(weights)) > 0)


def test_causal_weights_are_lower_triangular():
    q, k, v = random_qkv()
    weights = scaled_dot_product_attention(q, k, v, causal=True).weights
    assert torch.all(weights.triu(1) == 0)
    torch.testing.assert_close(weights[..., 0, 0], torch.ones(3, 2))  # the first token sees only itself


def test_explicit_attention_leaves_inputs_unchanged():
    q, k, v = random_qkv()
    copies = [t.clone() for t in (q, k, v)]
    scaled_dot_product_attention(q, k, v, padding_mask([3, 7, 5], 7))
    assert all(torch.equal(a, b) for a, b in zip((q, k, v), copies))


@given(lengths=st.lists(st.integers(1, 9), min_size=1, max_size=4), seed=st.integers(0, 2**16))
def test_explicit_attention_matches_pytorch_for_any_padding(lengths, seed):
    total = max(lengths)
    q, k, v = random_qkv(batch=len(lengths), length=total, seed=seed)
    keep = padding_mask(lengths, total)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None, None, :])
    torch.testing.assert_close(scaled_dot_product_attention(q, k, v, keep).output, expected, atol=ATOL, rtol=0)


def make_attention(n_heads=4, causal=False, dropout=0.0, seed=0):
    torch.manual_seed(seed)
    return MultiHeadSelfAttention(d_model=32, n_heads=n_heads, dropout=dropout, causal=causal).eval()


@pytest.mark.parametrize("n_heads", [2, 4])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("lengths", [None, [9, 5, 2]])
def test_fused_and_explicit_paths_agree(n_heads, causal, lengths):
    attention = make_attention(n_heads, causal)
    x = torch.randn(3, 9, 32, generator=torch.Generator().manual_seed(1))
    keep = None if lengths is None else padding_mask(lengths, 9)
    fused = attention(x, keep)
    explicit = attention(x, keep, output_attentions=True)
    assert fused.weights is None
    assert explicit.weights.shape == (3, n_heads, 9, 9)
    torch.testing.assert_close(fused.output, explicit.output, atol=ATOL, rtol=0)


def test_multi_head_attention_matches_a_head_by_head_reference():
    attention = make_attention(n_heads=4)
    x = torch.randn(2, 5, 32, generator=torch.Generator().manual_seed(2))
    w_q, w_k, w_v = attention.qkv.weight.chunk(3)
    b_q, b_k, b_v = attention.qkv.bias.chunk(3)
    heads = []
    for h in range(4):
        cols = slice(8 * h, 8 * h + 8)
        q, k, v = (x @ w[cols].T + b[cols] for w, b in ((w_q, b_q), (w_k, b_k), (w_v, b_v)))
        heads.append(torch.softmax(q @ k.transpose(1, 2) / 8**0.5, dim=-1) @ v)  # (B, T, 8)
    expected = attention.out(torch.cat(heads, dim=-1))
    torch.testing.assert_close(attention(x).output, expected, atol=ATOL, rtol=0)


@pytest.mark.parametrize("output_attentions", [False, True])
def test_padding_does_not_change_the_real_positions(output_attentions):
    attention = make_attention()
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1, 5, 32, generator=g)
    padded = torch.cat([x, 100 * torch.randn(1, 4, 32, generator=g)], dim=1)  # garbage in the padding
    alone = attention(x, output_attentions=output_attentions).output
    with_padding = attention(padded, padding_mask([5], 9), output_attentions=output_attentions).output
    torch.testing.assert_close(with_padding[:, :5], alone, atol=ATOL, rtol=0)


def test_causal_attention_ignores_later_tokens():
    attention = make_attention(causal=True)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(1, 6, 32, generator=g)
    changed = x.clone()
    changed[:, 4:] = torch.randn(1, 2, 32, generator=g)
    torch.testing.assert_close(attention(changed).output[:, :4], attention(x).output[:, :4], atol=ATOL, rtol=0)
    assert not torch.allclose(make_attention(causal=False)(changed).output[:, :4], make_attention()(x).output[:, :4])


def test_dropout_acts_only_in_training_and_weights_stay_normalised():
    attention = make_attention(dropout=0.5)
    x = torch.randn(2, 6, 32, generator=torch.Generator().manual_seed(5))
    evaluated = attention(x).output
    attention.train()
    torch.manual_seed(0)
    trained = attention(x, output_attentions=True)
    assert not torch.allclose(trained.output, evaluated)
    torch.testing.assert_close(trained.weights.sum(-1), torch.ones(2, 4, 6))
    assert not torch.allclose(attention(x).output, evaluated)  # the fused path drops out too


@pytest.mark.parametrize("output_attentions", [False, True])
def test_cpu_training_drops_the_weights_with_the_books_mask(output_attentions):
    attention = make_attention(n_heads=4, dropout=0.3).train()
    x = torch.randn(2, 6, 32, generator=torch.Generator().manual_seed(6))
    keep = padding_mask([6, 4], 6)
    torch.manual_seed(8)
    trained = attention(x, keep, output_attentions=output_attentions)
    q, k, v = attention.qkv(x).view(2, 6, 3, 4, 8).permute(2, 0, 3, 1, 4).unbind(0)
    weights = scaled_dot_product_attention(q, k, v, keep).weights  # (2, 4, 6, 6)
    torch.manual_seed(8)
    context = (weights * dropout_mask((2, 4, 6, 6), 0.3)) @ v  # (2, 4, 6, 8)
    expected = attention.out(context.transpose(1, 2).reshape(2, 6, 32))
    torch.testing.assert_close(trained.output, expected, atol=ATOL, rtol=0)
    assert (trained.weights is not None) == output_attentions


def test_heads_must_divide_the_width():
    with pytest.raises(ValueError, match="d_model=30 is not divisible by n_heads=4"):
        MultiHeadSelfAttention(d_model=30, n_heads=4)


@pytest.mark.parametrize("lengths", [None, [9, 5, 2]])
def test_rotary_attention_paths_agree_and_use_the_rotated_projection(lengths):
    torch.manual_seed(0)
    attention = MultiHeadSelfAttention(24, 3, rotary_len=16, rotary_theta=100.0, bias=False).eval()
    assert attention.qkv.bias is None and attention.out.bias is None
    x = torch.randn(3, 9, 24)
    mask = None if lengths is None else padding_mask(lengths, 9)
    fused = attention(x, mask)
    explicit = attention(x, mask, output_attentions=True)
    torch.testing.assert_close(fused.output, explicit.output, atol=1e-5, rtol=0)
    plain = MultiHeadSelfAttention(24, 3, bias=False).eval()
    plain.load_state_dict(attention.state_dict())  # the same weights without rotation differ
    assert not torch.allclose(plain(x, mask).output, fused.output, atol=1e-3)
