"""Colour spaces on torch tensors — CIE Lab and YCbCr — and the one object that splits a batch.

Differentiable, any device, batched. :class:`ColorSpace` (``LAB``, ``YCBCR``, :func:`get_colorspace`)
is how every part of the kit turns an RGB batch into (normalised gray input, normalised chroma
target) and back: ``split``, ``join``, ``normalise``.

Lab conventions (those of ``skimage.color``):
 sRGB companding, D65 white
``(0.95047, 1.0, 1.08883)``, the sRGB→XYZ matrix of IEC 61966-2-1 and the CIE
thresholds ``0.008856`` / ``7.787``. Ranges: L in [0, 100], a about [-86, 98],
b about [-108, 94].

Shapes: colour is the third-from-last axis, ``(..., 3, H, W)`` for RGB and Lab,
``(..., 1, H, W)`` for L and ``(..., 2, H, W)`` for ab. RGB is float in [0, 1]
(uint8 tensors are accepted and divided by 255).

The arithmetic always runs in float32 — also under ``torch.autocast`` and for bf16
inputs, whose results are cast back to bf16 — because Lab needs ~1e-4 precision that
bf16 cannot hold.

YCbCr is full-range ITU-R BT.601 as JPEG (and Pillow) define it, on [0, 1] values:
``Y = 0.299 R + 0.587 G + 0.114 B``, ``Cb = 0.5 + (B − Y) / 1.772``, ``Cr = 0.5 + (R − Y) / 1.402``.
It is linear in the gamma-encoded RGB, so the round trip is exact up to float rounding. Benabla et
al.'s hint model predicts Cb and Cr from Y; everything else in the kit predicts Lab ab from L.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from colorlab.core.errors import ColorlabError

__all__ = [
    "rgb_to_lab", "lab_to_rgb", "rgb_to_gray_l", "gray_rgb", "chroma_hue",
    "normalize_l", "denormalize_l", "normalize_ab", "denormalize_ab",
    "split_lab", "join_l_ab", "AB_SCALE",
    "rgb_to_ycbcr", "ycbcr_to_rgb",
    "ColorSpace", "LAB", "YCBCR", "COLORSPACES", "get_colorspace",
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
# JPEG / JFIF full-range BT.601.
_YCBCR_FROM_RGB = ((0.299, 0.587, 0.114),
                   (-0.168736, -0.331264, 0.5),
                   (0.5, -0.418688, -0.081312))
_RGB_FROM_YCBCR = ((1.0, 0.0, 1.402),
                   (1.0, -0.344136, -0.714136),
                   (1.0, 1.772, 0.0))


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
        lin = _linear(x.clamp(0.0, 1.0))
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


def _linear(x: torch.Tensor) -> torch.Tensor:
    """sRGB companding undone: [0, 1] → linear light."""
    return torch.where(x > 0.04045, ((x.clamp_min(0.04045) + 0.055) / 1.055) ** 2.4, x / 12.92)


def rgb_to_gray_l(rgb: torch.Tensor) -> torch.Tensor:
    """The L channel ``(..., 1, H, W)`` of sRGB — the "gray photo" a colorizer sees — equal to ``rgb_to_lab``'s.

    Computes L alone (no a, b); a uint8 photo is linearised through a 256-entry table, so the L of a
    full-resolution photo (what :func:`colorlab.inference.colorize.colorize` keeps) costs a few array passes.
    """
    _check(rgb, 3, "rgb")
    if rgb.dtype == torch.uint8:
        table = _linear(torch.arange(256, dtype=torch.float32, device=rgb.device) / 255.0)
        lin, out_dtype = table[rgb.long()], torch.float32
    else:
        x, out_dtype = _as_float(rgb)
        lin = None
    with torch.autocast(rgb.device.type, enabled=False):
        lin = _linear(x.clamp(0.0, 1.0)) if lin is None else lin
        r, g, b = lin.unbind(-3)
        (m0, m1, m2), white = _XYZ_FROM_RGB[1], _WHITE[1]
        t = ((m0 * r + m1 * g + m2 * b) / white).unsqueeze(-3)
        f = torch.where(t > 0.008856, t.clamp_min(0.008856) ** (1.0 / 3.0), 7.787 * t + 16.0 / 116.0)
        L = 116.0 * f - 16.0
    return L.to(out_dtype)


def chroma_hue(ab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ab ``(..., 2, H, W)`` → chroma ``C = sqrt(a² + b²)`` and hue angle ``h = atan2(b, a)`` in degrees
    in ``[0, 360)``, each ``(..., H, W)``. Hue 0° points along +a (red), 90° along +b (yellow),
    180° along −a (green), 270° along −b (blue); it is meaningless where C ≈ 0 (grays)."""
    a, b = ab.float().unbind(-3)
    return torch.hypot(a, b), torch.rad2deg(torch.atan2(b, a)) % 360.0


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
    return LAB.split(rgb)


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
    ab = _upsample(ab.to(device=L.device, dtype=torch.float32), L.shape[-2:], mode)
    rgb = lab_to_rgb(torch.cat([L.float(), ab], dim=1))
    return rgb[0] if squeeze else rgb


