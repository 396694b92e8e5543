"""Which positions to mask: per-token, whole-word and span selection.

Masked language modelling first *selects* the positions the model must predict, then
corrupts them (see ``masking.corruption``). Every strategy here selects each maskable token with the
same marginal probability ``mask_prob``, so all of them spend the same expected budget

$$\\mathbb{E}[\\#\\text{selected}] = p \\cdot \\#\\text{maskable tokens}.$$

- **token**: an independent Bernoulli(p) draw per token (BERT).
- **word**: an independent Bernoulli(p) draw per *word*, shared by all its pieces. A token is
  selected exactly when its word is, so its marginal is still p: no correction for word length
  is needed (that would be needed only if one drew a fixed *number* of words).
- **span**: contiguous runs of words (or tokens), SpanBERT-style. Span starts are Bernoulli(r)
  draws, one per unit and per ``max_span - 1`` virtual units before the sequence, each with a
  length drawn from a geometric distribution truncated at ``max_span``. A unit is covered
  unless no start within reach covers it, so

  $$P(\\text{covered}) = 1 - \\prod_{d=0}^{L-1} \\big(1 - r\\,P(\\ell > d)\\big),$$

  the same for every unit, and ``r`` is solved from ``P(covered) = p``.

A *unit* is a word (consecutive maskable tokens sharing a word id) when word ids are given,
else a single maskable token.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class WordUnits:
    """Maskable tokens grouped into units (words, or single tokens).

    Attributes:
        index: ``(B, T)`` long, the unit each token belongs to, counted from 0 in each row;
            -1 at positions that are not maskable.
        count: ``(B,)`` long, the number of units in each row.
    """

    index: Tensor
    count: Tensor


def word_units(maskable: Tensor, word_ids: Tensor | None = None) -> WordUnits:
    """Group maskable tokens into units: runs of equal word id, or single tokens.

    A new unit starts at a maskable token whose word id differs from the previous token's, or
    whose previous token is not maskable; so word ids may restart (sentence pairs) or skip.

    Args:
        maskable: ``(B, T)`` bool, True where a token may be selected.
        word_ids: ``(B, T)`` integer word index of each token (any value at non-maskable
            positions, e.g. -1), or None to make every maskable token its own unit.

    Returns:
        The units of every row.

    Raises:
        ValueError: if shapes differ or a maskable token has a negative word id.
    """
    if word_ids is None:
        starts = maskable
    else:
        if word_ids.shape != maskable.shape:
            raise ValueError(
                f"word_ids has shape {tuple(word_ids.shape)} but the token ids have shape "
                f"{tuple(maskable.shape)}; give one word id per token"
            )
        if bool((maskable & (word_ids < 0)).any()):
            raise ValueError(
                "a maskable token has a negative word id; word ids must be >= 0 for every "
                "non-special token (use -1 only for special tokens and padding)"
            )
        previous_word = torch.nn.functional.pad(word_ids, (1, 0), value=-1)[:, :-1]  # (B, T)
        previous_maskable = torch.nn.functional.pad(maskable, (1, 0), value=False)[:, :-1]
        starts = maskable & ((word_ids != previous_word) | ~previous_maskable)
    index = torch.cumsum(starts.long(), dim=1) - 1  # (B, T)
    index = index.masked_fill(~maskable, -1)
    return WordUnits(index=index, count=starts.long().sum(dim=1))


def select_tokens(maskable: Tensor, mask_prob: float, generator: torch.Generator | None = None) -> Tensor:
    """Select each maskable token independently with probability ``mask_prob``.

    Args:
        maskable: ``(B, T)`` bool (any shape works), True where a token may be selected.
        mask_prob: selection probability p.
        generator: source of randomness (torch's global one if None).

    Returns:
        ``(B, T)`` bool, True at selected positions; never True where ``maskable`` is False.
    """
    draws = torch.rand(maskable.shape, generator=generator)  # (B, T)
    return maskable & (draws < mask_prob)


def select_whole_words(
    maskable: Tensor, word_ids: Tensor, mask_prob: float, generator: torch.Generator | None = None
) -> Tensor:
    """Select whole words: one Bernoulli(``mask_prob``) draw per word, shared by its pieces.

    Args:
        maskable: ``(B, T)`` bool, True where a token may be selected.
        word_ids: ``(B, T)`` integer word index of each token (-1 at special tokens).
        mask_prob: probability p that a word is selected; also each token's marginal.
        generator: source of randomness (torch's global one if None).

    Returns:
        ``(B, T)`` bool, True at every piece of every selected word.
    """
    units = word_units(maskable, word_ids)
    n_units = max(int(units.count.max()), 1) if units.count.numel() else 1
    chosen = torch.rand((maskable.shape[0], n_units), generator=generator) < mask_prob  # (B, U)
    return maskable & chosen.gather(1, units.index.clamp(min=0))


def span_length_probs(span_p: float, max_span: int) -> Tensor:
    """The SpanBERT span-length distribution: Geometric(``span_p``) truncated at ``max_span``.

    Args:
        span_p: success probability of the geometric distribution, in (0, 1].
        max_span: longest span; longer draws are excluded and the rest renormalised.

    Returns:
        ``(max_span,)`` float64, entry ``k`` the probability of length ``k + 1``.
    """
    lengths = torch.arange(max_span, dtype=torch.float64)
    probs = span_p * (1.0 - span_p) ** lengths
    return probs / probs.sum()


def span_start_prob(mask_prob: float, span_p: float, max_span: int) -> float:
    """The span-start rate r for which every unit is covered with probability ``mask_prob``.

    Solves $1 - \\prod_d (1 - r\\,P(\\ell > d)) = p$ by bisection (coverage grows with r).

    Args:
        mask_prob: target coverage p, in (0, 1).
        span_p: geometric parameter of the span lengths.
        max_span: longest span.

    Returns:
        The start probability r in (0, 1].
    """
    survival = 1.0 - torch.cumsum(span_length_probs(span_p, max_span), 0)  # P(len > d + 1)
    survival = [1.0] + survival[:-1].tolist()  # P(len > d) for d = 0 .. max_span - 1

    def coverage(rate: float) -> float:
        uncovered = 1.0
        for s in survival:
            uncovered *= 1.0 - rate * s
        return 1.0 - uncovered

    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if coverage(middle) < mask_prob else (low, middle)
    return (low + high) / 2


def select_spans(
    maskable: Tensor,
    mask_prob: float,
    *,
    span_p: float = 0.2,
    max_span: int = 10,
    word_ids: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Select contiguous spans of units (words if ``word_ids`` is given, else tokens).

    Args:
        maskable: ``(B, T)`` bool, True where a token may be selected.
        mask_prob: probability p that each unit (hence each token) is covered by a span.
        span_p: geometric parameter of span lengths (SpanBERT: 0.2, mean length 3.8).
        max_span: longest span in units (SpanBERT: 10).
        word_ids: ``(B, T)`` word index of each token, or None for token spans.
        generator: source of randomness (torch's global one if None).

    Returns:
        ``(B, T)`` bool, True at every token of every covered unit.
    """
    units = word_units(maskable, word_ids)
    batch, n_units = maskable.shape[0], max(int(units.count.max()), 1) if units.count.numel() else 1
    width = n_units + max_span - 1  # virtual starts before unit 0 keep coverage uniform
    rate = span_start_prob(float(mask_prob), float(span_p), int(max_span))
    starts = torch.rand((batch, width), generator=generator) < rate  # (B, U + L - 1)
    cdf = torch.cumsum(span_length_probs(span_p, max_span), 0).float()
    draws = torch.rand((batch, width), generator=generator)  # (B, U + L - 1)
    lengths = torch.searchsorted(cdf, draws, right=True).clamp(max=max_span - 1) + 1
    covered = torch.zeros((batch, n_units), dtype=torch.bool)  # (B, U)
    for reach in range(max_span):  # a start at virtual unit v covers units v .. v + len - 1
        offset = max_span - 1 - reach
        covered |= (starts & (lengths > reach))[:, offset : offset + n_units]
    return maskable & covered.gather(1, units.index.clamp(min=0))
