"""Colorize photos of any size: ab at the model's working size, L at full resolution."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from colorlab.core.color import LAB, normalize_l, rgb_to_gray_l
from colorlab.core.config import demo_model
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.core.io import load_image
from colorlab.core.precision import SpeedPlan
from colorlab.core.speed import cached_plan, speed_plan
from colorlab.models.checkpoint import load_checkpoint
from colorlab.models.heads import predict_ab

__all__ = ["colorize", "load_colorizer", "default_checkpoint", "inference_plan"]


def default_checkpoint() -> Path:
    """Where ``make demo`` leaves its trained model (the CLI's default ``--model``)."""
    return demo_model()


def load_colorizer(model, device="auto"):
    """A model from an ``nn.Module`` (returned as is) or a checkpoint path. Returns ``(model, working_size)``."""
    dev = get_device(device)
    if isinstance(model, (str, Path)):
        net, cfg = load_checkpoint(model, device=dev)
        return net, int(cfg.get("size", 64))
    if isinstance(model, torch.nn.Module):
        return model.to(dev).eval(), int(getattr(model, "work_size", 0) or 0) or None
    raise ColorlabError(f"model must be a checkpoint path or an nn.Module, got {type(model).__name__}")


def inference_plan(device, precision: str | None = None) -> SpeedPlan:
    """How a model runs here for inference: see ``precision`` in :func:`colorize`."""
    if precision is None and not os.environ.get("COLORLAB_PRECISION"):
        return cached_plan(device) or SpeedPlan("fp32", reason="nothing measured on this device yet")
    return speed_plan(device, precision=precision, compile="off", verbose=False)


@torch.no_grad()
def colorize(image, model, size: int | None = None, device="auto", T: float = 0.38,
             hints: torch.Tensor | None = None, precision: str | None = None) -> np.ndarray:
    """Colorize one photo; returns uint8 ``(H, W, 3)`` at the input's size.

    Args:
        image: a path (anything :func:`colorlab.core.io.load_image` reads) or an RGB/gray array
            ``(H, W, 3)`` / ``(H, W)`` uint8. Colour in the input is ignored: only its L is used.
        model: an ``nn.Module`` from ``colorlab.models`` or a checkpoint path.
        size: working size the model sees (default: the size it was trained at, else 256).
        hints: optional extra input channels ``(C, size, size)`` for hint models (ab hints + mask).
        precision: None: the precision and memory format training measured fastest on this device
            (:func:`colorlab.core.speed.cached_plan`; ``$COLORLAB_PRECISION`` pins it), fp32 when nothing was
            measured yet (one photo takes less time than the measurement); ``"auto"`` measures now;
            ``"fp32"``, ``"bf16"``, ``"fp16"`` force one.
    The L channel of the output is the input's own L at full resolution; only the ab
    prediction (smooth by nature) is upsampled, so the output keeps all the input's detail.
    """
    net, trained_size = load_colorizer(model, device)
    dev = next(net.parameters()).device
    rgb = load_image(image) if isinstance(image, (str, Path)) else np.asarray(image)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ColorlabError(f"image must be uint8 (H, W, 3) or (H, W), got {rgb.dtype} {rgb.shape}")
    work = int(size or trained_size or 256)
    work = max(8, work // 8 * 8)
    x = torch.from_numpy(rgb).to(dev).permute(2, 0, 1).unsqueeze(0)
    L_full = normalize_l(rgb_to_gray_l(x))  # normalised L at full resolution (LAB.split's, without computing ab)
    inp = F.interpolate(L_full, size=(work, work), mode="area")
    if hints is not None:
        inp = torch.cat([inp, hints.to(dev, inp.dtype).unsqueeze(0)], 1)
    plan = inference_plan(dev, precision)
    if plan.channels_last:
        inp = inp.contiguous(memory_format=torch.channels_last)
    with plan.autocast(dev):
        ab = predict_ab(net, inp, T=T).float()
    out = LAB.join(L_full, ab)
    return (out[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
