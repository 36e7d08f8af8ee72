"""The drawing tools the ``scenes`` are painted with (:mod:`colorlab.data.scenes`), in NumPy float64.

CIE Lab → sRGB (the constants of :mod:`colorlab.core.color`, in NumPy), the projection of a colour into the
sRGB gamut at constant L (chroma only), and :class:`Canvas`, a painter's-algorithm canvas in Lab with
anti-aliased edges and per-pixel labels.
"""
from __future__ import annotations

import numpy as np

__all__ = ["lab_to_rgb_uint8", "in_gamut", "into_gamut", "Canvas"]

_XYZ_WHITE = np.array([0.95047, 1.0, 1.08883])
_RGB_FROM_XYZ = np.array([[3.240479, -1.537150, -0.498535],
                          [-0.969256, 1.875992, 0.041556],
                          [0.055648, -0.204043, 1.057311]])


def _lab_to_linear(L, a, b):
    fy = (L + 16.0) / 116.0
    fx, fz = fy + a / 500.0, fy - b / 200.0
    def finv(f):
        return np.where(f > 0.206893, f ** 3, (f - 16.0 / 116.0) / 7.787)
    xyz = np.stack([finv(fx), finv(fy), finv(fz)], -1) * _XYZ_WHITE
    return xyz @ _RGB_FROM_XYZ.T


def in_gamut(L, a, b, eps=1e-4):
    lin = _lab_to_linear(L, a, b)
    return (lin >= -eps).all(-1) & (lin <= 1 + eps).all(-1)


def into_gamut(L, a, b, steps: int = 14):
    """Scale each pixel's chroma (at constant L) by the largest factor ≤ 1 that is in the sRGB gamut."""
    inside = in_gamut(L, a, b)
    if inside.all():
        return a, b
    lo, hi = np.zeros_like(a), np.ones_like(a)
    for _ in range(steps):  # bisection on the chroma factor, all pixels at once
        mid = (lo + hi) / 2
        ok = in_gamut(L, a * mid, b * mid)
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    f = np.where(inside, 1.0, lo)
    return a * f, b * f


def lab_to_rgb_uint8(lab: np.ndarray) -> np.ndarray:
    """Float Lab ``(..., 3)`` → sRGB uint8 ``(..., 3)`` (for display; clipped)."""
    lin = np.clip(_lab_to_linear(lab[..., 0], lab[..., 1], lab[..., 2]), 0.0, 1.0)
    srgb = np.where(lin > 0.0031308, 1.055 * lin ** (1 / 2.4) - 0.055, 12.92 * lin)
    return np.clip(np.round(srgb * 255.0), 0, 255).astype(np.uint8)


class Canvas:
    """Painter's algorithm in Lab with soft (anti-aliased) edges and per-pixel labels."""

    def __init__(self, size: int, rng: np.random.Generator):
        self.S, self.rng = size, rng
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
        self.y, self.x = (yy + 0.5) / size, (xx + 0.5) / size   # coordinates in [0, 1]
        self.L = np.zeros((size, size))
        self.a = np.zeros((size, size))
        self.b = np.zeros((size, size))
        self.cls = np.zeros((size, size), np.uint8)
        self.mode = np.zeros((size, size), np.uint8)

    def alpha(self, signed_distance: np.ndarray) -> np.ndarray:
        """Coverage from a signed distance (in image units, < 0 inside): a one-pixel soft edge."""
        return np.clip(0.5 - signed_distance * self.S, 0.0, 1.0)

    def paint(self, alpha, L, ab, cls: int, mode: int = 0) -> None:
        a_, b_ = ab
        self.L = alpha * L + (1 - alpha) * self.L
        self.a = alpha * a_ + (1 - alpha) * self.a
        self.b = alpha * b_ + (1 - alpha) * self.b
        inside = alpha >= 0.5
        self.cls[inside] = cls
        self.mode[inside] = mode

    def noise(self, sy: float, sx: float) -> np.ndarray:
        """Smooth random field with correlation lengths ``sy``, ``sx`` (image units), unit std."""
        from scipy.ndimage import gaussian_filter
        n = self.rng.standard_normal((self.S, self.S))
        n = gaussian_filter(n, (max(sy * self.S, 1e-3), max(sx * self.S, 1e-3)), mode="wrap")
        return n / (n.std() + 1e-8)
