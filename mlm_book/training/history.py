"""The history of a training run: what the plots of a chapter draw, saved as ``history.json``.

Every ``log_every`` steps the run records the training loss and masked accuracy (averaged over
the steps since the last record), the learning rate and the tokens seen; every evaluation
records the validation loss, accuracy and perplexity, and probe accuracies by category.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mlm_book.utils.atomic import read_json, write_json_atomically


@dataclass(frozen=True)
class TrainRecord:
    """Training metrics at one step.

    Attributes:
        step: optimizer steps taken.
        loss: mean masked-LM loss over the steps since the previous record.
        accuracy: fraction of masked tokens predicted right (argmax) over the same steps.
        lr: learning rate of the last step.
        tokens_seen: non-padding tokens trained on so far.
        tokens_per_second: training throughput since the previous record (machine-dependent).
    """

    step: int
    loss: float
    accuracy: float
    lr: float
    tokens_seen: int
    tokens_per_second: float


@dataclass
class RecordWindow:
    """Sums over the steps since the last history record.

    Saved with a checkpoint, so that a resumed run's next record averages the same steps as an
    uninterrupted run's.
    """

    loss: float = 0.0
    accuracy: float = 0.0
    steps: int = 0
    tokens: int = 0
    seconds: float = 0.0

    def record(self, step: int, lr: float, tokens_seen: int) -> TrainRecord:
        """The record of these steps: mean loss and accuracy, the throughput."""
        rate = self.tokens / self.seconds if self.seconds > 0 else 0.0
        return TrainRecord(step, self.loss / self.steps, self.accuracy / self.steps, lr, tokens_seen, rate)

    def to_dict(self) -> dict[str, float]:
        """The sums, for ``train_state.json``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, sums: dict[str, float]) -> RecordWindow:
        """The sums saved with a checkpoint (missing ones are 0: states saved before windows were)."""
        known = {f.name: type(f.default) for f in fields(cls)}
        return cls(**{name: kind(sums[name]) for name, kind in known.items() if name in sums})


@dataclass(frozen=True)
class EvalRecord:
    """Validation metrics at one step.

    Attributes:
        step: optimizer steps taken.
        loss: masked-LM loss on the fixed validation batches.
        accuracy: fraction of their masked tokens predicted right.
        perplexity: ``exp(loss)``.
        probes: probe accuracy by category (empty without probes).
    """

    step: int
    loss: float
    accuracy: float
    perplexity: float
    probes: dict[str, float] = field(default_factory=dict)


@dataclass
class History:
    """Growing lists of training and evaluation records.

    Attributes:
        train: one record per ``log_every`` steps.
        eval: one record per evaluation.
    """

    train: list[TrainRecord] = field(default_factory=list)
    eval: list[EvalRecord] = field(default_factory=list)

    def series(self, name: str) -> tuple[list[int], list[float]]:
        """Steps and values of one metric, for a plot.

        Args:
            name: ``"train_loss"``, ``"train_accuracy"``, ``"lr"``, ``"eval_loss"``,
                ``"eval_accuracy"``, ``"eval_perplexity"`` or ``"probe:CATEGORY"``.

        Returns:
            The steps and the values.
        """
        kind, _, metric = name.partition("_")
        if name == "lr" or kind == "train":
            records: list[Any] = self.train
            metric = metric or "lr"
        elif kind == "eval":
            records = self.eval
        elif name.startswith("probe:"):
            category = name.split(":", 1)[1]
            rows = [(r.step, r.probes[category]) for r in self.eval if category in r.probes]
            return [s for s, _ in rows], [v for _, v in rows]
        else:
            records = []
        if not records or not hasattr(records[0], metric):
            raise ValueError(f"unknown or empty history series {name!r}; try 'train_loss' or 'eval_accuracy'")
        return [r.step for r in records], [float(getattr(r, metric)) for r in records]

    def training_clock(self) -> dict[int, tuple[int, float]]:
        """Tokens seen and seconds spent in training steps at each training record's step.

        Each logged stretch of steps is timed at its own throughput, so the time spent in
        evaluations, checkpoints and data preparation between records is left out.

        Returns:
            ``{step: (tokens_seen, seconds)}``, cumulative, in step order.
        """
        clock, seconds, before = {}, 0.0, 0
        for record in self.train:
            new = record.tokens_seen - before
            seconds += new / record.tokens_per_second if record.tokens_per_second > 0 else 0.0
            before = record.tokens_seen
            clock[record.step] = (record.tokens_seen, seconds)
        return clock

    def training_seconds(self) -> float:
        """Seconds spent in training steps over the whole run (``training_clock``'s last entry; 0 if empty)."""
        clock = self.training_clock()
        return clock[max(clock)][1] if clock else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"train": [asdict(r) for r in self.train], "eval": [asdict(r) for r in self.eval]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Rebuild a history from ``to_dict()`` output."""
        return cls(
            train=[TrainRecord(**r) for r in data.get("train", [])],
            eval=[EvalRecord(**r) for r in data.get("eval", [])],
        )

    def save(self, path: Path) -> None:
        """Write the history as JSON, atomically."""
        write_json_atomically(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: Path) -> History:
        """Read a history written by ``save``.

        Raises:
            FileNotFoundError: if the file is missing.
            ValueError: if it is not a history.
        """
        data = read_json(Path(path))
        try:
            return cls.from_dict(data)
        except (TypeError, AttributeError) as error:
            raise ValueError(f"{path} is not a training history ({error})") from error

    def truncated(self, step: int) -> History:
        """A copy without the records after ``step`` (used when a run resumes from ``step``)."""
        return History([r for r in self.train if r.step <= step], [r for r in self.eval if r.step <= step])
