"""Training colorizers through one fastai path.

``train_colorizer`` builds DataLoaders from prepared caches and a fastai ``Learner`` with the kit's
callbacks (the precision and memory format measured fastest on this machine —
:mod:`colorlab.training.speed` —, checkpoints, gallery) from a :class:`~colorlab.training.config.TrainConfig`
(:mod:`colorlab.training.builders`), and runs its schedule (one-cycle, constant or step decay). Killed runs continue with ``resume=True``.
"""
from __future__ import annotations

import contextlib
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from fastai.callback.schedule import ParamScheduler
from fastai.learner import Learner
from fastai.torch_core import set_seed
from fastcore.foundation import L

from colorlab.core.checkpoint import read_checkpoint
from colorlab.core.device import get_device
from colorlab.core.distributed import DistInfo, barrier, distributed_context
from colorlab.core.errors import ColorlabError
from colorlab.training.builders import build_dataloaders, build_learner
from colorlab.training.callbacks import ResumeAt
from colorlab.training.config import TrainConfig

__all__ = ["TrainResult", "train_colorizer"]


@dataclass
class TrainResult:
    learn: Learner
    checkpoint: Path | None
    history: list[dict] = field(default_factory=list)
    start_epoch: int = 0

    @property
    def model(self) -> torch.nn.Module:
        return self.learn.model


def _processes(distributed: bool, device) -> contextlib.AbstractContextManager[DistInfo]:
    """The process group of a distributed run (joined here, and left after if joined here); else one process."""
    if distributed:
        return distributed_context(device=device)
    return contextlib.nullcontext(DistInfo(0, 0, 1, get_device(device), None))


def _restore(learn: Learner, ckpt: Path | None) -> int:
    """Load weights and optimizer state from ``ckpt`` into ``learn``; return the epoch to continue from (0: none)."""
    barrier()  # every rank reads the checkpoint rank 0 finished writing
    if ckpt is None or not ckpt.exists():
        warnings.warn(f"resume asked for but no checkpoint at {ckpt}; starting from scratch")
        return 0
    blob = read_checkpoint(ckpt)
    if blob["config"]["model"] != learn.model.config:
        raise ColorlabError(f"{ckpt} holds a different model ({blob['config']['model']['name']}); "
                            "use another out_dir or resume=False")
    learn.model.load_state_dict(blob["model"])
    learn.create_opt()
    if "opt" in blob:
        learn.opt.load_state_dict({"state": blob["opt"]["state"], "hypers": L(blob["opt"]["hypers"])})
        _state_to_params(learn.opt)
    return int(blob["epoch"])


def _state_to_params(opt) -> None:
    """Put each parameter's optimizer state on the parameter's device, floating tensors in its dtype.

    Checkpoints are read onto the CPU; fastai's ``Optimizer.load_state_dict`` keeps tensors where they
    are, so without this the first step after a resume on a GPU would mix CPU moments with CUDA gradients.
    """
    for p, state in opt.state.items():
        for k, v in state.items():
            if isinstance(v, torch.Tensor):
                state[k] = v.to(p.device, p.dtype if v.is_floating_point() else v.dtype)


def _step_decay(lr: float, epochs: int, every: int, gamma: float):
    """fastai schedule (position 0..1 over the run → rate): ``lr · gamma^⌊epoch / every⌋``."""
    return lambda pos: lr * gamma ** math.floor((float(pos) * epochs + 1e-9) / every)


def _schedule(learn: Learner, config: TrainConfig, start: int) -> None:
    """Run ``config.epochs`` under ``config.schedule`` with its optimiser settings."""
    wd, reset = config.weight_decay, not start
    if config.schedule == "one_cycle":
        moms = None if config.betas is None else (config.betas[0],) * 3  # fixed β1 when the betas are given
        kw = {"moms": moms} if moms else {}
        learn.fit_one_cycle(config.epochs, config.lr, wd=wd, reset_opt=reset, **kw)
    elif config.schedule == "constant":
        learn.fit(config.epochs, config.lr, wd=wd, reset_opt=reset)
    else:
        sched = ParamScheduler({"lr": _step_decay(config.lr, config.epochs, config.step_every, config.gamma)})
        learn.fit(config.epochs, config.lr, wd=wd, reset_opt=reset, cbs=[sched])


def _fit(learn: Learner, config: TrainConfig, start: int) -> list[dict]:
    """``config.epochs`` under the config's schedule, the first ``start`` skipped; the history of the epochs run."""
    if start:
        learn.add_cb(ResumeAt(start))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*upsample_bilinear2d_backward_out_cpu.*")
        _schedule(learn, config, start)
    learn.remove_cbs([c for c in learn.cbs if isinstance(c, ResumeAt)])
    names = learn.recorder.metric_names[1:-1]
    history = [{"epoch": i + 1, **{n: float(v) for n, v in zip(names, row)}} for i, row in enumerate(learn.recorder.values)]
    return [h for h in history if h["epoch"] > start]


def train_colorizer(train, valid=None, config: TrainConfig | None = None, *, prior=None,
                    out_dir: str | Path | None = None, resume: bool = False, device="auto", extra_cbs=None,
                    **options) -> TrainResult:
    """Train a colorizer on a prepared cache under its schedule (one-cycle by default).

    Args:
        train, valid: prepared caches (``colorlab.data.prepare``) or uint8 arrays ``(N, H, W, 3)``.
        config: a :class:`~colorlab.training.config.TrainConfig` (model, loss, epochs, lr, bs, seed,
            colorspace, augment, precision, ...); ``**options`` are its fields, applied on top
            (``train_colorizer(train, model="unet", epochs=3)``).
        prior: the ab prior every loss but ``"mse"`` needs (``colorlab.rarity.prior.prior_for(train)``).
        out_dir: where ``checkpoint.pt`` (+ ``.json``), ``history.json`` and galleries go; None keeps nothing on disk.
        resume: continue from ``out_dir/checkpoint.pt`` (weights, optimizer, epoch), keeping the schedule.
        extra_cbs: more fastai callbacks for the Learner.
        With ``distributed=True`` (under ``torchrun``) each rank reads its shard of ``train``, DDP averages
        gradients and only rank 0 writes files; ``bs`` is per process. The checkpoint config's ``"speed"``
        records the precision, memory format and compilation used.
    Returns:
        a :class:`TrainResult` with the Learner, the checkpoint path and per-epoch losses.
    """
    config = TrainConfig.of(config, **options)
    with _seeded(config.seed):
        return _train(train, valid, config, prior, out_dir, resume, device, extra_cbs)


@contextlib.contextmanager
def _seeded(seed: int):
    """Seed every generator, with deterministic cuDNN for the run only: the process's own settings come back after."""
    cudnn = torch.backends.cudnn
    before = (cudnn.deterministic, cudnn.benchmark)
    set_seed(seed, reproducible=True)
    try:
        yield
    finally:
        cudnn.deterministic, cudnn.benchmark = before


def _train(train, valid, config: TrainConfig, prior, out_dir, resume: bool, device, extra_cbs) -> TrainResult:
    ckpt = Path(out_dir) / "checkpoint.pt" if out_dir is not None else None
    with _processes(config.distributed, device) as info:
        dls = build_dataloaders(train, valid, config, info.device, info.rank, info.world_size)
        learn = build_learner(dls, config, prior, out_dir, extra_cbs, data=getattr(train, "meta", {}).get("dataset"))
        start = _restore(learn, ckpt) if resume else 0
        if start >= config.epochs:
            return TrainResult(learn, ckpt, [], start)
        history = _fit(learn, config, start)
        barrier()  # nobody leaves before rank 0's last checkpoint is on disk
        if out_dir is not None and info.rank == 0:
            (Path(out_dir) / "history.json").write_text(json.dumps(history, indent=2))
        return TrainResult(learn, ckpt, history, start)
