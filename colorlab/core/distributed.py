"""Data-parallel training on PyTorch's own engine (``torch.distributed`` + DDP under ``torchrun``).

One process per GPU (or several CPU processes with the gloo backend). ``torchrun`` starts them and
sets ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``; this module reads
those, joins the process group (NCCL on GPUs, gloo on CPUs), shards the training cache with
``torch.utils.data.DistributedSampler``; the model is wrapped in ``DistributedDataParallel`` by a
small fastai callback (:class:`colorlab.training.callbacks.DistributedDDP`). Gradients are averaged
by DDP's all-reduce; nothing here averages by hand.

    torchrun --nproc_per_node 4 -m colorlab train places365 --distributed ...

Without those variables every helper answers "one process, rank 0", so the same code runs unchanged
on a laptop.
"""
from __future__ import annotations

import contextlib
import copy
import datetime
import os
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.distributed as dist
from torch import nn

from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError

__all__ = ["DistInfo", "env_world", "is_distributed", "rank", "world_size", "is_rank0", "init_distributed",
           "teardown_distributed", "distributed_context", "rank0_first", "barrier", "convert_sync_batchnorm",
           "sync_batchnorm_copy", "shard_indices"]


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: ``rank`` of ``world_size`` processes, ``local_rank`` on its machine."""

    rank: int
    local_rank: int
    world_size: int
    device: torch.device
    backend: str | None

    @property
    def is_rank0(self) -> bool:
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ColorlabError(f"environment variable {name}={value!r} is not an integer (torchrun sets it)") from None


def env_world() -> tuple[int, int, int]:
    """``(rank, local_rank, world_size)`` from the variables torchrun sets; ``(0, 0, 1)`` without them."""
    return _env_int("RANK", 0), _env_int("LOCAL_RANK", 0), _env_int("WORLD_SIZE", 1)


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's global rank (0 when not distributed)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else env_world()[0]


def world_size() -> int:
    """Number of processes (1 when not distributed)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else env_world()[2]


def is_rank0() -> bool:
    """True in the process that writes files (checkpoints, galleries, metrics)."""
    return rank() == 0


def barrier() -> None:
    """Wait for every process (a no-op outside a process group)."""
    if is_distributed():
        if dist.get_backend() == "nccl":
            dist.barrier(device_ids=[torch.cuda.current_device()])
        else:
            dist.barrier()


def _device_for(local_rank: int, device) -> torch.device:
    if device in (None, "auto"):
        return torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    dev = get_device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", local_rank)
    return dev


def init_distributed(backend: str | None = None, device="auto", timeout_s: float = 1800) -> DistInfo:
    """Join the process group described by torchrun's environment variables.

    Args:
        backend: ``"nccl"`` (GPUs) or ``"gloo"`` (CPUs); default: nccl when the device is CUDA.
        device: ``"auto"`` gives ``cuda:LOCAL_RANK`` when there are GPUs, else the CPU.
        timeout_s: how long collectives wait for a slow peer before failing.
    Returns:
        a :class:`DistInfo`. With ``WORLD_SIZE`` unset or 1 nothing is initialised (rank 0 of 1).
    """
    rank_, local_rank, world = env_world()
    dev = _device_for(local_rank, device)
    if dev.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ColorlabError(f"LOCAL_RANK={local_rank} but only {torch.cuda.device_count()} GPU(s) are visible; "
                                "use --nproc_per_node <= number of GPUs")
        torch.cuda.set_device(dev)
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), local_rank, dist.get_world_size(), dev, dist.get_backend())
    if world <= 1:
        return DistInfo(0, 0, 1, dev, None)
    if not dist.is_available():
        raise ColorlabError("this PyTorch build has no torch.distributed; install the standard torch wheel")
    for var in ("MASTER_ADDR", "MASTER_PORT"):
        if not os.environ.get(var):
            raise ColorlabError(f"WORLD_SIZE={world} but {var} is not set; start the processes with torchrun")
    backend = backend or ("nccl" if dev.type == "cuda" else "gloo")
    kwargs = {"device_id": dev} if backend == "nccl" else {}
    dist.init_process_group(backend, rank=rank_, world_size=world,
                            timeout=datetime.timedelta(seconds=timeout_s), **kwargs)
    return DistInfo(rank_, local_rank, world, dev, backend)


def teardown_distributed() -> None:
    """Leave the process group (safe to call when none is initialised)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


@contextlib.contextmanager
def distributed_context(backend: str | None = None, device="auto") -> Iterator[DistInfo]:
    """``with distributed_context() as info:`` — join on entry, leave on exit (only if we joined)."""
    owned = not (dist.is_available() and dist.is_initialized())
    info = init_distributed(backend, device)
    try:
        yield info
    finally:
        if owned:
            teardown_distributed()


@contextlib.contextmanager
def rank0_first() -> Iterator[None]:
    """Run the block on rank 0 first, then on the others (e.g. ``prepare``: one process builds the cache)."""
    if not is_rank0():
        barrier()
    yield
    if is_rank0():
        barrier()


def convert_sync_batchnorm(model: nn.Module, device: torch.device) -> nn.Module:
    """BatchNorm → SyncBatchNorm, so batch statistics cover the global batch, where it matters.

    PyTorch only syncs batch-norm on accelerators; on the CPU (and with one process) the model is
    returned unchanged. Otherwise: :func:`sync_batchnorm_copy` (``model`` itself keeps its BatchNorm).
    """
    if device.type == "cpu" or not is_distributed():
        return model
    if not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
        return model
    return sync_batchnorm_copy(model)


def sync_batchnorm_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with SyncBatchNorm for every BatchNorm, sharing every parameter and buffer.

    ``nn.SyncBatchNorm.convert_sync_batchnorm`` replaces the layers inside the model it is given, so
    the model a user passed in (and saves after training) would keep SyncBatchNorm. Here only the
    module tree is new: training the copy trains ``model`` (same tensors), and ``model`` stays plain.
    """
    if isinstance(model, nn.modules.batchnorm._BatchNorm):
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)  # a leaf: a new layer, the old one untouched
    out = copy.copy(model)
    out._parameters, out._buffers = dict(model._parameters), dict(model._buffers)
    out._modules = {name: None if child is None else sync_batchnorm_copy(child) for name, child in model._modules.items()}
    return out


def shard_indices(n: int, shuffle: bool, seed: int, epoch: int, rank: int, world_size: int) -> list[int]:
    """This rank's share of ``range(n)`` for one epoch, from ``torch.utils.data.DistributedSampler``.

    Every rank draws the same permutation (``seed``, ``epoch``), pads it to a multiple of
    ``world_size`` by repeating the first items, and takes every ``world_size``-th one, so all
    ranks get the same number of items and together cover the whole set.
    """
    sampler = torch.utils.data.DistributedSampler(range(n), num_replicas=world_size, rank=rank,
                                                  shuffle=shuffle, seed=seed, drop_last=False)
    sampler.set_epoch(epoch)
    return list(sampler)
