"""What ``mlm-book train`` reports while it trains: each evaluation's scores, and TensorBoard.

Every evaluation prints one line, ``step 200: validation loss ..., accuracy ..., perplexity ...;
probes: ...``, through ``tqdm.write`` so that the progress bar is redrawn below it, not cut.
``--report-to tensorboard`` also writes the run's history with ``torch.utils.tensorboard``'s
``SummaryWriter`` into ``RUN/runs/`` (``tensorboard --logdir RUN/runs``), tagged as transformers'
``Trainer`` tags its logs: ``train/loss``, ``train/accuracy`` and ``train/learning_rate`` at each
history record, ``eval/loss``, ``eval/accuracy``, ``eval/perplexity`` and ``eval/probe_CATEGORY``
at each evaluation. The writer opens only once the run directory holds a checkpoint (until then a
new directory must stay empty, so that the same command can start it again); the training records
are read from the committed ``history.json`` after each checkpoint; and a resumed run writes only
the steps after the checkpoint it resumed from, so that the restarts of a run draw one curve.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import TracebackType
from typing import Any

from mlm_book.cli.args import UsageError

LOG_DIR = "runs"
"""TensorBoard's folder inside a run directory (transformers' ``logging_dir`` is ``OUTPUT_DIR/runs/...``)."""
REPORT_TO = ("none", "tensorboard")
"""The choices of ``--report-to``."""


def scores_line(record: Any) -> str | None:
    """``step N: validation loss ..., accuracy ..., perplexity ...; probes: ...``, or ``None`` if nothing was scored.

    Args:
        record: an ``EvalRecord`` (its scores are NaN when the run has no validation batches).
    """
    parts = []
    if not math.isnan(record.loss):
        parts.append(
            f"validation loss {record.loss:.4f}, accuracy {record.accuracy:.4f}, perplexity {record.perplexity:.2f}"
        )
    if record.probes:
        parts.append("probes: " + ", ".join(f"{name} {value:.2f}" for name, value in record.probes.items()))
    return f"step {record.step}: " + "; ".join(parts) if parts else None


def summary_writer_class() -> Any:
    """``torch.utils.tensorboard.SummaryWriter``, imported only when TensorBoard is asked for.

    Raises:
        UsageError: if the ``tensorboard`` package is not installed.
    """
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise UsageError(
            "--report-to tensorboard needs the tensorboard package: pip install tensorboard "
            "(the extra mlm-book[tensorboard]), or drop --report-to"
        ) from None
    return SummaryWriter


class TensorBoardReport:
    """Writes a run's history to TensorBoard, once its directory holds a checkpoint.

    Args:
        out_dir: the run directory; the events go to ``out_dir/runs``.
        after_step: the step of the checkpoint a resumed run starts from (0 for a new run):
            training records up to it were reported by the run's earlier start.
    """

    def __init__(self, out_dir: Path, after_step: int) -> None:
        self.out_dir, self.after_step = out_dir, after_step
        self.writer_class = summary_writer_class()
        self.writer: Any = None
        self.pending: list[Any] = []

    def evaluated(self, record: Any) -> None:
        """Write an evaluation's scores (kept until the first checkpoint of a new run)."""
        from mlm_book.training.run_dir import is_run

        self.pending.append(record)
        if self.writer is not None or is_run(self.out_dir):
            self._write_pending()

    def saved(self, out_dir: Path, step: int) -> None:
        """Write the training records that the checkpoint of ``step`` committed, and any pending scores."""
        from mlm_book.training.history import History
        from mlm_book.training.run_dir import HISTORY_FILE

        writer = self._open()
        for record in History.load(out_dir / HISTORY_FILE).train:
            if record.step > self.after_step:
                writer.add_scalar("train/loss", record.loss, record.step)
                writer.add_scalar("train/accuracy", record.accuracy, record.step)
                writer.add_scalar("train/learning_rate", record.lr, record.step)
        self.after_step = max(self.after_step, step)
        self._write_pending()

    def close(self) -> None:
        """Flush and close the event file (if one was opened)."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _open(self) -> Any:
        if self.writer is None:
            self.writer = self.writer_class(log_dir=str(self.out_dir / LOG_DIR))
        return self.writer

    def _write_pending(self) -> None:
        writer = self._open()
        for record in self.pending:
            scores = {"loss": record.loss, "accuracy": record.accuracy, "perplexity": record.perplexity}
            scores.update({f"probe_{name}": value for name, value in record.probes.items()})
            for name, value in scores.items():
                if not math.isnan(value):
                    writer.add_scalar(f"eval/{name}", value, record.step)
        self.pending.clear()
        writer.flush()


def hf_copy_blocker(model_config: Any) -> str | None:
    """Why a run of this model can keep no transformers copy in ``RUN/hf``, or ``None`` if it can."""
    from mlm_book.interop import transformers_class

    try:
        transformers_class(model_config)
    except ValueError as error:
        return str(error)
    return None


class TrainingReport:
    """The ``on_evaluate`` and ``on_save`` callbacks of ``training.loop.train`` for the command line.

    After each checkpoint it refreshes the run's transformers copy, ``RUN/hf``
    (``interop.hf_copy``), unless ``hf_copy`` is off. Use it as a context manager, so that
    TensorBoard's event file is closed however training ends.

    Args:
        out_dir: the run directory.
        report_to: ``"none"`` or ``"tensorboard"``.
        hf_copy: keep ``RUN/hf`` in step with the checkpoints (the model must have a transformers class).
    """

    def __init__(self, out_dir: Path, report_to: str, *, hf_copy: bool = False) -> None:
        from mlm_book.cli.runs import checkpoint_step

        tensorboard = report_to == "tensorboard"
        self.tensorboard = TensorBoardReport(out_dir, checkpoint_step(out_dir) or 0) if tensorboard else None
        self.hf_copy = hf_copy

    def on_evaluate(self, record: Any) -> None:
        """Print the evaluation's scores above the progress bar; pass them to TensorBoard."""
        from tqdm.auto import tqdm

        line = scores_line(record)
        if line is not None:
            tqdm.write(line)
        if self.tensorboard is not None:
            self.tensorboard.evaluated(record)

    def on_save(self, out_dir: Path, step: int) -> None:
        """After each committed checkpoint: refresh ``RUN/hf``, bring TensorBoard up to it."""
        if self.hf_copy:
            from mlm_book.interop.hf_copy import refresh_hf_copy

            refresh_hf_copy(out_dir)
        if self.tensorboard is not None:
            self.tensorboard.saved(out_dir, step)

    def __enter__(self) -> TrainingReport:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
