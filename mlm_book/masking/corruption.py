"""Masking: turn token ids into a corrupted input and the labels the model must recover.

A fraction ``mask_prob`` of the non-special positions is *selected* (see
``masking.strategies`` for per-token, whole-word and span selection). Each selected
position then gets one categorical draw over three outcomes with probabilities
``replace_probs = (p_mask, p_random, p_keep)``, BERT's 80/10/10 rule:

$$\\tilde x_i = \\begin{cases} \\texttt{[MASK]} & \\text{with probability } p_\\text{mask} \\\\
u \\sim \\mathcal{U}(\\text{non-special ids}) & \\text{with probability } p_\\text{random} \\\\
x_i & \\text{with probability } p_\\text{keep} \\end{cases}$$

One draw per position makes the three groups disjoint with exactly these rates in expectation
(two independent draws would not). Labels hold the original id at selected positions and
``IGNORE_INDEX`` (-100) elsewhere, so the loss only counts the selected positions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from mlm_book.masking.config import MaskingConfig, check_probabilities
from mlm_book.masking.strategies import select_spans, select_tokens, select_whole_words
from mlm_book.utils.config import check_whole
from mlm_book.utils.special_tokens import IGNORE_INDEX


@dataclass(frozen=True)
class MaskedBatch:
    """The result of masking a batch of token ids.

    Attributes:
        input_ids: ``(B, T)`` the corrupted ids the model reads.
        labels: ``(B, T)`` the original id at selected positions, -100 elsewhere.
        replaced_with_mask: ``(B, T)`` bool, selected and replaced by ``[MASK]``.
        replaced_with_random: ``(B, T)`` bool, selected and replaced by a random token.
        kept_unchanged: ``(B, T)`` bool, selected but left as it was.
    """

    input_ids: Tensor
    labels: Tensor
    replaced_with_mask: Tensor
    replaced_with_random: Tensor
    kept_unchanged: Tensor

    @property
    def selected(self) -> Tensor:
        """``(B, T)`` bool, the positions the model must predict (where labels != -100)."""
        return self.replaced_with_mask | self.replaced_with_random | self.kept_unchanged


def check_vocabulary(vocab_size: int, mask_token_id: int, special_ids: Iterable[int]) -> Tensor:
    """Validate the vocabulary arguments and return the ids a random replacement may take.

    Args:
        vocab_size: number of token ids, ``0 .. vocab_size - 1``.
        mask_token_id: id of ``[MASK]``; must lie in the vocabulary.
        special_ids: ids never selected nor drawn as random replacements.

    Returns:
        ``(V',)`` long, the sorted non-special ids.
    """
    check_whole(vocab_size, "vocab_size", 1)
    if not 0 <= mask_token_id < vocab_size:
        raise ValueError(
            f"mask_token_id {mask_token_id} is outside the vocabulary 0..{vocab_size - 1}; "
            "pass the [MASK] id of the tokenizer and its vocab_size"
        )
    allowed = torch.ones(vocab_size, dtype=torch.bool)
    for special in special_ids:
        if not 0 <= int(special) < vocab_size:
            raise ValueError(f"special id {special} is outside the vocabulary 0..{vocab_size - 1}")
        allowed[int(special)] = False
    if not bool(allowed.any()):
        raise ValueError("every id of the vocabulary is special; random replacement has nothing to draw")
    return allowed.nonzero().squeeze(1)


def check_token_ids(input_ids: Tensor, vocab_size: int) -> None:
    """Raise ValueError unless ``input_ids`` is an integer tensor with ids in the vocabulary."""
    if input_ids.dtype not in (torch.int16, torch.int32, torch.int64):
        raise ValueError(f"input_ids must be an integer tensor of token ids, got dtype {input_ids.dtype}; use .long()")
    if input_ids.numel() and not 0 <= int(input_ids.min()) <= int(input_ids.max()) < vocab_size:
        bad = int(input_ids.max()) if int(input_ids.max()) >= vocab_size else int(input_ids.min())
        raise ValueError(
            f"token id {bad} is outside the vocabulary 0..{vocab_size - 1}; "
            "pass the vocab_size of the tokenizer that encoded the ids"
        )


def apply_replacements(
    input_ids: Tensor,
    selected: Tensor,
    *,
    mask_token_id: int,
    replacement_ids: Tensor,
    replace_probs: Sequence[float] = (0.8, 0.1, 0.1),
    generator: torch.Generator | None = None,
) -> MaskedBatch:
    """Corrupt the selected positions with one categorical draw each (mask / random / keep).

    Args:
        input_ids: ``(B, T)`` integer token ids; not modified.
        selected: ``(B, T)`` bool, the positions to predict.
        mask_token_id: id of ``[MASK]``.
        replacement_ids: ``(V',)`` long, the ids a random replacement draws from uniformly.
        replace_probs: probabilities (mask, random, keep).
        generator: source of randomness (torch's global one if None).

    Returns:
        The corrupted ids, the labels and the three disjoint groups of selected positions.
    """
    p_mask, p_random, _ = replace_probs
    draws = torch.rand(input_ids.shape, generator=generator)  # (B, T), one draw per position
    with_mask = selected & (draws < p_mask)
    with_random = selected & (draws >= p_mask) & (draws < p_mask + p_random)
    kept = selected & ~with_mask & ~with_random
    picks = torch.randint(len(replacement_ids), (int(with_random.sum()),), generator=generator)
    corrupted = input_ids.clone()  # (B, T)
    corrupted[with_mask] = mask_token_id
    corrupted[with_random] = replacement_ids[picks].to(input_ids.dtype)
    labels = torch.where(selected, input_ids, torch.full_like(input_ids, IGNORE_INDEX))  # (B, T)
    return MaskedBatch(corrupted, labels, with_mask, with_random, kept)


def select_positions(
    maskable: Tensor,
    config: MaskingConfig,
    *,
    word_ids: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Select positions with the strategy of ``config``.

    Args:
        maskable: ``(B, T)`` bool, True where a token may be selected.
        config: the masking configuration (budget, strategy, span parameters).
        word_ids: ``(B, T)`` word index per token (-1 at special tokens); required for
            "word", optional for "span" (spans of tokens without it).
        generator: source of randomness (torch's global one if None).

    Returns:
        ``(B, T)`` bool, True at selected positions.
    """
    if config.strategy == "token":
        return select_tokens(maskable, config.mask_prob, generator)
    if config.strategy == "word":
        if word_ids is None:
            raise ValueError("strategy 'word' needs word_ids; encode them with the tokenizer or use 'token'")
        return select_whole_words(maskable, word_ids, config.mask_prob, generator)
    return select_spans(
        maskable,
        config.mask_prob,
        span_p=config.span_p,
        max_span=config.max_span,
        word_ids=word_ids,
        generator=generator,
    )


def mask_tokens(
    input_ids: Tensor,
    *,
    special_ids: Iterable[int],
    mask_token_id: int,
    vocab_size: int,
    mask_prob: float = 0.15,
    replace_probs: Sequence[float] = (0.8, 0.1, 0.1),
    generator: torch.Generator | None = None,
) -> MaskedBatch:
    """BERT's masking: select non-special tokens with probability ``mask_prob``, then 80/10/10.

    Args:
        input_ids: ``(B, T)`` integer token ids (any shape works); not modified.
        special_ids: ids never selected nor drawn as replacements (padding included).
        mask_token_id: id of ``[MASK]``.
        vocab_size: size of the vocabulary; random replacements are drawn from it.
        mask_prob: probability that a non-special token is selected, in (0, 1).
        replace_probs: probabilities (mask, random, keep) for a selected token.
        generator: source of randomness (torch's global one if None); the same generator
            state gives the same result.

    Returns:
        The corrupted ids, the labels and the groups of selected positions.

    Raises:
        ValueError: for probabilities out of range, ids outside the vocabulary or a non-integer
            ``input_ids``.
    """
    check_probabilities(mask_prob, replace_probs)
    special = sorted({int(i) for i in special_ids})
    replacement_ids = check_vocabulary(vocab_size, mask_token_id, special)
    check_token_ids(input_ids, vocab_size)
    maskable = ~torch.isin(input_ids, torch.tensor(special, dtype=input_ids.dtype))
    selected = select_tokens(maskable, mask_prob, generator)
    return apply_replacements(
        input_ids,
        selected,
        mask_token_id=mask_token_id,
        replacement_ids=replacement_ids,
        replace_probs=replace_probs,
        generator=generator,
    )


def masked_positions_of(labels: Tensor) -> Tensor:
    """The flat indices of the labelled positions: ``(labels.flatten() != -100).nonzero()``.

    Their number depends on the values, so computing them on a GPU waits for the device; the
    batch code computes them on the CPU, where the batch is built, and hands them to the model.

    Args:
        labels: ``(B, T)`` labels, ``IGNORE_INDEX`` where nothing is predicted.

    Returns:
        ``(N,)`` int64 indices into ``labels.flatten()``, in increasing (row-major) order.
    """
    return (labels.flatten() != IGNORE_INDEX).nonzero().squeeze(1)
