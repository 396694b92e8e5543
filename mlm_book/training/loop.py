"""Train a masked language model: the ``train`` entry point and its loop.

Each optimizer step takes the next *global* batch of the epoch's shuffled order; each process
pads and masks its share of it (drawing the masking generator's numbers for the whole batch, so
the masks are those of one process), splits the share into accumulation micro-batches, and
takes one step (``training.step``): AdamW without decay on biases and LayerNorm, a warmup-then-
decay schedule, gradient clipping, autocast on GPUs. A curriculum (``TrainConfig.curriculum``)
may cut a step's packed blocks to a shorter length (``data.blocks``) and mask them at
another rate; evaluation keeps the full length and the config's masking. Every ``eval_every``
steps it measures the fixed validation batches (and the probes), and saves a checkpoint that
``resume=True`` continues exactly: on a CPU an interrupted and an uninterrupted run end with
identical weights.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import datasets
import torch
from tokenizers import Tokenizer
from tqdm.auto import tqdm

from mlm_book.data.batches import batch_order, split_batch
from mlm_book.data.blocks import cut_blocks
from mlm_book.evaluation.baselines import log_unigram_bias
from mlm_book.evaluation.metrics import evaluate_masked
from mlm_book.evaluation.probes import ProbeLike, probe_accuracy, score_probes
from mlm_book.masking.collator import BatchShare, MaskingCollator
from mlm_book.model.checkpoint import TOKENIZER_FILE, load_model
from mlm_book.model.config import ModelConfig
from mlm_book.model.mlm import MLMModel
from mlm_book.training.config import TrainConfig
from mlm_book.training.curriculum import StepPlan
from mlm_book.training.data import TrainData, prepare_data
from mlm_book.training.distributed import (
    DistributedContext,
    all_gather_counts,
    barrier,
    broadcast_text,
    setup_distributed,
    wrap_model,
)
from mlm_book.training.history import EvalRecord, History, RecordWindow
from mlm_book.training.optim import Schedule, make_optimizer, make_scheduler
from mlm_book.training.run_dir import HISTORY_FILE, check_out_dir, commit_checkpoint, stage_checkpoint
from mlm_book.training.state import STATE_JSON, TrainState, check_position, load_train_state, save_train_state
from mlm_book.training.step import StepStats, StepTools, TrainingDiverged, train_step
from mlm_book.utils.atomic import read_json
from mlm_book.utils.precision import Numerics, make_scaler, resolve_numerics
from mlm_book.utils.seeding import derive_seed


@dataclass(frozen=True)
class TrainResult:
    """What ``train`` returns.

    Attributes:
        model: the trained model (on the training device, in train mode).
        history: training and evaluation records, for plots.
        step: optimizer steps taken in total (resumed runs included).
        tokens_seen: non-padding tokens trained on.
        out_dir: the run directory, or ``None`` for a run without checkpoints.
        context: this process's place in a data-parallel run (rank 0 reports).
    """

    model: MLMModel
    history: History
    step: int
    tokens_seen: int
    out_dir: Path | None
    context: DistributedContext


class _Loop:
    """The state of a run between steps: model, optimizer, generators, position, history."""

    def __init__(
        self,
        config: TrainConfig,
        model_config: ModelConfig,
        data: TrainData,
        context: DistributedContext,
        numerics: Numerics,
    ) -> None:
        self.config, self.data, self.context = config, data, context
        self.model = MLMModel(model_config, generator=torch.Generator().manual_seed(config.seed))
        if config.decoder_bias == "log_unigram":  # start on the unigram plateau instead of above it
            with torch.no_grad():
                self.model.head.decoder.bias.copy_(log_unigram_bias(data.train, model_config.vocab_size))
        self.model = self.model.to(numerics.device)
        self.wrapped = wrap_model(self.model, context)
        if config.compile:
            self.wrapped = torch.compile(self.wrapped)
        optimizer = make_optimizer(
            self.model, lr=config.lr, weight_decay=config.weight_decay, betas=config.betas, eps=config.eps
        )
        schedule = Schedule(config.steps, config.warmup_steps, config.decay, config.final_lr_ratio)
        self.tools = StepTools(
            optimizer, make_scheduler(optimizer, schedule), numerics, make_scaler(numerics), config.grad_clip, context
        )
        self.order = torch.Generator().manual_seed(derive_seed(config.seed, "order"))
        self.masking = torch.Generator().manual_seed(derive_seed(config.seed, "masking"))
        self.collate = MaskingCollator(config.masking, vocab_size=data.vocab_size, generator=self.masking)
        self.step = self.epoch = self.batch_in_epoch = self.tokens_seen = 0
        self.epoch_start = self.order.get_state()
        self.history = History()
        self.window = RecordWindow()

    def resume(self, out_dir: Path) -> None:
        """Load the weights, optimizer, scheduler, generators, position and history of a run."""
        self.model.load_state_dict(load_model(out_dir, device=self.tools.numerics.device).model.state_dict())
        state = load_train_state(out_dir, self.tools.optimizer, self.tools.scheduler, self.tools.scaler)
        check_position(
            state,
            steps=self.config.steps,
            batches_per_epoch=len(self.epoch_batches_from(state.order_state)),
            source=out_dir,
        )
        self.step, self.epoch, self.batch_in_epoch = state.step, state.epoch, state.batch_in_epoch
        self.tokens_seen, self.epoch_start = state.tokens_seen, state.order_state
        self.masking.set_state(state.masking_state)
        self.history = History.load(out_dir / HISTORY_FILE).truncated(state.step)
        self.window = RecordWindow.from_dict(state.window)

    def state(self) -> TrainState:
        """The run's position and generator states now."""
        return TrainState(
            self.step,
            self.epoch,
            self.batch_in_epoch,
            self.tokens_seen,
            self.epoch_start,
            self.masking.get_state(),
            self.window.to_dict(),
        )

    def epoch_batches(self) -> torch.Tensor:
        """``(N_b, batch_size)`` the current epoch's batches, drawn from the epoch's saved order state."""
        return self.epoch_batches_from(self.epoch_start)

    def epoch_batches_from(self, order_state: torch.Tensor) -> torch.Tensor:
        """``(N_b, batch_size)`` the batches of the epoch whose data order starts at ``order_state``."""
        self.order.set_state(order_state)
        return batch_order(
            self.data.train.lengths, self.config.batch_size, self.order, group_by_length=not self.config.packing
        )

    def next_epoch(self) -> None:
        self.epoch, self.batch_in_epoch, self.epoch_start = self.epoch + 1, 0, self.order.get_state()

    def plan(self) -> StepPlan:
        """The length, batch size and mask rate of the next step, from the curriculum."""
        config = self.config
        return config.curriculum.plan(
            self.step,
            config.steps,
            full_len=config.seq_len,
            batch_size=config.batch_size,
            divisor=config.grad_accum * self.context.world_size,
        )

    def collate_plan(self, indices: torch.Tensor, plan: StepPlan) -> BatchShare:
        """This process's share of the global batch at ``indices``, cut to the plan's length and masked at its rate.

        Only the share's rows are padded and masked; the masking generator still draws for the
        whole batch (``MaskingCollator.collate_share``), so its numbers, and its state after the
        step, are those of one process masking everything.
        """
        rank, world = self.context.rank, self.context.world_size
        if plan.length != self.config.seq_len:  # pieces may join blocks: cut them all, keep this share's
            pieces = cut_blocks(
                self.data.train.examples(indices), plan.length, plan.batch_size, keep=self.config.curriculum.length.keep
            )
            size = len(pieces) // world
            examples = pieces[rank * size : (rank + 1) * size]
        else:
            size = len(indices) // world
            examples = self.data.train.examples(indices[rank * size : (rank + 1) * size])
        collate = self.collate
        changes = {"mask_prob": plan.mask_prob, "replace_probs": plan.replace_probs}
        changes = {k: v for k, v in changes.items() if v is not None and v != getattr(self.config.masking, k)}
        if changes:
            masking = dataclasses.replace(self.config.masking, **changes)
            collate = MaskingCollator(masking, vocab_size=self.data.vocab_size, generator=self.masking)
        return collate.collate_share(
            examples, share=rank, gather=lambda counts: all_gather_counts(counts, self.context)
        )

    def take_step(self, indices: torch.Tensor) -> tuple[StepStats, int]:
        """Mask this process's share of the global batch at ``indices`` and train; returns stats and tokens."""
        share = self.collate_plan(indices, self.plan())
        parts = split_batch(share.batch, self.config.grad_accum)  # this process's micro-batches
        torch.manual_seed(derive_seed(self.config.seed, "dropout", self.context.rank, self.step))  # dropout: per step
        stats = train_step(self.wrapped, parts, max(1, share.n_predictions), self.tools, self.step)
        self.step, self.batch_in_epoch, self.tokens_seen = (
            self.step + 1,
            self.batch_in_epoch + 1,
            self.tokens_seen + share.n_tokens,
        )
        return stats, share.n_tokens

    def evaluate(self, tokenizer: Tokenizer, probes: Sequence[ProbeLike]) -> EvalRecord:
        """Score the fixed validation batches and the probes; append the record to the history."""
        probe_scores = probe_accuracy(score_probes(self.model, tokenizer, probes)) if probes else {}
        if self.data.eval_batches:
            scores = evaluate_masked(self.model, self.data.eval_batches, self.tools.numerics)
            record = EvalRecord(self.step, scores.loss, scores.accuracy, scores.perplexity, probe_scores)
        else:
            nan = float("nan")
            record = EvalRecord(self.step, nan, nan, nan, probe_scores)
        self.history.eval.append(record)
        return record

    def save(self, out_dir: Path, tokenizer: Tokenizer) -> None:
        """Write a complete checkpoint (rank 0 only), replacing the previous one atomically."""
        if self.context.is_main:
            staging = stage_checkpoint(out_dir, self.model, tokenizer, self.config)
            save_train_state(staging, self.state(), self.tools.optimizer, self.tools.scheduler, self.tools.scaler)
            self.history.save(staging / HISTORY_FILE)
            commit_checkpoint(staging)
        barrier(self.context)


