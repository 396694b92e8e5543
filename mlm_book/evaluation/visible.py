r"""Scoring a model where it can see the token: the positions masking left alone.

Masked-LM pre-training asks for predictions at the selected positions only, while fine-tuning
needs a good representation of every *visible* token. Under BERT's 80/10/10 rule a tenth of the
selected tokens stay as they are, so the model is also trained to predict tokens it can see;
with ``replace_probs=(1, 0, 0)`` it never is. ``evaluate_visible`` measures that gap: on masked
batches, the cross-entropy of each real, non-special token that was *not* selected, predicted from
the corrupted input that contains it,

$$\mathcal{L}_\text{visible} = -\frac{1}{|U|} \sum_{i \in U} \log p_\theta(x_i \mid \tilde x),
\qquad U = \{i \notin M : x_i \text{ real and not special}\},$$

with the accuracy of the most likely token beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from mlm_book.evaluation.metrics import MaskedLMScores
from mlm_book.utils.special_tokens import IGNORE_INDEX, SPECIAL_IDS


@torch.no_grad()
def evaluate_visible(
    model: nn.Module,
    batches: Iterable[Mapping[str, torch.Tensor]],
    *,
    special_ids: Iterable[int] = SPECIAL_IDS,
) -> MaskedLMScores:
    """Score a model at the unselected, visible tokens of masked batches (training mode restored after).

    Args:
        model: an ``MLMModel`` (or a model whose ``forward(input_ids, attention_mask)`` returns
            ``(B, T, V)`` logits).
        batches: dicts with ``input_ids``, ``attention_mask`` and ``labels``, ``(B, T)`` each;
            a position counts if its label is -100, it is a real token and its id is not special.
        special_ids: ids never scored (``[CLS]``, ``[SEP]``, ``[PAD]``...).

    Returns:
        The loss, accuracy and perplexity over every such position; ``n_predictions`` counts them.

    Raises:
        ValueError: if the batches hold no such position.
    """
    device = next(model.parameters()).device
    special = torch.tensor(sorted({int(i) for i in special_ids}), dtype=torch.long)
    was_training = model.training
    model.eval()
    total, correct, count = 0.0, 0, 0
    for batch in batches:
        ids, attention = batch["input_ids"], batch["attention_mask"].bool()  # (B, T) each
        visible = attention & (batch["labels"] == IGNORE_INDEX) & ~torch.isin(ids, special.to(ids.dtype))
        n = int(visible.sum())
        if n == 0:
            continue
        mask = None if bool(attention.all()) else attention.to(device)
        logits = model(ids.to(device), mask).logits[visible.to(device)]  # (N, V)
        targets = ids[visible].to(device)  # (N,): the token the model sees
        total += float(F.cross_entropy(logits.double(), targets, reduction="sum"))
        correct += int((logits.argmax(dim=-1) == targets).sum())
        count += n
    model.train(was_training)
    if count == 0:
        raise ValueError("the batches hold no unselected real token to score; pass masked batches with text")
    loss = total / count
    return MaskedLMScores(
        loss=loss, accuracy=correct / count, perplexity=math.exp(min(loss, 700.0)), n_predictions=count
    )
