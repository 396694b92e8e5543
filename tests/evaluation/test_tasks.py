"""Task scores on hand-made examples: SQuAD's exact match and F1, entity F1, span decoding."""

import pytest
import torch

from mlm_book.evaluation.tasks import (
    best_spans,
    entity_f1,
    entity_spans,
    score_qa,
    squad_exact_match,
    squad_f1,
    squad_normalize,
    squad_scores,
)
from mlm_book.utils.stats import wilson_interval


def test_squad_normalisation_drops_case_punctuation_and_articles() -> None:
    assert squad_normalize("The  Old-Mill, an inn!") == "oldmill inn"
    assert squad_exact_match("the Westmoor.", ["Westmoor"]) == 1.0
    assert squad_exact_match("Westmoor town", ["Westmoor"]) == 0.0


def test_squad_f1_on_hand_examples() -> None:
    assert squad_f1("big red dog", ["big dog"]) == pytest.approx(0.8)  # P = 2/3, R = 1
    assert squad_f1("cat", ["big dog", "a cat"]) == 1.0  # the best gold answer counts
    assert squad_f1("the", ["dog"]) == 0.0 and squad_f1("the", ["an"]) == 1.0  # both empty after normalising


def test_squad_scores_give_a_wilson_interval_for_exact_match() -> None:
    scores = squad_scores(["dog", "a cat", "fox", "big dog"], [["dog"], ["cat"], ["hen"], ["dog"]])
    assert scores.scores["exact_match"] == 0.5 and scores.intervals["exact_match"] == wilson_interval(2, 4)
    assert scores.scores["f1"] == pytest.approx((1 + 1 + 0 + 2 / 3) / 4)
    assert scores.n == 4 and scores.main == "exact_match"
    with pytest.raises(ValueError, match="as many predictions as questions"):
        squad_scores(["x"], [])


def test_entity_spans_and_micro_f1() -> None:
    assert entity_spans(["PERSON", "O", "TOWN", "TOWN", "O"]) == {("PERSON", 0, 0), ("TOWN", 2, 3)}
    assert entity_spans(["B-PER", "B-PER", "I-PER"]) == {("PER", 0, 0), ("PER", 1, 2)}
    gold = [["PERSON", "O", "TOWN"], ["JOB", "O"]]
    predicted = [["PERSON", "O", "JOB"], ["JOB", "JOB"]]
    scores = entity_f1(gold, predicted)  # right: PERSON only; "JOB JOB" is one entity (0, 1), not the gold (0, 0)
    assert scores == {"precision": pytest.approx(1 / 3), "recall": pytest.approx(1 / 3), "f1": pytest.approx(1 / 3)}
    scores = entity_f1(gold, [["PERSON", "O", "O"], ["JOB", "O"]])  # 2 right of 2 predicted, 3 gold
    assert (scores["precision"], scores["recall"], scores["f1"]) == (1.0, pytest.approx(2 / 3), pytest.approx(0.8))
    assert entity_f1([["O"]], [["O"]])["f1"] == 0.0


def test_best_spans_stay_in_the_context_and_in_order() -> None:
    start = torch.tensor([[9.0, 0.0, 3.0, 0.0, 0.0], [0.0, 1.0, 0.0, 5.0, 0.0]])
    end = torch.tensor([[9.0, 2.0, 0.0, 1.0, 4.0], [0.0, 6.0, 0.0, 0.0, 0.0]])
    context = torch.tensor([[False, True, True, True, False], [True] * 5])
    # row 0: [CLS] and token 4 are outside; row 1: end 1 before start 3 is not allowed
    assert best_spans(start, end, context).tolist() == [[2, 3], [1, 1]]


class _FixedSpans(torch.nn.Module):
    """A span model whose logits are given, batch by batch."""

    def __init__(self, logits: list[torch.Tensor]) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.logits = list(logits)

    def forward(self, **_: object) -> object:
        return type("Out", (), {"logits": self.logits.pop(0)})()


def test_score_qa_takes_each_question_s_best_window() -> None:
    contexts, answers = ["red fox ran", "blue cat"], [["fox"], ["cat"]]
    # question 0 in two windows: "red fox" (tokens 1-2) and "fox ran" (tokens 1-2); question 1 in one
    offsets = torch.tensor(
        [
            [[-1, -1], [0, 3], [4, 7], [-1, -1]],
            [[-1, -1], [4, 7], [8, 11], [-1, -1]],
            [[-1, -1], [0, 4], [5, 8], [-1, -1]],
        ]
    )
    logits = torch.zeros(3, 4, 2)
    logits[0, 1] = torch.tensor([2.0, 2.0])  # window 0 says "red", with score 4
    logits[1, 1] = torch.tensor([3.0, 3.0])  # window 1 says "fox", with score 6: the better window
    logits[2, 2] = torch.tensor([1.0, 1.0])  # question 1: "cat"
    batch = {"input_ids": torch.ones(3, 4, dtype=torch.long), "attention_mask": torch.ones(3, 4, dtype=torch.long)}
    batch |= {"offsets": offsets, "example": torch.tensor([0, 0, 1])}
    scores = score_qa(_FixedSpans([logits]), [batch], contexts, answers)
    assert scores.scores["exact_match"] == 1.0 and scores.n == 2
    logits[0, 1] = torch.tensor([4.0, 4.0])  # now window 0 wins: "red" is wrong
    assert score_qa(_FixedSpans([logits]), [batch], contexts, answers).scores["exact_match"] == 0.5