EvalCallback = Callable[[EvalRecord], None]
SaveCallback = Callable[[Path, int], None]


def _run(
    loop: _Loop,
    tokenizer: Tokenizer,
    probes: Sequence[ProbeLike],
    out_dir: Path | None,
    bar: tqdm,
    on_evaluate: EvalCallback | None = None,
    on_save: SaveCallback | None = None,
    stop_after: int | None = None,
) -> None:
    """Train until ``config.steps`` (or ``stop_after``), recording, evaluating and saving on schedule."""
    config, window = loop.config, loop.window
    end = config.steps if stop_after is None else min(stop_after, config.steps)
    while loop.step < end:
        batches = loop.epoch_batches()
        while loop.batch_in_epoch < len(batches) and loop.step < end:
            lr = loop.tools.optimizer.param_groups[0]["lr"]
            start = time.perf_counter()
            stats, n_tokens = loop.take_step(batches[loop.batch_in_epoch])
            window.seconds += time.perf_counter() - start
            window.loss, window.accuracy = window.loss + stats.loss, window.accuracy + stats.accuracy
            window.steps, window.tokens = window.steps + 1, window.tokens + n_tokens
            rate = window.tokens / max(window.seconds, 1e-9)
            bar.set_postfix(loss=f"{stats.loss:.3f}", acc=f"{stats.accuracy:.3f}", tok_s=f"{rate:.0f}", refresh=False)
            bar.update(1)
            last = loop.step == config.steps
            if loop.step % config.log_every == 0 or last:
                loop.history.train.append(window.record(loop.step, lr, loop.tokens_seen))
                window = loop.window = RecordWindow()
            if loop.step % config.eval_every == 0 or last:
                record = loop.evaluate(tokenizer, probes)
                if on_evaluate is not None and loop.context.is_main:
                    on_evaluate(record)
            save_now = loop.step % config.save_every == 0 if config.save_every else loop.step % config.eval_every == 0
            if out_dir is not None and (save_now or last or loop.step == end):
                loop.save(out_dir, tokenizer)
                if on_save is not None and loop.context.is_main:
                    on_save(out_dir, loop.step)
        if loop.batch_in_epoch >= len(batches):
            loop.next_epoch()


