"""Finding gray photos inside colour datasets.

A gray photo (Tiny ImageNet has a few hundred) teaches a colorizer that everything is
gray. Its *ab spread* — the root-mean-square chroma ``sqrt(mean(a² + b²))`` over its
pixels, in Lab units — is near 0 (JPEG noise gives well under 1), while a colour photo's is
typically 10–40. Photos under :data:`GRAY_AB_THRESHOLD` are treated as gray.
"""
from __future__ import annotations

import torch

from colorlab.core.color import rgb_to_lab

__all__ = ["GRAY_AB_THRESHOLD", "ab_spread", "is_gray"]

#: ab spread (Lab units) below which a photo counts as gray: about the just-noticeable
#: colour difference (ΔE ≈ 2.3), well above JPEG chroma noise on gray photos.
GRAY_AB_THRESHOLD = 2.5


def ab_spread(rgb: torch.Tensor) -> torch.Tensor:
    """Root-mean-square chroma per image: ``(N, 3, H, W)`` RGB (uint8 or [0, 1]) → ``(N,)`` float32.

    Runs on ``rgb``'s device; a ``(3, H, W)`` image gives a 0-d tensor.
    """
    ab = rgb_to_lab(rgb)[..., 1:, :, :].float()
    return ab.square().sum(-3).mean((-2, -1)).sqrt()


def is_gray(rgb: torch.Tensor, threshold: float = GRAY_AB_THRESHOLD) -> torch.Tensor:
    """Boolean ``(N,)``: which images of the batch carry (almost) no colour."""
    return ab_spread(rgb) < threshold
