"""Small image filters shared by the kit: the one normalised Gaussian kernel.

The ab prior's smoothing (:mod:`colorlab.rarity.prior`), SSIM's window (:mod:`colorlab.evaluation.metrics`)
and the Gaussian hint colour (:mod:`colorlab.hints.sampling`) all blur with :func:`gaussian_kernel`,
applied separably (once along rows, once along columns).
"""
from __future__ import annotations

import math

import torch

__all__ = ["gaussian_kernel", "gaussian_size"]


def gaussian_size(sigma: float) -> int:
    """The usual odd kernel length for ``sigma``: ``2r + 1`` taps with ``r = max(1, ceil(3σ))``."""
    return 2 * max(1, math.ceil(3 * sigma)) + 1


def gaussian_kernel(sigma: float, size: int | None = None, dtype: torch.dtype = torch.float32,
                    device=None) -> torch.Tensor:
    """A 1-D Gaussian ``exp(-x² / 2σ²)`` of ``size`` taps centred on the middle, summing to 1.

    ``size`` defaults to :func:`gaussian_size`; the taps sit at ``x = i − (size − 1) / 2``. A 2-D
    Gaussian blur is this kernel along one axis, then along the other.
    """
    size = gaussian_size(sigma) if size is None else int(size)
    x = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    k = torch.exp(-x ** 2 / (2 * sigma ** 2))
    return k / k.sum()
