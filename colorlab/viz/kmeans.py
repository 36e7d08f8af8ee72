"""Figures of Lloyd's k-means at work on 2-D colour points: assignment, update, the objective falling.

The steps come from :func:`colorlab.profiles.kmeans.lloyd_kmeans` (the kit's plain reference k-means), one
iteration at a time, so the figure shows exactly what the lab's exercise asks for.
"""
from __future__ import annotations

import numpy as np
import torch

from colorlab.profiles.kmeans import lloyd_kmeans
from colorlab.viz.lab import _plt
from colorlab.viz.palettes import CATEGORICAL, to_rgb
from colorlab.viz.profiles import lab_swatches_rgb

__all__ = ["kmeans_trace", "plot_kmeans_steps"]


def kmeans_trace(points, centres, iters: int = 10) -> list[dict]:
    """Lloyd's k-means step by step: one entry per iteration t = 0 … iters.

    Args:
        points: ``(N, D)`` points; centres: ``(K, D)`` starting centres.
    Returns:
        a list of dicts with ``centres (K, D)`` (the centres at step t), ``labels (N,)`` (every point's
        nearest of those centres) and ``inertia`` (the sum of squared distances to them, the objective J).
        Entry t + 1's centres are the means of entry t's clusters.
    """
    x = torch.as_tensor(np.asarray(points), dtype=torch.float32)[None]
    c = torch.as_tensor(np.asarray(centres), dtype=torch.float32)[None]
    out = []
    for t in range(iters + 1):
        r = lloyd_kmeans(x, c, iters=0)  # no update: the assignment to c and its objective
        out.append({"centres": c[0].numpy().copy(), "labels": r.labels[0].numpy(), "inertia": float(r.inertia[0])})
        c = lloyd_kmeans(x, c, iters=1).centers  # one assignment + one update
    return out


def plot_kmeans_steps(points, centres, steps=(0, 1, 3), iters: int = 10, L: float = 65.0, axis_names=("a", "b")):
    """Panels of k-means on 2-D colour points (e.g. the ab of a photo's pixels), then the objective.

    Each panel shows step t: every point in the colour of its Lab value at lightness ``L`` (the points
    are ab pairs), ringed in the colour of its nearest centre's region (the *assignment*: the shaded
    regions are the points nearest each centre), the centres as large swatches and an arrow to where
    the *update* moves them (the mean of their points). The last panel plots the
    objective J = Σ‖xᵢ − c_{z(i)}‖² against the iteration: it never rises.
    Returns the figure; ``fig.trace`` holds :func:`kmeans_trace`'s entries.
    """
    plt = _plt()
    pts = np.asarray(points, dtype=np.float32)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"plot_kmeans_steps draws 2-D points (N, 2), got shape {pts.shape}")
    trace = kmeans_trace(pts, centres, iters=max(iters, max(steps) + 1))
    colour = lambda ab: lab_swatches_rgb(np.concatenate([np.full((len(ab), 1), L), ab], 1)).clip(0, 1)
    fig, axes = plt.subplots(1, len(steps) + 1, figsize=(3.2 * (len(steps) + 1), 3.3))
    pad = 0.08 * (pts.max(0) - pts.min(0)).max()
    lo, hi = pts.min(0) - pad, pts.max(0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = np.stack([gx.ravel(), gy.ravel()], 1)
    tints = to_rgb(CATEGORICAL)[np.arange(len(trace[0]["centres"])) % len(CATEGORICAL)]  # CVD-safe cluster tints
    for ax, t in zip(axes, steps):
        step, nxt = trace[t], trace[t + 1]
        c = step["centres"]
        region = ((grid[:, None, :] - c[None]) ** 2).sum(-1).argmin(1).reshape(gx.shape)
        ax.imshow(tints[region][..., :3], origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), alpha=0.18,
                  aspect="auto", interpolation="nearest", zorder=0)
        ax.contour(gx, gy, region, levels=np.arange(len(c)) + 0.5, colors="0.4", linewidths=0.6, zorder=1)
        ax.scatter(pts[:, 0], pts[:, 1], s=12, c=colour(pts), edgecolors=tints[step["labels"]], linewidths=0.6,
                   zorder=2)
        ax.scatter(c[:, 0], c[:, 1], s=170, c=colour(c), edgecolors=tints[:len(c)], linewidths=2.5, zorder=4)
        for a, b in zip(c, nxt["centres"]):
            if np.linalg.norm(b - a) > 0.02 * np.linalg.norm(hi - lo):
                ax.annotate("", xy=b, xytext=a, zorder=3, arrowprops=dict(arrowstyle="->", lw=1.5, color="black"))
        ax.set_xlim(lo[0], hi[0]), ax.set_ylim(lo[1], hi[1])
        ax.set_xlabel(axis_names[0]), ax.set_ylabel(axis_names[1])
        ax.set_title(f"step {t}: J = {step['inertia']:,.0f}", fontsize=9)
    J = [s["inertia"] for s in trace]
    ax = axes[-1]
    ax.plot(range(len(J)), J, "o-", color="black", ms=4)
    ax.set_xlabel("iteration")
    ax.set_ylabel("objective J (sum of squared distances)")
    ax.set_title("J never rises", fontsize=9)
    fig.tight_layout()
    fig.trace = trace
    return fig
