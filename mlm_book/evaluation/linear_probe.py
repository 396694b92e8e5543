r"""Linear probes: how much of a word's property can a straight line read off each layer?

The encoder is frozen. For every layer $\ell = 0 .. L$ (0 is the embeddings' output) each
word is represented by the vector of its first piece, $h^{(\ell)}_w$, standardised with the
training words' mean and standard deviation, and a multinomial logistic regression

$$p(y \mid h) = \mathrm{softmax}(W h + b), \qquad
\min_{W, b}\; -\frac1N \sum_w \log p(y_w \mid h_w) + \lambda \lVert W \rVert^2$$

is fitted by full-batch L-BFGS from zero weights (a convex problem: the same data give the same
probe, no seed needed). Its accuracy on held-out words, with a Wilson interval, says how
linearly the layer encodes the property; the majority class of the training words is the
baseline every probe must beat (Hewitt and Liang, 2019, argue for such controls).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mlm_book.data.tasks import task_inputs
from mlm_book.evaluation.tasks import proportion
from mlm_book.utils.special_tokens import IGNORE_INDEX


@dataclass(frozen=True)
class LayerProbe:
    """One layer's probe on held-out words.

    Attributes:
        layer: 0 for the embeddings' output, ``l`` for layer ``l``'s output.
        accuracy: fraction of held-out words whose label the probe gets right.
        interval: its 95% Wilson interval.
        n: held-out words.
    """

    layer: int
    accuracy: float
    interval: tuple[float, float]
    n: int


@dataclass(frozen=True)
class ProbeReport:
    """Every layer's probe and the majority-class baseline.

    Attributes:
        layers: one :class:`LayerProbe` per layer, 0 .. ``n_layers``.
        majority: accuracy of always answering the most frequent training label.
        majority_interval: its 95% Wilson interval.
    """

    layers: tuple[LayerProbe, ...]
    majority: float
    majority_interval: tuple[float, float]


@torch.no_grad()
def word_states(
    model: nn.Module, batches: Sequence[dict[str, torch.Tensor]]
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The vectors of every labelled token (a word's first piece) at every layer.

    Args:
        model: an ``MLMModel`` (its ``encode`` is used; the model is left in its mode).
        batches: collated tagging batches (``data.tasks``), labels -100 except at first pieces.

    Returns:
        ``n_layers + 1`` float tensors ``(N, d_model)``, and the ``(N,)`` labels.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    per_layer: list[list[torch.Tensor]] = []
    labels = []
    for batch in batches:
        inputs = task_inputs(batch, device)
        states = model.encode(inputs["input_ids"], inputs["attention_mask"], output_hidden_states=True).layer_states
        kept = batch["labels"] != IGNORE_INDEX  # (B, T)
        per_layer = per_layer or [[] for _ in states]
        for store, state in zip(per_layer, states):
            store.append(state.float().cpu()[kept])
        labels.append(batch["labels"][kept])
    model.train(was_training)
    return [torch.cat(store) for store in per_layer], torch.cat(labels)


def fit_logistic(
    features: torch.Tensor, labels: torch.Tensor, num_classes: int, *, l2: float = 1e-3, steps: int = 100
) -> nn.Linear:
    """Fit a multinomial logistic regression by full-batch L-BFGS from zero weights.

    Args:
        features: ``(N, D)`` inputs (standardise them first).
        labels: ``(N,)`` class ids in ``[0, num_classes)``.
        num_classes: number of classes.
        l2: weight of the squared norm of ``W`` (not of ``b``).
        steps: L-BFGS iterations at most.

    Returns:
        The fitted ``nn.Linear(D, num_classes)``.
    """
    if features.dim() != 2 or features.size(0) != labels.numel() or features.size(0) == 0:
        raise ValueError(f"need (N, D) features and N labels, N >= 1; got {tuple(features.shape)} and {labels.numel()}")
    probe = nn.Linear(features.size(1), num_classes)
    nn.init.zeros_(probe.weight)
    nn.init.zeros_(probe.bias)
    optimizer = torch.optim.LBFGS(probe.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(probe(features), labels) + l2 * probe.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return probe.requires_grad_(False)


def linear_probes(
    model: nn.Module,
    train_batches: Sequence[dict[str, torch.Tensor]],
    test_batches: Sequence[dict[str, torch.Tensor]],
    num_classes: int,
    *,
    l2: float = 1e-3,
) -> ProbeReport:
    """Probe every layer of a frozen encoder for a word-level label.

    Args:
        model: an ``MLMModel``.
        train_batches: tagging batches the probes are fitted on.
        test_batches: held-out tagging batches they are scored on.
        num_classes: number of label ids.
        l2: the probes' weight penalty.

    Returns:
        One probe per layer and the majority-class baseline, each with a Wilson interval.
    """
    train_states, train_labels = word_states(model, train_batches)
    test_states, test_labels = word_states(model, test_batches)
    n = test_labels.numel()
    if n == 0 or train_labels.numel() == 0:
        raise ValueError("the probe batches hold no labelled word; build them with data.tasks.encode_tagging")
    layers = []
    for layer, (train, test) in enumerate(zip(train_states, test_states)):
        mean, std = train.mean(dim=0), train.std(dim=0).clamp_min(1e-6)
        probe = fit_logistic((train - mean) / std, train_labels, num_classes, l2=l2)
        right = int((probe((test - mean) / std).argmax(dim=-1) == test_labels).sum())
        accuracy, interval = proportion(right, n)
        layers.append(LayerProbe(layer, accuracy, interval, n))
    majority_label = int(torch.bincount(train_labels, minlength=num_classes).argmax())
    majority, majority_interval = proportion(int((test_labels == majority_label).sum()), n)
    return ProbeReport(tuple(layers), majority, majority_interval)
