"""Training colorizers (and classifiers) through one fastai path.

``train_colorizer`` builds DataLoaders from prepared caches, the model, the loss, a fastai
``Learner`` with the kit's callbacks (the precision and memory format measured fastest on this
machine — :mod:`colorlab.training.speed` —, checkpoints, gallery) and runs ``fit_one_cycle``. Killed runs
continue with ``resume=True``.
"""
from __future__ import annotations

import dataclasses
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
import fastai.callback.schedule  # noqa: F401  (patches Learner.fit_one_cycle and lr_find)
from fastai.learner import Learner
from fastai.torch_core import set_seed
from fastcore.foundation import L

from colorlab.training.callbacks import ChannelsLast, CheckpointEvery, DeviceMixedPrecision, GalleryEvery, ResumeAt
from colorlab.core.checkpoint import read_checkpoint
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.data.loaders import make_dataloaders
from colorlab.training.speed import SpeedPlan, speed_plan

__all__ = ["TrainResult", "make_learner", "train_colorizer", "training_callbacks"]


@dataclass
class TrainResult:
    learn: Learner
    checkpoint: Path | None
    history: list[dict] = field(default_factory=list)
    start_epoch: int = 0

    @property
    def model(self) -> torch.nn.Module:
        return self.learn.model


def training_callbacks(plan: SpeedPlan) -> list:
    """The speed callbacks a Learner gets for ``plan``: autocast in its precision, channels_last if it says so."""
    cbs = []
    if plan.precision != "fp32":
        cbs.append(DeviceMixedPrecision(plan.dtype))
    if plan.channels_last:
        cbs.append(ChannelsLast())
    return cbs


def make_learner(dls, model: torch.nn.Module, loss_func, mixed_precision: bool | str = True,
                 channels_last: bool | None = None, cbs=None, lr: float = 1e-3, metrics=None, path=".",
                 plan: SpeedPlan | None = None) -> Learner:
    """A fastai Learner with the kit's speed callbacks; use it like any other (``lr_find``, ``fit_one_cycle``).

    Args:
        mixed_precision: True: the precision measured fastest on this device (``$COLORLAB_PRECISION``
            pins it); False: fp32; or a name (``"fp32"``, ``"bf16"``, ``"fp16"``).
        channels_last: None: the measured memory format; True / False force it.
        plan: a :class:`colorlab.training.speed.SpeedPlan` to use instead of the two above.
    The plan used is ``learn.speed_plan``.
    """
    if plan is None:
        precision = None if mixed_precision is True else ("fp32" if mixed_precision is False else mixed_precision)
        plan = speed_plan(dls.device, precision=precision, channels_last=channels_last, compile="off")
    model = model.to(dls.device)
    learn = Learner(dls, model, loss_func=loss_func, lr=lr, metrics=metrics or [], path=path,
                    cbs=training_callbacks(plan) + list(cbs or []))
    learn.speed_plan = plan
    return learn


def _describe_augment(augment) -> dict | str | None:
    """What the checkpoint records of the augmentation: its settings when it is a dataclass, else its name."""
    if augment is None:
        return None
    if dataclasses.is_dataclass(augment):
        return dataclasses.asdict(augment)
    return getattr(augment, "__name__", type(augment).__name__)


def _restore(learn: Learner, net: torch.nn.Module, ckpt: Path | None, distributed: bool) -> int:
    """Load weights and optimizer state from ``ckpt`` into ``learn``; return the epoch to continue from (0: none)."""
    if distributed:
        from colorlab.core.distributed import barrier
        barrier()  # every rank reads the checkpoint rank 0 finished writing
    if ckpt is None or not ckpt.exists():
        warnings.warn(f"resume asked for but no checkpoint at {ckpt}; starting from scratch")
        return 0
    blob = read_checkpoint(ckpt)
    if blob["config"]["model"] != net.config:
        raise ColorlabError(f"{ckpt} holds a different model ({blob['config']['model']['name']}); "
                            "use another out_dir or resume=False")
    net.load_state_dict(blob["model"])
    learn.create_opt()
    if "opt" in blob:
        learn.opt.load_state_dict({"state": blob["opt"]["state"], "hypers": L(blob["opt"]["hypers"])})
    return int(blob["epoch"])


