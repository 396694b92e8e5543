r"""The pieces of a transformer encoder: embeddings and the encoder layer.

A token enters as the sum of what it is (token embedding), where it is (a learned or
sinusoidal position vector; none with rotary positions, which act inside attention) and,
optionally, which segment it belongs to. Each encoder layer then lets every token look at every
other (self-attention) and transforms each token on its own (a feed-forward network, GELU or
gated GeGLU), each step wrapped in a residual connection with LayerNorm. BERT normalises
*after* the sum (post-LN),

$$x \leftarrow \mathrm{LN}\big(x + \mathrm{Sublayer}(x)\big),$$

while later models normalise *before* the sub-layer (pre-LN),
$x \leftarrow x + \mathrm{Sublayer}(\mathrm{LN}(x))$, which trains more stably when deep.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlm_book.model.attention import AttentionOutput, MultiHeadSelfAttention
from mlm_book.model.config import ModelConfig
from mlm_book.model.dropout import Dropout
from mlm_book.model.positions import sinusoidal_positions
from mlm_book.utils.special_tokens import PAD_ID


class Embeddings(nn.Module):
    """Token + position (+ segment) embeddings, then LayerNorm (if the config has one) and dropout.

    Args:
        config: the model's sizes; ``positions`` decides the position term (a learned table
            ``position``, a fixed sinusoidal buffer, or nothing for ``"rope"`` and ``"none"``);
            ``n_segments == 0`` leaves out the segment embedding.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.token = nn.Embedding(config.vocab_size, config.d_model, padding_idx=PAD_ID)
        self.position = nn.Embedding(config.max_len, config.d_model) if config.positions == "learned" else None
        fixed = None
        if config.positions == "sinusoidal":  # (max_len, D), at the scale of the token vectors at the start
            fixed = config.init_std * sinusoidal_positions(config.max_len, config.d_model)
        self.register_buffer("fixed_position", fixed, persistent=False)  # recomputed, never saved
        self.segment = nn.Embedding(config.n_segments, config.d_model) if config.n_segments else None
        # Pre-LN encoders normalise at the start of every layer; only some normalise here too.
        has_norm = config.normalises_embeddings
        self.norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps, bias=config.bias) if has_norm else None
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
        length = input_ids.size(1)
        if self.position is not None:
            x = x + self.position.weight[:length]  # (T, D) broadcasts over the batch
        elif self.fixed_position is not None:
            x = x + self.fixed_position[:length]
        if self.norm is not None:
            x = self.norm(x)
        return self.dropout(x)


class FeedForward(nn.Module):
    r"""The position-wise feed-forward network, plain or gated (exact, erf GELU).

    Plain (BERT): $W_2\,\mathrm{GELU}(W_1 x + b_1) + b_2$. Gated (GeGLU, Shazeer 2020):
    $W_2\,\big(\mathrm{GELU}(W_1 x) \odot W_3 x\big)$, with $W_1$ and $W_3$ stacked in one
    ``up`` projection of width ``2 * d_ff`` (GELU on the first half, as in ModernBERT).

    Args:
        d_model: width in and out.
        d_ff: width of the hidden layer (of each half, when gated).
        gated: use GeGLU instead of GELU.
        bias: give both projections biases.
    """

    def __init__(self, d_model: int, d_ff: int, *, gated: bool = False, bias: bool = True) -> None:
        super().__init__()
        self.gated = gated
        self.up = nn.Linear(d_model, 2 * d_ff if gated else d_ff, bias=bias)
        self.down = nn.Linear(d_ff, d_model, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Transform each position on its own: ``(..., d_model) -> (..., d_model)``."""
        if self.gated:
            value, gate = self.up(x).chunk(2, dim=-1)  # (..., d_ff) each
            return self.down(F.gelu(value) * gate)
        return self.down(F.gelu(self.up(x)))  # (..., d_ff) inside


def layer_norm(config: ModelConfig) -> nn.LayerNorm:
    """A LayerNorm over ``d_model`` with the config's epsilon, with a bias unless ``config.bias`` is False."""
    return nn.LayerNorm(config.d_model, eps=config.layer_norm_eps, bias=config.bias)


class EncoderLayer(nn.Module):
    """One transformer encoder layer: self-attention, then feed-forward, each with residual + LN.

    Args:
        config: the model's sizes, dropout, norm placement (``"post"`` or ``"pre"``), positions
            (rotary ones act in the attention), feed-forward kind and biases.
        input_normalised: the input is already LayerNormed (the first layer after ModernBERT's
            embedding norm): a pre-LN layer then skips its attention norm (an ``nn.Identity``).
    """

    def __init__(self, config: ModelConfig, *, input_normalised: bool = False) -> None:
        super().__init__()
        self.pre_norm = config.norm == "pre"
        self.attention = MultiHeadSelfAttention(
            config.d_model,
            config.n_heads,
            config.dropout,
            bias=config.bias,
            rotary_len=config.max_len if config.positions == "rope" else None,
            rotary_theta=config.rope_theta,
        )
        skip = self.pre_norm and input_normalised
        self.attention_norm = nn.Identity() if skip else layer_norm(config)
        self.feed_forward = FeedForward(
            config.d_model, config.d_ff, gated=config.feed_forward == "geglu", bias=config.bias
        )
        self.feed_forward_norm = layer_norm(config)
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
