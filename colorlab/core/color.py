"""CIE Lab colour space on torch tensors: differentiable, any device, batched.

Conventions (those of ``skimage.color``): sRGB companding, D65 white
``(0.95047, 1.0, 1.08883)``, the sRGB→XYZ matrix of IEC 61966-2-1 and the CIE
thresholds ``0.008856`` / ``7.787``. Ranges: L in [0, 100], a about [-86, 98],
b about [-108, 94].

Shapes: colour is the third-from-last axis, ``(..., 3, H, W)`` for RGB and Lab,
``(..., 1, H, W)`` for L and ``(..., 2, H, W)`` for ab. RGB is float in [0, 1]
(uint8 tensors are accepted and divided by 255).

The arithmetic always runs in float32 — also under ``torch.autocast`` and for bf16
inputs, whose results are cast back to bf16 — because Lab needs ~1e-4 precision that
bf16 cannot hold.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "rgb_to_lab", "lab_to_rgb", "rgb_to_gray_l", "gray_rgb",
    "normalize_l", "denormalize_l", "normalize_ab", "denormalize_ab",
    "split_lab", "join_l_ab", "AB_SCALE",
]

#: ab values are divided by this to put them in [-1, 1] for a tanh output.
AB_SCALE = 110.0

_WHITE = (0.95047, 1.0, 1.08883)
_XYZ_FROM_RGB = ((0.412453, 0.357580, 0.180423),
                 (0.212671, 0.715160, 0.072169),
                 (0.019334, 0.119193, 0.950227))
# Inverse of _XYZ_FROM_RGB (as skimage computes it, float64 then rounded).
_RGB_FROM_XYZ = ((3.240479, -1.537150, -0.498535),
                 (-0.969256, 1.875992, 0.041556),
                 (0.055648, -0.204043, 1.057311))


def _check(x: torch.Tensor, channels: int, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < 3 or x.shape[-3] != channels:
        raise ValueError(f"{name} must have shape (..., {channels}, H, W), got {tuple(x.shape)}")


def _mix(m, x: torch.Tensor) -> torch.Tensor:
    """Apply a 3x3 matrix along the channel axis (-3) with plain fp32 arithmetic."""
    c0, c1, c2 = x.unbind(-3)
    return torch.stack([m[i][0] * c0 + m[i][1] * c1 + m[i][2] * c2 for i in range(3)], dim=-3)


def _as_float(x: torch.Tensor) -> tuple[torch.Tensor, torch.dtype]:
    if x.dtype == torch.uint8:
        return x.float() / 255.0, torch.float32
    out_dtype = x.dtype if x.is_floating_point() else torch.float32
    return x.float(), out_dtype


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB ``(..., 3, H, W)`` in [0, 1] (or uint8) → Lab ``(..., 3, H, W)``.

    Differentiable everywhere (the cube root is guarded near zero).
    """
    _check(rgb, 3, "rgb")
    x, out_dtype = _as_float(rgb)
    with torch.autocast(x.device.type, enabled=False):
        x = x.clamp(0.0, 1.0)
        lin = torch.where(x > 0.04045, ((x.clamp_min(0.04045) + 0.055) / 1.055) ** 2.4, x / 12.92)
        xyz = _mix(_XYZ_FROM_RGB, lin)
        white = torch.tensor(_WHITE, device=x.device, dtype=x.dtype).view(3, 1, 1)
        t = xyz / white
        f = torch.where(t > 0.008856, t.clamp_min(0.008856) ** (1.0 / 3.0), 7.787 * t + 16.0 / 116.0)
        fx, fy, fz = f.unbind(-3)
        lab = torch.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=-3)
    return lab.to(out_dtype)


