"""The pieces a training run is built from: DataLoaders, model, loss, speed plan, callbacks, Learner.

:func:`colorlab.training.train.train_colorizer` composes them; so can anything else that trains
(the hint trainer, the predictors, the benchmark) — e.g. ``build_learner(dls, config)`` gives a
ready fastai ``Learner`` for ``lr_find`` or a hand-written ``fit``.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

import torch
from fastai.data.core import DataLoaders
from fastai.learner import Learner
from fastai.optimizer import Adam
import fastai.callback.schedule  # noqa: F401  (patches Learner.fit_one_cycle and lr_find)

from colorlab.core.distributed import rank0_first
from colorlab.core.errors import ColorlabError
from colorlab.data.loaders import make_dataloaders
from colorlab.models import create
from colorlab.rarity.losses import make_loss
from colorlab.training.callbacks import (ChannelsLastFormat, CheckpointEvery, DeviceMixedPrecision, DistributedDDP,
                                         GalleryEvery)
from colorlab.training.config import TrainConfig
from colorlab.training.progress import plain_progress
from colorlab.core.precision import SpeedPlan
from colorlab.core.speed import speed_plan

__all__ = ["build_dataloaders", "build_model", "build_loss", "build_plan", "build_callbacks", "build_learner",
           "make_learner", "training_callbacks", "quiet"]


def build_dataloaders(train, valid, config: TrainConfig, device, rank: int = 0, world_size: int = 1) -> DataLoaders:
    """Colorizer DataLoaders (gray → chroma in ``config.colorspace``) for ``config``; ``rank`` reads its shard."""
    dls = make_dataloaders(train, valid, bs=config.bs, target="ab", device=device, seed=config.seed,
                           augment=config.augment, num_workers=config.num_workers, colorspace=config.colorspace,
                           rank=rank, world_size=world_size)
    dls.train.steps = config.steps_per_epoch  # None: one pass per epoch
    return dls


def build_model(config: TrainConfig) -> torch.nn.Module:
    """``config.model`` built from the registry (or taken as given), checked against the loss.

    ``loss="ce"`` gives a model named by string a classification head (``head="classification"``) unless
    ``model_kwargs`` says otherwise.
    """
    kwargs = dict(config.model_kwargs or {})
    if config.loss == "ce":
        kwargs.setdefault("head", "classification")
    net = create(config.model, **kwargs) if isinstance(config.model, str) else config.model
    if not hasattr(net, "config"):
        raise ColorlabError("model must come from colorlab.models.create (it needs a .config to be checkpointed)")
    if getattr(net, "head", "regression") == "classification" and config.loss != "ce":
        raise ColorlabError(f"a classification-head model needs loss='ce', got {config.loss!r}")
    return net


def build_loss(config: TrainConfig, prior, device) -> torch.nn.Module:
    """``config.loss`` with its options and ``prior``, on ``device``."""
    loss_func = make_loss(config.loss, prior=prior, **(config.loss_kwargs or {}))
    return loss_func.to(device) if hasattr(loss_func, "to") else loss_func


def build_plan(config: TrainConfig, dls: DataLoaders, verbose: bool = True) -> SpeedPlan:
    """The precision, memory format and compilation for this run (rank 0 measures, the others read its decision)."""
    run_images = config.epochs * len(dls.train) * config.bs
    with rank0_first():
        return speed_plan(dls.device, config.autocast_precision, config.channels_last, config.compile, run_images,
                          int(dls.train.images.shape[1]), verbose=verbose)


def build_callbacks(config: TrainConfig, out_dir: str | Path | None, checkpoint_config: dict, extra_cbs=None) -> list:
    """``extra_cbs``, then DDP (distributed runs), checkpoints and galleries (with an ``out_dir``)."""
    cbs = list(extra_cbs or [])
    if config.distributed:
        cbs.append(DistributedDDP(sync_bn=config.sync_bn))
    if out_dir is not None:
        cbs.append(CheckpointEvery(Path(out_dir) / "checkpoint.pt", checkpoint_config, every=config.checkpoint_every))
        if config.gallery_every:
            cbs.append(GalleryEvery(out_dir, every=config.gallery_every, colorspace=config.colorspace))
    return cbs


def training_callbacks(plan: SpeedPlan) -> list:
    """The speed callbacks a Learner gets for ``plan``: autocast in its precision, channels_last if it says so."""
    cbs = []
    if plan.precision != "fp32":
        cbs.append(DeviceMixedPrecision(plan.dtype))
    if plan.channels_last:
        cbs.append(ChannelsLastFormat())
    return cbs


def quiet(learn: Learner) -> Learner:
    """No progress bars and no per-epoch lines from ``learn``."""
    learn.remove_cbs([c for c in learn.cbs if type(c).__name__ == "ProgressCallback"])
    learn.logger = lambda *a, **k: None
    return learn


def make_learner(dls, model: torch.nn.Module, loss_func, precision: str | bool | None = None,
                 channels_last: bool | None = None, cbs=None, lr: float = 1e-3, metrics=None, path=".",
                 plan: SpeedPlan | None = None) -> Learner:
    """A fastai Learner with the kit's speed callbacks; use it like any other (``lr_find``, ``fit_one_cycle``).

    Args:
        precision: None or ``"auto"``: the precision measured fastest on this device (``$COLORLAB_PRECISION``
            pins it); or a name (``"fp32"``, ``"bf16"``, ``"fp16"``). True / False are the old
            ``mixed_precision`` values (measured / fp32).
        channels_last: None: the measured memory format; True / False force it.
        plan: a :class:`colorlab.training.speed.SpeedPlan` to use instead of the two above.
    The plan used is ``learn.speed_plan``.
    """
    if plan is None:
        precision = None if precision is True else ("fp32" if precision is False else precision)
        plan = speed_plan(dls.device, precision=precision, channels_last=channels_last, compile="off")
    model = model.to(dls.device)
    learn = Learner(dls, model, loss_func=loss_func, lr=lr, metrics=metrics or [], path=path,
                    cbs=training_callbacks(plan) + list(cbs or []))
    learn.speed_plan = plan
    return learn


def build_learner(dls: DataLoaders, config: TrainConfig, prior=None, out_dir: str | Path | None = None,
                  extra_cbs=None, data: str | None = None) -> Learner:
    """A Learner for ``config`` on ``dls``: model, loss, speed plan, checkpoint config, callbacks.

    ``prior``: the ab prior the rarity losses need; ``out_dir``: where checkpoints (and galleries) go;
    ``data``: the dataset's name, for the checkpoint. The checkpoint config is ``learn.checkpoint_config``.
    """
    rank = dls.train.rank
    net = build_model(config)
    loss_func = build_loss(config, prior, dls.device)
    plan = build_plan(config, dls, verbose=rank == 0)
    ckpt_config = config.checkpoint_config(net.config, int(dls.train.images.shape[1]), prior, data,
                                           int(dls.train.n) * dls.train.world_size, plan.as_config())
    if plan.compile:
        net.compile()  # in place: parameter names (and so checkpoints) stay the same
    cbs = build_callbacks(config, out_dir, ckpt_config, extra_cbs)
    learn = make_learner(dls, net, loss_func, plan=plan, cbs=cbs, lr=config.lr, path=out_dir or ".")
    if config.betas is not None:
        learn.opt_func = partial(Adam, mom=config.betas[0], sqr_mom=config.betas[1])
    learn.checkpoint_config = ckpt_config
    return quiet(learn) if not (config.progress and rank == 0) else plain_progress(learn)  # lines in a log file
