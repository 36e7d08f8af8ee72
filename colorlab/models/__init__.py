"""Colorizer models: ``create(name, **config)`` builds any of them by name.

>>> from colorlab.models import create, MODELS
>>> model = create("unet", base=8, depth=3)
>>> create(**model.config).config == model.config
True

Every model maps normalised L (+ optional extra channels) ``(N, in_channels, H, W)`` to
ab through tanh ``(N, 2, H, W)`` or to Q-bin logits ``(N, Q, H, W)`` (``head="classification"``);
:func:`predict_ab` turns either into normalised ab.
"""
from __future__ import annotations

import torch.nn as nn

from colorlab.core.errors import ColorlabError
from colorlab.models.base import Colorizer
from colorlab.models.fpn import FPNColorizer
from colorlab.models.fusion import FusionColorizer
from colorlab.models.heads import annealed_mean, predict_ab
from colorlab.models.plain_cnn import PlainCNN
from colorlab.models.unet import UNet

__all__ = ["MODELS", "create", "count_parameters", "predict_ab", "annealed_mean",
           "Colorizer", "PlainCNN", "UNet", "FusionColorizer", "FPNColorizer"]

#: Registry: name → class. ``model.config["name"]`` is one of these keys.
MODELS: dict[str, type[Colorizer]] = {
    "plain_cnn": PlainCNN,
    "unet": UNet,
    "fusion": FusionColorizer,
    "fpn": FPNColorizer,
}


def create(name: str, **config) -> Colorizer:
    """Build the model registered as ``name`` with ``config`` (e.g. ``create(**model.config)``)."""
    if name not in MODELS:
        raise ColorlabError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    try:
        return MODELS[name](**config)
    except TypeError as e:  # a misspelt option: name it in one line
        raise ColorlabError(f"bad option for model {name!r}: {e}") from e


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (only those with ``requires_grad`` if ``trainable_only``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
