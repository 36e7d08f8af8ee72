"""torchvision backbones for the fusion and FPN colorizers, with or without ImageNet weights.

``pretrained`` is ``"download"`` (fetch torchvision's published weights, hash-checked, into the
torch hub cache — ``COLORLAB_MIRROR`` and ``COLORLAB_OFFLINE`` apply; falls back to the disk
with a warning when the network is unreachable), ``"disk"`` (only a file already in the torch
hub cache) or ``"none"``; ``True``/``False`` mean ``"download"``/``"none"``
(:func:`colorlab.core.weights.pretrained_mode`). What happened is printed once per backbone and
returned by :func:`load_backbone` for the checkpoint config.

torchvision builds Inception v3 and GoogLeNet with ``transform_input=True`` when it loads their
ImageNet weights (they were trained on inputs scaled to [-1, 1]; the flag maps ImageNet-normalised
input to that). We build with ``weights=None`` and load the state dict ourselves, so we set
the flag the same way here.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from colorlab.core.errors import ColorlabError
from colorlab.core.weights import obtain_weights, pretrained_mode

__all__ = ["build_backbone", "load_backbone", "recorded_weights", "resolve_freeze", "pretrained_weights_file",
           "backbone_input_size", "gray_to_imagenet", "weights_name", "announce", "IMAGENET_MEAN", "IMAGENET_STD"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_ANNOUNCED: set[str] = set()


def _models():
    """``torchvision.models``, imported when a backbone is built: colorizing with a U-Net never loads torchvision
    (importing it costs about a second, its ops pull in torch's compiler)."""
    import torchvision.models
    return torchvision.models


def _default_weights(name: str):
    try:
        return _models().get_model_weights(name).DEFAULT
    except (ValueError, KeyError) as e:
        raise ColorlabError(f"unknown torchvision backbone {name!r}; see torchvision.models.list_models()") from e


def weights_name(name: str) -> str:
    """The torchvision name of ``name``'s default ImageNet weights, e.g. ``Inception_V3_Weights.IMAGENET1K_V1``."""
    w = _default_weights(name)
    return f"{type(w).__name__}.{w.name}"


def pretrained_weights_file(name: str) -> Path:
    """Where torchvision keeps ``name``'s default ImageNet weights once downloaded."""
    url = _default_weights(name).url
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def backbone_input_size(name: str) -> int:
    """The square input size the backbone's ImageNet weights were trained at (224, 299 for Inception...)."""
    crop = getattr(_default_weights(name).transforms(), "crop_size", [224])
    return int(crop[0] if isinstance(crop, (list, tuple)) else crop)


def announce(line: str) -> None:
    """Print ``line`` (to stderr) the first time only."""
    if line not in _ANNOUNCED:
        _ANNOUNCED.add(line)
        print(line, file=sys.stderr, flush=True)


def load_backbone(name: str, pretrained="download", weights_path: str | Path | None = None,
                  progress: bool = True) -> tuple[nn.Module, dict]:
    """``torchvision.models.get_model(name, weights=None)``, then ImageNet weights as ``pretrained`` says.

    Args:
        name: any torchvision classification model name, e.g. ``"resnet18"``, ``"efficientnet_b0"``.
        pretrained: ``"download"``, ``"disk"`` or ``"none"`` (``True``/``False`` accepted).
        weights_path: an explicit state-dict file; overrides ``pretrained``.
    Returns:
        ``(model, info)``; ``info``: ``pretrained`` (the mode), ``pretrained_loaded`` (bool) and
        ``weights`` (torchvision's weights name, the file, or None).
    """
    if name not in _models().list_models():
        raise ColorlabError(f"unknown torchvision backbone {name!r}; see torchvision.models.list_models()")
    mode = pretrained_mode(pretrained)
    with warnings.catch_warnings():  # inception/googlenet announce a future init change on every build
        warnings.filterwarnings("ignore", message="The default weight initialization", category=FutureWarning)
        model = _models().get_model(name, weights=None)
    info = {"pretrained": mode, "pretrained_loaded": False, "weights": None}
    if weights_path is not None:
        path, label = Path(weights_path), str(weights_path)
        if not path.is_file():
            raise ColorlabError(f"backbone weights file {path} does not exist")
    elif mode == "none":
        announce(f"backbone {name}: no ImageNet weights (pretrained='none'), random init")
        return model, info
    else:
        path, why = obtain_weights(_default_weights(name).url, mode, f"backbone {name}", progress=progress)
        label = weights_name(name)
        if path is None:
            hint = "" if mode == "download" else " (pretrained='download' fetches them)"
            warnings.warn(f"pretrained weights for {name} {why}{hint}; using random init", stacklevel=3)
            return model, info
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state.get("state_dict", state) if isinstance(state, dict) else state)
    except Exception as e:  # a corrupt or mismatched file: the user can fix it, so one clear line
        raise ColorlabError(f"could not load backbone weights for {name} from {path}: {e}") from e
    if hasattr(model, "transform_input"):  # Inception v3 / GoogLeNet: as torchvision does with weights
        model.transform_input = True
    info.update(pretrained_loaded=True, weights=label)
    announce(f"backbone {name}: ImageNet weights {label} loaded from {path}")
    return model, info


def build_backbone(name: str, pretrained="download", weights_path: str | Path | None = None) -> nn.Module:
    """:func:`load_backbone`'s model, with its ``info`` dict as ``model.pretrained_info``."""
    model, info = load_backbone(name, pretrained, weights_path)
    model.pretrained_info = info
    return model


def recorded_weights(info: dict, pretrained_loaded: bool | None,
                     pretrained_weights: str | None) -> tuple[bool, str | None]:
    """Whether the backbone's parameters are ImageNet weights, and their name.

    Loaded now (``info``) or recorded in the config the model is rebuilt from (a checkpoint's
    parameters then come from the checkpoint itself).
    """
    if info.get("pretrained_loaded"):
        return True, info.get("weights")
    if pretrained_loaded:
        return True, pretrained_weights
    return False, None


def resolve_freeze(freeze_backbone: bool | str, loaded: bool) -> bool:
    """``"auto"`` → freeze only loaded weights; ``True``/``False`` (or ``"true"``/``"false"``) as given."""
    if isinstance(freeze_backbone, str):
        v = freeze_backbone.strip().lower()
        if v == "auto":
            return bool(loaded)
        if v in ("true", "false"):
            return v == "true"
    elif isinstance(freeze_backbone, bool):
        return freeze_backbone
    raise ColorlabError(f"freeze_backbone must be 'auto', true or false, got {freeze_backbone!r}")


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
