"""One optimizer step: forward and backward over micro-batches, then clip, step and schedule.

A step sees one *global* batch, split over processes and accumulation micro-batches. The loss
it minimises is the mean over every masked position of the global batch,

$$\\mathcal{L} = \\frac{1}{N} \\sum_{k} \\sum_{i \\in M_k} \\ell_i
             = \\sum_k \\frac{|M_k|}{N}\\, \\bar\\ell_k,$$

so micro-batch $k$, whose model loss is the mean $\\bar\\ell_k$ over its $|M_k|$ masked
positions, contributes $\\bar\\ell_k |M_k| / N$. (Averaging the micro-batch means instead would
weight a masked token more when its micro-batch happens to hold fewer.) DDP *averages*
gradients over the $W$ processes, so each process scales its part by $W$ as well. Then
the step is the same whatever the split, up to the order of floating-point sums.

What a micro-batch's loss averages over is the step's *objective*: masked positions for
masked-LM training (``masked_lm_objective``, the default), labelled tokens or examples for
fine-tuning (``training.finetune``). The weighting above is the same for all of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from mlm_book.data.batches import model_inputs
from mlm_book.training.distributed import DistributedContext, all_reduce_sum, no_gradient_sync
from mlm_book.utils.precision import Numerics, autocast


class TrainingDiverged(RuntimeError):
    """The loss or the gradients became NaN or infinite; the step was not taken."""


@dataclass(frozen=True)
class StepStats:
    """What one optimizer step measured, over the whole global batch.

    Attributes:
        loss: mean loss over every prediction (masked position, for masked-LM training).
        accuracy: fraction of predictions that are right.
        grad_norm: global gradient norm before clipping (``nan`` if not computed).
    """

    loss: float
    accuracy: float
    grad_norm: float


@dataclass(frozen=True)
class MicroBatchResult:
    """What an objective returns for one micro-batch, after its forward pass.

    Attributes:
        loss: the model's mean loss over the micro-batch's predictions (a scalar tensor).
        n_predictions: how many predictions that mean is over (known on the host).
        correct: how many of them are right (a scalar tensor).
        logits: the model's logits (a zero loss made from them still runs backward).
    """

    loss: torch.Tensor
    n_predictions: int
    correct: torch.Tensor
    logits: torch.Tensor


Objective = Callable[[nn.Module, dict[str, torch.Tensor], Numerics], MicroBatchResult]
"""Runs the model on a micro-batch (under autocast) and says what its loss averages over."""


def masked_lm_objective(model: nn.Module, batch: dict[str, torch.Tensor], numerics: Numerics) -> MicroBatchResult:
    """The masked-LM objective: mean cross-entropy over the masked positions of a collated batch."""
    inputs = model_inputs(batch, numerics.device)  # positions and padding decided on the host
    with autocast(numerics):
        out = model(**inputs)
    targets = inputs["labels"].flatten().index_select(0, inputs["masked_positions"])  # (N,), the logits' rows
    correct = (out.logits.detach().argmax(dim=-1) == targets).sum()
    return MicroBatchResult(out.loss, inputs["masked_positions"].numel(), correct, out.logits)


@dataclass(frozen=True)
class StepTools:
    """The objects a step uses, fixed for a run.

    Attributes:
        optimizer: the optimizer.
        scheduler: the learning-rate scheduler, stepped after each optimizer step.
        numerics: device and autocast dtype.
        scaler: the float16 gradient scaler, or ``None``.
        grad_clip: largest gradient norm (0: no clipping).
        context: the data-parallel context.
        objective: runs the model on a micro-batch; the masked-LM objective by default.
    """

    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    numerics: Numerics
    scaler: torch.amp.GradScaler | None
    grad_clip: float
    context: DistributedContext
    objective: Objective = masked_lm_objective


def _backward(model: nn.Module, batch: dict[str, torch.Tensor], n_predictions: int, tools: StepTools) -> torch.Tensor:
    """Forward and backward one micro-batch; return ``(2,)`` [loss sum, correct count]."""
    out = tools.objective(model, batch, tools.numerics)
    n = out.n_predictions
    # With nothing to predict the model's mean loss is NaN; a zero loss still runs backward (DDP needs it).
    loss = out.loss * (n * tools.context.world_size / n_predictions) if n else out.logits.sum() * 0.0
    (tools.scaler.scale(loss) if tools.scaler is not None else loss).backward()
    loss_sum = out.loss.detach().float() * n if n else torch.zeros((), device=tools.numerics.device)
    return torch.stack([loss_sum, out.correct.float()])


def train_step(
    model: nn.Module, micro_batches: Sequence[dict[str, torch.Tensor]], n_predictions: int, tools: StepTools, step: int
) -> StepStats:
    """Accumulate gradients over this process's micro-batches, then take one optimizer step.

    Args:
        model: the model, wrapped in DDP when several processes train.
        micro_batches: this process's micro-batches of the global batch, each with
            ``input_ids``, ``attention_mask`` and ``labels`` ``(b, T)`` (or what
            ``tools.objective`` reads).
        n_predictions: predictions (masked positions) in the whole global batch (all processes), > 0.
        tools: optimizer, scheduler, numerics, scaler, clipping, context.
        step: the index of this step (for the error message).

    Returns:
        The loss, accuracy and gradient norm of the global batch.

    Raises:
        TrainingDiverged: if the loss or the gradient norm is not finite (no step is taken).
    """
    totals = torch.zeros(2, device=tools.numerics.device)
    for index, batch in enumerate(micro_batches):
        with no_gradient_sync(model, skip=index < len(micro_batches) - 1):
            totals += _backward(model, batch, n_predictions, tools)
    all_reduce_sum(totals, tools.context)
    if tools.scaler is not None:
        tools.scaler.unscale_(tools.optimizer)
    norm = torch.full((), math.nan, device=tools.numerics.device)
    if tools.grad_clip > 0:
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), tools.grad_clip)
    loss_sum, correct, grad_norm = torch.stack([totals[0], totals[1], norm.float()]).tolist()
    loss = loss_sum / n_predictions
    scaler_handles_overflow = tools.scaler is not None
    if not math.isfinite(loss) or (
        tools.grad_clip > 0 and not scaler_handles_overflow and not math.isfinite(grad_norm)
    ):
        tools.optimizer.zero_grad(set_to_none=True)
        what = f"loss became {loss}" if not math.isfinite(loss) else f"gradient norm became {grad_norm}"
        raise TrainingDiverged(f"the {what} at step {step + 1}")
    if tools.scaler is not None:
        tools.scaler.step(tools.optimizer)
        tools.scaler.update()
    else:
        tools.optimizer.step()
    tools.optimizer.zero_grad(set_to_none=True)
    tools.scheduler.step()
    return StepStats(loss=loss, accuracy=correct / n_predictions, grad_norm=grad_norm)
