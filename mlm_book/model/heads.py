r"""Task heads on the pretrained encoder: a label per token, a label per text, an answer span.

Fine-tuning keeps the encoder (embeddings and layers, $h = \mathrm{Enc}(x)$, ``(B, T, D)``)
and replaces the masked-LM head with a small, freshly initialised one:

* **token classification** (tagging): $\mathrm{logits}_t = W\,\mathrm{drop}(h_t) + b$, one row
  of ``num_labels`` scores per token; loss the cross-entropy over tokens whose label is not
  -100 (the first piece of each word);
* **sequence classification**: BERT's *pooler* first, $p = \tanh(W_p h_{[CLS]} + b_p)$, then
  $\mathrm{logits} = W\,\mathrm{drop}(p) + b$; loss the cross-entropy over examples. The pooler
  is BERT's choice (Devlin et al., 2019, section 3): ``[CLS]`` was never a prediction target,
  and a trained dense layer turns its vector into a sentence summary;
* **span** (extractive QA): $s_t, e_t = w_s^\top h_t, w_e^\top h_t$ (one linear layer to 2
  scores per token); loss $\tfrac12\big(\mathrm{CE}(s, i_{start}) + \mathrm{CE}(e, i_{end})\big)$,
  the mean of the two cross-entropies over the positions of the sequence, as in BERT and
  transformers.

The head's weights start like BERT's (normal, ``init_std``; biases 0).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mlm_book.model.config import ModelConfig
from mlm_book.model.dropout import Dropout
from mlm_book.model.mlm import MLMModel
from mlm_book.utils.special_tokens import IGNORE_INDEX

HEAD_KINDS: tuple[str, ...] = ("token", "sequence", "span")
"""The heads: a label per token, a label per sequence, an answer span."""


@dataclass
class TaskOutput:
    """What ``TaskModel.forward`` returns.

    Attributes:
        loss: the head's loss (a scalar) when targets were given, else ``None``.
        logits: ``(B, T, num_labels)`` for tokens, ``(B, num_labels)`` for sequences,
            ``(B, T, 2)`` (start, end) for spans.
        hidden_states: ``(B, T, d_model)`` the encoder's final vectors.
    """

    loss: torch.Tensor | None
    logits: torch.Tensor
    hidden_states: torch.Tensor

    @property
    def start_logits(self) -> torch.Tensor:
        """``(B, T)`` scores of each token as the answer's first (span heads)."""
        return self.logits[..., 0]

    @property
    def end_logits(self) -> torch.Tensor:
        """``(B, T)`` scores of each token as the answer's last (span heads)."""
        return self.logits[..., 1]


class TaskHead(nn.Module):
    """Dropout and a linear layer, after BERT's tanh pooler of ``[CLS]`` for sequences.

    Args:
        config: the encoder's sizes (``d_model``, ``dropout``).
        kind: one of :data:`HEAD_KINDS`.
        num_labels: scores per prediction (2 for spans).
    """

    def __init__(self, config: ModelConfig, kind: str, num_labels: int) -> None:
        super().__init__()
        self.kind = kind
        self.pooler = nn.Linear(config.d_model, config.d_model) if kind == "sequence" else None
        self.dropout = Dropout(config.dropout)
        self.classifier = nn.Linear(config.d_model, num_labels)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """``(B, T, d_model)`` -> ``(B, T, num_labels)``, or ``(B, num_labels)`` for sequences."""
        if self.pooler is not None:
            hidden = torch.tanh(self.pooler(hidden[:, 0]))  # (B, D): the pooled [CLS]
        return self.classifier(self.dropout(hidden))


class TaskModel(nn.Module):
    """An ``MLMModel``'s encoder (its MLM head removed) with one task head.

    Args:
        config: the encoder's shape.
        kind: ``"token"``, ``"sequence"`` or ``"span"``.
        num_labels: labels per token or per sequence (ignored for spans: 2 scores per token).
        generator: random source of the initial weights (encoder, then head).
    """

    def __init__(
        self, config: ModelConfig, kind: str, num_labels: int = 2, *, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        if kind not in HEAD_KINDS:
            raise ValueError(f"unknown head kind {kind!r}; choose from {HEAD_KINDS}")
        if kind == "span":
            num_labels = 2
        if isinstance(num_labels, bool) or not isinstance(num_labels, int) or num_labels < 2:
            raise ValueError(f"num_labels must be a whole number >= 2, got {num_labels!r}")
        self.config, self.kind, self.num_labels = config, kind, num_labels
        self.encoder = MLMModel(config, generator=generator)
        self.encoder.head = None  # the MLM head has no part in a task (its decoder was the embeddings)
        self.head = TaskHead(config, kind, num_labels)
        with torch.no_grad():
            for layer in (self.head.pooler, self.head.classifier):
                if layer is not None:
                    nn.init.normal_(layer.weight, std=config.init_std, generator=generator)
                    nn.init.zeros_(layer.bias)

    @classmethod
    def from_pretrained(
        cls,
        pretrained: MLMModel | str | os.PathLike[str],
        kind: str,
        num_labels: int = 2,
        *,
        generator: torch.Generator | None = None,
    ) -> TaskModel:
        """A task model whose encoder is a copy of a trained ``MLMModel``'s and whose head is new.

        Args:
            pretrained: the model, or a directory written by ``save_model`` (a training run).
            kind, num_labels: as in the constructor.
            generator: random source of the head's weights.

        Returns:
            The task model in training mode; ``pretrained`` is not changed.
        """
        if not isinstance(pretrained, MLMModel):
            from mlm_book.model.checkpoint import load_model

            pretrained = load_model(pretrained).model
        model = cls(pretrained.config, kind, num_labels, generator=generator)
        weights = {k: v for k, v in pretrained.state_dict().items() if not k.startswith("head.")}
        model.encoder.load_state_dict(weights)
        return model.to(next(pretrained.parameters()).device).train()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        *,
        start_positions: torch.Tensor | None = None,
        end_positions: torch.Tensor | None = None,
    ) -> TaskOutput:
        """Score the batch; with targets, also the head's loss.

        Args:
            input_ids: ``(B, T)`` token ids.
            attention_mask: ``(B, T)`` 1 at real tokens, 0 at padding, or ``None``.
            labels: ``(B, T)`` label per token (-100: not scored) or ``(B,)`` label per sequence.
            start_positions, end_positions: ``(B,)`` the answer's first and last token (spans).

        Returns:
            ``TaskOutput`` with the loss (or ``None``) and the logits.
        """
        hidden = self.encoder.encode(input_ids, attention_mask).hidden_states  # (B, T, D); checks the shapes
        logits = self.head(hidden)
        loss = None
        if self.kind == "token" and labels is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX)
        elif self.kind == "sequence" and labels is not None:
            loss = F.cross_entropy(logits, labels)
        elif self.kind == "span" and start_positions is not None and end_positions is not None:
            loss = (
                F.cross_entropy(logits[..., 0], start_positions) + F.cross_entropy(logits[..., 1], end_positions)
            ) / 2
        return TaskOutput(loss=loss, logits=logits, hidden_states=hidden)
