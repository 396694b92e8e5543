"""Data-parallel training with PyTorch DDP, started by ``torchrun``.

Every process holds a full copy of the model and trains on its own slice of each batch; after
the backward pass, DDP averages the gradients over the processes (an all-reduce), so every copy
takes the same optimizer step and the copies stay identical. ``torchrun --nproc-per-node N``
starts the processes and sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; the processes talk
over NCCL on GPUs and gloo on CPUs. Without those variables, everything here is a no-op and the
run is a single process.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class DistributedContext:
    """This process's place in a data-parallel run.

    Attributes:
        rank: index of this process, ``0 .. world_size - 1``.
        world_size: number of processes.
        local_rank: index on this machine (the GPU it uses).
        device: where this process computes.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """True for rank 0, which writes files and shows progress."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """True when several processes train together."""
        return self.world_size > 1


def setup_distributed(device: torch.device) -> DistributedContext:
    """Join the process group that ``torchrun`` describes, or stay a single process.

    Args:
        device: the device a single process would use; with several processes on GPUs,
            each takes ``cuda:LOCAL_RANK``.

    Returns:
        This process's context.

    Raises:
        ValueError: if the ``torchrun`` variables are malformed.
    """
    world_size = _env_int("WORLD_SIZE", 1)
    if world_size <= 1:
        return DistributedContext(device=device)
    rank, local_rank = _env_int("RANK", 0), _env_int("LOCAL_RANK", 0)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistributedContext(rank=rank, world_size=world_size, local_rank=local_rank, device=device)


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"environment variable {name}={text!r} is not a whole number; start with torchrun") from None


def wrap_model(model: nn.Module, context: DistributedContext) -> nn.Module:
    """Wrap the model in ``DistributedDataParallel`` when several processes train.

    Args:
        model: the model, already on ``context.device``.
        context: this process's context.

    Returns:
        The DDP wrapper, or ``model`` itself in a single process.
    """
    if not context.enabled:
        return model
    device_ids = [context.device.index] if context.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


@contextlib.contextmanager
def no_gradient_sync(model: nn.Module, skip: bool) -> Iterator[None]:
    """Skip DDP's gradient all-reduce for this backward pass (gradient accumulation).

    Args:
        model: the (possibly wrapped) model.
        skip: True for every micro-batch but the last of a step.
    """
    if skip and isinstance(model, DistributedDataParallel):
        with model.no_sync():
            yield
    else:
        yield


def all_reduce_sum(tensor: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """Sum a tensor over the processes (in place), and return it."""
    if context.enabled:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def all_gather_counts(counts: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """Every process's counts, in rank order: the data side's exchange (``MaskingCollator.collate_share``).

    Args:
        counts: ``(k,)`` long, this process's counts (on the CPU).
        context: this process's context.

    Returns:
        ``(world_size, k)`` long on the CPU, row ``r`` the counts of rank ``r`` (``counts[None]``
        in a single process). The host reads them at once: the data side may wait, the model may not.
    """
    if not context.enabled:
        return counts[None]
    local = counts.to(context.device)
    gathered = [torch.empty_like(local) for _ in range(context.world_size)]
    dist.all_gather(gathered, local)
    return torch.stack(gathered).cpu()


def barrier(context: DistributedContext) -> None:
    """Wait until every process reaches this point."""
    if context.enabled:
        dist.barrier()


def broadcast_text(text: str, context: DistributedContext) -> str:
    """Send rank 0's string to every process (e.g. an error found by rank 0 only), without pickle."""
    if not context.enabled:
        return text
    data = torch.tensor(list(text.encode("utf-8")), dtype=torch.uint8, device=context.device)
    size = torch.tensor([len(data)], dtype=torch.long, device=context.device)
    dist.broadcast(size, src=0)
    if context.rank != 0:
        data = torch.empty(int(size), dtype=torch.uint8, device=context.device)
    dist.broadcast(data, src=0)
    return bytes(data.tolist()).decode("utf-8")


def cleanup_distributed(context: DistributedContext) -> None:
    """Leave the process group (at the end of a run)."""
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()
