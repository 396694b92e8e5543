"""Context-free baselines: what a model that ignores the sentence scores.

A masked language model earns its keep only where it beats the best guess that ignores
context: the *unigram* distribution, each token's share of the training text. Its masked-LM
loss is the cross-entropy between the masked tokens and those shares, and its probe accuracy
is whatever word frequency alone gets right (the more frequent of *is* and *are*, say).

``unigram_log_probs`` counts the distribution; ``context_free_model`` wraps it in an
``MLMModel`` that predicts it at every position whatever the input, so the very same
evaluation code (``evaluate_masked``, ``score_probes``, ``fill_mask``) scores the baseline and
a trained model. One step up, ``bigram_log_probs`` conditions on the token just before the
masked one, and ``bigram_cross_entropy`` scores it on masked batches: the least a model that
reads its context must beat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import Tensor

from mlm_book.data.sequences import Sequences
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.utils.special_tokens import IGNORE_INDEX, SPECIAL_IDS


def unigram_log_probs(sequences: Sequences, vocab_size: int, *, smoothing: float = 1.0) -> Tensor:
    """Each token's log-probability in ``sequences``, with add-``smoothing`` counts.

    Args:
        sequences: the training sequences (``data.sequences.prepare_split``).
        vocab_size: the tokenizer's vocabulary size; every id must be below it.
        smoothing: pseudo-count added to every token that may be masked (> 0, so that a token
            never seen in training does not get probability 0 and an infinite loss).

    Returns:
        ``(vocab_size,)`` float32 log-probabilities; ``-inf`` for the special tokens, which the
        collator never masks by default.

    Raises:
        ValueError: if ``smoothing`` is not positive or an id is outside the vocabulary.
    """
    counts = _label_counts(sequences, vocab_size, smoothing)  # (V,)
    counts[list(SPECIAL_IDS)] = 0.0  # the collator never masks them: never a label
    return (counts / counts.sum()).log().float()


def log_unigram_bias(sequences: Sequences, vocab_size: int, *, smoothing: float = 1.0) -> Tensor:
    r"""A starting value for the decoder bias: the log-unigram distribution, finite everywhere.

    With the decoder's weight near zero at initialisation, the logits are about the bias; a bias
    of 0 makes step 0 predict the uniform distribution (loss $\ln V$), this one the unigram
    distribution (the context-free loss), so training starts where the plateau is, not above it.
    Special tokens and ids no text uses keep only the pseudo-count ``smoothing``.

    Args:
        sequences: the training sequences.
        vocab_size: the model's vocabulary size (rows of the decoder).
        smoothing: pseudo-count of every id (> 0).

    Returns:
        ``(vocab_size,)`` float32 log-probabilities, all finite.
    """
    counts = _label_counts(sequences, vocab_size, smoothing)
    counts[list(SPECIAL_IDS)] = smoothing  # never a label: only the pseudo-count
    return (counts / counts.sum()).log().float()


def bigram_log_probs(
    sequences: Sequences, vocab_size: int, *, smoothing: float = 1.0, prior_weight: float = 10.0
) -> Tensor:
    r"""Each token's log-probability given the token just before it, smoothed towards the unigram.

    With $c(a, b)$ the number of times token $b$ follows token $a$ within a sequence, $c(a)$ the
    number of such pairs that start with $a$ (and end in a token that may be masked), $p$ the
    unigram distribution (``unigram_log_probs``) and $k$ = ``prior_weight``:

    $$P(b \mid a) = \frac{c(a, b) + k\,p(b)}{c(a) + k}.$$

    A frequent left neighbour keeps its own counts; a rare one stays near the unigram, and one
    that training text never holds (``[MASK]``) predicts exactly the unigram.

    Args:
        sequences: the training sequences (``data.sequences.prepare_split``); pairs are counted
            within each sequence, never across two.
        vocab_size: the tokenizer's vocabulary size; every id must be below it. The result holds
            ``vocab_size ** 2`` floats (52 MB for 3,609 tokens): meant for the book's vocabularies.
        smoothing: pseudo-count of the unigram (> 0), as in ``unigram_log_probs``.
        prior_weight: $k$, how many pairs' worth of weight the unigram gets in each row (> 0).

    Returns:
        ``(vocab_size, vocab_size)`` float32: row ``a`` holds $\log P(\cdot \mid a)$, ``-inf`` at
        the special tokens, which are never labels.

    Raises:
        ValueError: if ``smoothing`` or ``prior_weight`` is not positive or an id is outside the
            vocabulary.
    """
    if not prior_weight > 0:
        raise ValueError(f"prior_weight must be positive, got {prior_weight}")
    unigram = _label_counts(sequences, vocab_size, smoothing)  # (V,), checks the arguments
    unigram[list(SPECIAL_IDS)] = 0.0
    unigram /= unigram.sum()
    ids = sequences.input_ids
    follows = torch.ones(max(len(ids) - 1, 0), dtype=torch.bool)  # pair i is (ids[i], ids[i + 1])
    starts = sequences.offsets[1:-1]
    follows[starts[(starts > 0) & (starts < len(ids))] - 1] = False  # the first token of a sequence
    pairs = ids[:-1][follows] * vocab_size + ids[1:][follows]
    counts = torch.bincount(pairs, minlength=vocab_size * vocab_size).view(vocab_size, vocab_size).double()
    counts[:, list(SPECIAL_IDS)] = 0.0  # (V, V); a special token is never a label
    probs = (counts + prior_weight * unigram) / (counts.sum(dim=1, keepdim=True) + prior_weight)
    return probs.log().float()


def bigram_cross_entropy(log_probs: Tensor, batches: Iterable[Mapping[str, Tensor]]) -> float:
    r"""The bigram model's mean cross-entropy, in nats, over every masked position of ``batches``.

    The context of a masked token is the token before it *in the input*, as a model sees it: a
    ``[MASK]`` (so the unigram) or a random token where that neighbour was corrupted too.

    Args:
        log_probs: ``(V, V)`` from ``bigram_log_probs``.
        batches: dicts with ``input_ids`` and ``labels``, ``(B, T)`` each, from a masking collator
            (e.g. ``data.batches.eval_batches``).

    Returns:
        The mean of $-\log P(\text{label} \mid \text{input token before it})$ over all masked positions.

    Raises:
        ValueError: if there is no masked position, position 0 is masked (no token before it),
            or an input id is outside ``log_probs``.
    """
    total, count = 0.0, 0
    for batch in batches:
        ids, labels = batch["input_ids"], batch["labels"]  # (B, T) each
        masked = labels != IGNORE_INDEX
        if masked[:, 0].any():
            raise ValueError("position 0 is masked, and a bigram needs the token before it; mask after [CLS]")
        before = ids[:, :-1][masked[:, 1:]]  # (N,) the input token left of each masked position
        if before.numel() and int(before.max()) >= len(log_probs):
            raise ValueError(f"the batches hold id {int(before.max())} but log_probs covers {len(log_probs)} ids")
        total -= log_probs[before, labels[:, 1:][masked[:, 1:]]].double().sum().item()
        count += before.numel()
    if count == 0:
        raise ValueError("the batches hold no masked position; build them with a masking collator")
    return total / count


def _label_counts(sequences: Sequences, vocab_size: int, smoothing: float) -> Tensor:
    """``(V,)`` float64 token counts of ``sequences`` plus ``smoothing``, after checking the arguments."""
    if not smoothing > 0:
        raise ValueError(f"smoothing must be positive, got {smoothing}")
    if sequences.n_tokens and int(sequences.input_ids.max()) >= vocab_size:
        raise ValueError(
            f"the sequences hold id {int(sequences.input_ids.max())} but vocab_size is {vocab_size}; "
            "pass the vocabulary size of the tokenizer that encoded them"
        )
    return torch.bincount(sequences.input_ids, minlength=vocab_size).double() + smoothing


def context_free_model(config: ModelConfig, log_probs: Tensor) -> MLMModel:
    """An ``MLMModel`` whose logits are ``log_probs`` at every position, whatever the input.

    The decoder weight (tied to the token embeddings) is zero, so the logits are the decoder's
    bias alone: ``log_probs``, then ``-inf`` for model ids beyond it (ids no tokenizer produces).

    Args:
        config: the shape of the model it stands in for.
        log_probs: ``(V_tok,)`` log-probabilities, ``V_tok <= config.vocab_size``.

    Returns:
        The baseline model, in eval mode.

    Raises:
        ValueError: if ``log_probs`` is not 1-D or longer than the model's vocabulary.
    """
    if log_probs.ndim != 1 or len(log_probs) > config.vocab_size:
        raise ValueError(
            f"log_probs must be 1-D with at most vocab_size={config.vocab_size} entries, "
            f"got shape {tuple(log_probs.shape)}"
        )
    model = MLMModel(config, generator=torch.Generator().manual_seed(0))
    bias = torch.full((config.vocab_size,), float("-inf"))  # (V,)
    bias[: len(log_probs)] = log_probs
    with torch.no_grad():
        model.head.decoder.weight.zero_()  # tied: the embeddings too, so no input can matter
        model.head.decoder.bias.copy_(bias)
    return model.eval()
