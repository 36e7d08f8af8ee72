"""Figures about the Lab split: the sRGB gamut on the ab plane, channels, training patches.

(The gray / predicted / truth galleries training writes are :mod:`colorlab.training.gallery`; the figure
helpers ``pyplot``, ``to_hwc``, ``save_figure`` are :mod:`colorlab.core.figures`.)"""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.color import chroma_hue, gray_rgb, lab_to_rgb, rgb_to_lab
from colorlab.core.figures import pyplot as _plt, save_figure, to_hwc  # noqa: F401  (viz modules import them from here)

__all__ = ["ab_channel_rgb", "ab_gamut", "plot_ab_gamut", "channels_figure", "patch_grid"]


def ab_channel_rgb(lab: torch.Tensor, channel: int, L: float = 65.0) -> torch.Tensor:
    """Show one of a/b in its own colours: Lab ``(L, a, 0)`` or ``(L, 0, b)`` at constant lightness."""
    out = torch.zeros_like(lab)
    out[..., 0, :, :] = L
    out[..., channel, :, :] = lab[..., channel, :, :]
    return lab_to_rgb(out)


def ab_gamut(L: float, n: int = 221, limit: float = 110.0) -> tuple[np.ndarray, np.ndarray]:
    """Which ab at lightness ``L`` are colours an sRGB screen can show.

    The square ``[-limit, limit]²`` is sampled on an ``n × n`` grid (rows b from −limit up, columns
    a from −limit up, as ``imshow(origin="lower")`` wants). Returns ``(rgb (n, n, 3) in [0, 1],
    inside (n, n) bool)``: ``inside`` where Lab → RGB needs no clipping (and converts back to the
    same Lab), ``rgb`` the colour there (clipped elsewhere).
    """
    c = torch.linspace(-limit, limit, n)
    b, a = torch.meshgrid(c, c, indexing="ij")
    lab = torch.stack([torch.full_like(a, float(L)), a, b])
    rgb = lab_to_rgb(lab, clip=False)
    inside = ((rgb >= -1e-4) & (rgb <= 1 + 1e-4)).all(0)
    inside &= (rgb_to_lab(rgb.clamp(0, 1)) - lab).abs().amax(0) < 0.5
    return rgb.clamp(0, 1).permute(1, 2, 0).numpy(), inside.numpy()


def plot_ab_gamut(Ls=(25, 50, 75), n: int = 221, limit: float = 110.0, outside=0.93, circle: float = 50.0):
    """One panel per lightness: the ab square, coloured where sRGB can show the colour, light gray
    where it cannot; a dashed circle of chroma ``circle`` for scale. Returns the figure."""
    plt = _plt()
    Ls = list(Ls)
    fig, axes = plt.subplots(1, len(Ls), figsize=(3.3 * len(Ls), 3.5), squeeze=False)
    t = np.linspace(0, 2 * np.pi, 200)
    c = torch.linspace(-limit, limit, n)
    b, a = torch.meshgrid(c, c, indexing="ij")
    C = chroma_hue(torch.stack([a, b]))[0].numpy()
    for ax, L in zip(axes[0], Ls):
        rgb, inside = ab_gamut(L, n, limit)
        img = np.where(inside[..., None], rgb, outside)
        ax.imshow(img, origin="lower", extent=(-limit, limit, -limit, limit), interpolation="nearest")
        ax.axhline(0, color="k", lw=0.5, alpha=0.4)
        ax.axvline(0, color="k", lw=0.5, alpha=0.4)
        if circle:
            ax.plot(circle * np.cos(t), circle * np.sin(t), "k--", lw=0.7, alpha=0.6)
        cmax = float(C[inside].max()) if inside.any() else 0.0
        ax.set_title(f"L = {L:g}: {inside.mean():.0%} of the square,\nchroma up to {cmax:.0f}", fontsize=9)
        ax.set_xlabel("a (green ← → red)")
        ax.set_ylabel("b (blue ← → yellow)")
    fig.tight_layout()
    return fig


def channels_figure(images: np.ndarray, names=None):
    """One row per photo: colour, L (gray), a (green–red), b (blue–yellow). ``images``: uint8 (N, H, W, 3)."""
    plt = _plt()
    x = torch.from_numpy(np.array(images)).permute(0, 3, 1, 2)  # a copy: memmaps are read-only
    lab = rgb_to_lab(x)
    n = len(images)
    fig, axes = plt.subplots(n, 4, figsize=(10, 2.6 * n), squeeze=False)
    titles = ["colour", "L (lightness, the input)", "a (green ↔ red)", "b (blue ↔ yellow)"]
    for i in range(n):
        panels = [x[i].float() / 255, gray_rgb(lab[i, :1]), ab_channel_rgb(lab[i], 1), ab_channel_rgb(lab[i], 2)]
        for j, p in enumerate(panels):
            ax = axes[i, j]
            ax.imshow(to_hwc(p))
            ax.set_xticks([]), ax.set_yticks([])
            if i == 0:
                ax.set_title(titles[j], fontsize=9)
        if names is not None:
            axes[i, 0].set_ylabel(names[i], fontsize=8)
    fig.tight_layout()
    return fig


def patch_grid(images: np.ndarray, cols: int = 8, title: str | None = None):
    """A grid of training patches (uint8 (N, H, W, 3))."""
    plt = _plt()
    n = len(images)
    rows = max(1, (n + cols - 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.2), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            ax.imshow(images[k])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
