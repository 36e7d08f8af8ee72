"""The kit's fastai callbacks: mixed precision on every device, channels_last, checkpoints, resume,
galleries, weight snapshots and data-parallel training (DDP)."""
from __future__ import annotations

from pathlib import Path

import torch
from fastai.callback.core import Callback, CancelEpochException
from fastai.callback.fp16 import MixedPrecision
from torch.amp import GradScaler
from torch.nn.parallel import DistributedDataParallel

from colorlab.core.checkpoint import save_checkpoint
from colorlab.core.color import get_colorspace
from colorlab.core.distributed import convert_sync_batchnorm, is_distributed, is_rank0
from colorlab.hints.sampling import HintSampler
from colorlab.models.heads import predict_ab
from colorlab.training.gallery import save_gallery
from colorlab.core.speed import autocast_dtype

__all__ = ["DeviceMixedPrecision", "ChannelsLastFormat", "CheckpointEvery", "ResumeAt", "GalleryEvery", "SnapshotAt",
           "DistributedDDP", "HintCallback"]


class DeviceMixedPrecision(MixedPrecision):
    """fastai's ``MixedPrecision`` for the device the data is on.

    fastai hard-codes ``autocast("cuda")``, which does nothing on a CPU. This picks the device
    from the DataLoaders and autocasts to ``dtype`` (default: what :func:`colorlab.training.speed.speed_plan`
    measured to be fastest there, see :func:`colorlab.training.speed.autocast_dtype`). fp16 gets a
    gradient scaler (fastai's own logic); bf16 needs none.
    """

    def __init__(self, dtype: torch.dtype | None = None, **kwargs):
        super().__init__(**kwargs)
        self.dtype = dtype

    def before_fit(self):
        dev = self.dls.device if getattr(self.dls, "device", None) is not None else next(self.model.parameters()).device
        dtype = self.dtype or autocast_dtype(dev) or torch.float32
        self.kwargs["enabled"] = dtype == torch.float16
        self.autocast = torch.autocast(dev.type, dtype=dtype, enabled=dtype != torch.float32)
        self.learn.scaler = GradScaler(dev.type if dev.type in ("cuda", "cpu") else "cpu", **self.kwargs)
        self.scales = []


class ChannelsLastFormat(Callback):
    """Keep the model and its inputs in ``channels_last`` memory format (faster convs on CPU and tensor cores)."""

    order = 9

    def before_fit(self):
        self.learn.model = self.model.to(memory_format=torch.channels_last)

    def before_batch(self):
        self.learn.xb = tuple(x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x for x in self.xb)


class CheckpointEvery(Callback):
    """Write ``path`` (weights, optimizer state, epoch, config) every ``every`` epochs and after the last.

    Writes are atomic (see :func:`colorlab.core.checkpoint.save_checkpoint`), so a run killed at any
    moment leaves the previous checkpoint intact; at most ``every`` epochs of work are lost.
    Only rank 0 writes in distributed runs.
    """

    order = 60

    def __init__(self, path: str | Path, config: dict, every: int = 1):
        self.path, self.config, self.every = Path(path), config, max(1, int(every))

    def after_epoch(self):
        done = self.epoch + 1
        if getattr(self.learn, "skipping_epoch", False):
            return
        if (done % self.every == 0 or done == self.n_epoch) and is_rank0():
            model = getattr(self.model, "module", self.model)  # unwrap DistributedDataParallel
            save_checkpoint(self.path, model, self.config, opt_state=self.opt.state_dict(), epoch=done)


class ResumeAt(Callback):
    """Skip the first ``epoch`` epochs *and* advance the one-cycle schedule past them.

    fastai's own ``start_epoch`` skips epochs without moving ``train_iter``/``pct_train``, so the
    learning-rate schedule would restart from warm-up; this keeps it where the killed run left it, and
    moves the training loader's shuffle on by the skipped epochs (the resumed run sees the same batches).
    """

    order = 70

    def __init__(self, epoch: int):
        self.start = int(epoch)

    def before_epoch(self):
        self.learn.skipping_epoch = self.epoch < self.start
        if self.learn.skipping_epoch:
            self.learn.train_iter += len(self.dls.train)
            self.learn.pct_train += 1.0 / self.n_epoch
            self.dls.train.randomize()  # draw the skipped epoch's shuffle, as the uninterrupted run did
            self.dls.train.epoch_batches()  # (with steps per epoch: takes them from the stream)
            raise CancelEpochException

    def after_fit(self):
        self.learn.skipping_epoch = False


