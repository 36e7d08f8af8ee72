"""Figures of colorization as classification (lab 07): values on the ab bins, the soft-encoding of one
pixel, and what the temperature T does to a predicted distribution and to its annealed mean."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from colorlab.data.loaders import lab_batch
from colorlab.rarity.soft_encoding import annealed_mean, soft_encode
from colorlab.viz.lab import _plt
from colorlab.viz.profiles import lab_swatches_rgb

__all__ = ["bins_plane", "bin_colours", "plot_bin_values", "mixture_logits", "plot_soft_encoding",
           "plot_annealed", "class_pixel_logits"]


def _as_1d(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().float().cpu().numpy()
    return np.asarray(values, dtype=np.float64).reshape(-1)


def bins_plane(values, centres) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Per-bin ``values (Q,)`` on the lattice of the bin ``centres (Q, 2)`` (a grid, e.g. Zhang's 313).

    Returns ``(plane (G, G), extent)``: ``plane[i, j]`` is the value of the bin in column ``i`` of a and
    row ``j`` of b (NaN where the lattice has no bin) and ``extent`` = (lo, hi, lo, hi) in ab units.
    """
    c = _as_1d(centres).reshape(-1, 2)
    v = _as_1d(values)
    if len(v) != len(c):
        raise ValueError(f"{len(v)} values for {len(c)} bins")
    steps = np.diff(np.unique(c))
    width = float(steps[steps > 1e-6].min()) if (steps > 1e-6).any() else 1.0
    lo = float(c.min()) - width / 2
    ij = np.rint((c - lo) / width - 0.5).astype(int)
    G = int(ij.max()) + 1
    plane = np.full((G, G), np.nan)
    plane[ij[:, 0], ij[:, 1]] = v
    return plane, (lo, lo + G * width, lo, lo + G * width)


def bin_colours(centres, L: float = 65.0) -> np.ndarray:
    """The sRGB colour ``(Q, 3)`` in [0, 1] of every bin centre at lightness ``L``."""
    c = _as_1d(centres).reshape(-1, 2)
    return np.clip(lab_swatches_rgb(np.concatenate([np.full((len(c), 1), L), c], 1)), 0, 1)


def plot_bin_values(values, centres, ax=None, title: str | None = None, cmap: str = "magma_r", vmax=None,
                    colorbar: bool = True):
    """A heat map of per-bin ``values (Q,)`` on the ab plane (a along x, b along y, as in Zhang et al.).

    Bins of the lattice without a value are light gray, so the shape of the bin set stays visible.
    """
    plt = _plt()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4, 3.6))
    plane, extent = bins_plane(values, centres)
    ax.set_facecolor("0.88")
    vmax = float(np.nanmax(plane)) if vmax is None else vmax
    im = ax.imshow(np.ma.masked_invalid(plane.T), origin="lower", extent=extent, cmap=cmap, vmin=0,
                   vmax=max(vmax, 1e-12), interpolation="nearest")
    ax.set_xlabel("a")
    ax.set_ylabel("b")
    if colorbar:
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def mixture_logits(centres, modes: Sequence[tuple[float, float]], weights: Sequence[float] | None = None,
                   spread: float = 8.0, floor: float = 1e-4) -> torch.Tensor:
    """Logits ``(Q,)`` of a made-up predicted distribution: a mixture of Gaussian bumps (std ``spread``)
    at ``modes`` (ab) with the given ``weights``, plus a small ``floor`` on every bin.

    A stand-in for what a trained network predicts for an ambiguous pixel (two plausible colours).
    """
    c = torch.as_tensor(centres, dtype=torch.float64).reshape(-1, 2)
    mu = torch.as_tensor(modes, dtype=torch.float64).reshape(-1, 2)
    pi = torch.ones(len(mu), dtype=torch.float64) if weights is None else torch.as_tensor(weights, dtype=torch.float64)
    bumps = torch.exp(-torch.cdist(c, mu).square() / (2 * spread ** 2))        # (Q, M)
    p = (bumps / bumps.sum(0, keepdim=True)) @ (pi / pi.sum())
    p = p + floor / len(c)
    return torch.log(p / p.sum()).float()


