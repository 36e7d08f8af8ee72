"""Figures for the ``scenes`` dataset: what a scene holds, and how models colour its hard objects."""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.color import LAB
from colorlab.core.figures import pyplot, to_hwc
from colorlab.data.loaders import lab_batch
from colorlab.data.scenes import CLASSES, PROFILES
from colorlab.data.scenes_render import lab_to_rgb_uint8
from colorlab.models.heads import predict_ab
from colorlab.viz import palettes
from colorlab.viz.palettes import to_rgb

__all__ = ["scene_grid", "compare_figure", "object_crops", "object_gallery", "CLASS_COLOURS"]

#: A fixed colour per pixel class for class maps (sky, grass, water, bark, fruit, car, flower, sun).
#: CVD-safe (Okabe–Ito, :data:`colorlab.viz.palettes.CLASS_COLOURS`), as float RGB ``(8, 3)`` for indexing a class map.
CLASS_COLOURS = to_rgb(palettes.CLASS_COLOURS)


def _join(L_norm: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
    return LAB.join(L_norm.detach().float().cpu(), ab_norm.detach().float().cpu())


def scene_grid(data, n: int = 8, title: str | None = None):
    """Rows: the scene, its L (shown as Lab gray, ``lab_to_rgb(L, 0, 0)``), its pixel classes and
    colour modes, for the first ``n`` items of a prepared ``scenes`` cache (or a ScenesDataset)."""
    plt = pyplot()
    if hasattr(data, "scene"):
        scenes = [data.scene(i) for i in range(n)]
        lab = np.stack([s.lab for s in scenes])
        cls = np.stack([s.classes for s in scenes])
        modes = np.stack([s.modes for s in scenes])
        prof = [s.profile for s in scenes]
    else:
        lab, cls, modes, prof = (np.array(data.lab[:n]), np.array(data.class_map[:n]), np.array(data.mode_map[:n]),
                                 data.labels[:n].tolist())
    gray = lab.copy()
    gray[..., 1:] = 0
    rows = [("scene", lab_to_rgb_uint8(lab)), ("L (input)", lab_to_rgb_uint8(gray)), ("pixel class", CLASS_COLOURS[cls]),
            ("colour mode", modes)]
    fig, axes = plt.subplots(len(rows), n, figsize=(1.6 * n, 1.7 * len(rows)), squeeze=False)
    for r, (name, imgs) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(imgs[c], cmap="viridis" if name == "colour mode" else None, vmin=0, vmax=2,
                      interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, fontsize=9)
            if r == 0:
                ax.set_title(PROFILES[prof[c]], fontsize=8)
    handles = [plt.matplotlib.patches.Patch(color=CLASS_COLOURS[i], label=name) for i, name in enumerate(CLASSES)]
    fig.legend(handles=handles, loc="lower center", ncol=len(CLASSES), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def compare_figure(L_norm: torch.Tensor, preds: dict, true_ab: torch.Tensor | None = None, title: str | None = None):
    """Rows gray input / one per model / truth, a column per image. Inputs normalised (L/50−1, ab/110)."""
    plt = pyplot()
    rows = [("gray input", _join(L_norm, torch.zeros_like(L_norm).expand(-1, 2, -1, -1)))]
    rows += [(name, _join(L_norm, ab)) for name, ab in preds.items()]
    if true_ab is not None:
        rows.append(("truth", _join(L_norm, true_ab)))
    n = L_norm.shape[0]
    fig, axes = plt.subplots(len(rows), n, figsize=(1.5 * n, 1.55 * len(rows)), squeeze=False)
    for r, (name, imgs) in enumerate(rows):
        for c in range(n):
            axes[r, c].imshow(to_hwc(imgs[c]), interpolation="nearest")
            axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def object_crops(data, classes, n: int = 8, half: int | None = None, modes=None) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n`` (image index, (y0, x0)) windows centred on objects of ``classes`` (optionally of
    ``modes``) in a prepared ``scenes`` cache, largest objects first, one per image."""
    from scipy.ndimage import center_of_mass, label as cc
    size = data.class_map.shape[1]
    half = half or max(8, size // 4)
    found = []
    for i in range(len(data.class_map)):
        mask = np.isin(np.asarray(data.class_map[i]), list(classes))
        if modes is not None:
            mask &= np.isin(np.asarray(data.mode_map[i]), list(modes))
        blobs, k = cc(mask)
        if not k:
            continue
        sizes = np.bincount(blobs.ravel())[1:]
        j = int(np.argmax(sizes)) + 1
        cy, cx = (int(round(v)) for v in center_of_mass(blobs == j))
        y0, x0 = min(max(cy - half, 0), size - 2 * half), min(max(cx - half, 0), size - 2 * half)
        found.append((int(sizes[j - 1]), i, y0, x0))
    found.sort(key=lambda t: -t[0])
    picked = sorted(found[:n], key=lambda t: t[1])
    return np.array([t[1] for t in picked], dtype=np.int64), np.array([(t[2], t[3]) for t in picked]).reshape(-1, 2)


@torch.no_grad()
def object_gallery(models: dict, data, classes, n: int = 8, device="cpu", modes=None, title: str | None = None, T=0.38):
    """The hard objects up close: windows around ``classes`` (e.g. the fruit, the flower, the red car),
    rows gray / each model / truth. Models see the whole scene; the crop is only for the eye."""
    idx, corners = object_crops(data, classes, n=n, modes=modes)
    if len(idx) == 0:
        raise ValueError(f"no objects of classes {classes} in this data")
    L, ab = lab_batch(data, idx, device)
    half = max(8, L.shape[-1] // 4)

    def crop(x):
        return torch.stack([x[k, :, y:y + 2 * half, xx:xx + 2 * half] for k, (y, xx) in enumerate(corners)])
    preds = {}
    for name, m in models.items():
        m.eval()
        extra = getattr(m, "in_channels", 1) - 1
        x = torch.cat([L, L.new_zeros(L.shape[0], extra, *L.shape[-2:])], 1) if extra else L
        preds[name] = crop(predict_ab(m.to(L.device), x, T=T).float())
    return compare_figure(crop(L), preds, crop(ab), title=title)
