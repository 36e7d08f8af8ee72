"""Colour profiles: per-image Dominant Colour Descriptors, K-means profiles, category groups.

Robles & Budach group training images into K colour *profiles* (K = 4) and train one colorizer
per profile; Siswanto & Karnati group them by *category* instead. Both give a :class:`Groups` — one
label per image, group names, palette swatches and example images — and everything
downstream (the predictor, the figures, per-group training) takes a :class:`Groups`.

The Dominant Colour Descriptor (DCD, MPEG-7, as Robles & Budach quote it) of an image is
``{(cᵢ, pᵢ, vᵢ)}, s``: N dominant Lab colours, their pixel fractions (Σ pᵢ = 1), their
per-channel variances, and a spatial-coherency number. We find the cᵢ with one k-means per
image, run for a whole batch of images at once on the batch's device
(:func:`batched_kmeans`), never one scikit-learn call per image. The k-means iterates over a
weighted colour histogram of each photo (a few hundred occupied cells instead of 4,096 pixels);
:func:`lloyd_kmeans` is the plain textbook version it is tested against (and lab 03's exercise is
checked against).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from colorlab.core.color import AB_SCALE, rgb_to_lab
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.rarity.stats import iter_rgb_batches

__all__ = [
    "KMeansResult", "batched_kmeans", "lloyd_kmeans", "colour_histogram", "ColourHistogram", "DCD_STEP",
    "DominantColors", "dominant_colors_batch", "ImageDescriptors",
    "describe_images", "descriptor_features", "Groups", "group_palettes", "group_examples",
    "ColorProfiles", "build_profiles", "category_groups", "name_groups", "FEATURES",
]

#: Descriptor blocks the profile K-means can use.
FEATURES = ("dcd", "hist")


# --------------------------------------------------------------------------- batched k-means
#: Cell size (Lab units) of the colour histogram the dominant-colour k-means clusters: a 64×64 photo's
#: 4,096 pixels fall into a few hundred occupied cells and the inertia moves by under 1 %
#: (``bench/bench_kmeans.py`` measures both).
DCD_STEP = 8.0
#: Fewer occupied cells than this per cluster in some set: the grid is too coarse to place the
#: clusters (e.g. k = 5 on a photo of two flat colours), :func:`batched_kmeans` halves the step.
MIN_CELLS_PER_CLUSTER = 32
#: Above this many grid cells per set :func:`batched_kmeans` clusters the points themselves.
MAX_CELLS = 1 << 18
#: On a CPU :func:`batched_kmeans` clusters this many sets at a time: the padded histograms stay short
#: and the arrays stay in the cache (64×64 photos: 64 sets a pass run about 1.5× faster than 256).
SETS_PER_PASS = 64


@dataclass
class KMeansResult:
    """Per-image k-means output: ``centers (B, k, D)``, ``labels (B, P)``, ``inertia (B,)``."""

    centers: torch.Tensor
    labels: torch.Tensor
    inertia: torch.Tensor


def lloyd_kmeans(x: torch.Tensor, centers: torch.Tensor, iters: int = 10,
                 weights: torch.Tensor | None = None) -> KMeansResult:
    """Plain Lloyd's k-means from given starting centres: the reference :func:`batched_kmeans` is tested against.

    Args:
        x: points ``(B, P, D)``, each of the B sets clustered on its own.
        centers: starting centres ``(B, k, D)``.
        weights: optional ``(B, P)`` weight of each point (a point of weight 3 counts as 3 equal points).
    Each iteration assigns every point to its nearest centre (notebook 03's exercise), then moves every
    centre to the (weighted) mean of its points; a centre that loses all its points stays put.
    """
    x = x.float()
    w = torch.ones(x.shape[:2], device=x.device) if weights is None else weights.float()
    c = centers.float().clone()
    for _ in range(iters):
        labels = ((x[:, :, None, :] - c[:, None, :, :]) ** 2).sum(-1).argmin(-1)      # (B, P)
        for j in range(c.shape[1]):
            wj = w * (labels == j)                                                  # (B, P)
            total = wj.sum(1, keepdim=True)                                          # (B, 1)
            mean = (wj[..., None] * x).sum(1) / total.clamp_min(1e-12)               # (B, D)
            c[:, j] = torch.where(total > 0, mean, c[:, j])
    d2 = ((x[:, :, None, :] - c[:, None, :, :]) ** 2).sum(-1)
    labels = d2.argmin(-1)
    return KMeansResult(c, labels, (w * d2.gather(-1, labels[..., None])[..., 0]).sum(1))


#: The packed arg-min (:func:`_distance_keys`) keeps the centre's index in the lowest mantissa bits of a
#: float32 distance; up to 2**KEY_BITS centres (relative precision 2⁻¹⁹), more take a plain arg-min.
KEY_BITS = 4


def _index_bits(k: int) -> int:
    """Mantissa bits that hold a centre index in a distance key: ⌈log₂ k⌉ (at least 1)."""
    return max(1, (k - 1).bit_length())


def _augment(xt: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Points ``xt (B, D, P)`` with two more rows, ``[x; 1; |x|²] (B, D + 2, P)`` (written into ``out`` if given).

    With the centres as rows ``[−2c, |c|², 1]`` (:func:`_centre_rows`), one batched matmul gives every
    squared distance |x|² − 2c·x + |c|² (:func:`_sq_dist`).
    """
    B, D, P = xt.shape
    xa = torch.empty(B, D + 2, P, device=xt.device) if out is None else out
    if xa.data_ptr() != xt.data_ptr():
        xa[:, :D] = xt
    xa[:, D] = 1.0
    x2 = torch.mul(xt[:, 0], xt[:, 0], out=xa[:, D + 1])
    for i in range(1, D):
        x2.addcmul_(xt[:, i], xt[:, i])
    return xa


def _centre_rows(c: torch.Tensor) -> torch.Tensor:
    """Centres ``c (B, k, D)`` as rows ``[−2c, |c|², 1] (B, k, D + 2)``, to multiply :func:`_augment`'s points by."""
    return torch.cat([-2.0 * c, c.square().sum(-1, keepdim=True), torch.ones_like(c[..., :1])], -1)


def _sq_dist(xa: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Squared distances ``(B, k, P)`` between the points of ``xa`` (:func:`_augment`) and centres ``c (B, k, D)``.

    Rounding can leave a distance slightly below 0 (a point on a centre).
    """
    return torch.bmm(_centre_rows(c), xa)


def _distance_keys(xa: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """The squared distances of :func:`_sq_dist` as int32 *keys* ``(B, k, P)``: the smallest is the nearest centre.

    A non-negative float32 orders like its bit pattern read as an integer, so we overwrite the
    lowest b = ⌈log₂ k⌉ mantissa bits of each distance with the centre's index (and clear the sign
    bit: a rounding error below 0 counts as the same tiny distance above): the smallest key of a
    column names the nearest centre (ties, at a relative precision of 2^(b−23), go to the lower
    index, as with ``argmin``), and the key with its index bits cleared is the distance to it. A
    minimum over k rows is one vectorised reduction; ``argmin`` over a short axis is several times
    slower on a CPU.
    """
    k = c.shape[1]
    idx = torch.arange(k, device=xa.device, dtype=torch.int32).view(1, k, 1)
    return _sq_dist(xa, c).view(torch.int32).bitwise_and_(0x7FFFFFFF & -(1 << _index_bits(k))).bitwise_or_(idx)


def _nearest(xa: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index ``(B, P)`` of the nearest centre of each point of ``xa`` (:func:`_augment`) and the squared distance to it.

    What :func:`lloyd_kmeans` writes as ``d2.argmin(-1)``, faster (packed keys, :func:`_distance_keys`).
    """
    k = c.shape[1]
    bits = _index_bits(k)
    if bits > KEY_BITS:
        d2, labels = _sq_dist(xa, c).clamp_min_(0.0).min(1)
        return labels, d2
    best = _distance_keys(xa, c).amin(1)
    mask = (1 << bits) - 1
    return (best & mask).long(), (best & ~mask).view(torch.float32)


def _lloyd(ca: torch.Tensor, wx: torch.Tensor, centers: torch.Tensor, iters: int) -> torch.Tensor:
    """``iters`` Lloyd iterations over weighted points: the final centres ``(B, k, D)``.

    Every point of ``ca`` (:func:`_augment`) goes to its nearest centre; every centre moves to the
    weighted mean of its points; a centre that loses all its points stays put. ``wx (B, P, D + 1)``
    holds the weighted points and their weights, ``[w·x, w]``: with a 0/1 matrix ``(B, k, P)`` saying
    which centre each point joined, the sums and weights of all clusters are one batched matmul
    (adding into k slots with ``scatter_add_`` is several times slower on a CPU: neighbouring points
    join the same centre, and each add waits for the previous one).
    """
    B, k, D = centers.shape
    bits = _index_bits(k)
    if bits <= KEY_BITS:
        rows = torch.ones(B, k, D + 2, device=ca.device)             # [−2c, |c|², 1], refilled each iteration
        idx = torch.arange(k, device=ca.device, dtype=torch.int32).view(1, k, 1)
        mask = 0x7FFFFFFF & -(1 << bits)
    for _ in range(iters):
        if bits > KEY_BITS:
            onehot = F.one_hot(_nearest(ca, centers)[0], k).transpose(1, 2).to(ca.dtype)
        else:  # _distance_keys, written out with buffers made once
            torch.mul(centers, -2.0, out=rows[..., :D])
            torch.sum(centers.square(), -1, out=rows[..., D])
            keys = torch.bmm(rows, ca).view(torch.int32).bitwise_and_(mask).bitwise_or_(idx).view(torch.float32)
            best = keys.amin(1, keepdim=True)                        # ≥ 0, one smallest key per point
            onehot = torch.sub(best, keys, out=keys).sign_().add_(1.0)  # 1 at the nearest centre, 0 elsewhere
        acc = torch.bmm(onehot, wx)                                  # (B, k, D + 1): weighted sums, weights
        counts = acc[..., D:]
        centers = torch.where(counts > 0, acc[..., :D] / counts, centers)
    return centers


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
class _Grid:
    """Points in grid units, ``q = (x − lo) / step`` (cell i spans [i, i + 1) on each axis), and their cells."""

    qa: torch.Tensor        # (B, D + 2, P): the points in grid units, a row of ones, a row left for |q|²
    lo: torch.Tensor        # (D,) the grid's corner in the points' units
    step: float
    index: torch.Tensor     # (B, P) 1-based column of each point's cell among its set's occupied cells
    occupied: torch.Tensor  # (B,) occupied cells per set


def _grid(pa: torch.Tensor, step: float, lo: torch.Tensor, hi: torch.Tensor) -> _Grid:
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
    return _Grid(pa, lo, step, index, slot[:, -1].to(torch.int64))


def _grid_cells(g: _Grid) -> torch.Tensor:
    """``[Σq, number of points] (B, D + 1, U)`` of each occupied cell of :func:`_grid` (grid units).

    Sums the first D + 1 rows of ``g.qa``: the points, and the row of ones :func:`_augment` wrote.
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
    g = _grid(pa, step, xt.amin(2).amin(0).float(), xt.amax(2).amax(0).float())
    _augment(pa[:, :D], out=pa)
    sums = _grid_cells(g)
    weights = sums[:, -1]
    points = g.lo[:, None] + step * sums[:, :-1] / weights.clamp_min(1)[:, None]
    return ColourHistogram(points, weights, g.index.long() - 1)


def _sample(weights: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` indices per row drawn with probability ∝ ``weights (B, P)`` (with replacement), by inverting the CDF.

    Never an index of weight 0 (a padding cell): the draws stay a few rounding errors below the total.
    """
    cdf = weights.cumsum(1)
    u = torch.rand(weights.shape[0], n, generator=gen, device=weights.device) * (cdf[:, -1:] * (1 - 2**-20))
    return torch.searchsorted(cdf, u, right=True).clamp_max_(weights.shape[1] - 1)


def _kmeanspp(xa: torch.Tensor, w: torch.Tensor, k: int, gen: torch.Generator, n_trials: int) -> torch.Tensor:
    """Greedy k-means++ seeding of weighted points (Arthur & Vassilvitskii; greedy trials as scikit-learn).

    Points ``xa (B, D + 2, P)`` (:func:`_augment`) with weights ``w (B, P)``; vectorised over B.
    Returns the centres ``(B, k, D)``. Every centre is one of the points, so the centre rows
    ``[−2c, |c|², 1]`` of :func:`_sq_dist` are columns of ``[−2x; |x|²; 1]``, made once.
    """
    B, D = xa.shape[0], xa.shape[1] - 2
    rows = torch.arange(B, device=xa.device)
    as_centre = torch.cat([xa[:, :D] * -2.0, xa[:, D + 1:], xa[:, D:D + 1]], 1)   # (B, D + 2, P)

    def candidates(idx):  # (B, T) point indices → their centre rows (B, T, D + 2)
        return as_centre.gather(2, idx[:, None].expand(-1, D + 2, -1)).transpose(1, 2)

    chosen = [candidates(_sample(w, 1, gen))[:, 0]]                  # list of (B, D + 2)
    closest = torch.bmm(chosen[0][:, None], xa).clamp_min_(0.0)[:, 0]  # (B, P) squared distance to the nearest
    for _ in range(1, k):
        # ∝ weight × squared distance to the nearest centre so far; the tiny weight term only counts where
        # every point sits on a centre (then by weight alone)
        cand = candidates(_sample((w * closest).add_(w, alpha=1e-30), n_trials, gen))  # (B, T, D + 2)
        d = torch.bmm(cand, xa).clamp_min_(0.0)
        new_closest = torch.minimum(closest[:, None], d, out=d)      # (B, T, P)
        best = torch.linalg.vecdot(new_closest, w[:, None]).argmin(1)  # (B,) the lowest potential
        chosen.append(cand[rows, best])
        closest = new_closest[rows, best]
    return torch.stack(chosen, 1)[..., :D] * -0.5


@torch.no_grad()
def batched_kmeans(x: torch.Tensor, k: int, iters: int = 10, init: str = "k-means++", seed: int = 0,
                   n_trials: int | None = None, step: float | None = None) -> KMeansResult:
    """Lloyd's k-means for a batch of point sets at once, each set clustered on its own.

    Args:
        x: points ``(B, P, D)`` (float; computed in float32 on x's device).
        k: clusters per set.
        iters: Lloyd iterations (fixed: no early stop, so every set costs the same).
        init: ``"k-means++"`` (greedy, ``n_trials = 2 + ⌊ln k⌋`` candidates per step, as
            scikit-learn) or ``"first"`` (the first k points, deterministic).
        seed: seeds the k-means++ sampling.
        step: run the seeding and the iterations on a weighted histogram of the points
            (:func:`colour_histogram`, cells ``step`` wide: each occupied cell is one point at the
            mean of its points, weighted by their number) instead of on every point. A 64×64
            photo's 4,096 Lab colours occupy a few hundred cells of :data:`DCD_STEP` units, so
            each iteration costs a fraction. Where a set occupies fewer than
            :data:`MIN_CELLS_PER_CLUSTER` · k cells the step is halved until it does. The last
            assignment (labels, inertia) is over every point. None (or a grid of more than
            :data:`MAX_CELLS` cells): every point on its own, exactly Lloyd's algorithm.
    Returns:
        :class:`KMeansResult`; ``inertia`` is the sum of squared distances of each set's
        points to their cluster's final centre (scikit-learn's ``inertia_``). A cluster that
        empties keeps its previous centre. With ``step=None`` the result is :func:`lloyd_kmeans`'s
        from the same starting centres.

    How it is fast (``bench/bench_kmeans.py`` times it on batches of 64×64 photos, one CPU thread):
    the points are stored transposed, one contiguous row per coordinate, with two more rows (1 and
    |x|²) so that all squared distances are one batched matmul; on the histogram the points are in
    grid units (small numbers: |x|² − 2c·x + |c|² keeps its precision in float32); the nearest
    centre is a minimum over packed integer keys (:func:`_distance_keys`), not an ``argmin``; the
    clusters' new sums are a second batched matmul (:func:`_lloyd`).
    """
    if x.dim() != 3:
        raise ColorlabError(f"points must have shape (B, P, D), got {tuple(x.shape)}")
    B, P, D = x.shape
    if not 1 <= k <= P:
        raise ColorlabError(f"k must be between 1 and the number of points per set ({P}), got {k}")
    if init not in ("k-means++", "first"):
        raise ColorlabError(f"unknown k-means init {init!r}: use 'k-means++' or 'first'")
    gen = torch.Generator(device=x.device).manual_seed(int(seed))
    per_pass = SETS_PER_PASS if x.device.type == "cpu" else B  # a GPU wants its batches whole
    parts = [_kmeans_sets(x[i:i + per_pass], k, iters, init, gen, n_trials or 2 + int(math.log(k)), step)
             for i in range(0, B, per_pass)]
    return parts[0] if len(parts) == 1 else KMeansResult(*(torch.cat(t) for t in zip(
        *((r.centers, r.labels, r.inertia) for r in parts))))


def _kmeans_sets(x: torch.Tensor, k: int, iters: int, init: str, gen: torch.Generator, n_trials: int,
                 step: float | None) -> KMeansResult:
    """:func:`batched_kmeans` for up to :data:`SETS_PER_PASS` sets."""
    B, P, D = x.shape
    pa = torch.empty(B, D + 2, P, device=x.device)                  # [x; 1; |x|²]: one row per coordinate
    xt = pa[:, :D].copy_(x.transpose(1, 2))
    grid = None
    if step:
        lo, hi = xt.amin(2).amin(0), xt.amax(2).amax(0)
        while math.prod(int((h - l) / step) + 2 for l, h in zip(lo.tolist(), hi.tolist())) <= MAX_CELLS:
            grid = _grid(pa, step, lo, hi)                           # the points now in grid units
            if int(grid.occupied.min()) >= min(P, MIN_CELLS_PER_CLUSTER * k):
                break
            grid, step = None, step / 2  # too few cells to place k clusters in some set: a finer grid
            xt.copy_(x.transpose(1, 2))
    if grid is not None:     # every point in grid units; the seeding and the iterations on the occupied cells
        origin, scale = grid.lo, grid.step
        _augment(xt, out=pa)
        wx = _grid_cells(grid)                                       # (B, D + 1, U): [w·x, w] of each cell
        w = wx[:, D]
        ca = _augment(wx[:, :D] / w.clamp_min(1)[:, None])           # (B, D + 2, U) the cells' means
    else:                    # every point, centred on its set's mean
        offset = xt.mean(2, keepdim=True)
        origin, scale = offset.transpose(1, 2), 1.0
        pa = ca = _augment(xt.sub_(offset), out=pa)
        w = torch.ones(B, P, device=x.device)
        wx = ca[:, :D + 1]
    if init == "k-means++":
        centers = _kmeanspp(ca, w, k, gen, n_trials)
    else:
        centers = pa[:, :D, :k].transpose(1, 2).clone()
    centers = _lloyd(ca, wx.transpose(1, 2), centers, iters)
    # every point to its nearest centre, a few sets at a time: the (sets, k, points) distances stay in cache
    labels, d2 = map(torch.cat, zip(*(_nearest(pa[i:i + 16], centers[i:i + 16]) for i in range(0, B, 16))))
    return KMeansResult(origin + scale * centers, labels, d2.sum(1) * scale**2)


# --------------------------------------------------------------------------- dominant colours
@dataclass
class DominantColors:
    """Dominant Colour Descriptors of N images (colours sorted by fraction, largest first).

    Attributes:
        colors: ``(N, k, 3)`` Lab centroids cᵢ.
        fractions: ``(N, k)`` pixel fractions pᵢ, summing to 1 per image.
        variances: ``(N, k, 3)`` per-channel Lab variance vᵢ of each cluster.
        coherency: ``(N,)`` spatial coherency s: the fraction of pixels whose whole 3 × 3
            neighbourhood has their dominant colour (1 = large flat regions, low = speckle).
        inertia: ``(N,)`` k-means inertia (sum of squared Lab distances to the centroids).
    """

    colors: torch.Tensor
    fractions: torch.Tensor
    variances: torch.Tensor
    coherency: torch.Tensor
    inertia: torch.Tensor

    def __len__(self) -> int:
        return self.colors.shape[0]

    def cpu(self) -> "DominantColors":
        return DominantColors(*(t.cpu() for t in self._tensors()))

    def _tensors(self):
        return self.colors, self.fractions, self.variances, self.coherency, self.inertia

    @staticmethod
    def cat(parts: list["DominantColors"]) -> "DominantColors":
        return DominantColors(*(torch.cat(ts) for ts in zip(*(p._tensors() for p in parts))))


def _coherency(labels: torch.Tensor) -> torch.Tensor:
    """Fraction ``(B,)`` of the pixels of ``labels (B, H, W)`` whose 3 × 3 neighbourhood (in the image) has their label.

    Row by row: a pixel agrees with its row if its left and right neighbours have its label; it is
    coherent if it agrees with its row and the pixels above and below have its label and agree with
    theirs. (The same as eroding each label's mask with a 3 × 3 window, several times cheaper.)
    """
    same_h = labels[:, :, 1:] == labels[:, :, :-1]                  # (B, H, W - 1) neighbours left-right agree
    row = torch.ones_like(labels, dtype=torch.bool)
    row[:, :, 1:] &= same_h
    row[:, :, :-1] &= same_h
    same_v = labels[:, 1:] == labels[:, :-1]                         # (B, H - 1, W) neighbours up-down agree
    ok = row.clone()
    ok[:, 1:] &= same_v & row[:, :-1]
    ok[:, :-1] &= same_v & row[:, 1:]
    return ok.flatten(1).float().mean(1)


@torch.no_grad()
def dominant_colors_batch(rgb: torch.Tensor, n_colors: int = 5, iters: int = 10, seed: int = 0,
                          init: str = "k-means++", lab: torch.Tensor | None = None) -> DominantColors:
    """The DCD of every image of a batch ``(B, 3, H, W)`` (uint8 or [0, 1]), on its device.

    ``lab``: the batch already in Lab, if the caller has it (:func:`describe_images` converts once).
    """
    lab = (rgb_to_lab(rgb) if lab is None else lab).float()
    B, _, H, W = lab.shape
    x = lab.permute(0, 2, 3, 1).reshape(B, H * W, 3)
    km = batched_kmeans(x, n_colors, iters=iters, init=init, seed=seed, step=DCD_STEP)
    k = n_colors
    counts = torch.zeros(B, k, device=x.device).scatter_add_(1, km.labels, torch.ones_like(km.labels, dtype=x.dtype))
    diff2 = (x - km.centers.gather(1, km.labels[..., None].expand(-1, -1, 3))).square()
    var = torch.zeros(B, k, 3, device=x.device).scatter_add_(1, km.labels[..., None].expand(-1, -1, 3), diff2)
    var = var / counts.clamp_min(1)[..., None]
    coherency = _coherency(km.labels.view(B, H, W))
    order = counts.argsort(1, descending=True)
    take3 = order[..., None].expand(-1, -1, 3)
    return DominantColors(colors=km.centers.gather(1, take3), fractions=counts.gather(1, order) / (H * W),
                          variances=var.gather(1, take3), coherency=coherency, inertia=km.inertia)


@dataclass
class ImageDescriptors:
    """Per-image colour descriptors of a dataset (on the CPU): the DCD and an ab histogram.

    ``ab_hist`` is ``(N, hist_bins²)``, each row a distribution over a regular grid on
    [-110, 110]² (a rows, b columns).
    """

    dcd: DominantColors
    ab_hist: torch.Tensor
    config: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.dcd)