def _history(learn: Learner) -> list[dict]:
    names = [n for n in learn.recorder.metric_names[1:-1]]
    out = []
    for i, row in enumerate(learn.recorder.values):
        out.append({"epoch": i + 1, **{n: float(v) for n, v in zip(names, row)}})
    return out


def train_colorizer(train, valid=None, model="unet", model_kwargs: dict | None = None, loss: str = "mse",
                    loss_kwargs: dict | None = None, prior=None, epochs: int = 5, lr: float = 3e-3, bs: int = 32,
                    device="auto", mixed_precision: bool = True, channels_last: bool | None = None,
                    out_dir: str | Path | None = None, checkpoint_every: int = 1, resume: bool = False,
                    gallery_every: int | None = None, seed: int = 0, progress: bool = True,
                    extra_cbs=None, augment=None, num_workers: int = 0, colorspace: str = "lab",
                    distributed: bool = False, sync_bn: bool = True, compile: bool | str | None = None,
                    precision: str | None = None) -> TrainResult:
    """Train a colorizer on a prepared cache with ``fit_one_cycle``.

    Args:
        train, valid: prepared caches (``colorlab.data.prepare``) or uint8 arrays ``(N, H, W, 3)``.
        model: a registry name (``colorlab.models.MODELS``) or an ``nn.Module`` with a ``.config``.
        loss: ``"mse"``, ``"rarity"``, ``"blend"`` or ``"ce"`` (see ``colorlab.rarity.losses.make_loss``);
            all but ``"mse"`` need ``prior`` (``colorlab.rarity.stats.prior_for(train)``).
        out_dir: where ``checkpoint.pt`` (+ ``.json``) and galleries go; None keeps nothing on disk.
        resume: continue from ``out_dir/checkpoint.pt`` (weights, optimizer, epoch), keeping the schedule.
        augment: a batch transform on RGB in [0, 1] (``colorlab.data.augment.make_augment``), training batches only.
        colorspace: ``"lab"`` (L → ab, default) or ``"ycbcr"`` (Y → CbCr, mse loss only); kept in the
            checkpoint config (``colorlab.models.lab_view.LabView`` shows a YCbCr model through the Lab interface).
        num_workers: loader processes reading the memory-mapped cache.
        distributed: data-parallel training, one process per GPU (or CPU process), started by
            ``torchrun`` (see :mod:`colorlab.core.distributed`): each rank reads its shard of ``train``,
            DDP averages gradients, only rank 0 writes files. ``bs`` is per process.
        sync_bn: with ``distributed`` on GPUs, BatchNorm statistics over the global batch.
        precision: ``"auto"`` (measured once per machine, see :mod:`colorlab.training.speed`), ``"fp32"``,
            ``"bf16"`` or ``"fp16"``; None: ``$COLORLAB_PRECISION`` or auto (``mixed_precision=False``: fp32).
        channels_last: None: the measured memory format; True / False force it.
        compile: ``torch.compile`` the model: ``"auto"`` when it pays for itself within this run's
            length, True / ``"on"``, False / ``"off"``; None: ``$COLORLAB_COMPILE`` or auto.
        The checkpoint config's ``"speed"`` records the precision, memory format and compilation used.
    Returns:
        a :class:`TrainResult` with the Learner, the checkpoint path and per-epoch losses.
    """
    set_seed(seed, reproducible=True)
    if colorspace != "lab" and loss != "mse":
        raise ColorlabError(f"loss {loss!r} weighs Lab ab bins; with colorspace={colorspace!r} use loss='mse'")
    owns_group = False
    if distributed:
        from colorlab.core.distributed import init_distributed, is_distributed
        owns_group = not is_distributed()
        info = init_distributed(device=device)
        dev, rank, world = info.device, info.rank, info.world_size
    else:
        dev, rank, world = get_device(device), 0, 1
    progress = progress and rank == 0  # only rank 0 draws progress bars
    try:
        from colorlab.rarity.losses import make_loss
        from colorlab.models import create

        dls = make_dataloaders(train, valid, bs=bs, target="ab", device=dev, seed=seed, augment=augment,
                               num_workers=num_workers, colorspace=colorspace, rank=rank, world_size=world)
        if isinstance(model, str):
            net = create(model, **(model_kwargs or {}))
        else:
            net = model
        if not hasattr(net, "config"):
            raise ColorlabError("model must come from colorlab.models.create (it needs a .config to be checkpointed)")
        head = getattr(net, "head", "regression")
        if head == "classification" and loss != "ce":
            raise ColorlabError(f"a classification-head model needs loss='ce', got {loss!r}")
        loss_func = make_loss(loss, prior=prior, **(loss_kwargs or {}))
        if hasattr(loss_func, "to"):
            loss_func = loss_func.to(dev)
        size = int(dls.train.images.shape[1])
        if precision is None and not mixed_precision:
            precision = "fp32"
        run_images = epochs * len(dls.train) * bs
        if distributed:
            from colorlab.core.distributed import rank0_first
            with rank0_first():  # one process measures, the others read its cached decision
                plan = speed_plan(dev, precision, channels_last, compile, run_images, size, verbose=rank == 0)
        else:
            plan = speed_plan(dev, precision, channels_last, compile, run_images, size)
        config = {
            "model": net.config, "size": size, "loss": loss, "loss_kwargs": loss_kwargs or {},
            "prior": None if prior is None else {"grid": getattr(prior, "grid", None),
                                                 "path": str(getattr(prior, "path", "") or "")},
            "epochs": epochs, "lr": lr, "bs": bs, "seed": seed, "colorspace": colorspace,
            "data": getattr(train, "meta", {}).get("dataset") if hasattr(train, "meta") else None,
            "train_images": int(dls.train.n) * world,  # what `colorlab colorize` reports the model was trained on
            "augment": _describe_augment(augment), "speed": plan.as_config(),
        }
        if plan.compile:
            net.compile()  # in place: parameter names (and so checkpoints) stay the same
        cbs = list(extra_cbs or [])
        if distributed:
            from colorlab.core.distributed import DistributedDDP
            cbs.append(DistributedDDP(sync_bn=sync_bn))
        ckpt = None
        start = 0
        if out_dir is not None:
            out_dir = Path(out_dir)
            ckpt = out_dir / "checkpoint.pt"
            cbs.append(CheckpointEvery(ckpt, config, every=checkpoint_every))
            if gallery_every:
                cbs.append(GalleryEvery(out_dir, every=gallery_every, colorspace=colorspace))
        learn = make_learner(dls, net, loss_func, plan=plan, cbs=cbs, lr=lr, path=out_dir or ".")
        if not progress:
            learn.remove_cbs([c for c in learn.cbs if type(c).__name__ == "ProgressCallback"])
            learn.logger = lambda *a, **k: None
        if resume:
            start = _restore(learn, net, ckpt, distributed)
            if start >= epochs:
                return TrainResult(learn, ckpt, [], start)
            learn.add_cb(ResumeAt(start))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*upsample_bilinear2d_backward_out_cpu.*")
            learn.fit_one_cycle(epochs, lr, reset_opt=not resume)
        if resume:
            learn.remove_cbs([c for c in learn.cbs if isinstance(c, ResumeAt)])
        if distributed:
            from colorlab.core.distributed import barrier
            barrier()  # nobody leaves before rank 0's last checkpoint is on disk
        history = [h for h in _history(learn) if h["epoch"] > start] if learn.recorder.values else []
        if out_dir is not None and rank == 0:
            (out_dir / "history.json").write_text(json.dumps(history, indent=2))
        return TrainResult(learn, ckpt, history, start)
    finally:
        if owns_group:
            from colorlab.core.distributed import teardown_distributed
            teardown_distributed()
