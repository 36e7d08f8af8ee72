"""Figures of colour profiles and category groups: palettes, example images, the predictor's confusion."""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.color import lab_to_rgb

__all__ = ["lab_swatches_rgb", "plot_palettes", "plot_group_examples", "plot_dominant_colors", "plot_confusion"]


def lab_swatches_rgb(lab: np.ndarray) -> np.ndarray:
    """Lab colours ``(..., 3)`` → sRGB ``(..., 3)`` in [0, 1]."""
    lab = np.asarray(lab, dtype=np.float32)
    t = torch.from_numpy(lab.reshape(-1, 3).T.copy()).view(3, 1, -1)
    return lab_to_rgb(t).view(3, -1).T.numpy().reshape(lab.shape)


def plot_palettes(groups, ax=None, max_groups: int = 20):
    """One bar per group, split into its palette swatches in proportion to their pixel share."""
    import matplotlib.pyplot as plt

    if groups.palettes is None:
        raise ValueError("these groups have no palettes: build them with descriptors (colorlab.profiles.groups)")
    K = min(groups.n_groups, max_groups)
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6, 0.45 * K + 0.8))
    rgb = lab_swatches_rgb(groups.palettes[:K])
    counts = groups.counts
    for g in range(K):
        left = 0.0
        for s, w in enumerate(groups.palette_weights[g]):
            if w <= 0:
                continue
            ax.barh(g, w, left=left, color=rgb[g, s], edgecolor="white", height=0.8)
            left += w
    ax.set_yticks(range(K), [f"{groups.names[g]} ({counts[g]})" for g in range(K)], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the group's pixels")
    ax.set_title(f"{groups.kind} palettes", fontsize=10)
    return fig


def plot_group_examples(groups, images, n: int = 6, max_groups: int = 10):
    """A grid: one row per group, its most typical images (``groups.examples``) from ``images``."""
    import matplotlib.pyplot as plt

    if groups.examples is None:
        raise ValueError("these groups have no examples: build them with descriptors (colorlab.profiles.groups)")
    arr = getattr(images, "images", images)
    K, n = min(groups.n_groups, max_groups), min(n, groups.examples.shape[1])
    fig, axes = plt.subplots(K, n, figsize=(1.3 * n, 1.3 * K + 0.3), squeeze=False)
    for g in range(K):
        for j in range(n):
            ax = axes[g, j]
            ax.axis("off")
            i = int(groups.examples[g, j])
            if i >= 0:
                ax.imshow(np.asarray(arr[i]))
        axes[g, 0].set_title(groups.names[g], fontsize=8, loc="left")
    fig.tight_layout()
    return fig


def plot_dominant_colors(image: np.ndarray, dcd, index: int = 0):
    """One image next to its dominant colours (bar widths = fractions), with s in the title."""
    import matplotlib.pyplot as plt

    fig, (a0, a1) = plt.subplots(1, 2, figsize=(6, 2.6), gridspec_kw={"width_ratios": [1, 1.4]})
    a0.imshow(np.asarray(image))
    a0.axis("off")
    rgb = lab_swatches_rgb(dcd.colors[index].numpy())
    left = 0.0
    for c, f in zip(rgb, dcd.fractions[index].numpy()):
        a1.barh(0, f, left=left, color=c, edgecolor="white")
        left += f
    a1.set_xlim(0, 1)
    a1.set_yticks([])
    a1.set_xlabel("pixel fraction pᵢ")
    a1.set_title(f"dominant colours (s = {float(dcd.coherency[index]):.2f})", fontsize=9)
    fig.tight_layout()
    return fig


def plot_confusion(report, ax=None, normalize: bool = True):
    """The predictor's confusion matrix (rows: true, columns: predicted), row-normalised by default."""
    import matplotlib.pyplot as plt

    cm = report.confusion.astype(float)
    if normalize:
        cm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    K = len(report.names)
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(0.5 * K + 2.5, 0.5 * K + 2))
    im = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    if K <= 12:
        for i in range(K):
            for j in range(K):
                ax.text(j, i, f"{cm[i, j]:.2f}" if normalize else int(cm[i, j]), ha="center", va="center",
                        fontsize=7, color="white" if cm[i, j] > 0.5 * cm.max() else "black")
    ax.set_xticks(range(K), report.names, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(K), report.names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"accuracy {100 * report.accuracy:.1f} %, top-3 {100 * report.top3_accuracy:.1f} %", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig
