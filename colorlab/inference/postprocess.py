"""Benabla et al.'s optional output enhancement: gamma correction through a lookup table, then RGB lightened by 20 %.

Automatic colorizations tend to look desaturated and faded; Benabla et al. brighten them with a
gamma lookup table and lighten RGB by 20 % (R, G and B multiplied by 1.2) before showing them. The
chroma scale of :func:`boost` is the kit's own addition, off by default. All functions take and
return uint8 RGB, as an array ``(H, W, 3)`` or a tensor ``(..., 3, H, W)``, and work on the
tensor's device.
"""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.color import lab_to_rgb, rgb_to_lab
from colorlab.core.errors import ColorlabError

__all__ = ["gamma_lut", "apply_gamma", "boost", "enhance"]


def gamma_lut(gamma: float, device="cpu") -> torch.Tensor:
    """The 256-entry uint8 table ``v ↦ 255·(v/255)^(1/gamma)`` (gamma > 1 brightens, as in OpenCV's recipe)."""
    if not gamma > 0:
        raise ColorlabError(f"gamma must be > 0, got {gamma}")
    v = torch.arange(256, dtype=torch.float64, device=device) / 255.0
    return (v.pow(1.0 / gamma) * 255.0).round().clamp(0, 255).to(torch.uint8)


def _as_tensor(rgb) -> tuple[torch.Tensor, bool]:
    """uint8 ``(H, W, 3)`` array → ``(3, H, W)`` tensor (remember to give an array back)."""
    if isinstance(rgb, torch.Tensor):
        t, was_array = rgb, False
    else:
        a = np.asarray(rgb)
        if a.ndim != 3 or a.shape[2] != 3:
            raise ColorlabError(f"expected an RGB image (H, W, 3), got shape {a.shape}")
        t, was_array = torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1), True
    if t.dtype != torch.uint8:
        raise ColorlabError(f"expected uint8 RGB, got {t.dtype}")
    return t, was_array


def _back(t: torch.Tensor, was_array: bool):
    return t.permute(1, 2, 0).cpu().numpy() if was_array else t


def apply_gamma(rgb, gamma: float):
    """Gamma-correct uint8 RGB through :func:`gamma_lut` (one table look-up per value)."""
    t, arr = _as_tensor(rgb)
    lut = gamma_lut(gamma, t.device)
    return _back(lut[t.long()], arr)


def boost(rgb, saturation: float = 1.0, lightness: float = 1.0):
    """Scale the RGB values by ``lightness`` (Benabla et al.: 1.2) and the chroma (Lab ab) by ``saturation`` (the
    kit's own addition), clipped.

    Both factors 1 return the input unchanged.
    """
    if saturation < 0 or lightness < 0:
        raise ColorlabError(f"saturation and lightness must be >= 0, got {saturation}, {lightness}")
    t, arr = _as_tensor(rgb)
    if saturation == 1.0 and lightness == 1.0:
        return _back(t.clone(), arr)
    x = t.float() / 255.0
    if saturation != 1.0:
        lab = rgb_to_lab(x)
        lab = torch.cat([lab[..., :1, :, :], lab[..., 1:, :, :] * saturation], -3)
        x = lab_to_rgb(lab)
    if lightness != 1.0:
        x = x * lightness
    return _back((x.clamp(0, 1) * 255.0).round().to(torch.uint8), arr)


def enhance(rgb, gamma: float = 1.0, saturation: float = 1.0, lightness: float = 1.0):
    """Benabla et al.'s enhancement: gamma LUT, then :func:`boost` (their 20 % lightening: ``lightness=1.2``)."""
    out = apply_gamma(rgb, gamma) if gamma != 1.0 else rgb
    return boost(out, saturation, lightness)
