"""Run a grid of conditions x seeds and keep every evaluation in one tidy table.

An experiment compares *arms* (a name, a model config and a training config) trained with the
same seeds: seed ``s`` of every arm shares its data order, masks and evaluation batches, so the
difference between two arms at seed ``s`` is a *paired* difference, free of the seed-to-seed
spread that both arms share. ``run_sweep`` trains the grid interleaved (every arm of seed 0, then
every arm of seed 1, ...), so that a change in the machine's load touches every arm alike, and
returns a ``SweepTable``: one row per run and evaluation, with the context-free (unigram) loss of
that run's validation batches beside its loss. The table answers the questions the chapters ask:
``final`` (the mean of the last few evaluations, steadier than one endpoint), ``plateau_exit``
(the first evaluation at least ``margin`` nats under the unigram loss) and ``paired`` (the mean
paired difference with its 95% ``t`` interval). Tables are saved as JSON with what produced them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import statistics
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from tokenizers import Tokenizer
from tqdm.auto import tqdm

import mlm_book
from mlm_book.evaluation.baselines import context_free_model, unigram_log_probs
from mlm_book.evaluation.metrics import evaluate_masked
from mlm_book.evaluation.probes import ProbeLike, probe_accuracy, score_probes
from mlm_book.experiments.provenance import machine_description, probe_digest, tokenizer_digest
from mlm_book.model.config import ModelConfig
from mlm_book.training.config import TrainConfig
from mlm_book.training.data import prepare_data
from mlm_book.training.loop import train
from mlm_book.utils.atomic import read_json, write_json_atomically
from mlm_book.utils.stats import MeanInterval, mean_interval

if TYPE_CHECKING:
    import datasets

FORMAT = "mlm-book-sweep"
VERSION = 1


@dataclass(frozen=True)
class Arm:
    """One condition of an experiment.

    Attributes:
        name: a short label, unique within the experiment (e.g. ``"bias=log_unigram"``).
        model: the model config.
        train: the training config; its ``seed`` is replaced by each seed of the sweep.
    """

    name: str
    model: ModelConfig
    train: TrainConfig


@dataclass
class SweepTable:
    """Every evaluation of every run of a sweep.

    Attributes:
        rows: one dict per run and evaluation: ``arm``, ``seed``, ``step``, ``tokens``,
            ``seconds`` (training time by then, machine-dependent), ``loss``, ``accuracy``,
            ``unigram_loss`` (the context-free loss on the same batches), and for each probe
            category ``probe:<category>`` (accuracy) with ``n:<category>`` (probes scored).
        arms: each arm's configs as dicts, ``{name: {"model": ..., "train": ...}}``.
        baseline_probes: the unigram baseline's probe accuracy per category (if probes were scored).
        meta: what produced the table: command, package and torch versions, machine, threads, date,
            and the digests of its probes and tokenizer (``experiments.provenance``).
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    arms: dict[str, dict[str, Any]] = field(default_factory=dict)
    baseline_probes: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def arm_names(self) -> list[str]:
        """The arms, in the order they were given."""
        return list(self.arms)

    @property
    def seeds(self) -> list[int]:
        """The seeds, in the order they ran."""
        return list(dict.fromkeys(row["seed"] for row in self.rows))

    def configs(self, arm: str) -> tuple[ModelConfig, TrainConfig]:
        """The model and training configs of an arm (to re-run a row of the table)."""
        stored = self.arms[arm]
        return ModelConfig.from_dict(stored["model"]), TrainConfig.from_dict(stored["train"])

    def run(self, arm: str, seed: int) -> list[dict[str, Any]]:
        """The rows of one run, by step."""
        rows = sorted((r for r in self.rows if r["arm"] == arm and r["seed"] == seed), key=lambda r: r["step"])
        if not rows:
            raise ValueError(f"the table has no run of arm {arm!r} with seed {seed}; arms: {self.arm_names}")
        return rows

    def final(self, arm: str, seed: int, metric: str = "loss", last: int = 3) -> float:
        """The mean of ``metric`` over the last ``last`` evaluations of a run (one endpoint is noisy)."""
        values = [row[metric] for row in self.run(arm, seed)[-last:]]
        return statistics.fmean(values)

    def plateau_exit(self, arm: str, seed: int, margin: float = 0.5) -> float:
        """The first step whose validation loss is at least ``margin`` nats below the unigram loss.

        Returns:
            The step, or ``nan`` if the run never got there.
        """
        for row in self.run(arm, seed):
            if row["loss"] <= row["unigram_loss"] - margin:
                return float(row["step"])
        return math.nan

    def first_reach(self, arm: str, seed: int, target: float, x: str = "tokens") -> float:
        """``x`` (``"step"``, ``"tokens"`` or ``"seconds"``) at a run's first evaluation with loss <= ``target``.

        Returns:
            That value, or ``nan`` if the run never got there.
        """
        if x not in ("step", "tokens", "seconds"):
            raise ValueError(f"x must be 'step', 'tokens' or 'seconds', got {x!r}")
        return next((float(row[x]) for row in self.run(arm, seed) if row["loss"] <= target), math.nan)

    def paired_reach(self, base: str, arm: str, target: float, x: str = "tokens") -> MeanInterval:
        """``arm`` minus ``base`` per seed of :meth:`first_reach` (seeds where either never gets there drop out)."""
        return mean_interval(
            [self.first_reach(arm, s, target, x) - self.first_reach(base, s, target, x) for s in self.seeds]
        )

    def paired(self, base: str, arm: str, metric: str = "loss", *, last: int = 3) -> MeanInterval:
        """``arm`` minus ``base`` per seed (``final`` values), with the 95% ``t`` interval of the mean."""
        return mean_interval([self.final(arm, s, metric, last) - self.final(base, s, metric, last) for s in self.seeds])

    def paired_exit(self, base: str, arm: str, *, margin: float = 0.5) -> MeanInterval:
        """``arm`` minus ``base`` per seed of the plateau-exit step (seeds where either never exits drop out)."""
        return mean_interval(
            [self.plateau_exit(arm, s, margin) - self.plateau_exit(base, s, margin) for s in self.seeds]
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "meta": self.meta,
            "arms": self.arms,
            "baseline_probes": self.baseline_probes,
            "rows": self.rows,
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as JSON, atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomically(path, self.to_dict())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SweepTable:
        """Read a table written by ``save``."""
        body = read_json(Path(path))
        if not isinstance(body, dict) or body.get("format") != FORMAT or body.get("version") != VERSION:
            raise ValueError(f"{path} is not a sweep table of version {VERSION} written by mlm_book")
        return cls(body["rows"], body["arms"], body.get("baseline_probes", {}), body.get("meta", {}))


def run_rows(
    arm: Arm,
    seed: int,
    *,
    dataset: datasets.DatasetDict,
    tokenizer: Tokenizer,
    probes: Sequence[ProbeLike] = (),
) -> list[dict[str, Any]]:
    """Train one arm with one seed and return its rows (see ``SweepTable.rows``).

    Args:
        arm: the condition.
        seed: the seed (replaces ``arm.train.seed``).
        dataset: the corpus splits.
        tokenizer: the tokenizer.
        probes: probes scored at every evaluation.

    Returns:
        One row per evaluation of the run.
    """
    config = dataclasses.replace(arm.train, seed=seed)
    data = prepare_data(dataset, tokenizer, config)
    baseline = context_free_model(arm.model, unigram_log_probs(data.train, tokenizer.get_vocab_size()))
    unigram_loss = evaluate_masked(baseline, data.eval_batches).loss
    result = train(config, arm.model, dataset=dataset, tokenizer=tokenizer, probes=probes)
    counts: dict[str, int] = {}
    for probe in probes:
        counts[probe.category] = counts.get(probe.category, 0) + 1
    clock = result.history.training_clock()
    rows = []
    for record in result.history.eval:
        tokens, seconds = clock.get(record.step, (math.nan, math.nan))
        row = {
            "arm": arm.name,
            "seed": seed,
            "step": record.step,
            "tokens": tokens,
            "seconds": seconds,
            "loss": record.loss,
            "accuracy": record.accuracy,
            "unigram_loss": unigram_loss,
        }
        for category, value in record.probes.items():
            row[f"probe:{category}"], row[f"n:{category}"] = value, counts[category]
        rows.append(row)
    return rows


def run_sweep(
    arms: Sequence[Arm],
    seeds: Sequence[int],
    *,
    dataset: datasets.DatasetDict,
    tokenizer: Tokenizer,
    probes: Sequence[ProbeLike] = (),
    command: str = "",
    workers: int = 1,
    on_run: Callable[[str, int, list[dict[str, Any]]], None] | None = None,
    cache: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> SweepTable:
    """Train every arm with every seed, interleaved, and collect the table.

    Runs go seed by seed, every arm within a seed, so a change in the machine's load hits every
    arm alike. Each run uses torch's current thread count, or one thread in each of ``workers``
    processes (runs are deterministic at a fixed thread count, so a row re-run later with the same
    count reproduces its numbers).

    Args:
        arms: the conditions (unique names).
        seeds: the seeds, at least 3 for a paired comparison worth reporting.
        dataset: the corpus splits.
        tokenizer: the tokenizer (its vocabulary must fit every arm's model).
        probes: probes scored at every evaluation (and once for the unigram baseline).
        command: how the sweep was started, recorded in ``meta``.
        workers: processes training at once, one thread each (1: in this process).
        on_run: called after each run with (arm name, seed, its rows), e.g. to print progress.
        cache: a JSON-lines file that keeps every finished run (appended as soon as it ends); runs
            already in it, with the same configs, seed, probes and tokenizer, are not trained again,
            so an interrupted sweep continues where it stopped.
        progress: show a progress bar over the runs (the last run's arm, seed and final loss).

    Returns:
        The table.
    """
    names = [arm.name for arm in arms]
    if len(set(names)) != len(names) or not names:
        raise ValueError(f"a sweep needs at least one arm and unique arm names, got {names}")
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"a sweep needs distinct seeds, got {list(seeds)}")
    threads = torch.get_num_threads() if workers == 1 else 1
    table = SweepTable(
        arms={arm.name: {"model": arm.model.to_dict(), "train": arm.train.to_dict()} for arm in arms},
        meta={
            "command": command,
            "workers": workers,
            **machine_description(threads),
            "probes": probe_digest(probes),
            "tokenizer": tokenizer_digest(tokenizer),
        },
    )
    if probes:
        baseline_model = arms[0].model
        data = prepare_data(dataset, tokenizer, arms[0].train)
        baseline = context_free_model(baseline_model, unigram_log_probs(data.train, tokenizer.get_vocab_size()))
        table.baseline_probes = probe_accuracy(score_probes(baseline, tokenizer, probes))
    jobs = [(arm, seed) for seed in seeds for arm in arms]
    store = _RunCache(Path(cache), tokenizer, probes) if cache is not None else None
    done = {(arm.name, seed): store.get(arm, seed) for arm, seed in jobs} if store is not None else {}
    todo = [(arm, seed) for arm, seed in jobs if done.get((arm.name, seed)) is None]

    bar = tqdm(total=len(jobs), disable=not progress, unit="run", desc="sweep")

    def finish(arm: Arm, seed: int, rows: list[dict[str, Any]]) -> None:
        if store is not None and done.get((arm.name, seed)) is None:
            store.put(arm, seed, rows)
        table.rows += rows
        loss = f"{rows[-1]['loss']:.3f}" if rows else "-"
        bar.set_postfix({"arm": arm.name, "seed": seed, "loss": loss}, refresh=False)  # in this order
        bar.update(1)
        if on_run is not None:
            on_run(arm.name, seed, rows)

    with bar:
        if workers == 1 or len(todo) <= 1:
            for arm, seed in jobs:
                rows = done.get((arm.name, seed))
                if rows is None:
                    rows = run_rows(arm, seed, dataset=dataset, tokenizer=tokenizer, probes=probes)
                finish(arm, seed, rows)
            return table
        _run_pool(jobs, todo, done, finish, workers, dataset=dataset, tokenizer=tokenizer, probes=probes)
    return table


def _run_pool(
    jobs: list[tuple[Arm, int]],
    todo: list[tuple[Arm, int]],
    done: dict[tuple[str, int], list[dict[str, Any]] | None],
    finish: Callable[[Arm, int, list[dict[str, Any]]], None],
    workers: int,
    *,
    dataset: datasets.DatasetDict,
    tokenizer: Tokenizer,
    probes: Sequence[ProbeLike],
) -> None:
    """Train the runs not yet done in ``workers`` one-thread processes; finish them in job order."""
    context = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited threads or state
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread) as pool:
        futures = {
            (arm.name, seed): pool.submit(
                run_rows, arm, seed, dataset=dataset, tokenizer=tokenizer, probes=list(probes)
            )
            for arm, seed in todo
        }
        for arm, seed in jobs:  # collected in the interleaved order
            rows = done.get((arm.name, seed))
            finish(arm, seed, rows if rows is not None else futures[arm.name, seed].result())