def plot_soft_encoding(ab, centres, k: int = 5, sigma: float = 5.0, L: float = 65.0, zoom: float = 22.0):
    """How one pixel's true colour ``ab = (a, b)`` becomes a target distribution over the bins.

    Left: every bin drawn in its colour (at lightness ``L``), the pixel as a star. Right: a zoom on
    the pixel, the soft-encoding weights (:func:`colorlab.rarity.soft_encoding.soft_encode`) as a heat map, each of
    the ``k`` non-zero bins labelled with its weight.
    """
    plt = _plt()
    a, b = (float(v) for v in ab)
    c = torch.as_tensor(centres, dtype=torch.float32).reshape(-1, 2)
    z = soft_encode(torch.tensor([a, b]).view(1, 2, 1, 1), c, k=k, sigma=sigma)[0, :, 0, 0]
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(8.6, 3.9))
    rgb = bin_colours(c, L)
    plane_r, extent = bins_plane(rgb[:, 0], c)
    img = np.stack([bins_plane(rgb[:, i], c)[0].T for i in range(3)], -1)
    alpha = np.isfinite(plane_r.T).astype(float)[..., None]
    ax0.set_facecolor("white")
    ax0.imshow(np.concatenate([np.nan_to_num(img, nan=1.0), alpha], -1), origin="lower", extent=extent,
               interpolation="nearest")
    ax0.plot([a], [b], marker="*", ms=14, mfc="white", mec="black")
    ax0.add_patch(plt.Rectangle((a - zoom, b - zoom), 2 * zoom, 2 * zoom, fill=False, ec="black", lw=1))
    ax0.set_xlabel("a")
    ax0.set_ylabel("b")
    ax0.set_title(f"the {len(c)} bins at L = {L:g}; the pixel ★ at ab = ({a:g}, {b:g})", fontsize=9)
    plot_bin_values(z, c, ax=ax1, cmap="Blues", vmax=1.0)
    ax1.set_xlim(a - zoom, a + zoom)
    ax1.set_ylim(b - zoom, b + zoom)
    ax1.plot(c[:, 0].numpy(), c[:, 1].numpy(), ".", color="0.5", ms=3)
    ax1.plot([a], [b], marker="*", ms=14, mfc="white", mec="black")
    for q in torch.nonzero(z > 0).flatten().tolist():
        ax1.text(float(c[q, 0]), float(c[q, 1]) + 1.8, f"{float(z[q]):.2f}", ha="center", va="bottom", fontsize=8,
                 color="black", bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
    ax1.set_title(f"its target: the {k} nearest bins, weights exp(−d²/2σ²), σ = {sigma:g}, sum 1", fontsize=9)
    fig.tight_layout()
    return fig


def plot_annealed(logits, centres, temps: Sequence[float] = (1.0, 0.38, 0.1), L: float = 65.0,
                  title: str | None = None):
    """One predicted distribution (``logits (Q,)``) re-sharpened at each temperature in ``temps``.

    A panel per T: ``softmax(logits / T)`` as a heat map on the bins, its annealed mean (the colour
    shown, :func:`colorlab.rarity.soft_encoding.annealed_mean`) as a white cross. The last panel: the colour of the
    annealed mean at each T (at lightness ``L``).
    """
    plt = _plt()
    c = torch.as_tensor(centres, dtype=torch.float32).reshape(-1, 2)
    z = torch.as_tensor(logits, dtype=torch.float32).reshape(-1)
    temps = list(temps)
    fig, axes = plt.subplots(1, len(temps) + 1, figsize=(3.1 * len(temps) + 1.6, 3.3),
                             gridspec_kw={"width_ratios": [1] * len(temps) + [0.45]})
    means = []
    for ax, T in zip(axes, temps):
        p = torch.softmax(z / T, 0)
        m = annealed_mean(z.view(1, -1, 1, 1), c, T=T)[0, :, 0, 0]
        means.append(m.tolist())
        plot_bin_values(p, c, ax=ax, colorbar=False, title=f"T = {T:g}: max p = {float(p.max()):.2f}")
        ax.plot([float(m[0])], [float(m[1])], marker="X", ms=11, mfc="white", mec="black")
    ax = axes[-1]
    rgb = np.clip(lab_swatches_rgb(np.array([[L, *m] for m in means])), 0, 1)
    ax.imshow(rgb[:, None, :], aspect="auto", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks(range(len(temps)), [f"T = {T:g}" for T in temps], fontsize=8)
    ax.yaxis.tick_right()
    ax.set_title("colour shown", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


@torch.no_grad()
def class_pixel_logits(model, data, cls: int, device="cpu", search: int = 64) -> tuple[torch.Tensor, tuple[int, int, int]]:
    """The Q-bin logits a classification colorizer predicts at one pixel of class ``cls`` (e.g. a fruit).

    Among the first ``search`` items of a prepared ``scenes`` cache, the image with the most pixels of
    ``cls``; in it, the pixel of that class nearest their centroid. Returns ``(logits (Q,), (n, y, x))``.
    """
    cm = np.asarray(data.class_map[:search]) == cls
    counts = cm.reshape(len(cm), -1).sum(1)
    if counts.max() == 0:
        raise ValueError(f"no pixel of class {cls} in the first {search} items")
    n = int(np.argmax(counts))
    ys, xs = np.nonzero(cm[n])
    j = int(np.argmin((ys - ys.mean()) ** 2 + (xs - xs.mean()) ** 2))
    y, x = int(ys[j]), int(xs[j])
    L, _ = lab_batch(data, [n], device)
    was = model.training
    model.eval()
    try:
        out = model.to(L.device)(L)
    finally:
        model.train(was)
    return out[0, :, y, x].float().cpu(), (n, y, x)
