"""The model registry: every colorizer class by name (:data:`MODELS`), :func:`create`, :func:`count_parameters`.

The names are :data:`colorlab.core.names.MODEL_NAMES` (what the command line accepts before torch loads).
"""
from __future__ import annotations

import torch.nn as nn

from colorlab.core.errors import ColorlabError
from colorlab.core.names import MODEL_NAMES
from colorlab.models.base import Colorizer
from colorlab.models.fpn import FPNColorizer
from colorlab.models.fusion import FusionColorizer
from colorlab.models.plain_cnn import PlainCNN
from colorlab.models.unet import UNet

__all__ = ["MODELS", "create", "count_parameters"]

#: Registry: name → class. ``model.config["name"]`` is one of these keys (the names of ``MODEL_NAMES``).
MODELS: dict[str, type[Colorizer]] = {
    "plain_cnn": PlainCNN,
    "unet": UNet,
    "fusion": FusionColorizer,
    "fpn": FPNColorizer,
}


def create(name: str, **config) -> Colorizer:
    """Build the model registered as ``name`` with ``config`` (e.g. ``create(**model.config)``)."""
    if name not in MODELS:
        raise ColorlabError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    try:
        return MODELS[name](**config)
    except TypeError as e:  # a misspelt option: name it in one line
        raise ColorlabError(f"bad option for model {name!r}: {e}") from e


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (only those with ``requires_grad`` if ``trainable_only``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