class _RunCache:
    """Finished runs of a sweep, one JSON line each, keyed by everything that decides their rows."""

    def __init__(self, path: Path, tokenizer: Tokenizer, probes: Sequence[ProbeLike]) -> None:
        self.path = path
        self.context = {
            "vocab": tokenizer_digest(tokenizer),
            "probes": probe_digest(probes),
            "version": mlm_book.__version__,
        }
        self.runs: dict[str, list[dict[str, Any]]] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self.runs[entry["key"]] = entry["rows"]
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a kill: that run is trained again

    def key(self, arm: Arm, seed: int) -> str:
        body = {"model": arm.model.to_dict(), "train": arm.train.to_dict(), "seed": seed, **self.context}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def get(self, arm: Arm, seed: int) -> list[dict[str, Any]] | None:
        rows = self.runs.get(self.key(arm, seed))
        return [{**row, "arm": arm.name} for row in rows] if rows is not None else None

    def put(self, arm: Arm, seed: int, rows: list[dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps({"key": self.key(arm, seed), "rows": rows}) + "\n")
            file.flush()
            os.fsync(file.fileno())


def _one_thread() -> None:
    """Worker initialiser: one torch thread per process, quiet libraries."""
    torch.set_num_threads(1)
    import datasets

    datasets.disable_progress_bars()