def _ab_hist_batch(rgb: torch.Tensor, bins: int, lab: torch.Tensor | None = None) -> torch.Tensor:
    ab = (rgb_to_lab(rgb) if lab is None else lab)[:, 1:].float()
    B = ab.shape[0]
    ij = ((ab + AB_SCALE) / (2 * AB_SCALE) * bins).floor().long().clamp_(0, bins - 1)
    cell = (ij[:, 0] * bins + ij[:, 1]).reshape(B, -1)
    hist = torch.zeros(B, bins * bins, device=ab.device).scatter_add_(1, cell, torch.ones_like(cell, dtype=ab.dtype))
    return hist / cell.shape[1]


@torch.no_grad()
def describe_images(data, n_colors: int = 5, iters: int = 10, hist_bins: int = 8, seed: int = 0,
                    device="auto", batch_size: int = 256, progress: bool = False) -> ImageDescriptors:
    """DCD and ab histogram of every image of ``data``, a batch at a time on ``device``.

    ``data`` is anything :func:`colorlab.rarity.stats.iter_rgb_batches` reads (a prepared cache, an
    array, an iterable of batches). Only the small descriptors are kept, never the pixels.
    """
    dev = get_device(device)
    dcds, hists = [], []
    for i, rgb in enumerate(iter_rgb_batches(data, batch_size, dev, progress=progress, desc="colour descriptors")):
        lab = rgb_to_lab(rgb)
        dcds.append(dominant_colors_batch(rgb, n_colors, iters, seed=seed + i, lab=lab).cpu())
        hists.append(_ab_hist_batch(rgb, hist_bins, lab=lab).cpu())
    if not dcds:
        raise ColorlabError("no images to describe")
    config = {"n_colors": n_colors, "iters": iters, "hist_bins": hist_bins, "seed": seed}
    return ImageDescriptors(DominantColors.cat(dcds), torch.cat(hists), config)