def lab_to_rgb(lab: torch.Tensor, clip: bool = True) -> torch.Tensor:
    """Lab ``(..., 3, H, W)`` → sRGB ``(..., 3, H, W)`` in [0, 1].

    Out-of-gamut colours are clipped to [0, 1] unless ``clip=False``.
    """
    _check(lab, 3, "lab")
    x, out_dtype = _as_float(lab)
    with torch.autocast(x.device.type, enabled=False):
        L, a, b = x.unbind(-3)
        fy = (L + 16.0) / 116.0
        fx = fy + a / 500.0
        fz = (fy - b / 200.0).clamp_min(0.0)
        f = torch.stack([fx, fy, fz], dim=-3)
        t = torch.where(f > 0.2068966, f ** 3, (f - 16.0 / 116.0) / 7.787)
        white = torch.tensor(_WHITE, device=x.device, dtype=x.dtype).view(3, 1, 1)
        lin = _mix(_RGB_FROM_XYZ, t * white)
        rgb = torch.where(lin > 0.0031308, 1.055 * lin.clamp_min(0.0031308) ** (1.0 / 2.4) - 0.055, 12.92 * lin)
        if clip:
            rgb = rgb.clamp(0.0, 1.0)
    return rgb.to(out_dtype)


def gray_rgb(L: torch.Tensor) -> torch.Tensor:
    """How an L channel ``(..., 1, H, W)`` (0..100) looks as a gray photo: ``lab_to_rgb(L, 0, 0)``, ``(..., 3, H, W)``.

    Use this to *show* L: L is perceptual, so L = 50 is mid-gray 0.47 in sRGB — neither ``L / 100`` nor a
    1/2.2 power of it.
    """
    return lab_to_rgb(torch.cat([L, torch.zeros_like(L).expand(*L.shape[:-3], 2, *L.shape[-2:])], -3))


def rgb_to_gray_l(rgb: torch.Tensor) -> torch.Tensor:
    """The L channel ``(..., 1, H, W)`` of sRGB — the "gray photo" a colorizer sees."""
    return rgb_to_lab(rgb)[..., :1, :, :]


def normalize_l(L: torch.Tensor) -> torch.Tensor:
    """L in [0, 100] → [-1, 1] (network input)."""
    return L / 50.0 - 1.0


def denormalize_l(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`normalize_l`."""
    return (x + 1.0) * 50.0


def normalize_ab(ab: torch.Tensor) -> torch.Tensor:
    """ab in Lab units → about [-1, 1] (divide by :data:`AB_SCALE`), the target of a tanh output."""
    return ab / AB_SCALE


def denormalize_ab(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`normalize_ab`."""
    return x * AB_SCALE


def split_lab(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """RGB (uint8 or [0, 1]) → normalised network input and target: ``(L/50-1, ab/110)``.

    This is the step every training batch goes through, on the batch's device.
    """
    lab = rgb_to_lab(rgb)
    return normalize_l(lab[..., :1, :, :]), normalize_ab(lab[..., 1:, :, :])


def join_l_ab(L_full: torch.Tensor, ab_small: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Upsample predicted ab to the full-resolution L and return RGB at L's size.

    Args:
        L_full: ``(N, 1, H, W)`` or ``(1, H, W)``, L in [0, 100] at the original resolution.
        ab_small: ``(N, 2, h, w)`` or ``(2, h, w)``, ab in Lab units at the model's working size.
    Returns:
        RGB ``(N, 3, H, W)`` (or ``(3, H, W)``) in [0, 1]. All luminance detail comes from
        ``L_full``; only the (smooth) colour is upsampled.
    """
    _check(L_full, 1, "L_full")
    _check(ab_small, 2, "ab_small")
    squeeze = L_full.dim() == 3
    L = L_full.unsqueeze(0) if squeeze else L_full
    ab = ab_small.unsqueeze(0) if ab_small.dim() == 3 else ab_small
    if ab.shape[0] != L.shape[0]:
        raise ValueError(f"batch sizes differ: L {tuple(L.shape)} vs ab {tuple(ab.shape)}")
    ab = ab.to(device=L.device, dtype=torch.float32)
    if ab.shape[-2:] != L.shape[-2:]:
        ab = F.interpolate(ab, size=L.shape[-2:], mode=mode, align_corners=False) if mode != "nearest" \
            else F.interpolate(ab, size=L.shape[-2:], mode="nearest")
    rgb = lab_to_rgb(torch.cat([L.float(), ab], dim=1))
    return rgb[0] if squeeze else rgb
