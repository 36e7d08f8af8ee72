"""Small fastai callbacks: mixed precision on every device, channels_last, checkpoints, resume, gallery."""
from __future__ import annotations

from pathlib import Path

import torch
from fastai.callback.core import Callback, CancelEpochException
from fastai.callback.fp16 import MixedPrecision
from torch.amp import GradScaler

from colorlab.core.checkpoint import save_checkpoint
from colorlab.core.device import autocast_dtype

__all__ = ["DeviceMixedPrecision", "ChannelsLast", "CheckpointEvery", "ResumeAt", "GalleryEvery"]


class DeviceMixedPrecision(MixedPrecision):
    """fastai's ``MixedPrecision`` for the device the data is on.

    fastai hard-codes ``autocast("cuda")``, which does nothing on a CPU. This picks the device
    from the DataLoaders and autocasts to ``dtype`` (default: what :func:`colorlab.training.speed.speed_plan`
    measured to be fastest there, see :func:`colorlab.core.device.autocast_dtype`). fp16 gets a
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


class ChannelsLast(Callback):
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

    def _rank0(self) -> bool:
        return not (torch.distributed.is_available() and torch.distributed.is_initialized()) or torch.distributed.get_rank() == 0

    def after_epoch(self):
        done = self.epoch + 1
        if getattr(self.learn, "skipping_epoch", False):
            return
        if (done % self.every == 0 or done == self.n_epoch) and self._rank0():
            model = getattr(self.model, "module", self.model)  # unwrap DistributedDataParallel
            save_checkpoint(self.path, model, self.config, opt_state=self.opt.state_dict(), epoch=done)


class ResumeAt(Callback):
    """Skip the first ``epoch`` epochs *and* advance the one-cycle schedule past them.

    fastai's own ``start_epoch`` skips epochs without moving ``train_iter``/``pct_train``, so the
    learning-rate schedule would restart from warm-up; this keeps it where the killed run left it.
    """

    order = 70

    def __init__(self, epoch: int):
        self.start = int(epoch)

    def before_epoch(self):
        self.learn.skipping_epoch = self.epoch < self.start
        if self.learn.skipping_epoch:
            self.learn.train_iter += len(self.dls.train)
            self.learn.pct_train += 1.0 / self.n_epoch
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
        if getattr(self.learn, "skipping_epoch", False) or (done % self.every and done != self.n_epoch):
            return
        if torch.distributed.is_available() and torch.distributed.is_initialized() and torch.distributed.get_rank() != 0:
            return
        from colorlab.core.color import get_colorspace
        from colorlab.models import predict_ab
        from colorlab.viz.lab import save_gallery

        xb, yb = self.dls.valid.one_batch()
        xb, yb = xb[: self.n], yb[: self.n]
        model = getattr(self.model, "module", self.model)
        pred = predict_ab(model, xb)
        save_gallery(self.folder / f"gallery_epoch{done:03d}.png", xb, pred, yb, title=f"epoch {done}",
                     join=get_colorspace(self.colorspace).join)