def _check_inputs(config: TrainConfig, model_config: ModelConfig, tokenizer: Tokenizer | None) -> None:
    if config.seq_len > model_config.max_len:
        raise ValueError(
            f"seq_len={config.seq_len} exceeds the model's max_len={model_config.max_len}; "
            "shorten the sequences or enlarge max_len"
        )
    if tokenizer is not None and tokenizer.get_vocab_size() > model_config.vocab_size:
        raise ValueError(
            f"the tokenizer has {tokenizer.get_vocab_size()} tokens but the model's vocab_size is "
            f"{model_config.vocab_size}; train a smaller vocabulary or enlarge vocab_size"
        )


def _open_run(
    out_dir: Path | None, config: TrainConfig, model_config: ModelConfig, resume: bool, context: DistributedContext
) -> bool:
    """Check the run directory on rank 0 and share the verdict; True if a run is resumed."""
    if out_dir is None:
        if resume:
            raise ValueError("resume=True needs the out_dir of the run to continue")
        return False
    verdict = ""
    if context.is_main:
        try:
            verdict = "resume" if check_out_dir(out_dir, config, model_config, resume=resume) else "new"
        except (ValueError, OSError) as error:
            verdict = f"error:{error}"
    verdict = broadcast_text(verdict, context)
    if verdict.startswith("error:"):
        raise ValueError(verdict.removeprefix("error:"))
    return verdict == "resume"


