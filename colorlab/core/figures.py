"""Matplotlib output helpers every stage may use: pyplot on demand, images ready for ``imshow``, atomic PNGs.

matplotlib is imported only when a figure is drawn, so importing the package (and ``colorlab --help``)
stays fast.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from colorlab.core.checkpoint import atomic_write

__all__ = ["pyplot", "to_hwc", "save_figure"]


def pyplot():
    """``matplotlib.pyplot``, imported on first use."""
    import matplotlib.pyplot as plt  # headless machines pick the Agg backend by themselves
    return plt


def to_hwc(rgb) -> np.ndarray:
    """(3, H, W) float tensor in [0, 1] or (H, W, 3) uint8 array → (H, W, 3) array for imshow."""
    if isinstance(rgb, torch.Tensor):
        t = rgb.detach().float().cpu()
        if t.dim() == 3 and t.shape[0] == 3:
            t = t.permute(1, 2, 0)
        arr = t.numpy()
        return arr / 255.0 if rgb.dtype == torch.uint8 else arr.clip(0, 1)
    arr = np.asarray(rgb)
    return arr / 255.0 if arr.dtype == np.uint8 else arr


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """Save a figure atomically as PNG and close it."""
    plt = pyplot()
    path = atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png", bbox_inches="tight"))
    plt.close(fig)
    return path
