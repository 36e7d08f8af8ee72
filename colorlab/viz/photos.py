"""Figures for real photos (lab 12): held-out photos coloured by each model, beside the gray input and the truth."""
from __future__ import annotations

import torch

from colorlab.data.loaders import lab_batch
from colorlab.models.heads import predict_ab
from colorlab.viz.scenes import compare_figure

__all__ = ["photo_gallery"]


@torch.no_grad()
def photo_gallery(models: dict, data, indices, device="cpu", title: str | None = None):
    """Rows gray input / one per model / truth for the photos ``indices`` of ``data`` (a prepared cache)."""
    L, ab = lab_batch(data, indices, device)
    preds = {name: predict_ab(m.eval().to(L.device), L).float() for name, m in models.items()}
    return compare_figure(L, preds, ab, title=title)
