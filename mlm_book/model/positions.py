r"""How a token's position enters the model: sinusoids added to it, or rotary queries and keys.

Attention alone is permutation equivariant: shuffle the tokens and the outputs shuffle the same
way. BERT adds a learned vector per position to each token vector; the original Transformer
adds fixed sinusoids $\mathrm{PE}_{p, 2i} = \sin(p\,\omega_i)$, $\mathrm{PE}_{p, 2i+1} =
\cos(p\,\omega_i)$ with $\omega_i = 10000^{-2i/d}$. Rotary positions (RoPE, Su et al. 2021)
add nothing: they rotate each pair of query and key coordinates by an angle proportional to the
position, $q_t \mapsto R_t q_t$, so that

$$(R_s q)^\top (R_t k) = q^\top R_{t-s}\, k,$$

and an attention score depends on the positions only through their offset $t - s$. Pairs are
coordinates $i$ and $i + d/2$ of a head of width $d$, turning at $\theta_i = \text{base}^{-2i/d}$
(the "rotate half" layout of ModernBERT and Llama).
"""

from __future__ import annotations

import torch
from torch import nn


def sinusoidal_positions(length: int, width: int) -> torch.Tensor:
    r"""The Transformer's position signals: $\sin(p\,\omega_i)$ and $\cos(p\,\omega_i)$ side by side.

    Column pair $i$ turns at the frequency $\omega_i = 10000^{-2i/\text{width}}$, so the vector of
    position $p + k$ is a fixed rotation of that of $p$, the same for every $p$: a layer can find
    "the token $k$ to the left" with one linear map.

    Args:
        length: number of positions.
        width: vector width.

    Returns:
        ``(length, width)`` float tensor with values in [-1, 1]: sines in even columns, cosines in odd.
    """
    position = torch.arange(length, dtype=torch.float64)[:, None]  # (T, 1)
    frequency = 10000.0 ** (-torch.arange(0, width, 2, dtype=torch.float64) / width)  # (ceil(D/2),)
    angle = position * frequency  # (T, ceil(D/2))
    table = torch.empty(length, width, dtype=torch.float64)
    table[:, 0::2] = angle.sin()
    table[:, 1::2] = angle.cos()[:, : width // 2]
    return table.float()


def rotary_angles(length: int, d_head: int, theta: float = 10000.0) -> torch.Tensor:
    r"""The rotation angle $t\,\theta_i$ of every position $t$ and coordinate pair $i$.

    Args:
        length: number of positions.
        d_head: width of one head (even).
        theta: the base of the frequencies $\theta_i = \text{theta}^{-2i/d_\text{head}}$.

    Returns:
        ``(length, d_head // 2)`` float64 angles in radians.
    """
    if d_head % 2:
        raise ValueError(f"rotary positions need an even head width, got d_head={d_head}")
    position = torch.arange(length, dtype=torch.float64)[:, None]  # (T, 1)
    frequency = theta ** (-torch.arange(0, d_head, 2, dtype=torch.float64) / d_head)  # (d/2,)
    return position * frequency  # (T, d/2)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate coordinate pairs ``(i, i + d/2)`` of ``x`` by the angles whose cosines and sines are given.

    Args:
        x: ``(..., T, d)`` queries or keys (any leading dims).
        cos: ``(T, d/2)`` cosines of the angles (broadcast over the leading dims of ``x``).
        sin: ``(T, d/2)`` sines.

    Returns:
        A new ``(..., T, d)`` tensor; ``x`` is not changed.
    """
    first, second = x.chunk(2, dim=-1)  # (..., T, d/2) each
    return torch.cat((first * cos - second * sin, second * cos + first * sin), dim=-1)


class RotaryQKV(nn.Linear):
    """The fused query-key-value projection, with queries and keys rotated by their position.

    A drop-in for ``nn.Linear(d_model, 3 * d_model)``: the same weight (``[W_Q; W_K; W_V]``),
    and its output has the same layout, ``(B, T, 3 * d_model)``, so attention runs unchanged.

    Args:
        d_model: width of the token vectors.
        n_heads: heads per layer (the rotation acts on each head's slice of width ``d_model / n_heads``).
        max_len: longest sequence; the angles are tabulated up to it.
        theta: the base of the rotary frequencies.
        bias: give the projection a bias.
    """

    def __init__(self, d_model: int, n_heads: int, max_len: int, theta: float = 10000.0, *, bias: bool = True) -> None:
        super().__init__(d_model, 3 * d_model, bias=bias)
        self.n_heads = n_heads
        angles = rotary_angles(max_len, d_model // n_heads, theta)  # (max_len, d/2)
        self.register_buffer("cos", angles.cos().float(), persistent=False)  # recomputed, never saved
        self.register_buffer("sin", angles.sin().float(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Project ``(B, T, d_model)`` vectors to rotated queries, rotated keys and values ``(B, T, 3 d_model)``."""
        batch, length, _ = x.shape
        qkv = super().forward(x).view(batch, length, 3, self.n_heads, -1)  # (B, T, 3, H, d)
        query, key, value = qkv.unbind(2)  # 3 x (B, T, H, d)
        cos = self.cos[:length, None, :].to(query.dtype)  # (T, 1, d/2): the same angle for every head
        sin = self.sin[:length, None, :].to(query.dtype)
        rotated = (apply_rotary(query, cos, sin), apply_rotary(key, cos, sin), value)
        return torch.stack(rotated, dim=2).flatten(2)  # (B, T, 3 * d_model)
