r"""Scores of fine-tuned models: accuracy, entity F1, and SQuAD's exact match and F1.

* **Accuracy** (tags, classes): the fraction right, with its 95% Wilson interval.
* **Entity F1** (named entities): an entity is a maximal run of words with the same label
  other than ``O`` (a ``B-`` prefix starts a new one, as in seqeval's default mode); a
  predicted entity counts only if its type and both ends match a gold one.
  $F_1 = 2PR/(P + R)$ over all entities of all sentences (micro-averaged).
* **Extractive QA**: the predicted span is the best-scoring ``(i, j)`` with ``i <= j < i + 30``
  inside the context, $s_i + e_j$ maximal; its text is compared with each gold answer after
  SQuAD's normalisation (lower case, no punctuation, no articles ``a an the``, single spaces)
  as in the official evaluation script of SQuAD v1.1 (Rajpurkar et al., 2016): *exact match*
  is 1 if the strings are equal, *F1* the harmonic mean of the precision and recall of their
  shared words; each takes the best over the gold answers and is averaged over questions.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from mlm_book.data.tasks import task_inputs
from mlm_book.utils.special_tokens import IGNORE_INDEX
from mlm_book.utils.stats import mean_interval, wilson_interval

MAX_ANSWER_TOKENS = 30
"""The longest span the QA decoder considers (SQuAD's scripts use 30)."""


@dataclass(frozen=True)
class TaskScores:
    """The scores of one model on one split.

    Attributes:
        main: the name of the headline score (``accuracy``, ``entity_f1`` or ``exact_match``).
        scores: every score by name, each in [0, 1].
        intervals: 95% intervals of the scores that have one (Wilson for proportions, ``t`` for
            the mean SQuAD F1).
        n: how many predictions (tokens, examples or questions) the scores are over.
    """

    main: str
    scores: dict[str, float]
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    n: int = 0

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {"main": self.main, "scores": self.scores, "intervals": self.intervals, "n": self.n}


def proportion(successes: int, n: int) -> tuple[float, tuple[float, float]]:
    """``successes / n`` with its Wilson interval (``nan`` and an empty interval for ``n = 0``)."""
    if n == 0:
        return float("nan"), (float("nan"), float("nan"))
    return successes / n, wilson_interval(successes, n)


def entity_spans(labels: Sequence[str]) -> set[tuple[str, int, int]]:
    """The entities of one labelled sentence as ``(type, first word, last word)``.

    Args:
        labels: one label per word: ``O``, a type (``PERSON``) or a ``B-``/``I-`` prefixed type.

    Returns:
        Maximal runs of one type; ``B-`` starts a new entity even after the same type.
    """
    spans, start, kind = set(), 0, "O"
    for i, label in enumerate([*labels, "O"]):
        begins = label.startswith("B-")
        label_kind = label[2:] if label[:2] in ("B-", "I-") else label
        if label_kind != kind or begins:
            if kind != "O":
                spans.add((kind, start, i - 1))
            start, kind = i, label_kind
    return spans


def entity_f1(gold: Iterable[Sequence[str]], predicted: Iterable[Sequence[str]]) -> dict[str, float]:
    """Micro-averaged entity precision, recall and F1 over sentences.

    Args:
        gold: per sentence, the gold label of each word.
        predicted: per sentence, the predicted label of each word.

    Returns:
        ``precision``, ``recall`` and ``f1`` (0 when there is nothing to match).
    """
    true_pos = n_gold = n_pred = 0
    for g, p in zip(gold, predicted, strict=True):
        gold_spans, pred_spans = entity_spans(g), entity_spans(p)
        true_pos += len(gold_spans & pred_spans)
        n_gold += len(gold_spans)
        n_pred += len(pred_spans)
    precision = true_pos / n_pred if n_pred else 0.0
    recall = true_pos / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def squad_normalize(text: str) -> str:
    """SQuAD v1.1's answer normalisation: lower case, drop punctuation and articles, one space."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def squad_exact_match(prediction: str, answers: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals a normalised gold answer, else 0.0."""
    return float(any(squad_normalize(prediction) == squad_normalize(a) for a in answers))


def squad_f1(prediction: str, answers: Sequence[str]) -> float:
    """SQuAD's word-overlap F1 of a prediction, the best over the gold answers."""

    def f1(pred: str, gold: str) -> float:
        pred_words, gold_words = squad_normalize(pred).split(), squad_normalize(gold).split()
        common = sum((Counter(pred_words) & Counter(gold_words)).values())
        if not pred_words or not gold_words:
            return float(pred_words == gold_words)
        if common == 0:
            return 0.0
        precision, recall = common / len(pred_words), common / len(gold_words)
        return 2 * precision * recall / (precision + recall)

    return max(f1(prediction, a) for a in answers)


def squad_scores(predictions: Sequence[str], answers: Sequence[Sequence[str]]) -> TaskScores:
    """Exact match (with its Wilson interval) and mean F1 (with its ``t`` interval) over questions.

    Args:
        predictions: one answer text per question.
        answers: the gold answers of each question.

    Returns:
        ``TaskScores`` with ``exact_match`` and ``f1``.
    """
    if len(predictions) != len(answers) or not predictions:
        raise ValueError(f"need as many predictions as questions (>= 1), got {len(predictions)} and {len(answers)}")
    matches = [squad_exact_match(p, a) for p, a in zip(predictions, answers)]
    f1s = [squad_f1(p, a) for p, a in zip(predictions, answers)]
    em, em_interval = proportion(int(sum(matches)), len(matches))
    f1 = mean_interval(f1s)
    return TaskScores(
        "exact_match",
        {"exact_match": em, "f1": f1.mean},
        {"exact_match": em_interval, "f1": (f1.low, f1.high)},
        len(matches),
    )


def best_spans(start_logits: torch.Tensor, end_logits: torch.Tensor, context_mask: torch.Tensor) -> torch.Tensor:
    """The best answer span of each row: ``argmax s_i + e_j`` over context tokens, ``i <= j < i + 30``.

    Args:
        start_logits, end_logits: ``(B, T)`` scores.
        context_mask: ``(B, T)`` bool, True at context tokens.

    Returns:
        ``(B, 2)`` long: first and last token of each span.
    """
    length = start_logits.size(1)
    scores = start_logits[:, :, None] + end_logits[:, None, :]  # (B, T, T): [b, i, j]
    i, j = torch.arange(length)[:, None], torch.arange(length)[None, :]
    allowed = (j >= i) & (j < i + MAX_ANSWER_TOKENS)  # (T, T)
    allowed = allowed & context_mask[:, :, None] & context_mask[:, None, :]  # (B, T, T)
    best = scores.masked_fill(~allowed, float("-inf")).flatten(1).argmax(dim=1)  # (B,)
    return torch.stack([best // length, best % length], dim=1)


@torch.no_grad()
def predict(model: nn.Module, batches: Iterable[dict[str, torch.Tensor]]) -> list[torch.Tensor]:
    """Run a task model on batches in eval mode (restoring its mode); return the logits on the CPU."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    logits = [model(**task_inputs(batch, device)).logits.float().cpu() for batch in batches]
    model.train(was_training)
    return logits


def score_tagging(
    model: nn.Module, batches: Sequence[dict[str, torch.Tensor]], label_names: Sequence[str], *, entities: bool
) -> TaskScores:
    """Word accuracy (Wilson interval) and, with ``entities``, entity F1 of a tagger.

    Args:
        model: a token-classification ``TaskModel``.
        batches: collated batches with ``labels`` (-100 except at first pieces).
        label_names: the names of the label ids.
        entities: also compute entity precision, recall and F1 (the headline score then).
    """
    gold, pred = [], []
    for batch, logits in zip(batches, predict(model, batches)):
        labels, guesses = batch["labels"], logits.argmax(dim=-1)
        for row_labels, row_guesses in zip(labels, guesses):
            scored = row_labels != IGNORE_INDEX
            gold.append([label_names[i] for i in row_labels[scored].tolist()])
            pred.append([label_names[i] for i in row_guesses[scored].tolist()])
    n = sum(len(g) for g in gold)
    right = sum(a == b for g, p in zip(gold, pred) for a, b in zip(g, p))
    accuracy, interval = proportion(right, n)
    scores, intervals = {"accuracy": accuracy}, {"accuracy": interval}
    if entities:
        scores.update({f"entity_{k}": v for k, v in entity_f1(gold, pred).items()})
    return TaskScores("entity_f1" if entities else "accuracy", scores, intervals, n)


def score_classifier(model: nn.Module, batches: Sequence[dict[str, torch.Tensor]]) -> TaskScores:
    """Accuracy of a sequence classifier, with its Wilson interval."""
    right = n = 0
    for batch, logits in zip(batches, predict(model, batches)):
        right += int((logits.argmax(dim=-1) == batch["labels"]).sum())
        n += batch["labels"].numel()
    accuracy, interval = proportion(right, n)
    return TaskScores("accuracy", {"accuracy": accuracy}, {"accuracy": interval}, n)


def score_qa(
    model: nn.Module,
    batches: Sequence[dict[str, torch.Tensor]],
    contexts: Sequence[str],
    answers: Sequence[Sequence[str]],
) -> TaskScores:
    """SQuAD exact match and F1 of a span model: each question's best span over its windows.

    In every window the best span maximises ``s_i + e_j`` (:func:`best_spans`); a question read
    through several windows (``data.tasks.encode_qa`` with ``doc_stride``) takes the span of its
    highest-scoring window, as BERT's SQuAD decoder does. A question no window scores gets "".

    Args:
        model: a span ``TaskModel``.
        batches: collated batches with ``offsets`` ``(B, T, 2)`` (-1 outside the context) and
            ``example`` (each window's question); without ``example`` the rows are the
            questions, in the order of ``contexts``.
        contexts: the context of each question.
        answers: the gold answer texts of each question.
    """
    best: dict[int, tuple[float, str]] = {}
    rows = 0
    for batch, logits in zip(batches, predict(model, batches)):
        offsets = batch["offsets"]
        spans = best_spans(logits[..., 0], logits[..., 1], offsets[..., 0] >= 0)
        examples = batch["example"].tolist() if "example" in batch else range(rows, rows + len(spans))
        for row, ((first, last), example) in enumerate(zip(spans.tolist(), examples)):
            score = float(logits[row, first, 0] + logits[row, last, 1])
            start, end = int(offsets[row, first, 0]), int(offsets[row, last, 1])
            text = contexts[example][start:end] if start >= 0 else ""
            if example not in best or score > best[example][0]:
                best[example] = (score, text)
        rows += len(spans)
    return squad_scores([best[i][1] if i in best else "" for i in range(len(contexts))], answers)
