"""fastai DataLoaders over prepared uint8 caches, with the colour split done on the batch's device.

A batch leaves the cache as uint8 ``(B, H, W, 3)`` — a quarter of the bytes of float32 — and
becomes ``(gray, chroma)`` (Lab: ``(L/50 - 1, ab/110)``) only after it has been moved to the
device, so the colour maths runs on the GPU when there is one.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from colorlab.core.color import LAB, get_colorspace
from colorlab.core.logs import quiet_imports
from colorlab.core.device import get_device
from colorlab.core.distributed import shard_indices
from colorlab.core.errors import ColorlabError
from colorlab.core.options import with_options

with quiet_imports():  # fastai calls the deprecated torch.jit.script while it is imported: silenced here only
    from fastai.data.core import DataLoaders, ItemTransform
    from fastai.data.load import DataLoader
    from fastai.torch_core import to_device

__all__ = ["LabBatch", "CacheLoader", "LoaderOptions", "make_dataloaders", "default_workers", "uint8_to_rgb",
           "lab_batch"]


def uint8_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """uint8 ``(B, H, W, 3)`` → float RGB ``(B, 3, H, W)`` in [0, 1]."""
    return x.permute(0, 3, 1, 2).contiguous().float().div_(255.0)


class LabBatch(ItemTransform):
    """Batch transform: ``(uint8 images, labels)`` → ``(normalised gray, target)``.

    ``target="ab"`` gives the normalised chroma (colorizers), ``"label"`` the class labels
    (profile/category predictors). ``augment`` (optional) is applied to RGB in [0, 1]
    *before* the split, so gray and chroma stay aligned. ``colorspace`` picks the split
    (:func:`colorlab.core.color.get_colorspace`): Lab gives ``(L/50-1, ab/110)``, YCbCr
    ``(2Y-1, 2(CbCr-½))``.
    """

    order = 10

    def __init__(self, target: str = "ab", augment: Callable | None = None, colorspace: str = "lab"):
        if target not in ("ab", "label"):
            raise ColorlabError(f"target must be 'ab' or 'label', got {target!r}")
        self.target, self.augment, self.colorspace = target, augment, colorspace
        self.space = get_colorspace(colorspace)

    def encodes(self, b):
        x, y = b
        if x.is_floating_point():  # exact float Lab (N, H, W, 3), e.g. the scenes cache: no RGB round trip
            lab = x.permute(0, 3, 1, 2).float()
            if self.augment is None and self.space is LAB:
                gray, chroma = LAB.normalise(lab)
                return gray, (chroma if self.target == "ab" else y)
            rgb = LAB.invert(lab)
        else:
            rgb = uint8_to_rgb(x)
        if self.augment is not None:
            rgb = self.augment(rgb)
        gray, chroma = self.space.split(rgb)
        return gray, (chroma if self.target == "ab" else y)


def _as_is(batch):
    return batch


class _EpochBatches(torch.utils.data.Dataset):
    """One epoch's batches of a :class:`CacheLoader` by number: what torch's DataLoader (and its workers) read."""

    def __init__(self, loader: "CacheLoader", chunks: list):
        self.loader, self.chunks = loader, chunks

    def __len__(self):
        return len(self.chunks)

    def __getitem__(self, i):
        return self.loader.do_batch(self.chunks[i])


class CacheLoader(DataLoader):
    """A fastai DataLoader that reads whole batches from a uint8 memmap with one fancy index.

    Reading ``images[sorted_indices]`` is one sequential-ish copy per batch instead of ``bs``
    small ones through a Dataset, which keeps the loader well ahead of training. Batches come
    from a plain ``torch.utils.data.DataLoader`` (``num_workers`` processes, pinned memory) and
    move to the device with ``non_blocking`` copies when pinned.

    With ``world_size > 1`` each epoch draws its indices from ``DistributedSampler``
    (:func:`colorlab.core.distributed.shard_indices`): every rank shuffles with the same
    ``(shard_seed, epoch)`` and reads only its own ``1/world_size`` share.

    ``steps`` (None: one pass per epoch) makes an epoch exactly ``steps`` full batches taken from a
    continuing stream of shuffles, the next epoch going on where this one stopped (Keras' ``steps_per_epoch``).
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray | None = None, rank: int = 0, world_size: int = 1,
                 shard_seed: int = 0, num_workers: int = 0, **kwargs):
        self.images = images
        self.labels = labels if labels is not None else np.full(len(images), -1, dtype=np.int64)
        self.rank, self.world_size, self.shard_seed, self.shard_epoch = int(rank), int(world_size), int(shard_seed), 0
        if not 0 <= self.rank < self.world_size:
            raise ColorlabError(f"rank must be in [0, world_size={world_size}), got {rank}")
        # as fastai: no worker processes on macOS and Windows (they would re-import and copy the cache)
        self.workers = 0 if sys.platform in ("darwin", "win32") else int(num_workers)
        self.steps, self._stream = None, []
        super().__init__(n=len(images), indexed=True, **kwargs)

    @property
    def n_shard(self) -> int:
        """Items this rank reads per epoch (all of them when not sharded)."""
        return -(-self.n // self.world_size)

    def __len__(self):
        if self.steps:
            return int(self.steps)
        if self.world_size == 1:
            return super().__len__()
        n, bs = self.n_shard, self.bs or 1
        return n // bs + (0 if self.drop_last or n % bs == 0 else 1)

    def get_idxs(self):
        if self.world_size == 1:
            return super().get_idxs()
        idxs = shard_indices(self.n, self.shuffle, self.shard_seed, self.shard_epoch, self.rank, self.world_size)
        self.shard_epoch += 1
        return idxs

    def create_item(self, s):
        return s

    def epoch_batches(self) -> list[list[int]]:
        """This epoch's indices in batches of ``bs`` (the last, shorter one dropped with ``drop_last``)."""
        if self.steps:
            return self._stream_batches()
        idxs, bs = list(self.get_idxs()), self.bs or 1
        chunks = [idxs[i:i + bs] for i in range(0, len(idxs), bs)]
        return chunks[:-1] if chunks and self.drop_last and len(chunks[-1]) < bs else chunks

    def _stream_batches(self) -> list[list[int]]:
        """``steps`` batches of ``bs`` from the stream of shuffles (a new shuffle whenever the set is used up)."""
        bs = self.bs or 1
        need = int(self.steps) * bs
        while len(self._stream) < need:
            self._stream.extend(int(i) for i in self.get_idxs())
        take, self._stream = self._stream[:need], self._stream[need:]
        return [take[i:i + bs] for i in range(0, need, bs)]

    def __iter__(self):
        self.randomize()
        self.before_iter()
        batches = torch.utils.data.DataLoader(_EpochBatches(self, self.epoch_batches()), batch_size=None,
                                              num_workers=self.workers, pin_memory=bool(self.pin_memory),
                                              collate_fn=_as_is)
        for b in batches:
            if type(b) is list:  # pinning turns tuples into lists
                b = tuple(b)
            if self.device is not None:
                b = to_device(b, self.device, non_blocking=bool(self.pin_memory))
            yield self.after_batch(b)
        self.after_iter()

    def create_batch(self, b):
        idx = np.sort(np.asarray(b, dtype=np.int64))
        return torch.from_numpy(np.ascontiguousarray(self.images[idx])), torch.from_numpy(self.labels[idx].astype(np.int64))

    def new(self, dataset=None, cls=None, **kwargs):
        """fastai's ``new`` (used by ``get_preds``, ``lr_find``) rebuilds from a dataset; we carry the arrays."""
        kw = dict(bs=self.bs, shuffle=self.shuffle, drop_last=self.drop_last, device=self.device,
                  after_batch=self.after_batch, num_workers=self.workers, rank=self.rank,
                  world_size=self.world_size, shard_seed=self.shard_seed, pin_memory=self.pin_memory)
        kw.update(kwargs)
        kw.pop("dataset", None)
        return CacheLoader(self.images, self.labels, **kw)


def _arrays(data) -> tuple[np.ndarray, np.ndarray | None]:
    """Accept a Prepared cache, a uint8 array (N, H, W, 3), or a (images, labels) pair.

    A cache that carries exact float Lab (``.lab``, the ``scenes`` dataset) is read from that.
    """
    if getattr(data, "lab", None) is not None:
        return data.lab, getattr(data, "labels", None)
    if hasattr(data, "images"):
        return data.images, getattr(data, "labels", None)
    if isinstance(data, tuple) and len(data) == 2:
        return np.asarray(data[0]), np.asarray(data[1])
    arr = np.asarray(data)
    return arr, None


@dataclass(frozen=True)
class LoaderOptions:
    """How :func:`make_dataloaders` batches a cache.

    Attributes:
        bs: batch size (per process).
        target: ``"ab"`` (normalised chroma ``(B,2,H,W)``) or ``"label"`` (class index ``(B,)``).
        num_workers: loader processes reading the memmap (each re-opens it; nothing is copied); None:
            :func:`default_workers` for the device (0 on a CPU, a few on a GPU).
        seed: the seed of the validation split and of the shards.
        valid_pct: share of train held out when no ``valid`` is given.
        augment: optional batch transform on RGB ``(B,3,H,W)`` in [0, 1], training batches only.
        drop_last: drop the last, smaller training batch.
        colorspace: ``"lab"`` (L → ab) or ``"ycbcr"`` (Y → CbCr), see :mod:`colorlab.core.color`.
        rank, world_size: shard the *training* set across data-parallel processes
            (:mod:`colorlab.core.distributed`); every rank validates on the whole validation set.
        pin_memory: page-locked batches for asynchronous host→GPU copies; None: on when the
            device is CUDA (batches then move with ``non_blocking=True``).
    """

    bs: int = 64
    target: str = "ab"
    num_workers: int | None = None
    seed: int = 0
    valid_pct: float = 0.1
    augment: Callable | None = None
    drop_last: bool = True
    colorspace: str = "lab"
    rank: int = 0
    world_size: int = 1
    pin_memory: bool | None = None


def _split_valid(x_tr, y_tr, valid, opts: LoaderOptions):
    """``(x_tr, y_tr, x_va, y_va)``: ``valid``'s arrays, or a seeded ``valid_pct`` of train held out."""
    if valid is not None:
        return (x_tr, y_tr, *_arrays(valid))
    n_val = max(1, int(round(len(x_tr) * opts.valid_pct)))
    if len(x_tr) - n_val < 1:
        raise ColorlabError(f"need at least 2 images to split off a validation set, got {len(x_tr)}")
    perm = np.random.default_rng(opts.seed).permutation(len(x_tr))
    tr_idx, va_idx = np.sort(perm[n_val:]), np.sort(perm[:n_val])
    y = y_tr if y_tr is not None else np.full(len(x_tr), -1, dtype=np.int64)
    return x_tr[tr_idx], y[tr_idx], x_tr[va_idx], y[va_idx]


def default_workers(device) -> int:
    """Loader processes worth starting for ``device``: on a GPU a few (up to 4, half the CPU cores), so reading
    the next batch overlaps the GPU's work; on a CPU none (the model already uses every core, and a batch is a
    slice of a memory map)."""
    if get_device(device).type == "cpu":
        return 0
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def make_dataloaders(train, valid=None, options: LoaderOptions | None = None, *, device="auto",
                     **kw) -> DataLoaders:
    """fastai ``DataLoaders`` that yield ``(normalised gray (B,1,H,W), target)`` on ``device``.

    Args:
        train, valid: a prepared cache (``colorlab.data.prepare``), a uint8 array ``(N, H, W, 3)``
            or an ``(images, labels)`` pair. Without ``valid``, ``valid_pct`` of train (by a seeded
            permutation) is held out.
        options: a :class:`LoaderOptions`; ``**kw`` are its fields (``bs=``, ``target=``, ``seed=``,
            ``augment=``, ``colorspace=``, ``rank=``, ``world_size=``, ...) applied on top.
    """
    opts = with_options(options or LoaderOptions(), kw, "loader")
    dev = get_device(device)
    x_tr, y_tr = _arrays(train)
    if x_tr.ndim != 4 or x_tr.shape[-1] != 3 or x_tr.dtype not in (np.uint8, np.float32):
        raise ColorlabError(f"training images must be uint8 RGB or float32 Lab (N, H, W, 3), got {x_tr.dtype} {x_tr.shape}")
    x_tr, y_tr, x_va, y_va = _split_valid(x_tr, y_tr, valid, opts)
    pin = dev.type == "cuda" if opts.pin_memory is None else bool(opts.pin_memory and torch.cuda.is_available())
    n_tr = -(-len(x_tr) // opts.world_size)  # training items per rank
    bs_tr = min(opts.bs, n_tr)
    workers = default_workers(dev) if opts.num_workers is None else int(opts.num_workers)
    common = dict(device=dev, num_workers=workers, pin_memory=pin)
    train_dl = CacheLoader(x_tr, y_tr, bs=bs_tr, shuffle=True, drop_last=opts.drop_last and n_tr >= bs_tr,
                           after_batch=LabBatch(opts.target, opts.augment, opts.colorspace), rank=opts.rank,
                           world_size=opts.world_size, shard_seed=opts.seed, **common)
    valid_dl = CacheLoader(x_va, y_va, bs=min(opts.bs, len(x_va)) or 1, shuffle=False, drop_last=False,
                           after_batch=LabBatch(opts.target, colorspace=opts.colorspace), **common)
    return DataLoaders(train_dl, valid_dl, device=dev)


def lab_batch(data, indices, device="auto", colorspace: str = "lab") -> tuple[torch.Tensor, torch.Tensor]:
    """Items ``indices`` of ``data`` as the network sees them: ``(L/50-1 (B,1,H,W), ab/110 (B,2,H,W))``.

    Reads the exact float Lab of a dataset that has it (``scenes``), else converts its uint8 RGB —
    the same split the training batches go through (:class:`LabBatch`).
    """
    x, _ = _arrays(data)
    idx = np.asarray(list(indices) if not isinstance(indices, (np.ndarray, slice)) else indices)
    batch = torch.from_numpy(np.ascontiguousarray(x[idx])).to(get_device(device))
    return LabBatch("ab", colorspace=colorspace).encodes((batch, None))
