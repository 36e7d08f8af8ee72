"""The weighted colour histogram the fast k-means iterates over: each set's points binned on a grid.

A photo's pixels fall into a few hundred occupied cells of a regular grid; each occupied cell is one
point at the mean of its pixels, weighted by their number (:func:`colour_histogram`).
:mod:`colorlab.profiles.kmeans` clusters those cells instead of every pixel.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["ColourHistogram", "colour_histogram", "Grid", "make_grid", "grid_cells"]


@dataclass
class ColourHistogram:
    """Each set's points binned on a grid of cells ``step`` wide, only the occupied cells kept.

    Attributes:
        points: ``(B, D, U)`` mean of the points of each occupied cell, transposed like ``xt`` (U: the
            most cells any set occupies; the others are padded with weight 0).
        weights: ``(B, U)`` number of points in each cell (0: padding).
        index: ``(B, P)`` the cell (column of ``points``) of every point.
    """

    points: torch.Tensor
    weights: torch.Tensor
    index: torch.Tensor


@dataclass
class Grid:
    """Points in grid units, ``q = (x − lo) / step`` (cell i spans [i, i + 1) on each axis), and their cells."""

    qa: torch.Tensor        # (B, D + 2, P): the points in grid units, a row of ones, a row left for |q|²
    lo: torch.Tensor        # (D,) the grid's corner in the points' units
    step: float
    index: torch.Tensor     # (B, P) 1-based column of each point's cell among its set's occupied cells
    occupied: torch.Tensor  # (B,) occupied cells per set


def make_grid(pa: torch.Tensor, step: float, lo: torch.Tensor, hi: torch.Tensor) -> Grid:
    """Put the points on a grid of cells ``step`` wide from the corner ``lo`` and number the occupied cells.

    ``pa (B, D + 2, P)``: the first D rows hold the points; they are turned into grid units in place
    (q = (x − lo) / step). Each point's cell gets a number (row-major over set, then axes) on the
    dense grid of every set; marking the occupied numbers and counting them along each set (a
    cumulative sum) gives each occupied cell its column, 1, 2, …, per set.
    """
    B, D, P = pa.shape[0], pa.shape[1] - 2, pa.shape[2]
    q = torch.add((-lo / step).view(1, D, 1), pa[:, :D], alpha=1.0 / step, out=pa[:, :D])
    # + 2: one spare cell per axis, so a point whose q rounds up past the last boundary still has one
    sides = [int(v) + 2 for v in ((hi - lo) / step).tolist()]
    n = math.prod(sides)
    strides = torch.tensor([math.prod(sides[i + 1:]) for i in range(D)], device=pa.device, dtype=pa.dtype)
    cell = torch.trunc(q)           # q ≥ 0 up to a rounding error: trunc, not floor, keeps −1e-7 in cell 0
    # the cell numbers, one batched (1 × D) @ (D × P) product: exact integers in float32 below 2²⁴
    if B * n < 2**24:
        offset = torch.arange(B, device=pa.device, dtype=pa.dtype).mul_(n).view(B, 1, 1)
        flat = torch.baddbmm(offset, strides.expand(B, 1, D), cell).view(-1).long()
    else:
        flat = torch.bmm(strides.expand(B, 1, D), cell).view(B, P).long()
        flat = flat.add_(torch.arange(B, device=pa.device)[:, None] * n).view(-1)
    slot = torch.zeros(B, n, dtype=torch.int16 if P < 2**15 else torch.int32, device=pa.device)
    slot.view(-1).index_fill_(0, flat, 1)                         # occupied cells
    slot.cumsum_(1)                                                # the n-th occupied cell of a set → n
    index = slot.view(-1).index_select(0, flat).view(B, P)
    return Grid(pa, lo, step, index, slot[:, -1].to(torch.int64))


def grid_cells(g: Grid) -> torch.Tensor:
    """``[Σq, number of points] (B, D + 1, U)`` of each occupied cell of :func:`make_grid` (grid units).

    Sums the first D + 1 rows of ``g.qa``: the points, and the row of ones (row D, filled by the caller).
    """
    B, D2, P = g.qa.shape
    U = int(g.occupied.max())
    index = g.index.long()
    sums = torch.zeros(B, D2 - 1, U + 1, device=g.qa.device).scatter_add_(
        2, index[:, None].expand(-1, D2 - 1, -1), g.qa[:, :-1])
    return sums[..., 1:]


def colour_histogram(xt: torch.Tensor, step: float) -> ColourHistogram:
    """Bin points ``xt (B, D, P)`` (transposed: one contiguous row per coordinate) into cells ``step`` wide.

    The grid starts at the smallest coordinate of the whole batch on each axis; the cells' points are
    in the units of ``xt``.
    """
    B, D, P = xt.shape
    pa = torch.empty(B, D + 2, P, device=xt.device)
    pa[:, :D] = xt
    g = make_grid(pa, step, xt.amin(2).amin(0).float(), xt.amax(2).amax(0).float())
    pa[:, D] = 1.0
    sums = grid_cells(g)
    weights = sums[:, -1]
    points = g.lo[:, None] + step * sums[:, :-1] / weights.clamp_min(1)[:, None]
    return ColourHistogram(points, weights, g.index.long() - 1)

