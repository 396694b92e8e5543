r"""The pieces of a BERT-style encoder: embeddings and the transformer encoder layer.

A token enters as the sum of three learned vectors: what it is (token embedding), where it
is (position embedding) and, optionally, which segment it belongs to. Each encoder layer then
lets every token look at every other (self-attention) and transforms each token on its own
(a two-layer GELU feed-forward network), each step wrapped in a residual connection with
LayerNorm. BERT normalises *after* the sum (post-LN),

$$x \leftarrow \mathrm{LN}\big(x + \mathrm{Sublayer}(x)\big),$$

while many later models normalise *before* the sub-layer (pre-LN),
$x \leftarrow x + \mathrm{Sublayer}(\mathrm{LN}(x))$, which trains more stably when deep.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlm_book.model.attention import AttentionOutput, MultiHeadSelfAttention
from mlm_book.model.config import ModelConfig
from mlm_book.model.dropout import Dropout
from mlm_book.utils.special_tokens import PAD_ID


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


class Embeddings(nn.Module):
    """Token + learned position (+ segment) embeddings, then LayerNorm (post-LN only) and dropout.

    Args:
        config: the model's sizes; ``n_segments == 0`` leaves out the segment embedding.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.token = nn.Embedding(config.vocab_size, config.d_model, padding_idx=PAD_ID)
        self.position = nn.Embedding(config.max_len, config.d_model)
        self.segment = nn.Embedding(config.n_segments, config.d_model) if config.n_segments else None
        # A pre-LN encoder normalises at the start of every layer, so it skips this one.
        self.norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps) if config.norm == "post" else None
        self.dropout = Dropout(config.dropout)

    def forward(self, input_ids: torch.Tensor, segment_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Embed a batch of token ids.

        Args:
            input_ids: ``(B, T)`` int64 token ids, ``T <= max_len``.
            segment_ids: ``(B, T)`` int64 segment ids, or ``None`` for segment 0 everywhere.

        Returns:
            ``(B, T, d_model)`` token vectors.
        """
        x = self.token(input_ids)  # (B, T, D)
        if self.segment is not None:
            x = x + (self.segment.weight[0] if segment_ids is None else self.segment(segment_ids))
        elif segment_ids is not None:
            raise ValueError("segment_ids were given but the model has n_segments=0; drop them or set n_segments")
        x = x + self.position.weight[: input_ids.size(1)]  # (T, D) broadcasts over the batch
        if self.norm is not None:
            x = self.norm(x)
        return self.dropout(x)


class FeedForward(nn.Module):
    """The position-wise feed-forward network ``W_2 GELU(W_1 x + b_1) + b_2`` (exact, erf GELU).

    Args:
        d_model: width in and out.
        d_ff: width of the hidden layer.
    """

    def __init__(self, d_model: int, d_ff: int) -> None:
        super().__init__()
        self.up = nn.Linear(d_model, d_ff)
        self.down = nn.Linear(d_ff, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Transform each position on its own: ``(..., d_model) -> (..., d_model)``."""
        return self.down(F.gelu(self.up(x)))  # (..., d_ff) inside


class EncoderLayer(nn.Module):
    """One transformer encoder layer: self-attention, then feed-forward, each with residual + LN.

    Args:
        config: the model's sizes, dropout and norm placement (``"post"`` or ``"pre"``).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.pre_norm = config.norm == "pre"
        self.attention = MultiHeadSelfAttention(config.d_model, config.n_heads, config.dropout)
        self.attention_norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.feed_forward = FeedForward(config.d_model, config.d_ff)
        self.feed_forward_norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.dropout)

    def forward(
        self, x: torch.Tensor, attention_mask: torch.Tensor | None = None, *, output_attentions: bool = False
    ) -> AttentionOutput:
        """Run the layer.

        Args:
            x: ``(B, T, d_model)`` token vectors.
            attention_mask: ``(B, T)`` bool, True for real tokens; ``None`` if nothing is padded.
            output_attentions: also return the attention weights.

        Returns:
            ``AttentionOutput`` with the new ``(B, T, d_model)`` vectors and the layer's
            ``(B, n_heads, T, T)`` weights (or ``None``).
        """
        if self.pre_norm:
            attended = self.attention(self.attention_norm(x), attention_mask, output_attentions=output_attentions)
            x = x + self.dropout(attended.output)
            x = x + self.dropout(self.feed_forward(self.feed_forward_norm(x)))
        else:
            attended = self.attention(x, attention_mask, output_attentions=output_attentions)
            x = self.attention_norm(x + self.dropout(attended.output))
            x = self.feed_forward_norm(x + self.dropout(self.feed_forward(x)))
        return AttentionOutput(output=x, weights=attended.weights)
