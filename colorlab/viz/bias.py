"""Figures for lab 13: a metric per group against the training share, and palettes as seen with colour-vision
deficiency. Every colour here comes from :mod:`colorlab.viz.palettes`."""
from __future__ import annotations

import numpy as np

from colorlab.core.figures import pyplot
from colorlab.viz.palettes import CVD_MATRICES, MIN_DELTA_E, PALETTES, min_distance, series_style, simulate_cvd, to_rgb

__all__ = ["plot_group_metric", "plot_cvd_palettes"]


def plot_group_metric(table, metric: str, groups, ax=None, xlabel: str = "share of training images", title=None,
                      colours=None):
    """``metric [<group>]`` against the table's index (the training share), one line per group: colour, marker and
    line style differ, so the lines stay apart in gray and with any colour-vision deficiency. ``colours``: one per
    group from :mod:`colorlab.viz.palettes` (e.g. ``FRUIT_MODES`` for groups named after a colour); default the
    series colours."""
    plt = pyplot()
    own = ax is None
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4.8, 3.4))
    x = np.asarray(table.index, dtype=float)
    for k, g in enumerate(groups):
        style = series_style(k)
        if colours is not None:
            style["color"] = colours[k]
        ax.plot(x, table[f"{metric} [{g}]"], label=g, ms=7, lw=1.8, **style)
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
    """One panel per kind of vision (Machado et al.'s simulation), one row of swatches per palette; each row is
    labelled with the smallest ΔE00 between two of its swatches, marked ✗ below :data:`MIN_DELTA_E`."""
    plt = pyplot()
    palettes = PALETTES if palettes is None else palettes
    width = max(len(p) for p in palettes.values())
    fig, axes = plt.subplots(1, len(kinds), figsize=(2.6 * len(kinds), 0.42 * len(palettes) + 0.9), squeeze=False)
    for c, (ax, kind) in enumerate(zip(axes[0], kinds)):
        grid = np.ones((len(palettes), width, 3))   # white where a palette is shorter
        for r, colours in enumerate(palettes.values()):
            grid[r, :len(colours)] = simulate_cvd(to_rgb(colours), kind)
        ax.imshow(grid, interpolation="nearest", aspect="auto")
        ax.set_xticks([])
        ax.set_yticks(range(len(palettes)))
        labels = []
        for name, colours in palettes.items():
            d, _ = min_distance(colours, kind)
            labels.append(f"{name + '  ' if c == 0 else ''}{d:.0f}{'' if d >= MIN_DELTA_E else ' ✗'}")
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_title(kind, fontsize=9)
    fig.suptitle(f"the kit's palettes by kind of vision; the number: smallest ΔE00 between two swatches "
                 f"(✗: below {MIN_DELTA_E:g})", fontsize=9)
    fig.tight_layout()
    return fig