class GalleryEvery(Callback):
    """Save a gray / predicted / truth figure of a fixed validation batch every ``every`` epochs."""

    order = 65

    def __init__(self, folder: str | Path, every: int = 1, n: int = 6, colorspace: str = "lab"):
        self.folder, self.every, self.n, self.colorspace = Path(folder), max(1, int(every)), n, colorspace

    def after_epoch(self):
        done = self.epoch + 1
        if getattr(self.learn, "skipping_epoch", False) or (done % self.every and done != self.n_epoch) or not is_rank0():
            return
        xb, yb = self.dls.valid.one_batch()
        xb, yb = xb[: self.n], yb[: self.n]
        model = getattr(self.model, "module", self.model)
        pred = predict_ab(model, xb)
        save_gallery(self.folder / f"gallery_epoch{done:03d}.png", xb, pred, yb, title=f"epoch {done}",
                     join=get_colorspace(self.colorspace).join)


class SnapshotAt(Callback):
    """Keep a copy of the weights after the given epochs (``folder/snapshot_epoch<e>.pt``), rank 0 only."""

    order = 61

    def __init__(self, epochs, folder: str | Path, config: dict | None = None):
        self.epochs, self.folder, self.config = set(int(e) for e in epochs), Path(folder), dict(config or {})

    def after_epoch(self):
        done = self.epoch + 1
        if getattr(self.learn, "skipping_epoch", False) or done not in self.epochs or not is_rank0():
            return
        model = getattr(self.model, "module", self.model)
        config = {**self.config, "model": model.config, "epoch": done}
        save_checkpoint(self.folder / f"snapshot_epoch{done:03d}.pt", model, config, epoch=done)


class DistributedDDP(Callback):
    """Wrap the model in ``DistributedDataParallel`` for the fit, unwrap it after.

    Runs after :class:`ChannelsLastFormat` (order 9) so DDP sees the final memory format; BatchNorm
    becomes SyncBatchNorm on GPUs when ``sync_bn``. Non-zero ranks stay quiet (no progress bar, no
    logger) — rank 0 reports and writes files. The process group is :mod:`colorlab.core.distributed`'s.
    """

    order = 11

    def __init__(self, sync_bn: bool = True, find_unused_parameters: bool = False):
        self.sync_bn, self.find_unused = sync_bn, find_unused_parameters

    def before_fit(self):
        if not is_distributed():
            return
        self.plain = self.learn.model
        dev = next(self.plain.parameters()).device
        net = convert_sync_batchnorm(self.plain, dev) if self.sync_bn else self.plain
        self.learn.model = DistributedDataParallel(
            net, device_ids=[dev.index] if dev.type == "cuda" else None,
            find_unused_parameters=self.find_unused)
        if not is_rank0():
            self.learn.logger = lambda *a, **k: None

    def after_fit(self):
        if isinstance(self.learn.model, DistributedDataParallel):
            self.learn.model = self.plain  # shares every parameter and buffer with the wrapped copy


class HintCallback(Callback):
    """Turn ``xb`` = normalised L ``(B, 1, H, W)`` into L + hints ``(B, 4, H, W)`` (a hint model's input).

    Hints are sampled from the batch's own target ``yb`` (normalised ab) by ``sampler``.
    Validation batches get hints from a generator reseeded every epoch, so the validation
    loss of different epochs is measured on the same hints.
    """

    order = 5  # before ChannelsLastFormat (9) and mixed precision (10) see the batch

    def __init__(self, sampler: HintSampler | None = None, valid_seed: int = 0):
        self.sampler = sampler or HintSampler()
        self.valid_seed = valid_seed

    def before_validate(self):
        self._gen = torch.Generator(device=self.dls.device or "cpu").manual_seed(self.valid_seed)

    def before_batch(self):
        (L,), (ab,) = self.xb, self.yb
        gen = None if self.training else getattr(self, "_gen", None)
        hints = self.sampler(ab, generator=gen).to(L.dtype)
        self.learn.xb = (torch.cat([L, hints], 1),)
