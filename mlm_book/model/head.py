r"""The masked-language-model head: from a token's final vector to a score for every word.

BERT's head transforms the vector once more (dense layer, GELU, LayerNorm) and then scores
each vocabulary entry by a dot product with that entry's *input* embedding, plus a bias:

$$\mathrm{logits} = \mathrm{LN}\big(\mathrm{GELU}(W h + b)\big)\, E^\top + b_{\mathrm{out}}$$

Sharing $E$ between input and output ("weight tying") saves ``vocab_size x d_model``
parameters and lets rare words learn from both ends. ``ModelConfig(tie_decoder=False)`` gives
the decoder a matrix of its own, ``head_transform=False`` drops the transform (the logits are
then $h\, E^\top + b_{\mathrm{out}}$).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlm_book.model.config import ModelConfig


class MLMHead(nn.Module):
    """Dense + GELU + LayerNorm, then a decoder whose weight *is* the token embedding matrix.

    Args:
        config: the model's sizes; ``tie_decoder`` and ``head_transform`` choose the variants.
        token_embedding: the model's ``nn.Embedding``; a tied decoder shares its weight tensor.
    """

    def __init__(self, config: ModelConfig, token_embedding: nn.Embedding) -> None:
        super().__init__()
        self.dense = nn.Linear(config.d_model, config.d_model) if config.head_transform else None
        self.norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps) if config.head_transform else None
        self.decoder = nn.Linear(config.d_model, config.vocab_size)  # its bias is the output bias
        if config.tie_decoder:
            self.decoder.weight = token_embedding.weight  # tied: one tensor, two uses

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """Score every vocabulary entry.

        Args:
            hidden: ``(..., d_model)`` final token vectors, e.g. ``(B, T, d_model)`` or, for
                sparse prediction, only the masked positions ``(N_masked, d_model)``.

        Returns:
            ``(..., vocab_size)`` logits.
        """
        if self.dense is not None and self.norm is not None:
            hidden = self.norm(F.gelu(self.dense(hidden)))
        return self.decoder(hidden)
