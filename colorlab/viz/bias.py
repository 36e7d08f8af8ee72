"""Figures for lab 13: a metric per group against the training share, and palettes as seen with colour-vision
deficiency. Every colour here comes from :mod:`colorlab.viz.palettes`."""
from __future__ import annotations

import numpy as np

from colorlab.core.figures import pyplot
from colorlab.viz.palettes import CVD_MATRICES, MIN_DELTA_E, PALETTES, min_distance, series_style, simulate_cvd, to_rgb

__all__ = ["plot_group_metric", "plot_cvd_palettes"]


def plot_group_metric(table, metric: str, groups, ax=None, xlabel: str = "share of training images", title=None):
    """``metric [<group>]`` against the table's index (the training share), one line per group: colour, marker and
    line style differ, so the lines stay apart in gray and with any colour-vision deficiency."""
    plt = pyplot()
    own = ax is None
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4.8, 3.4))
    x = np.asarray(table.index, dtype=float)
    for k, g in enumerate(groups):
        ax.plot(x, table[f"{metric} [{g}]"], label=g, ms=7, lw=1.8, **series_style(k))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(metric)
    ax.set_xticks(x)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or f"{metric} per group", fontsize=10)
    if own:
        fig.tight_layout()
    return fig


def plot_cvd_palettes(palettes: dict | None = None, kinds=("normal", *CVD_MATRICES)):
    """One row of swatches per palette, one column per kind of vision (Machado et al.'s simulation); each panel's
    title gives the smallest ΔE00 between two of its swatches, marked ✗ below :data:`MIN_DELTA_E`."""
    plt = pyplot()
    palettes = PALETTES if palettes is None else palettes
    fig, axes = plt.subplots(len(palettes), len(kinds), figsize=(2.3 * len(kinds), 0.75 * len(palettes) + 0.4),
                             squeeze=False)
    for r, (name, colours) in enumerate(palettes.items()):
        rgb = to_rgb(colours)
        for c, kind in enumerate(kinds):
            ax = axes[r, c]
            ax.imshow(simulate_cvd(rgb, kind)[None], interpolation="nearest", aspect="auto")
            ax.set_xticks([]), ax.set_yticks([])
            d, _ = min_distance(colours, kind)
            ax.set_title(f"{kind if r == 0 else ''}{chr(10) if r == 0 else ''}min ΔE00 {d:.1f}"
                         f"{'' if d >= MIN_DELTA_E else ' ✗'}", fontsize=7)
            if c == 0:
                ax.set_ylabel(name, fontsize=7, rotation=0, ha="right", va="center")
    fig.tight_layout()
    return fig