def descriptor_features(desc: ImageDescriptors, features=FEATURES) -> dict[str, torch.Tensor]:
    """Fixed-length vectors per image, by block.

    * ``"dcd"`` — order-free summaries of the DCD (Lab scaled by 100, 110, 110): the
      fraction-weighted mean colour Σpᵢcᵢ, the weighted spread of the cᵢ around it, the
      weighted chroma Σpᵢ·|abᵢ|, the most frequent colour, and the coherency s. (The raw list
      of cᵢ is not used: which colour comes first flips between similar images.)
    * ``"hist"`` — the square root of the ab histogram: Euclidean distance between those is
      the Hellinger distance between the histograms.
    """
    features = (features,) if isinstance(features, str) else tuple(features)
    bad = [f for f in features if f not in FEATURES]
    if bad or not features:
        raise ColorlabError(f"unknown descriptor feature(s) {bad or features}: choose from {', '.join(FEATURES)}")
    out = {}
    if "dcd" in features:
        d = desc.dcd
        c = d.colors / torch.tensor([100.0, AB_SCALE, AB_SCALE])
        p = d.fractions[..., None]
        mean = (p * c).sum(1)
        spread = (p * (c - mean[:, None]).square()).sum(1).sqrt()
        chroma = (p[..., 0] * c[..., 1:].norm(dim=-1)).sum(1, keepdim=True)
        out["dcd"] = torch.cat([mean, spread, chroma, c[:, 0], d.coherency[:, None]], 1)
    if "hist" in features:
        out["hist"] = desc.ab_hist.sqrt()
    return out


