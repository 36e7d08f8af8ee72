"""Small data for the GPU tests (the same photos as the CPU tests use, no downloads)."""
from __future__ import annotations

import numpy as np

TINY = dict(base=8, depth=2)


def blocks(n=48, size=16, seed=0):
    """Two flat colour blocks whose colour follows lightness: learnable from L alone."""
    rng = np.random.default_rng(seed)
    imgs = np.zeros((n, size, size, 3), np.uint8)
    for i in range(n):
        cut = rng.integers(4, size - 4)
        imgs[i, :, :cut] = (200, 40, 40)
        imgs[i, :, cut:] = (30, 60, 160)
    return imgs


def photos(n=8, size=32, seed=0):
    """Colourful random-smooth photos (uint8, (n, size, size, 3))."""
    import torch
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 4, 4, generator=g)
    up = torch.nn.functional.interpolate(low, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    return (up.permute(0, 2, 3, 1) * 255).round().byte().numpy()
