"""The ab bins: Zhang et al.'s 313 and regular grids, and the nearest-bin look-up.

Two ways to cut the ab plane into ``Q`` bins ("grids"):

* ``"zhang313"`` — Zhang et al. (2016)'s 313 in-gamut bins of a grid of 10 over
  ``[-110, 110]`` (the bin list of their release, in its order, so Q-bin models stay
  compatible with it).
* ``"regular<n>"`` — an ``n × n`` regular grid over ``[-110, 110]`` (Robles & Budach used 64 × 64).

Both are embedded in a square grid of cells, so the nearest-bin look-up is one ``floor`` and
one table index per pixel (:class:`BinLookup`). :func:`lattice_neighbours` lists the bins around
each cell for the soft-encoding's candidate search.

Shapes: ab is ``(..., 2, H, W)`` in Lab units (not normalised) unless said otherwise.
"""
from __future__ import annotations

import re
from functools import lru_cache

import torch
import torch.nn as nn

from colorlab.core.errors import ColorlabError

__all__ = ["zhang_bins", "grid_bins", "BinLookup", "grid_layout", "bin_cells", "lattice_neighbours",
           "DEFAULT_GRID", "AB_RANGE"]

DEFAULT_GRID = "zhang313"
AB_RANGE = 110.0

# Zhang et al.'s 313 in-gamut bins, written as runs: for each a (step 10), the b range
# [b_first, b_last] (step 10). Row-major in a, then b — the order of their released list.
_ZHANG_RUNS = (
    (-90, 50, 90), (-80, 20, 90), (-70, 0, 90), (-60, -20, 90), (-50, -30, 100),
    (-40, -40, 100), (-30, -50, 100), (-20, -50, 100), (-10, -60, 100), (0, -70, 100),
    (10, -80, 90), (20, -80, 90), (30, -90, 90), (40, -100, 90), (50, -100, 80),
    (60, -110, 80), (70, -110, 80), (80, -110, 70), (90, -110, 70), (100, -90, 0),
)


def zhang_bins() -> torch.Tensor:
    """Zhang et al.'s 313 in-gamut ab bin centres ``(313, 2)`` (float32, ab units).

    A grid of 10 over ``[-110, 110]``; the set contains every bin that an sRGB colour falls
    into (261 of them with this kit's Lab conversion) plus a margin around the gamut.
    """
    pts = [(a, b) for a, b0, b1 in _ZHANG_RUNS for b in range(b0, b1 + 1, 10)]
    return torch.tensor(pts, dtype=torch.float32)


def _parse_grid(grid: str) -> tuple[str, int]:
    if grid == "zhang313":
        return "zhang", 313
    m = re.fullmatch(r"regular(\d+)", str(grid))
    if m and int(m.group(1)) >= 2:
        n = int(m.group(1))
        return "regular", n
    raise ColorlabError(f"unknown ab grid {grid!r}: use 'zhang313' or 'regular<n>' (e.g. 'regular64')")


@lru_cache(maxsize=16)
def grid_layout(grid: str) -> tuple[torch.Tensor, float, float, int, torch.Tensor]:
    """``(centers (Q, 2), lo, width, G, lut (G*G,))`` for a grid name (CPU tensors, cached)."""
    kind, n = _parse_grid(grid)
    if kind == "zhang":
        centers = zhang_bins()
        lo, width, G = -AB_RANGE - 5.0, 10.0, 23
        cell = (torch.arange(G, dtype=torch.float32) + 0.5) * width + lo
        cells = torch.stack(torch.meshgrid(cell, cell, indexing="ij"), -1).reshape(-1, 2)
        lut = torch.cdist(cells, centers).argmin(1)  # out-of-set cells → nearest bin
    else:
        width, lo, G = 2 * AB_RANGE / n, -AB_RANGE, n
        c = (torch.arange(n, dtype=torch.float32) + 0.5) * width + lo
        centers = torch.stack(torch.meshgrid(c, c, indexing="ij"), -1).reshape(-1, 2)
        lut = torch.arange(n * n)
    return centers, lo, width, G, lut


def grid_bins(grid: str = DEFAULT_GRID) -> torch.Tensor:
    """Bin centres ``(Q, 2)`` (ab units) of ``"zhang313"`` or ``"regular<n>"``."""
    return grid_layout(grid)[0].clone()


class BinLookup(nn.Module):
    """ab → bin index by a table look-up; an ``nn.Module`` so the table follows ``.to(device)``.

    The ab plane is cut into ``G × G`` square cells of side ``width`` starting at ``lo``;
    ``lut`` maps each cell to its bin (for Zhang's grid, cells outside the 313 map to the
    bin nearest their centre). Values beyond the grid are clamped to the border cells.
    """

    def __init__(self, grid: str = DEFAULT_GRID):
        super().__init__()
        _, self.lo, self.width, self.G, lut = grid_layout(grid)
        self.grid = grid
        self.register_buffer("lut", lut.clone(), persistent=False)

    def cell_index(self, ab: torch.Tensor) -> torch.Tensor:
        """ab ``(..., 2, H, W)`` → flat cell index ``(..., H, W)`` into the ``G × G`` grid."""
        with torch.autocast(ab.device.type, enabled=False):
            ij = ((ab.float() - self.lo) / self.width).floor().long().clamp_(0, self.G - 1)
        return ij.select(-3, 0) * self.G + ij.select(-3, 1)

    def forward(self, ab: torch.Tensor) -> torch.Tensor:
        """ab ``(..., 2, H, W)`` → bin index ``(..., H, W)`` (int64, same device)."""
        if ab.dim() < 3 or ab.shape[-3] != 2:
            raise ColorlabError(f"ab must have shape (..., 2, H, W), got {tuple(ab.shape)}")
        return self.lut[self.cell_index(ab)]


@lru_cache(maxsize=16)
def bin_cells(grid: str) -> torch.Tensor:
    """The flat cell index of every bin centre ``(Q,)``."""
    centers, lo, width, G, _ = grid_layout(grid)
    ij = ((centers - lo) / width).floor().long()
    return ij[:, 0] * G + ij[:, 1]


@lru_cache(maxsize=8)
def lattice_neighbours(key: bytes, Q: int):
    """For bin centres on a regular lattice: ``(lo, width, G, table (G*G, 25))`` — the bins of the 5 × 5
    cells around each cell (``Q`` where there is none) — or None when the centres are not on a lattice."""
    c = torch.frombuffer(bytearray(key), dtype=torch.float32).view(Q, 2)
    steps = torch.cat([torch.diff(torch.unique(c[:, 0])), torch.diff(torch.unique(c[:, 1]))])
    if len(steps) == 0:
        return None
    width = float(steps.min())
    lo = float(c.min()) - width / 2
    ij = (c - lo) / width - 0.5
    if width <= 0 or not torch.allclose(ij, ij.round(), atol=1e-3):
        return None
    ij = ij.round().long()
    G = int(ij.max()) + 1
    grid = torch.full((G + 4, G + 4), Q, dtype=torch.long)
    grid[ij[:, 0] + 2, ij[:, 1] + 2] = torch.arange(Q)
    table = torch.stack([grid[2 + di:2 + di + G, 2 + dj:2 + dj + G] for di in range(-2, 3) for dj in range(-2, 3)],
                        -1).reshape(G * G, 25)
    return lo, width, G, table