def train(
    config: TrainConfig,
    model_config: ModelConfig,
    *,
    dataset: datasets.DatasetDict,
    tokenizer: Tokenizer | None = None,
    probes: Sequence[ProbeLike] = (),
    out_dir: str | Path | None = None,
    resume: bool = False,
    device: str | torch.device | None = None,
    progress: bool = False,
    on_evaluate: EvalCallback | None = None,
    on_save: SaveCallback | None = None,
    stop_after: int | None = None,
) -> TrainResult:
    """Train a masked language model from scratch, or resume a run.

    Under ``torchrun`` every process calls this; they split each batch and stay in sync.

    Args:
        config: the training choices (steps, batch, schedule, masking, precision, seed...).
        model_config: the model's shape.
        dataset: splits ``train`` and optionally ``validation``, with a ``text`` column.
        tokenizer: the tokenizer for a new run; a resumed run uses its own ``tokenizer.json``.
        probes: probe sentences scored at each evaluation (``corpus.make_probes``), or none.
        out_dir: the run directory for checkpoints, or ``None`` to keep nothing on disk.
        resume: continue the run in ``out_dir`` (its configs must match, see ``training.run_dir``).
        device: where to train; ``None`` picks a GPU if there is one.
        progress: show a progress bar with loss, masked accuracy and tokens per second.
        on_evaluate: called on the main process with each evaluation's record, after it is
            appended to the history (to print it, or to write it to TensorBoard).
        on_save: called on the main process with the run directory and the step after each
            checkpoint is committed (the command line keeps a transformers copy in ``hf/`` with it).
        stop_after: return after this step of the schedule instead of at ``config.steps``: the
            first part of a longer run, exactly (its schedule is still that of ``config.steps``;
            with ``out_dir`` the run is saved there, and ``resume=True`` continues it).

    Returns:
        The model, its history and how far it trained.

    Raises:
        ValueError: for inputs that do not fit together or a directory that may not be used.
        TrainingDiverged: if the loss becomes NaN or infinite; the last checkpoint is kept.
    """
    out_path = Path(out_dir) if out_dir is not None else None
    _check_inputs(config, model_config, tokenizer)
    if stop_after is not None and (isinstance(stop_after, bool) or not isinstance(stop_after, int) or stop_after < 1):
        raise ValueError(f"stop_after must be a positive step number, got {stop_after!r}; or None to train to the end")
    numerics = resolve_numerics(config.precision, device)
    context = setup_distributed(numerics.device)
    numerics = Numerics(context.device, numerics.autocast_dtype)
    config.micro_batch_size(context.world_size)  # raises if the batch does not split evenly
    resumed = _open_run(out_path, config, model_config, resume, context)
    if resumed:
        tokenizer = Tokenizer.from_file(str(out_path / TOKENIZER_FILE))  # type: ignore[operator]
    elif tokenizer is None:
        raise ValueError("a new run needs a tokenizer; pass tokenizer=... (see mlm_book.tokenization)")
    _check_inputs(config, model_config, tokenizer)
    loop = _Loop(config, model_config, prepare_data(dataset, tokenizer, config), context, numerics)
    if resumed:
        loop.resume(out_path)  # type: ignore[arg-type]
    bar = tqdm(
        total=config.steps,
        initial=min(loop.step, config.steps),
        disable=not (progress and context.is_main),
        unit="step",
        dynamic_ncols=True,
    )
    try:
        _run(loop, tokenizer, probes, out_path, bar, on_evaluate, on_save, stop_after)
    except TrainingDiverged as error:
        raise TrainingDiverged(_diverged_message(str(error), loop, out_path)) from None
    finally:
        bar.close()
    return TrainResult(loop.model, loop.history, loop.step, loop.tokens_seen, out_path, context)


def _diverged_message(what: str, loop: _Loop, out_dir: Path | None) -> str:
    """Say what went wrong, what was kept, and what to try."""
    kept = "nothing was saved"
    if out_dir is not None and (out_dir / STATE_JSON).is_file():
        kept = f"the last good checkpoint (step {read_json(out_dir / STATE_JSON)['step']}) in {out_dir} is kept"
    return (
        f"{what}; training stopped before that update and {kept}; lower the learning rate "
        f"(lr={loop.config.lr}) or clip gradients harder, then start again"
    )
