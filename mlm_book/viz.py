"""Pictures of attention: matplotlib heatmaps, and an adapter to bertviz's interactive views.

An attention matrix has one row per query token and one column per key token; row ``i`` says
how token ``i`` spreads its attention (the row sums to 1). Heatmaps are static images, visible
in any rendering of the book; bertviz's ``head_view`` and ``model_view`` are interactive HTML
that needs JavaScript. Both read the layout ``MLMModel`` returns with ``output_attentions=True``:
a tuple with one ``(batch, heads, T, T)`` tensor per layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from IPython.display import HTML
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Attentions = Sequence[torch.Tensor]


def plot_attention(
    weights: torch.Tensor | np.ndarray, tokens: Sequence[str], ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """Draw one attention matrix as a heatmap, queries down the side and keys along the bottom.

    Args:
        weights: ``(T, T)`` attention weights of one head for one example.
        tokens: the ``T`` token strings.
        ax: where to draw; a new figure if ``None``.
        title: the axes title.

    Returns:
        The axes drawn on.
    """
    import matplotlib.pyplot as plt

    matrix = _as_array(weights)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] != len(tokens):
        raise ValueError(
            f"weights have shape {matrix.shape} but there are {len(tokens)} tokens; "
            "pass one head's (T, T) matrix and its T tokens"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(0.35 * len(tokens) + 2, 0.35 * len(tokens) + 1.5))
    ax.imshow(matrix, cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(tokens)), labels=list(tokens), rotation=90)
    ax.set_yticks(range(len(tokens)), labels=list(tokens))
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query (attending)")
    if title is not None:
        ax.set_title(title)
    return ax


def plot_attention_heads(
    weights: torch.Tensor | np.ndarray, tokens: Sequence[str], *, ncols: int = 4, title: str | None = None
) -> Figure:
    """Draw every head of one layer side by side, on one colour scale from 0 to 1.

    Args:
        weights: ``(heads, T, T)`` attention weights of one layer for one example, e.g.
            ``out.attentions[layer][0]``.
        tokens: the ``T`` token strings.
        ncols: heads per row of the grid.
        title: the figure title.

    Returns:
        The figure.
    """
    import matplotlib.pyplot as plt

    stack = _as_array(weights)
    if stack.ndim != 3:
        raise ValueError(f"weights have shape {stack.shape}; pass one layer's (heads, T, T) weights for one example")
    if ncols < 1:
        raise ValueError(f"ncols={ncols} must be at least 1")
    n_heads = stack.shape[0]
    ncols = min(ncols, n_heads)
    nrows = -(-n_heads // ncols)
    side = 0.3 * len(tokens) + 1.5
    fig, axes = plt.subplots(nrows, ncols, figsize=(side * ncols, side * nrows), squeeze=False)
    for head, ax in enumerate(axes.flat):
        if head < n_heads:
            plot_attention(stack[head], tokens, ax, title=f"head {head}")
        else:
            ax.set_visible(False)
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def head_view(attentions: Attentions, tokens: Sequence[str], *, example: int = 0) -> HTML:
    """bertviz's head view (lines from each token to those it attends to) of one example.

    Args:
        attentions: one ``(batch, heads, T, T)`` tensor per layer (``MLMOutput.attentions``).
        tokens: the example's tokens; if fewer than ``T`` (padding at the end), the
            attentions are cut to them.
        example: which example of the batch to show.

    Returns:
        An ``IPython.display.HTML`` object: it displays itself as a notebook cell's last
        value, and ``.data`` is the HTML text.
    """
    from bertviz import head_view as bertviz_head_view

    return bertviz_head_view(_for_bertviz(attentions, tokens, example), list(tokens), html_action="return")


def model_view(attentions: Attentions, tokens: Sequence[str], *, example: int = 0) -> HTML:
    """bertviz's model view (a thumbnail per layer and head) of one example.

    Args:
        attentions: one ``(batch, heads, T, T)`` tensor per layer (``MLMOutput.attentions``).
        tokens: the example's tokens (cut as in ``head_view``).
        example: which example of the batch to show.

    Returns:
        An ``IPython.display.HTML`` object (``.data`` is the HTML text).
    """
    from bertviz import model_view as bertviz_model_view

    return bertviz_model_view(_for_bertviz(attentions, tokens, example), list(tokens), html_action="return")


def _for_bertviz(attentions: Attentions, tokens: Sequence[str], example: int) -> tuple[torch.Tensor, ...]:
    """Pick one example and cut padding: one ``(1, heads, n, n)`` float CPU tensor per layer."""
    if not attentions or any(a.dim() != 4 for a in attentions):
        raise ValueError(
            "attentions must be a non-empty tuple of (batch, heads, T, T) tensors, one per layer; "
            "run the model with output_attentions=True"
        )
    batch, _, length, _ = attentions[0].shape
    if not 0 <= example < batch:
        raise ValueError(f"example={example} is not in the batch of {batch}; choose 0 to {batch - 1}")
    n = len(tokens)
    if not 1 <= n <= length:
        raise ValueError(f"there are {n} tokens but the attentions cover {length} positions; pass the example's tokens")
    return tuple(a[example : example + 1, :, :n, :n].detach().float().cpu() for a in attentions)


def _as_array(weights: torch.Tensor | np.ndarray) -> np.ndarray:
    """Turn a tensor (any device, with or without grad) or array into a float numpy array."""
    if isinstance(weights, torch.Tensor):
        return weights.detach().float().cpu().numpy()
    return np.asarray(weights, dtype=float)