def rgb_to_ycbcr(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB ``(..., 3, H, W)`` in [0, 1] (or uint8) → YCbCr ``(..., 3, H, W)``, every channel in [0, 1]."""
    _check(rgb, 3, "rgb")
    out_dtype = rgb.dtype if rgb.is_floating_point() else torch.float32
    x = rgb.float() / 255.0 if rgb.dtype == torch.uint8 else rgb.float()
    with torch.autocast(x.device.type, enabled=False):
        ycc = _mix(_YCBCR_FROM_RGB, x)
        ycc = torch.cat([ycc[..., :1, :, :], ycc[..., 1:, :, :] + 0.5], dim=-3)
    return ycc.to(out_dtype)


def ycbcr_to_rgb(ycbcr: torch.Tensor, clip: bool = True) -> torch.Tensor:
    """YCbCr ``(..., 3, H, W)`` in [0, 1] → sRGB ``(..., 3, H, W)``; clipped to [0, 1] unless ``clip=False``."""
    _check(ycbcr, 3, "ycbcr")
    out_dtype = ycbcr.dtype if ycbcr.is_floating_point() else torch.float32
    x = ycbcr.float()
    with torch.autocast(x.device.type, enabled=False):
        x = torch.cat([x[..., :1, :, :], x[..., 1:, :, :] - 0.5], dim=-3)
        rgb = _mix(_RGB_FROM_YCBCR, x)
        if clip:
            rgb = rgb.clamp(0.0, 1.0)
    return rgb.to(out_dtype)


def _upsample(chroma: torch.Tensor, size, mode: str) -> torch.Tensor:
    if chroma.shape[-2:] == tuple(size):
        return chroma
    kw = {} if mode == "nearest" else {"align_corners": False}
    return F.interpolate(chroma, size=size, mode=mode, **kw)


@dataclass(frozen=True)
class ColorSpace:
    """A colorizer's colour space: how an RGB batch becomes (gray input, chroma target) and back.

    Attributes:
        name: ``"lab"`` or ``"ycbcr"``.
        gray, chroma: channel names, e.g. ``"L"`` and ``("a", "b")``.
        convert, invert: RGB ``(..., 3, H, W)`` → the space's three channels, and back (clipped to [0, 1]).
        scale, offset: the normalisation ``x_norm = x / scale − offset`` per channel (gray, chroma, chroma),
            which puts gray and chroma about [-1, 1].
    """

    name: str
    gray: str
    chroma: tuple
    convert: Callable[[torch.Tensor], torch.Tensor]
    invert: Callable[[torch.Tensor], torch.Tensor]
    scale: tuple
    offset: tuple

    def normalise(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Converted channels ``(..., 3, H, W)`` (e.g. an exact Lab tensor) → ``(gray (..., 1), chroma (..., 2))`` normalised."""
        (s0, s1, _), (o0, o1, _) = self.scale, self.offset
        return x[..., :1, :, :] / s0 - o0, x[..., 1:, :, :] / s1 - o1

    def denormalise(self, gray: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`normalise`: → the space's channels ``(..., 3, H, W)`` in float32."""
        (s0, s1, _), (o0, o1, _) = self.scale, self.offset
        return torch.cat([(gray.float() + o0) * s0, (chroma.float() + o1) * s1], dim=-3)

    def split(self, rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """RGB (uint8 or [0, 1]) ``(..., 3, H, W)`` → normalised network input and target, on the batch's device."""
        return self.normalise(self.convert(rgb))

    def join(self, gray: torch.Tensor, chroma: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
        """Normalised gray ``(N, 1, H, W)`` + chroma ``(N, 2, h, w)`` → RGB ``(N, 3, H, W)`` in [0, 1].

        Chroma predicted at a coarser size is upsampled (``mode``) to the gray's: all detail comes
        from the gray channel, only the (smooth) colour is interpolated.
        """
        chroma = _upsample(chroma.to(device=gray.device, dtype=torch.float32), gray.shape[-2:], mode)
        return self.invert(self.denormalise(gray, chroma))


#: Lab: ``(L/50 − 1, ab/110)``.
LAB = ColorSpace("lab", "L", ("a", "b"), rgb_to_lab, lab_to_rgb, (50.0, AB_SCALE, AB_SCALE), (1.0, 0.0, 0.0))
#: YCbCr: ``(2Y − 1, 2(CbCr − ½))``.
YCBCR = ColorSpace("ycbcr", "Y", ("Cb", "Cr"), rgb_to_ycbcr, ycbcr_to_rgb, (0.5, 0.5, 0.5), (1.0, 1.0, 1.0))

#: The colour spaces a run can choose (``colorspace=`` in training and sweeps).
COLORSPACES = {"lab": LAB, "ycbcr": YCBCR}


def get_colorspace(name: str | ColorSpace | None) -> ColorSpace:
    """A :class:`ColorSpace` by name (None → Lab)."""
    if isinstance(name, ColorSpace):
        return name
    key = "lab" if name is None else str(name).lower()
    if key not in COLORSPACES:
        raise ColorlabError(f"unknown colour space {name!r}: use one of {', '.join(COLORSPACES)}")
    return COLORSPACES[key]
