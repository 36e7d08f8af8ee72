"""User-guided colour hints (Zhang et al. 2017; Benabla et al.): how hints become model input.

A hint model sees ``L + 2 hint-ab channels + 1 mask channel`` ``(N, 4, H, W)``: the hint ab
(normalised, ab / 110) inside each hint's square patch and 0 elsewhere, and a mask that is
1 where a hint was given. A hint is a square patch ``(top, left, size)`` with one ab colour;
a point is a patch of size 1. :func:`paint_patches` paints many hints of many images at once;
:func:`encode_hints` encodes a user's :class:`Hint` list. Synthetic training hints:
:mod:`colorlab.hints.sampling`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from colorlab.core.color import AB_SCALE
from colorlab.core.device import get_device

__all__ = ["HINT_CHANNELS", "Hint", "paint_patches", "encode_hints"]

#: Extra input channels of a hint model: ab (2) + mask (1).
HINT_CHANNELS = 3


def paint_patches(top: torch.Tensor, left: torch.Tensor, size: torch.Tensor, ab: torch.Tensor,
                  valid: torch.Tensor, height: int, width: int, max_size: int | None = None) -> torch.Tensor:
    """Paint square hint patches into hint channels, all images at once.

    Args:
        top, left, size: ``(B, K)`` integer patch corners and side lengths (pixels); patches
            are clipped to the image.
        ab: ``(B, K, 2)`` hint colours, normalised ab (ab / 110).
        valid: ``(B, K)`` bool, which of the K slots hold a hint.
        height, width: image size.
        max_size: an upper bound of ``size`` known to the caller (a sampler's); without it, it is read
            from ``size`` (one device-to-host sync).
    Returns:
        ``(B, 3, H, W)``: hint ab (0 outside hints) and the 0/1 mask. Where patches overlap,
        the later hint (larger k) wins, so the result does not depend on scatter order.
    """
    B, K = top.shape
    dev = ab.device
    out = torch.zeros(B, HINT_CHANNELS, height, width, device=dev, dtype=ab.dtype)
    if K == 0:
        return out
    smax = max(1, int(max_size)) if max_size is not None else (int(size.max().clamp_min(1)) if size.numel() else 1)
    off = torch.arange(smax, device=dev)
    dy, dx = off.view(1, 1, smax, 1), off.view(1, 1, 1, smax)
    s = size.view(B, K, 1, 1)
    y = top.view(B, K, 1, 1) + dy
    x = left.view(B, K, 1, 1) + dx
    inside = (dy < s) & (dx < s) & (y >= 0) & (y < height) & (x >= 0) & (x < width) & valid.view(B, K, 1, 1)
    n_pix = height * width
    flat = torch.where(inside, y * width + x, torch.full_like(y, n_pix)).reshape(B, -1)  # n_pix = dump slot
    k_id = torch.arange(1, K + 1, device=dev).view(1, K, 1, 1).expand_as(flat.view(B, K, smax, smax)).reshape(B, -1)
    owner = torch.zeros(B, n_pix + 1, dtype=torch.long, device=dev)
    owner.scatter_reduce_(1, flat, k_id, reduce="amax")             # 0 = no hint, else 1 + hint index
    owner = owner[:, :n_pix]
    has = owner > 0
    colours = torch.cat([torch.zeros(B, 1, 2, device=dev, dtype=ab.dtype), ab], 1)  # slot 0: no hint
    pix_ab = colours.gather(1, owner[..., None].expand(-1, -1, 2))  # (B, HW, 2)
    out[:, :2] = pix_ab.transpose(1, 2).reshape(B, 2, height, width)
    out[:, 2] = has.view(B, height, width).to(ab.dtype)
    return out


@dataclass
class Hint:
    """One user hint in pixel coordinates of the photo it was given on.

    Attributes:
        x, y: the patch centre (column, row).
        size: side of the square patch in pixels (1 = a point).
        ab: the hint colour in Lab units ``(a, b)``.
    """

    x: int
    y: int
    size: int
    ab: tuple[float, float]

    def contains(self, x: float, y: float) -> bool:
        """Whether pixel ``(x, y)`` lies in this hint's patch (with a one-pixel margin for easy clicking)."""
        r = self.size / 2 + 1
        return abs(x - self.x) <= r and abs(y - self.y) <= r


def encode_hints(hints: list[Hint], height: int, width: int, photo_size: tuple[int, int] | None = None,
                 device="cpu") -> torch.Tensor:
    """User hints → the 3 hint channels ``(3, height, width)`` of the model input.

    Args:
        hints: :class:`Hint` objects in the coordinates of a photo of ``photo_size = (H, W)``
            (default: the target size); they are rescaled to ``height × width``.
    """
    dev = get_device(device) if isinstance(device, str) else device
    ph, pw = photo_size or (height, width)
    sy, sx = height / ph, width / pw
    if not hints:
        return torch.zeros(HINT_CHANNELS, height, width, device=dev)
    size = torch.tensor([[max(1, round(h.size * min(sy, sx))) for h in hints]], device=dev)
    cy = torch.tensor([[h.y * sy for h in hints]], device=dev)
    cx = torch.tensor([[h.x * sx for h in hints]], device=dev)
    top = (cy - (size - 1) / 2).round().long().clamp(0, height - 1)
    left = (cx - (size - 1) / 2).round().long().clamp(0, width - 1)
    ab = torch.tensor([[h.ab for h in hints]], device=dev, dtype=torch.float32) / AB_SCALE
    valid = torch.ones_like(size, dtype=torch.bool)
    return paint_patches(top, left, size, ab, valid, height, width)[0]
