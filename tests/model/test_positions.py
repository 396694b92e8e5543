"""Tests of mlm_book.model.positions: sinusoids, and rotary queries and keys (RoPE)."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mlm_book.model.positions import RotaryQKV, apply_rotary, rotary_angles, sinusoidal_positions

torch.set_num_threads(1)


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


def rotate_as_complex(x, angles):
    """Reference: coordinates (i, i + d/2) as one complex number, multiplied by exp(i * angle)."""
    half = x.size(-1) // 2
    z = torch.complex(x[..., :half].double(), x[..., half:].double()) * torch.polar(torch.ones_like(angles), angles)
    return torch.cat((z.real, z.imag), dim=-1).float()


def rotate(x, positions, d, theta=10000.0):
    angles = rotary_angles(int(max(positions)) + 1, d, theta)[positions]  # (T, d/2)
    return apply_rotary(x, angles.cos().float(), angles.sin().float())


def test_rotary_angles_follow_the_formula():
    angles = rotary_angles(7, 6, theta=100.0)
    assert angles.shape == (7, 3) and angles.dtype == torch.float64
    torch.testing.assert_close(
        angles[5], 5 * torch.tensor([1.0, 100 ** (-2 / 6), 100 ** (-4 / 6)], dtype=torch.float64)
    )


def test_rotary_positions_rotate_half_pairs_like_complex_multiplication():
    x = torch.randn(2, 3, 9, 10, generator=torch.Generator().manual_seed(0))  # (B, H, T, d)
    angles = rotary_angles(9, 10)
    torch.testing.assert_close(rotate(x, torch.arange(9), 10), rotate_as_complex(x, angles), atol=1e-5, rtol=0)


def test_rotation_keeps_lengths_and_position_zero_is_the_identity():
    x = torch.randn(4, 8, 12, generator=torch.Generator().manual_seed(1))  # (B, T, d)
    rotated = rotate(x, torch.arange(8), 12)
    torch.testing.assert_close(rotated.norm(dim=-1), x.norm(dim=-1), atol=1e-5, rtol=0)
    torch.testing.assert_close(rotated[:, 0], x[:, 0])
    assert not torch.allclose(rotated[:, 1:], x[:, 1:], atol=1e-3)


@given(s=st.integers(0, 60), t=st.integers(0, 60), shift=st.integers(0, 60), seed=st.integers(0, 2**16))
def test_rotary_scores_depend_only_on_the_offset(s, t, shift, seed):
    generator = torch.Generator().manual_seed(seed)
    q, k = torch.randn(2, 1, 16, generator=generator).unbind(0)  # (1, d) each
    score = lambda i, j: (rotate(q, torch.tensor([i]), 16) * rotate(k, torch.tensor([j]), 16)).sum()
    torch.testing.assert_close(score(s, t), score(s + shift, t + shift), atol=1e-4, rtol=1e-4)


def test_rotary_projection_is_the_linear_projection_with_queries_and_keys_rotated():
    torch.manual_seed(0)
    d_model, n_heads, length = 30, 3, 11  # head width 10, not a power of two
    rotary = RotaryQKV(d_model, n_heads, max_len=17, theta=500.0)
    plain = torch.nn.Linear(d_model, 3 * d_model)
    plain.load_state_dict(rotary.state_dict())  # same parameter names, no saved tables
    x = torch.randn(2, length, d_model)
    ours = rotary(x).view(2, length, 3, n_heads, 10)
    reference = plain(x).view(2, length, 3, n_heads, 10)
    angles = rotary_angles(length, 10, theta=500.0)[:, None, :]  # (T, 1, d/2)
    torch.testing.assert_close(ours[:, :, 0], rotate_as_complex(reference[:, :, 0], angles), atol=1e-5, rtol=0)
    torch.testing.assert_close(ours[:, :, 1], rotate_as_complex(reference[:, :, 1], angles), atol=1e-5, rtol=0)
    torch.testing.assert_close(ours[:, :, 2], reference[:, :, 2])  # values are not rotated
    assert set(rotary.state_dict()) == {"weight", "bias"}


def test_rotary_needs_an_even_head_width():
    with pytest.raises(ValueError, match="rotary positions need an even head width, got d_head=5"):
        RotaryQKV(15, 3, max_len=8)
    assert math.isclose(float(rotary_angles(2, 2)[1, 0]), 1.0)
