"""Probes: sentences with one masked word whose right answers are known, scored by a model.

A probe is a single sentence with one ``[MASK]`` word whose right answers are known (e.g. an
agreement: "the dogs [MASK] barking" needs "are"). A probe counts as right when the model
scores one of its answers above every listed distractor (a word of several pieces is scored
with as many ``[MASK]`` tokens, by the sum of its pieces' log-probabilities).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import torch
from tokenizers import Tokenizer

from mlm_book.model.mlm import MLMModel
from mlm_book.utils.special_tokens import MASK_ID, MASK_TOKEN, PAD_ID
from mlm_book.utils.stats import wilson_interval


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
    padded = bool((lengths < ids.shape[1]).any())
    attention = (torch.arange(ids.shape[1])[None, :] < lengths[:, None]).long() if padded else None  # (B, T)
    masks = ids == MASK_ID  # (B, T), on the host
    positions = masks.flatten().nonzero().squeeze(1)  # (N_masks,)
    hidden = model.encode(ids.to(device), None if attention is None else attention.to(device)).hidden_states
    chosen = hidden.flatten(0, 1).index_select(0, positions.to(device))  # (N_masks, D)
    log_probs = model.head(chosen).float().log_softmax(dim=-1).cpu()  # (N_masks, V)
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


@dataclass(frozen=True)
class ProbeScore:
    """How many probes of one category a model got right, with the 95% Wilson interval.

    Attributes:
        category: the probe category.
        correct: probes answered right.
        total: probes scored.
    """

    category: str
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        """``correct / total``."""
        return self.correct / self.total

    @property
    def interval(self) -> tuple[float, float]:
        """The 95% Wilson interval of the accuracy."""
        return wilson_interval(self.correct, self.total)

    def __str__(self) -> str:
        low, high = self.interval
        return f"{self.accuracy:.3f} [{low:.3f}, {high:.3f}]"


def probe_scores(results: Sequence[ProbeResult]) -> dict[str, ProbeScore]:
    """Count right answers by category (categories in order of appearance), with intervals.

    Args:
        results: ``score_probes`` output.

    Returns:
        ``{category: ProbeScore}``; ``str(score)`` prints ``accuracy [low, high]``.
    """
    totals: dict[str, list[int]] = {}
    for result in results:
        right_and_all = totals.setdefault(result.category, [0, 0])
        right_and_all[0] += int(result.correct)
        right_and_all[1] += 1
    return {category: ProbeScore(category, right, count) for category, (right, count) in totals.items()}


def probe_accuracy(results: Sequence[ProbeResult]) -> dict[str, float]:
    """Fraction of probes answered right, by category (categories in order of appearance)."""
    return {category: score.accuracy for category, score in probe_scores(results).items()}
