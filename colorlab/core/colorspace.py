"""YCbCr and the "colour space" a colorizer is trained in: Lab ab (default) or YCbCr CbCr.

Benabla et al.'s hint model predicts Cb and Cr from the Y channel; everything else in the kit
predicts Lab ab from L. :class:`ColorSpace` gives both the same interface — ``split`` an RGB
batch into (normalised gray input, normalised chroma target) and ``join`` them back — so a run
can pick its space by name (:func:`get_colorspace`) and the comparison can be made.

YCbCr here is full-range ITU-R BT.601 as JPEG (and Pillow) define it, on [0, 1] values:
``Y = 0.299 R + 0.587 G + 0.114 B``, ``Cb = 0.5 + (B − Y) / 1.772``, ``Cr = 0.5 + (R − Y) / 1.402``.
It is linear in the gamma-encoded RGB, so the round trip is exact up to float rounding.

Shapes: colour is the third-from-last axis, ``(..., 3, H, W)``; the arithmetic runs in float32
(also under autocast), like :mod:`colorlab.core.color`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from colorlab.core.color import denormalize_ab, denormalize_l, lab_to_rgb, normalize_ab, rgb_to_lab, split_lab
from colorlab.core.errors import ColorlabError

__all__ = ["rgb_to_ycbcr", "ycbcr_to_rgb", "split_ycbcr", "join_ycbcr", "ColorSpace", "COLORSPACES",
           "get_colorspace", "LabView"]

# JPEG / JFIF full-range BT.601.
_YCBCR_FROM_RGB = ((0.299, 0.587, 0.114),
                   (-0.168736, -0.331264, 0.5),
                   (0.5, -0.418688, -0.081312))
_RGB_FROM_YCBCR = ((1.0, 0.0, 1.402),
                   (1.0, -0.344136, -0.714136),
                   (1.0, 1.772, 0.0))


def _check(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < 3 or x.shape[-3] != 3:
        raise ValueError(f"{name} must have shape (..., 3, H, W), got {tuple(x.shape)}")


def _mix(m, x: torch.Tensor) -> torch.Tensor:
    c0, c1, c2 = x.unbind(-3)
    return torch.stack([m[i][0] * c0 + m[i][1] * c1 + m[i][2] * c2 for i in range(3)], dim=-3)


def rgb_to_ycbcr(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB ``(..., 3, H, W)`` in [0, 1] (or uint8) → YCbCr ``(..., 3, H, W)``, every channel in [0, 1]."""
    _check(rgb, "rgb")
    out_dtype = rgb.dtype if rgb.is_floating_point() else torch.float32
    x = rgb.float() / 255.0 if rgb.dtype == torch.uint8 else rgb.float()
    with torch.autocast(x.device.type, enabled=False):
        ycc = _mix(_YCBCR_FROM_RGB, x)
        ycc = torch.cat([ycc[..., :1, :, :], ycc[..., 1:, :, :] + 0.5], dim=-3)
    return ycc.to(out_dtype)


def ycbcr_to_rgb(ycbcr: torch.Tensor, clip: bool = True) -> torch.Tensor:
    """YCbCr ``(..., 3, H, W)`` in [0, 1] → sRGB ``(..., 3, H, W)``; clipped to [0, 1] unless ``clip=False``."""
    _check(ycbcr, "ycbcr")
    out_dtype = ycbcr.dtype if ycbcr.is_floating_point() else torch.float32
    x = ycbcr.float()
    with torch.autocast(x.device.type, enabled=False):
        x = torch.cat([x[..., :1, :, :], x[..., 1:, :, :] - 0.5], dim=-3)
        rgb = _mix(_RGB_FROM_YCBCR, x)
        if clip:
            rgb = rgb.clamp(0.0, 1.0)
    return rgb.to(out_dtype)


def split_ycbcr(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """RGB → ``(2·Y − 1 (..., 1, H, W), 2·(CbCr − ½) (..., 2, H, W))``, both in [-1, 1]."""
    ycc = rgb_to_ycbcr(rgb)
    return ycc[..., :1, :, :] * 2.0 - 1.0, (ycc[..., 1:, :, :] - 0.5) * 2.0


def join_ycbcr(y_norm: torch.Tensor, cbcr_norm: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`split_ycbcr`: normalised Y ``(..., 1, H, W)`` + CbCr ``(..., 2, H, W)`` → RGB."""
    return ycbcr_to_rgb(torch.cat([(y_norm.float() + 1.0) / 2.0, cbcr_norm.float() / 2.0 + 0.5], dim=-3))


def _join_lab(L_norm: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
    return lab_to_rgb(torch.cat([denormalize_l(L_norm.float()), denormalize_ab(ab_norm.float())], dim=-3))


@dataclass(frozen=True)
class ColorSpace:
    """A colorizer's colour space: how an RGB batch becomes (gray input, chroma target) and back.

    Attributes:
        name: ``"lab"`` or ``"ycbcr"``.
        gray, chroma: channel names, e.g. ``"L"`` and ``("a", "b")``.
        split: RGB ``(..., 3, H, W)`` → ``(gray (..., 1, H, W), chroma (..., 2, H, W))``, both about [-1, 1].
        join: the inverse, → RGB in [0, 1].
    """

    name: str
    gray: str
    chroma: tuple
    split: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
    join: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


#: The colour spaces a run can choose (``colorspace=`` in training and sweeps).
COLORSPACES = {
    "lab": ColorSpace("lab", "L", ("a", "b"), split_lab, _join_lab),
    "ycbcr": ColorSpace("ycbcr", "Y", ("Cb", "Cr"), split_ycbcr, join_ycbcr),
}


def get_colorspace(name: str | ColorSpace | None) -> ColorSpace:
    """A :class:`ColorSpace` by name (None → Lab)."""
    if isinstance(name, ColorSpace):
        return name
    key = "lab" if name is None else str(name).lower()
    if key not in COLORSPACES:
        raise ColorlabError(f"unknown colour space {name!r}: use one of {', '.join(COLORSPACES)}")
    return COLORSPACES[key]


class LabView(torch.nn.Module):
    """Show a colorizer trained in another colour space through the Lab interface.

    ``forward(L_norm (N, 1, H, W)) → normalised ab (N, 2, H, W)``, so :func:`colorlab.evaluation.evaluate.evaluate`,
    galleries and ``colorize`` can use it unchanged. The gray input is read as a neutral gray
    photo (RGB = lab_to_rgb(L, 0, 0)), which is exactly what a real black-and-white photo gives;
    on a colour photo's L it differs slightly from the true Y the model was trained on.
    """

    def __init__(self, model: torch.nn.Module, colorspace: str | ColorSpace):
        super().__init__()
        self.model, self.space = model, get_colorspace(colorspace)
        if getattr(model, "head", "regression") != "regression":
            raise ColorlabError("LabView needs a regression-head colorizer")
        self.config = dict(getattr(model, "config", {}), colorspace=self.space.name)
        self.head, self.in_channels = "regression", getattr(model, "in_channels", 1)
        self.stride = getattr(model, "stride", 1)

    def forward(self, L_norm: torch.Tensor) -> torch.Tensor:
        L = denormalize_l(L_norm[:, :1].float())
        gray_rgb = lab_to_rgb(torch.cat([L, torch.zeros_like(L).expand(-1, 2, -1, -1)], 1))
        gray, _ = self.space.split(gray_rgb)
        x = torch.cat([gray, L_norm[:, 1:]], 1) if L_norm.shape[1] > 1 else gray
        rgb = self.space.join(gray, self.model(x).float())
        return normalize_ab(rgb_to_lab(rgb)[:, 1:])
