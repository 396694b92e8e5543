"""How to mask, as one frozen record: the budget, BERT's 80/10/10 split, the selection strategy.

``MaskingConfig`` holds no tensors and imports no torch, so training configs and the command
line can read and check it cheaply; ``masking.corruption`` and ``masking.strategies`` do the work.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from mlm_book.utils.config import FrozenConfig

Strategy = Literal["token", "word", "span"]
STRATEGIES: tuple[str, ...] = ("token", "word", "span")


def check_probabilities(mask_prob: float, replace_probs: Sequence[float]) -> None:
    """Raise ValueError unless ``0 < mask_prob < 1`` and ``replace_probs`` is a distribution."""
    if not 0.0 < mask_prob < 1.0:  # also rejects NaN
        raise ValueError(f"mask_prob must be strictly between 0 and 1, got {mask_prob}; BERT uses 0.15")
    if len(replace_probs) != 3:
        raise ValueError(
            f"replace_probs must have 3 entries (mask, random, keep), got {tuple(replace_probs)}; "
            "BERT uses (0.8, 0.1, 0.1)"
        )
    if any(not p >= 0.0 for p in replace_probs):
        raise ValueError(f"replace_probs must be non-negative, got {tuple(replace_probs)}")
    if not math.isclose(sum(replace_probs), 1.0, abs_tol=1e-6):
        raise ValueError(
            f"replace_probs must sum to 1, got {tuple(replace_probs)} (sum {sum(replace_probs):.6g}); "
            "BERT uses (0.8, 0.1, 0.1)"
        )


@dataclass(frozen=True)
class MaskingConfig(FrozenConfig):
    """How to mask: the budget, the 80/10/10 split, the selection strategy.

    Attributes:
        mask_prob: probability that a non-special token is selected, in (0, 1). BERT: 0.15.
        replace_probs: probabilities (mask, random, keep) for a selected token; sum to 1.
        strategy: "token" (BERT), "word" (whole-word masking) or "span" (SpanBERT).
        span_p: geometric parameter of span lengths, in (0, 1] (SpanBERT: 0.2).
        max_span: longest span in words (or tokens without word ids), >= 1 (SpanBERT: 10).
        static: if True, every example always gets the same mask (original BERT data
            pipeline); if False (default), a fresh mask each time a batch is built.
    """

    PRESETS: ClassVar[tuple[str, ...]] = ("bert", "whole-word", "spanbert")

    mask_prob: float = 0.15
    replace_probs: tuple[float, float, float] = (0.8, 0.1, 0.1)
    strategy: Strategy = "token"
    span_p: float = 0.2
    max_span: int = 10
    static: bool = False

    def validate(self) -> None:
        """Check the probabilities and the span parameters."""
        check_probabilities(self.mask_prob, self.replace_probs)
        if not 0.0 < self.span_p <= 1.0:
            raise ValueError(f"span_p must be in (0, 1], got {self.span_p}; SpanBERT uses 0.2")
        if self.max_span < 1:
            raise ValueError(f"max_span must be an integer >= 1, got {self.max_span!r}; SpanBERT uses 10")

    @classmethod
    def bert(cls) -> MaskingConfig:
        """BERT (Devlin et al., 2019): 15% of tokens, 80/10/10, dynamic as in RoBERTa."""
        return cls()

    @classmethod
    def whole_word(cls) -> MaskingConfig:
        """Whole-word masking: 15% of words, every piece of a selected word together."""
        return cls(strategy="word")

    @classmethod
    def spanbert(cls) -> MaskingConfig:
        """SpanBERT (Joshi et al., 2020): spans of whole words, Geometric(0.2) up to 10."""
        return cls(strategy="span", span_p=0.2, max_span=10)
