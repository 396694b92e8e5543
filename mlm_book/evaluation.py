"""Measuring a masked language model: masked loss, accuracy and perplexity, and probe accuracy.

On fixed validation batches (masked once, see ``data_pipeline.eval_batches``) the loss is the
mean cross-entropy over *all* masked positions of all batches, not a mean of batch means, and
the perplexity is its exponential, $\\mathrm{PPL} = \\exp(\\mathcal{L})$: the number of equally
likely tokens the model hesitates between, on average. Accuracy is the fraction of masked
positions whose most likely token is the original one.

Probes are single sentences with one ``[MASK]`` word whose right answers are known (e.g. an
agreement: "the dogs [MASK] barking" needs "are"). A probe counts as right when the model
scores one of its answers above every listed distractor (a word of several pieces is scored
with as many ``[MASK]`` tokens, by the sum of its pieces' log-probabilities).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch
from tokenizers import Tokenizer
from torch import nn

from mlm_book.model import MLMModel
from mlm_book.precision import Numerics, autocast
from mlm_book.special_tokens import IGNORE_INDEX, MASK_ID, MASK_TOKEN, PAD_ID


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
        labels = batch["labels"].to(numerics.device)
        n = int((batch["labels"] != IGNORE_INDEX).sum())
        if n == 0:
            continue
        with autocast(numerics):
            out = model(batch["input_ids"].to(numerics.device), batch["attention_mask"].to(numerics.device), labels)
        targets = labels[labels != IGNORE_INDEX]  # (N,), the order of the sparse logits
        total_loss += out.loss.double() * n
        correct += (out.logits.argmax(dim=-1) == targets).sum()
        count += n
    model.train(was_training)
    if count == 0:
        raise ValueError("the evaluation batches hold no masked position; build them with a masking collator")
    loss = float(total_loss) / count
    return MaskedLMScores(loss=loss, accuracy=int(correct) / count, perplexity=math.exp(min(loss, 700.0)), n_predictions=count)


class ProbeLike(Protocol):
    """A probe: a text with one literal ``[MASK]``, its category, right and wrong words."""

    text: str
    category: str
    answers: frozenset[str]
    distractors: frozenset[str]


@dataclass(frozen=True)
class ProbeResult:
    """How the model did on one probe.

    Attributes:
        text: the probe's text.
        category: its category.
        correct: True if an answer scored above every distractor.
        best: the highest-scoring candidate word.
    """

    text: str
    category: str
    correct: bool
    best: str


def _variants(
    probe: ProbeLike, tokenizer: Tokenizer, pieces: dict[str, list[int]]
) -> dict[int, list[tuple[str, list[int]]]]:
    """Group a probe's candidate words by their number of word pieces: ``{k: [(word, ids)]}``."""
    if probe.text.count(MASK_TOKEN) != 1:
        raise ValueError(f"a probe needs exactly one {MASK_TOKEN}, got {probe.text!r}")
    groups: dict[int, list[tuple[str, list[int]]]] = {}
    for word in sorted(probe.answers | probe.distractors):
        if word not in pieces:
            pieces[word] = tokenizer.encode(word, add_special_tokens=False).ids
        groups.setdefault(len(pieces[word]), []).append((word, pieces[word]))
    return groups


@torch.no_grad()
def _mask_log_probs(model: MLMModel, rows: list[list[int]], device: torch.device) -> list[torch.Tensor]:
    """Log-probabilities at the ``[MASK]`` positions of each row: one ``(k, V)`` tensor per row."""
    lengths = torch.tensor([len(r) for r in rows])
    ids = torch.full((len(rows), int(lengths.max())), PAD_ID, dtype=torch.long)  # (B, T)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
    attention = (torch.arange(ids.shape[1])[None, :] < lengths[:, None]).long()  # (B, T)
    hidden = model.encode(ids.to(device), attention.to(device)).hidden_states  # (B, T, D)
    masks = ids.to(device) == MASK_ID  # (B, T)
    log_probs = model.head(hidden[masks]).float().log_softmax(dim=-1).cpu()  # (N_masks, V)
    return list(log_probs.split(masks.sum(dim=1).tolist()))


def score_probes(
    model: MLMModel, tokenizer: Tokenizer, probes: Sequence[ProbeLike], *, batch_size: int = 64
) -> list[ProbeResult]:
    """Score every candidate word of every probe and say whether an answer wins.

    A word of $k$ pieces is scored in the probe with its ``[MASK]`` repeated $k$ times, as the
    sum of its pieces' log-probabilities there, $\\sum_j \\log p(w_j \\mid \\tilde x)$.

    Args:
        model: the model (put in eval mode; its mode is restored).
        tokenizer: its tokenizer.
        probes: probes with one ``[MASK]`` each (see ``corpus.make_probes``).
        batch_size: texts per forward pass.

    Returns:
        One result per probe, in order.
    """
    jobs = []  # (probe index, candidates, encoded text with k masks)
    pieces: dict[str, list[int]] = {}
    for index, probe in enumerate(probes):
        for k, candidates in _variants(probe, tokenizer, pieces).items():
            text = probe.text.replace(MASK_TOKEN, " ".join([MASK_TOKEN] * k))
            ids = tokenizer.encode(text).ids
            if len(ids) > model.config.max_len:
                raise ValueError(
                    f"the probe {probe.text!r} is {len(ids)} tokens long but the model reads at most "
                    f"{model.config.max_len}; leave it out or use a model with a larger max_len"
                )
            jobs.append((index, candidates, ids))
    jobs.sort(key=lambda job: len(job[2]))  # similar lengths together: little padding
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    scores: list[dict[str, float]] = [{} for _ in probes]
    for start in range(0, len(jobs), batch_size):
        chunk = jobs[start : start + batch_size]
        for (index, candidates, _), log_probs in zip(chunk, _mask_log_probs(model, [j[2] for j in chunk], device)):
            words = [word for word, _ in candidates]
            ids = torch.tensor([ids for _, ids in candidates])  # (n_words, k)
            totals = log_probs.gather(1, ids.t()).sum(dim=0)  # (n_words,): sum over the k pieces
            scores[index].update(zip(words, totals.tolist()))
    model.train(was_training)
    results = []
    for probe, score in zip(probes, scores):
        best = max(sorted(score), key=score.__getitem__)
        results.append(ProbeResult(probe.text, probe.category, best in probe.answers, best))
    return results


def probe_accuracy(results: Sequence[ProbeResult]) -> dict[str, float]:
    """Fraction of probes answered right, by category (categories in order of appearance)."""
    totals: dict[str, list[int]] = {}
    for result in results:
        right_and_all = totals.setdefault(result.category, [0, 0])
        right_and_all[0] += int(result.correct)
        right_and_all[1] += 1
    return {category: right / count for category, (right, count) in totals.items()}
