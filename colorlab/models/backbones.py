"""torchvision backbones for the fusion and FPN colorizers — offline by construction.

Weights are loaded only from files already on disk: ``weights_path`` if given, else the
file torchvision would have downloaded into ``torch.hub.get_dir()/checkpoints/``. When
neither exists the backbone keeps its random init and ONE warning line says so; nothing
is ever downloaded.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from ..errors import ColorlabError

__all__ = ["build_backbone", "pretrained_weights_file", "backbone_input_size", "gray_to_imagenet",
           "IMAGENET_MEAN", "IMAGENET_STD"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _default_weights(name: str):
    try:
        return torchvision.models.get_model_weights(name).DEFAULT
    except (ValueError, KeyError) as e:
        raise ColorlabError(f"unknown torchvision backbone {name!r}; see torchvision.models.list_models()") from e


def pretrained_weights_file(name: str) -> Path:
    """Where torchvision keeps ``name``'s default ImageNet weights once downloaded."""
    url = _default_weights(name).url
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def backbone_input_size(name: str) -> int:
    """The square input size the backbone's ImageNet weights were trained at (224, 299 for Inception...)."""
    crop = getattr(_default_weights(name).transforms(), "crop_size", [224])
    return int(crop[0] if isinstance(crop, (list, tuple)) else crop)


def build_backbone(name: str, pretrained: bool = True, weights_path: str | Path | None = None) -> nn.Module:
    """``torchvision.models.get_model(name, weights=None)``, then local weights if there are any.

    Args:
        name: any torchvision classification model name, e.g. ``"resnet18"``, ``"efficientnet_b0"``.
        pretrained: look for ImageNet weights on disk (never downloads).
        weights_path: an explicit state-dict file; overrides the torch hub cache.
    """
    if name not in torchvision.models.list_models():
        raise ColorlabError(f"unknown torchvision backbone {name!r}; see torchvision.models.list_models()")
    with warnings.catch_warnings():  # inception/googlenet announce a future init change on every build
        warnings.filterwarnings("ignore", message="The default weight initialization", category=FutureWarning)
        model = torchvision.models.get_model(name, weights=None)
    if not pretrained and weights_path is None:
        return model
    path = Path(weights_path) if weights_path is not None else pretrained_weights_file(name)
    if not path.is_file():
        if weights_path is not None:
            raise ColorlabError(f"backbone weights file {path} does not exist")
        warnings.warn(f"pretrained weights for {name} not found at {path}; using random init", stacklevel=2)
        return model
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state.get("state_dict", state) if isinstance(state, dict) else state)
    except Exception as e:  # a corrupt or mismatched file: the user can fix it, so one clear line
        raise ColorlabError(f"could not load backbone weights for {name} from {path}: {e}") from e
    return model


def gray_to_imagenet(L_norm: torch.Tensor, size: int | None = None) -> torch.Tensor:
    """Normalised L ``(N, 1, H, W)`` in [-1, 1] → ImageNet-normalised gray RGB ``(N, 3, size, size)``.

    The gray photo is stacked to three equal channels, as the fusion papers do, and resized
    (bilinear) to the backbone's input size when ``size`` is given.
    """
    gray = (L_norm[:, :1] + 1.0) / 2.0
    if size is not None and gray.shape[-2:] != (size, size):
        gray = F.interpolate(gray, size=(size, size), mode="bilinear", align_corners=False)
    mean = gray.new_tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1)
    std = gray.new_tensor(IMAGENET_STD).reshape(1, 3, 1, 1)
    return (gray.expand(-1, 3, -1, -1) - mean) / std
