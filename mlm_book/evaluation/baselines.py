"""Context-free baselines: what a model that ignores the sentence scores.

A masked language model earns its keep only where it beats the best guess that ignores
context: the *unigram* distribution, each token's share of the training text. Its masked-LM
loss is the cross-entropy between the masked tokens and those shares, and its probe accuracy
is whatever word frequency alone gets right (the more frequent of *is* and *are*, say).

``unigram_log_probs`` counts the distribution; ``context_free_model`` wraps it in an
``MLMModel`` that predicts it at every position whatever the input, so the very same
evaluation code (``evaluate_masked``, ``score_probes``, ``fill_mask``) scores the baseline and
a trained model.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mlm_book.data.sequences import Sequences
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.utils.special_tokens import SPECIAL_IDS


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
