"""The figures training writes while it runs: gray / predicted / truth galleries and an epoch progression strip.

They live with training (not in :mod:`colorlab.viz`, which is above it) because callbacks and the sweep
write them during a run.
"""
from __future__ import annotations

from pathlib import Path

import torch

from colorlab.core.color import LAB
from colorlab.core.figures import pyplot, save_figure, to_hwc

__all__ = ["gallery_figure", "save_gallery", "progression_figure"]


def gallery_figure(L_norm: torch.Tensor, pred_ab: torch.Tensor, true_ab: torch.Tensor | None = None,
                   title: str | None = None, labels=("gray input", "predicted", "truth"), join=None):
    """Columns gray / predicted / truth for a batch. Inputs normalised: L (N,1,H,W), ab (N,2,H,W).

    ``join(gray, chroma) -> RGB`` turns the normalised pair back into RGB (default Lab; pass
    ``colorlab.core.color.get_colorspace("ycbcr").join`` for a YCbCr model).
    """
    plt = pyplot()
    join = join or LAB.join
    L = L_norm.detach().float().cpu()
    pred = pred_ab.detach().float().cpu()
    cols = [join(L, torch.zeros_like(pred)), join(L, pred)]
    if true_ab is not None:
        cols.append(join(L, true_ab.detach().float().cpu()))
    n = L.shape[0]
    fig, axes = plt.subplots(len(cols), n, figsize=(1.6 * n, 1.7 * len(cols)), squeeze=False)
    for r, col in enumerate(cols):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(to_hwc(col[c]))
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(labels[r], fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def save_gallery(path, L_norm, pred_ab, true_ab=None, title=None, join=None) -> Path:
    """:func:`gallery_figure` saved as a PNG at ``path``."""
    return save_figure(gallery_figure(L_norm, pred_ab, true_ab, title=title, join=join), path)


def progression_figure(L_norm: torch.Tensor, columns: list[tuple[str, torch.Tensor]]):
    """One photo: its gray input, then one column per ``(title, normalised ab)`` (e.g. epochs, then the truth).

    Siswanto & Karnati's Fig. 6: the same photo coloured by the weights of increasing epochs.
    """
    plt = pyplot()
    L = L_norm[:1].detach().float().cpu()
    fig, axes = plt.subplots(1, len(columns) + 1, figsize=(1.8 * (len(columns) + 1), 2.1), squeeze=False)
    axes[0, 0].imshow(to_hwc(LAB.join(L, torch.zeros(1, 2, *L.shape[-2:]))[0]))
    axes[0, 0].set_title("gray", fontsize=9)
    for ax, (title, ab) in zip(axes[0, 1:], columns):
        ax.imshow(to_hwc(LAB.join(L, ab[:1].detach().float().cpu())[0]))
        ax.set_title(title, fontsize=9)
    for ax in axes[0]:
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    return fig
