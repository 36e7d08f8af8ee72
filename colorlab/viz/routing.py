"""Figures of routed colorization (lab 08): the same gray scene coloured by every group's colorizer."""
from __future__ import annotations

import numpy as np
import torch

from colorlab.data.loaders import lab_batch
from colorlab.models.heads import predict_ab
from colorlab.training.routing import group_labels
from colorlab.viz.lab import _plt, to_hwc
from colorlab.viz.palettes import RIGHT, WRONG
from colorlab.viz.scenes import _join

__all__ = ["one_per_group", "wrong_profile_gallery"]


def one_per_group(labels, k: int) -> list[tuple[int, int]]:
    """``(group, index)`` of the first item of every group ``0..k-1`` that has one, in group order."""
    labels = group_labels(labels)
    return [(g, int(np.flatnonzero(labels == g)[0])) for g in range(k) if (labels == g).any()]


@torch.no_grad()
def wrong_profile_gallery(colorizers, data, groups, names=None, device="cpu", title: str | None = None):
    """A scene of each group (columns) coloured by every group's colorizer (rows), framed green where the
    colorizer is the scene's own group's (the right profile) and red where it is another's (a routing mistake).

    Args:
        colorizers: the K group colorizers (regression or classification heads).
        data: held-out photos (a prepared cache); groups: their true groups (labels ``(N,)`` or a Groups).
        names: the K group names (default ``groups.names`` or "group i").
    Rows: the gray input, one per colorizer, the truth.
    """
    plt = _plt()
    K = len(colorizers)
    names = list(names or getattr(groups, "names", None) or [f"group {i}" for i in range(K)])[:K]
    picks = one_per_group(groups, K)
    if not picks:
        raise ValueError("no photo belongs to any of the groups")
    L, ab = lab_batch(data, [i for _, i in picks], device)
    rows = [("gray input", _join(L, torch.zeros_like(L).expand(-1, 2, -1, -1)))]
    for j, m in enumerate(colorizers):
        rows.append((f"{names[j]}\ncolorizer", _join(L, predict_ab(m.to(L.device), L))))
    rows.append(("truth", _join(L, ab)))
    fig, axes = plt.subplots(len(rows), len(picks), figsize=(1.9 * len(picks) + 0.8, 1.55 * len(rows)), squeeze=False)
    for r, (name, imgs) in enumerate(rows):
        for c, (g, _) in enumerate(picks):
            ax = axes[r, c]
            ax.imshow(to_hwc(imgs[c]), interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if 1 <= r <= K:
                right = r - 1 == g
                for spine in ax.spines.values():
                    spine.set_edgecolor(RIGHT if right else WRONG)
                    spine.set_linewidth(4 if right else 1.5)
                    spine.set_linestyle("-" if right else "--")
        axes[r, 0].set_ylabel(name, fontsize=8)
    for c, (g, _) in enumerate(picks):
        axes[0, c].set_title(f"a scene of\n{names[g]}", fontsize=8)
    fig.suptitle(title or "each scene (column) coloured by every profile's colorizer (rows): "
                          "thick blue frame = its own profile, thin dashed vermillion = a wrong one", fontsize=9)
    fig.tight_layout()
    return fig
