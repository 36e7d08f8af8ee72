"""What a training run is: :class:`TrainConfig`, the frozen settings every training path composes.

``train_colorizer(train, valid, TrainConfig(epochs=3))`` and ``train_colorizer(train, valid, epochs=3)``
are the same run: keyword options are :class:`TrainConfig` fields applied on top of ``config``. The
checkpoint records the run with :meth:`TrainConfig.checkpoint_config` (the keys ``colorlab colorize``
and ``colorlab evaluate`` read).
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Callable

import torch

from colorlab.core.errors import ColorlabError
from colorlab.core.names import SCHEDULES
from colorlab.core.options import with_options

__all__ = ["TrainConfig", "describe_augment", "SCHEDULES"]

#: Learning-rate schedules (:data:`colorlab.core.names.SCHEDULES`, the command line's list): fastai's one-cycle,
#: a constant rate (Adam as Siswanto & Karnati and Benabla et al. describe it, no schedule given) and step decay
#: (× ``gamma`` every ``step_every`` epochs).


def describe_augment(augment) -> dict | str | None:
    """What the checkpoint records of the augmentation: its settings when it is a dataclass, else its name."""
    if augment is None:
        return None
    if dataclasses.is_dataclass(augment):
        return dataclasses.asdict(augment)
    return getattr(augment, "__name__", type(augment).__name__)


@dataclass(frozen=True)
class TrainConfig:
    """The settings of a training run.

    Attributes:
        model: a registry name (``colorlab.models.MODELS``) or an ``nn.Module`` with a ``.config``.
        model_kwargs: options of ``colorlab.models.create(model, ...)``.
        loss: ``"mse"``, ``"rarity"``, ``"blend"``, ``"lin_ferreira"`` or ``"ce"`` (see
            ``colorlab.rarity.losses.make_loss``); all but ``"mse"`` need a prior; ``loss_kwargs`` its options
            (λ = ``lam``, α = ``alpha``, ...). ``"ce"`` gives a model named by string a classification head.
        epochs, lr, bs, seed: the number of epochs, the (peak) learning rate, the batch size (per
            process) and the seed of weights, shuffling and the validation split.
        schedule: one of :data:`SCHEDULES`; ``step_every``, ``gamma``: the step decay's period (epochs) and factor.
        steps_per_epoch: None: an epoch is one pass over the training set; n: an epoch is n batches drawn
            from a continuing stream of shuffles (Keras' ``steps_per_epoch``: Siswanto & Karnati's 25).
        betas: Adam's (β1, β2); None: fastai's (0.9, 0.99), β1 cycled 0.95 → 0.85 → 0.95 under one-cycle.
        weight_decay: decoupled weight decay; None: fastai's default (0.01).
        colorspace: ``"lab"`` (L → ab) or ``"ycbcr"`` (Y → CbCr, mse loss only).
        augment: a batch transform on RGB in [0, 1] (``colorlab.data.augment.make_augment``),
            training batches only; the checkpoint records its description.
        precision: ``"auto"`` (measured once per machine, see :mod:`colorlab.training.speed`), ``"fp32"``,
            ``"bf16"`` or ``"fp16"``; None: ``$COLORLAB_PRECISION`` or auto. ``mixed_precision`` is its
            deprecated old name (``mixed_precision=False`` means ``precision="fp32"``).
        channels_last: None: the measured memory format; True / False force it.
        compile: ``torch.compile`` the model: ``"auto"`` when it pays for itself within the run,
            True / ``"on"``, False / ``"off"``; None: ``$COLORLAB_COMPILE`` or auto.
        checkpoint_every, gallery_every: epochs between checkpoints / galleries (with an ``out_dir``).
        num_workers: loader processes reading the memory-mapped cache; None: as many as suit the device
            (:func:`colorlab.data.loaders.default_workers`: 0 on a CPU, a few on a GPU).
        distributed: data-parallel training, one process per GPU (or CPU process), started by
            ``torchrun`` (see :mod:`colorlab.core.distributed`); ``sync_bn``: BatchNorm statistics over
            the global batch on GPUs.
        progress: progress bars and per-epoch lines (rank 0 only).
    """

    model: str | torch.nn.Module = "unet"
    model_kwargs: dict | None = None
    loss: str = "mse"
    loss_kwargs: dict | None = None
    epochs: int = 5
    lr: float = 3e-3
    bs: int = 32
    seed: int = 0
    colorspace: str = "lab"
    augment: Callable | None = None
    precision: str | None = None
    mixed_precision: bool | None = None  # deprecated alias of precision (False → "fp32")
    channels_last: bool | None = None
    compile: bool | str | None = None
    schedule: str = "one_cycle"
    steps_per_epoch: int | None = None
    step_every: int = 10
    gamma: float = 0.1
    betas: tuple | None = None
    weight_decay: float | None = None
    checkpoint_every: int = 1
    gallery_every: int | None = None
    num_workers: int | None = None
    distributed: bool = False
    sync_bn: bool = True
    progress: bool = True

    def __post_init__(self):
        if self.mixed_precision is not None:
            warnings.warn("TrainConfig(mixed_precision=...) is deprecated: use precision='fp32' (or 'auto', 'bf16', "
                          "'fp16')", DeprecationWarning, stacklevel=4)
            if self.precision is None and not self.mixed_precision:
                object.__setattr__(self, "precision", "fp32")
            object.__setattr__(self, "mixed_precision", None)
        self._check_schedule()
        if self.colorspace != "lab" and self.loss != "mse":
            raise ColorlabError(f"loss {self.loss!r} weighs Lab ab bins; with colorspace={self.colorspace!r} "
                                "use loss='mse'")

    def _check_schedule(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ColorlabError(f"unknown schedule {self.schedule!r}: use one of {', '.join(SCHEDULES)}")
        if self.steps_per_epoch is not None and (not isinstance(self.steps_per_epoch, int) or self.steps_per_epoch < 1):
            raise ColorlabError(f"steps_per_epoch must be a positive integer or None, got {self.steps_per_epoch!r}")
        if self.step_every < 1 or not 0.0 < self.gamma <= 1.0:
            raise ColorlabError(f"step decay needs step_every ≥ 1 and 0 < gamma ≤ 1, got {self.step_every}, {self.gamma}")
        if self.betas is not None:
            if len(self.betas) != 2 or not all(0.0 <= float(b) < 1.0 for b in self.betas):
                raise ColorlabError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
            object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        if self.weight_decay is not None and self.weight_decay < 0:
            raise ColorlabError(f"weight_decay must be ≥ 0, got {self.weight_decay}")

    def optimizer_config(self) -> dict:
        """The schedule and optimiser settings as the checkpoint records them (None: fastai's default)."""
        return {"schedule": self.schedule, "steps_per_epoch": self.steps_per_epoch,
                "step_every": self.step_every if self.schedule == "step" else None,
                "gamma": self.gamma if self.schedule == "step" else None, "optimizer": "adam",
                "betas": list(self.betas) if self.betas else None, "weight_decay": self.weight_decay}

    @classmethod
    def of(cls, config: TrainConfig | None = None, **options) -> TrainConfig:
        """``config`` (default: the defaults) with ``options`` applied; an unknown option names the valid ones."""
        return with_options(config or cls(), options, "training")

    @property
    def autocast_precision(self) -> str | None:
        """The precision asked for (None: ``$COLORLAB_PRECISION`` or measure). Kept for callers of the old name."""
        return self.precision

    def checkpoint_config(self, model_config: dict, size: int, prior, data: str | None, train_images: int,
                          speed: dict) -> dict:
        """The config a checkpoint of this run records (what ``load_checkpoint``, colorize and evaluate read)."""
        return {
            "model": model_config, "size": size, "loss": self.loss, "loss_kwargs": self.loss_kwargs or {},
            "prior": None if prior is None else {"grid": getattr(prior, "grid", None),
                                                 "path": str(getattr(prior, "path", "") or "")},
            "epochs": self.epochs, "lr": self.lr, "bs": self.bs, "seed": self.seed, "colorspace": self.colorspace,
            "data": data, "train_images": train_images, "augment": describe_augment(self.augment), "speed": speed,
            **self.optimizer_config(),
        }
