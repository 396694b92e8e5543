"""Measuring a masked language model on masked text: loss, accuracy and perplexity.

On fixed validation batches (masked once, see ``data.batches.eval_batches``) the loss is the
mean cross-entropy over *all* masked positions of all batches, not a mean of batch means, and
the perplexity is its exponential, $\\mathrm{PPL} = \\exp(\\mathcal{L})$: the number of equally
likely tokens the model hesitates between, on average. Accuracy is the fraction of masked
positions whose most likely token is the original one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from mlm_book.data.batches import model_inputs
from mlm_book.utils.precision import Numerics, autocast


@dataclass(frozen=True)
class MaskedLMScores:
    """Scores of a model on masked batches.

    Attributes:
        loss: mean cross-entropy over every masked position.
        accuracy: fraction of masked positions predicted right (argmax).
        perplexity: ``exp(loss)``.
        n_predictions: the number of masked positions.
    """

    loss: float
    accuracy: float
    perplexity: float
    n_predictions: int


@torch.no_grad()
def evaluate_masked(
    model: nn.Module, batches: Iterable[Mapping[str, torch.Tensor]], numerics: Numerics | None = None
) -> MaskedLMScores:
    """Score a model on masked batches (the model is put back in its training mode afterwards).

    Args:
        model: an ``MLMModel`` (or a model with the same ``forward``).
        batches: dicts with ``input_ids``, ``attention_mask`` and ``labels``, ``(B, T)`` each.
        numerics: device and autocast dtype; ``None`` means float32 on the model's device.

    Returns:
        The loss, accuracy and perplexity over every masked position.

    Raises:
        ValueError: if the batches hold no masked position.
    """
    if numerics is None:
        numerics = Numerics(next(model.parameters()).device)
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), dtype=torch.float64, device=numerics.device)
    correct = torch.zeros((), dtype=torch.long, device=numerics.device)
    count = 0
    for batch in batches:
        inputs = model_inputs(batch, numerics.device)  # positions and padding decided on the host
        n = inputs["masked_positions"].numel()
        if n == 0:
            continue
        with autocast(numerics):
            out = model(**inputs)
        targets = inputs["labels"].flatten().index_select(0, inputs["masked_positions"])  # (N,), the logits' rows
        total_loss += out.loss.double() * n
        correct += (out.logits.argmax(dim=-1) == targets).sum()
        count += n
    model.train(was_training)
    if count == 0:
        raise ValueError("the evaluation batches hold no masked position; build them with a masking collator")
    loss = float(total_loss) / count
    return MaskedLMScores(
        loss=loss, accuracy=int(correct) / count, perplexity=math.exp(min(loss, 700.0)), n_predictions=count
    )
