"""Palette suggestions (Benabla et al.): the 5 dominant colours of the automatic colorization.

The colours come from the batched torch k-means of :mod:`colorlab.profiles.kmeans`
(:func:`~colorlab.profiles.descriptors.dominant_colors_batch`, k-means in Lab), sorted by how much of
the image they cover; the hint painter offers them as swatches.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from colorlab.core.color import lab_to_rgb
from colorlab.core.errors import ColorlabError
from colorlab.profiles.descriptors import dominant_colors_batch

__all__ = ["Palette", "suggest_palette", "to_hex"]


def to_hex(rgb) -> str:
    """``(r, g, b)`` uint8 → ``"#rrggbb"``."""
    r, g, b = (int(v) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


@dataclass
class Palette:
    """Suggested colours: ``rgb (n, 3)`` uint8, ``lab (n, 3)``, ``fractions (n,)`` (largest first)."""

    rgb: np.ndarray
    lab: np.ndarray
    fractions: np.ndarray

    @property
    def hex(self) -> list[str]:
        return [to_hex(c) for c in self.rgb]

    def __len__(self) -> int:
        return len(self.rgb)


@torch.no_grad()
def suggest_palette(image, n_colors: int = 5, max_side: int = 128, seed: int = 0, device="cpu") -> Palette:
    """The ``n_colors`` dominant colours of an RGB image (usually the automatic colorization).

    Args:
        image: uint8 ``(H, W, 3)`` array or ``(3, H, W)`` tensor.
        max_side: the image is area-downsampled to at most this side first (the palette
            does not need every pixel; keeps it fast for big photos).
    """
    if isinstance(image, torch.Tensor):
        t = image
    else:
        arr = np.asarray(image)
        if arr.ndim != 3 or arr.shape[2] != 3:
            raise ColorlabError(f"palette needs one RGB image (H, W, 3), got shape {arr.shape}")
        t = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1)
    if t.dim() != 3 or t.shape[0] != 3:
        raise ColorlabError(f"palette needs one RGB image (3, H, W), got shape {tuple(t.shape)}")
    x = t.to(device).float()[None] / (255.0 if t.dtype == torch.uint8 else 1.0)
    h, w = x.shape[-2:]
    if max(h, w) > max_side:
        f = max_side / max(h, w)
        x = torch.nn.functional.interpolate(x, size=(max(1, round(h * f)), max(1, round(w * f))), mode="area")
    k = min(n_colors, x.shape[-1] * x.shape[-2])
    dcd = dominant_colors_batch(x, n_colors=k, seed=seed)
    lab = dcd.colors[0]
    rgb = (lab_to_rgb(lab.T[:, :, None])[:, :, 0].T.clamp(0, 1) * 255).round().to(torch.uint8)
    return Palette(rgb.cpu().numpy(), lab.cpu().numpy(), dcd.fractions[0].cpu().numpy())
