r"""Scaled dot-product attention, and multi-head self-attention built on it.

Every token asks a question (its query $q$), advertises what it holds (its key $k$) and
offers content (its value $v$). A token's output is the average of all values, weighted by
how well its query matches each key:

$$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d}}\right) V$$

Padding keys get weight zero (their scores are set to $-\infty$ before the softmax). A masked
language model attends in both directions; the causal option, where a token sees only earlier
tokens as in GPT, exists to contrast the two. ``MultiHeadSelfAttention`` runs ``n_heads`` such
attentions side by side on slices of width ``d_model / n_heads``, using PyTorch's fused
``scaled_dot_product_attention`` unless the weights are asked for, or unless it trains with
dropout on the CPU, where the written-out version with the book's cheaper dropout mask is faster
(PyTorch's CPU kernels do not fuse dropout either). With rotary positions, the projection
rotates queries and keys before attention sees them (``mlm_book.model.positions``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mlm_book.model.dropout import dropout
from mlm_book.model.positions import RotaryQKV


@dataclass
class AttentionOutput:
    """What attention returns.

    Attributes:
        output: the attended values, same leading shape as the queries, last dim of the values.
        weights: the softmax weights ``(..., T_q, T_k)``, each row summing to 1; ``None`` when
            they were not asked for (the fused kernel never builds them).
    """

    output: torch.Tensor
    weights: torch.Tensor | None


def scaled_dot_product_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    *,
    causal: bool = False,
    dropout_p: float = 0.0,
) -> AttentionOutput:
    """Attention written out: ``softmax(Q Kᵀ / √d + mask) V``, returning the weights.

    Args:
        query: ``(B, H, T_q, d)`` float tensor (any number of leading dims works).
        key: ``(B, H, T_k, d)``.
        value: ``(B, H, T_k, d_v)``.
        attention_mask: ``(B, T_k)`` bool or 0/1 tensor, True/1 for real tokens and False/0 for
            padding keys, which get weight 0. Every row needs at least one real key.
        causal: if True, query ``i`` also ignores keys after position ``i``.
        dropout_p: dropout rate on the weights before they average the values (0 in evaluation).

    Returns:
        ``AttentionOutput`` with ``output`` ``(B, H, T_q, d_v)`` and ``weights`` ``(B, H, T_q, T_k)``
        (before dropout).
    """
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.size(-1))  # (B, H, T_q, T_k)
    if attention_mask is not None:
        keep = attention_mask.bool()[:, None, None, :]  # (B, 1, 1, T_k)
        scores = scores.masked_fill(~keep, float("-inf"))
    if causal:
        t_q, t_k = scores.shape[-2:]
        future = torch.ones(t_q, t_k, dtype=torch.bool, device=scores.device).triu(1)  # (T_q, T_k)
        scores = scores.masked_fill(future, float("-inf"))
    weights = scores.softmax(dim=-1)  # (B, H, T_q, T_k)
    return AttentionOutput(output=dropout(weights, dropout_p) @ value, weights=weights)


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention with one fused projection for queries, keys and values.

    Args:
        d_model: width of the token vectors in and out.
        n_heads: number of heads; must divide ``d_model``.
        dropout: dropout rate on the attention weights (only in training mode).
        causal: attend only to earlier positions (for contrast; a masked LM is bidirectional).
        bias: give the projections biases (BERT) or not (ModernBERT).
        rotary_len: if given, rotate queries and keys by their position (RoPE) for sequences up
            to this length; the projection is then a ``RotaryQKV`` with the same weights.
        rotary_theta: the base of the rotary frequencies.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        dropout: float = 0.0,
        *,
        causal: bool = False,
        bias: bool = True,
        rotary_len: int | None = None,
        rotary_theta: float = 10000.0,
    ) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}; choose a divisor")
        self.n_heads = n_heads
        self.d_head = d_model // n_heads
        self.dropout = dropout
        self.causal = causal
        if rotary_len is None:
            self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)  # [W_Q; W_K; W_V] stacked: one matmul
        else:  # the same matmul, then queries and keys turned by their position
            self.qkv = RotaryQKV(d_model, n_heads, rotary_len, rotary_theta, bias=bias)
        self.out = nn.Linear(d_model, d_model, bias=bias)

    def forward(
        self,
        x: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        *,
        output_attentions: bool = False,
    ) -> AttentionOutput:
        """Attend from every position of ``x`` to every (unpadded) position of ``x``.

        Args:
            x: ``(B, T, d_model)`` token vectors.
            attention_mask: ``(B, T)`` bool, True for real tokens, False for padding; ``None``
                when nothing is padded (the fastest path).
            output_attentions: compute the weights explicitly and return them (slower);
                otherwise use PyTorch's fused kernel (except for CPU training with
                dropout), which gives the same output.

        Returns:
            ``AttentionOutput`` with ``output`` ``(B, T, d_model)`` and ``weights``
            ``(B, n_heads, T, T)`` (before dropout) or ``None``.
        """
        batch, length, d_model = x.shape
        qkv = self.qkv(x).view(batch, length, 3, self.n_heads, self.d_head)  # (B, T, 3, H, d)
        query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (B, H, T, d)
        dropout_p = self.dropout if self.training else 0.0
        weights = None
        # Written out when the weights are wanted, and when training on the CPU: PyTorch's CPU
        # kernel does not fuse dropout, and the book's dropout mask is about 3x cheaper than its own.
        if output_attentions or (dropout_p > 0 and x.device.type == "cpu"):
            explicit = scaled_dot_product_attention(
                query, key, value, attention_mask, causal=self.causal, dropout_p=dropout_p
            )
            context = explicit.output  # (B, H, T, d)
            weights = explicit.weights if output_attentions else None
        else:
            context = F.scaled_dot_product_attention(
                query,
                key,
                value,
                attn_mask=_fused_mask(attention_mask, length, self.causal),
                dropout_p=dropout_p,
                is_causal=self.causal and attention_mask is None,
            )  # (B, H, T, d)
        context = context.transpose(1, 2).reshape(batch, length, d_model)  # (B, T, d_model)
        return AttentionOutput(output=self.out(context), weights=weights)


def _fused_mask(attention_mask: torch.Tensor | None, length: int, causal: bool) -> torch.Tensor | None:
    """Turn a ``(B, T)`` padding mask into the boolean mask the fused kernel broadcasts.

    Returns ``None`` without padding (the kernel then handles ``causal`` itself), else a
    ``(B, 1, 1, T)`` mask, or ``(B, 1, T, T)`` when it must also hide future positions.
    """
    if attention_mask is None:
        return None
    keep = attention_mask.bool()[:, None, None, :]  # (B, 1, 1, T)
    if causal:
        past = torch.ones(length, length, dtype=torch.bool, device=keep.device).tril()  # (T, T)
        keep = keep & past  # (B, 1, T, T)
    return keep