# --------------------------------------------------------------------------- groups
@dataclass
class Groups:
    """A grouping of a dataset's images (colour profiles or categories), the same shape either way.

    Attributes:
        kind: ``"profile"`` or ``"category"``.
        names: one name per group.
        labels: ``(N,)`` int64 group of each image.
        palettes: ``(K, S, 3)`` Lab swatches per group (or None), largest share first.
        palette_weights: ``(K, S)`` each swatch's share of the group's pixels.
        examples: ``(K, E)`` indices of typical images per group (-1 pads small groups).
    """

    kind: str
    names: list
    labels: np.ndarray
    palettes: np.ndarray | None = None
    palette_weights: np.ndarray | None = None
    examples: np.ndarray | None = None

    @property
    def n_groups(self) -> int:
        return len(self.names)

    @property
    def counts(self) -> np.ndarray:
        return np.bincount(self.labels[self.labels >= 0], minlength=self.n_groups)

    def indices(self, group: int) -> np.ndarray:
        """The images of one group."""
        return np.flatnonzero(self.labels == group)


def group_palettes(dcd: DominantColors, labels: np.ndarray, n_groups: int, n_swatches: int = 5,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Palette swatches per group: weighted K-means over the members' dominant colours.

    Each image contributes its cᵢ with weight pᵢ, so a swatch's weight is its share of the
    group's pixels. Returns ``(palettes (K, S, 3) Lab, weights (K, S))``, largest share first.
    """
    from sklearn.cluster import KMeans

    colors = dcd.colors.numpy().astype(np.float64)
    fracs = dcd.fractions.numpy().astype(np.float64)
    pal = np.zeros((n_groups, n_swatches, 3))
    wts = np.zeros((n_groups, n_swatches))
    for g in range(n_groups):
        m = labels == g
        if not m.any():
            continue
        pts, w = colors[m].reshape(-1, 3), fracs[m].reshape(-1)
        keep = w > 0
        pts, w = pts[keep], w[keep]
        s = min(n_swatches, len(np.unique(pts.round(3), axis=0)))
        km = KMeans(n_clusters=s, n_init=3, random_state=seed).fit(pts, sample_weight=w)
        share = np.bincount(km.labels_, weights=w, minlength=s)
        order = np.argsort(-share)
        pal[g, :s] = km.cluster_centers_[order]
        wts[g, :s] = share[order] / share.sum()
    return pal, wts


def group_examples(feats: np.ndarray, labels: np.ndarray, n_groups: int, n_examples: int = 8) -> np.ndarray:
    """The ``n_examples`` images of each group nearest the group's mean feature vector ``(K, E)``."""
    out = np.full((n_groups, n_examples), -1, dtype=np.int64)
    for g in range(n_groups):
        idx = np.flatnonzero(labels == g)
        if len(idx) == 0:
            continue
        f = feats[idx]
        d = ((f - f.mean(0)) ** 2).sum(1)
        best = idx[np.argsort(d, kind="stable")[:n_examples]]
        out[g, :len(best)] = best
    return out


def _stack_features(blocks: dict[str, torch.Tensor]) -> np.ndarray:
    return torch.cat([blocks[k] for k in sorted(blocks)], 1).numpy().astype(np.float64)


class ColorProfiles:
    """K colour profiles learnt by K-means over per-image descriptors (Robles & Budach: K = 4).

    Build with :func:`build_profiles`; ``groups`` holds the training images' profiles, palettes
    and examples; :meth:`assign_profile` puts new images into the nearest profile.
    """

    def __init__(self, centers: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor, features: tuple,
                 config: dict, groups: Groups):
        self.centers, self.mean, self.scale = centers, mean, scale
        self.features, self.config, self.groups = tuple(features), dict(config), groups

    @property
    def k(self) -> int:
        return int(self.centers.shape[0])

    def _embed(self, desc: ImageDescriptors) -> torch.Tensor:
        x = torch.from_numpy(_stack_features(descriptor_features(desc, self.features)))
        return (x - self.mean) * self.scale

    def assign_descriptors(self, desc: ImageDescriptors) -> np.ndarray:
        """Nearest profile ``(N,)`` for precomputed descriptors (same settings as the build)."""
        return torch.cdist(self._embed(desc), self.centers).argmin(1).numpy()

    def assign_profile(self, images, device="auto", batch_size: int = 256, progress: bool = False) -> np.ndarray:
        """Profile index ``(N,)`` of new images (anything :func:`describe_images` reads)."""
        c = self.config
        desc = describe_images(images, c["n_colors"], c["iters"], c["hist_bins"], c["seed"], device=device,
                               batch_size=batch_size, progress=progress)
        return self.assign_descriptors(desc)

    def state_dict(self) -> dict:
        g = self.groups
        return {"format": 1, "centers": self.centers, "mean": self.mean, "scale": self.scale,
                "features": list(self.features), "config": self.config, "names": list(g.names),
                "labels": torch.from_numpy(g.labels), "palettes": torch.from_numpy(g.palettes),
                "palette_weights": torch.from_numpy(g.palette_weights), "examples": torch.from_numpy(g.examples)}

    def save(self, path: str | Path) -> Path:
        """Write the profiles (plain tensors: loads with ``torch.load(weights_only=True)``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(self.state_dict(), path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "ColorProfiles":
        path = Path(path)
        if not path.is_file():
            raise ColorlabError(f"{path}: no such colour-profile file")
        try:
            d = torch.load(path, map_location="cpu", weights_only=True)
            groups = Groups("profile", list(d["names"]), d["labels"].numpy(), d["palettes"].numpy(),
                            d["palette_weights"].numpy(), d["examples"].numpy())
            return cls(d["centers"], d["mean"], d["scale"], tuple(d["features"]), d["config"], groups)
        except Exception as e:  # noqa: BLE001 - one clear line for any unreadable file
            raise ColorlabError(f"{path}: not a readable colour-profile file ({type(e).__name__})") from None

    def __repr__(self) -> str:
        return f"ColorProfiles(k={self.k}, features={self.features}, images={len(self.groups.labels)}, " \
               f"sizes={self.groups.counts.tolist()})"


def build_profiles(data, k: int = 4, features=FEATURES, n_colors: int = 5, iters: int = 10, hist_bins: int = 8,
                   n_swatches: int = 5, n_examples: int = 8, seed: int = 0, n_init: int = 10, device="auto",
                   batch_size: int = 256, progress: bool = True,
                   descriptors: ImageDescriptors | None = None) -> ColorProfiles:
    """K colour profiles of a dataset: describe every image, then scikit-learn K-means.

    Each descriptor block (``features``: ``"dcd"`` and/or ``"hist"``) is scaled to a total
    variance of 1, so blocks count equally whatever their length. The ``"dcd"`` block mixes
    units, so each of its columns is standardised (and scaled by 1/sqrt(its width)); the
    ``"hist"`` block is one distribution, so it is scaled as a whole: standardising each bin
    would blow a rare colour's bin (a flower in a few images) up to the weight of the sky's,
    and K-means would then split photos by their rare objects instead of by their palette.

    Args:
        data: a prepared cache, an array ``(N, H, W, 3)`` or an iterable of batches.
        k: number of profiles (Robles & Budach: 4).
        descriptors: reuse descriptors already computed by :func:`describe_images`.
    """
    from sklearn.cluster import KMeans

    desc = descriptors if descriptors is not None else describe_images(
        data, n_colors, iters, hist_bins, seed, device=device, batch_size=batch_size, progress=progress)
    n = len(desc)
    if not 1 <= k <= n:
        raise ColorlabError(f"cannot make {k} profiles from {n} images")
    blocks = descriptor_features(desc, features)
    x = torch.from_numpy(_stack_features(blocks))
    mean, scale = x.mean(0), []
    for b in sorted(blocks):
        std = blocks[b].double().std(0, unbiased=False)
        if b == "hist":   # one scale for the whole block: keeps the Hellinger geometry
            scale.append(torch.full_like(std, 1.0 / float(std.square().sum().sqrt().clamp_min(1e-6))))
        else:
            scale.append(1.0 / (std.clamp_min(1e-6) * math.sqrt(std.numel())))
    scale = torch.cat(scale)
    z = ((x - mean) * scale).numpy()
    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(z)
    # Number profiles by size (largest first) so names are stable across runs.
    sizes = np.bincount(km.labels_, minlength=k)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    labels = rank[km.labels_].astype(np.int64)
    centers = torch.from_numpy(km.cluster_centers_[order])
    pal, wts = group_palettes(desc.dcd, labels, k, n_swatches, seed)
    examples = group_examples(z, labels, k, n_examples)
    groups = Groups("profile", [f"profile {i}" for i in range(k)], labels, pal, wts, examples)
    return ColorProfiles(centers, mean, scale, tuple(sorted(blocks)), desc.config, groups)


def category_groups(data, classes=None, descriptors: ImageDescriptors | None = None, n_swatches: int = 5,
                    n_examples: int = 8, seed: int = 0) -> Groups:
    """Group images by the dataset's own category labels (Siswanto & Karnati's classify-then-colorize).

    Args:
        data: a prepared cache (``.labels``, ``.classes``) or a label array ``(N,)``.
        classes: class names (default: ``data.classes``, else ``"class i"``).
        descriptors: if given (see :func:`describe_images`), palettes and examples are filled
            in exactly as for colour profiles.
    """
    labels = np.asarray(getattr(data, "labels", data), dtype=np.int64)
    if labels.ndim != 1 or len(labels) == 0:
        raise ColorlabError(f"category labels must be a non-empty vector (N,), got shape {labels.shape}")
    if (labels < 0).any():
        raise ColorlabError("this dataset has no category labels (some are -1); use colour profiles instead")
    names = list(classes if classes is not None else getattr(data, "classes", []) or [])
    n_groups = max(len(names), int(labels.max()) + 1)
    names += [f"class {i}" for i in range(len(names), n_groups)]
    if descriptors is None:
        return Groups("category", names, labels)
    if len(descriptors) != len(labels):
        raise ColorlabError(f"{len(descriptors)} descriptors for {len(labels)} labels")
    pal, wts = group_palettes(descriptors.dcd, labels, n_groups, n_swatches, seed)
    feats = _stack_features(descriptor_features(descriptors))
    return Groups("category", names, labels, pal, wts, group_examples(feats, labels, n_groups, n_examples))


def name_groups(groups: Groups, true_labels, true_names) -> Groups:
    """Name each group after the true class most of its images have, one name per class.

    K-means numbers its profiles arbitrarily; on a dataset whose true profiles are known (the
    ``scenes``' profiles) the one-to-one matching that agrees with most images (the Hungarian
    algorithm on the contingency table) names them, e.g. ``"profile 2 ≈ sunset"``. Returns a
    new :class:`Groups` (same labels, new names); the grouping itself never sees the truth.
    """
    from scipy.optimize import linear_sum_assignment

    y = np.asarray(true_labels, dtype=np.int64)
    if y.shape != groups.labels.shape:
        raise ColorlabError(f"{len(y)} true labels for {len(groups.labels)} grouped images")
    table = np.zeros((groups.n_groups, max(len(true_names), int(y.max()) + 1)), dtype=np.int64)
    np.add.at(table, (groups.labels, y), 1)
    rows, cols = linear_sum_assignment(-table)
    names = list(groups.names)
    for g, c in zip(rows, cols):
        if table[g, c]:
            names[g] = f"{groups.names[g]} ≈ {true_names[c]}"
    return dataclasses.replace(groups, names=names)

