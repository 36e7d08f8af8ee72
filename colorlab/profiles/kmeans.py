"""Lloyd's k-means for a batch of point sets at once (:func:`batched_kmeans`), and the plain reference.

The dominant colours of a photo (:mod:`colorlab.profiles.descriptors`) come from one k-means per
image, run for a whole batch of images at once on the batch's device, never one scikit-learn call
per image. The k-means iterates over a weighted colour histogram of each photo
(:mod:`colorlab.profiles.histogram`: a few hundred occupied cells instead of 4,096 pixels);
:func:`lloyd_kmeans` is the plain textbook version it is tested against (and lab 03's exercise is
checked against).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from colorlab.core.errors import ColorlabError
from colorlab.core.precision import fp32_matmul
from colorlab.profiles.histogram import grid_cells, make_grid

__all__ = ["KMeansResult", "lloyd_kmeans", "lloyd", "elbow_k", "batched_kmeans", "MIN_CELLS_PER_CLUSTER", "MAX_CELLS", "SETS_PER_PASS"]

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
            (:func:`~colorlab.profiles.histogram.colour_histogram`, cells ``step`` wide: each
            occupied cell is one point at the mean of its points, weighted by their number) instead
            of on every point. A 64×64 photo's 4,096 Lab colours occupy a few hundred cells of
            :data:`~colorlab.profiles.descriptors.DCD_STEP` units, so each iteration costs a
            fraction. Where a set occupies fewer than
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
    # IEEE fp32 matmuls: the packed keys (_distance_keys) read the low mantissa bits of each distance, which
    # TF32 (10-bit mantissa) or an enclosing bf16/fp16 autocast would leave meaningless
    with fp32_matmul(), torch.autocast(x.device.type, enabled=False):
        parts = [_kmeans_sets(x[i:i + per_pass].float(), k, iters, init, gen, n_trials or 2 + int(math.log(k)), step)
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
            grid = make_grid(pa, step, lo, hi)                       # the points now in grid units
            if int(grid.occupied.min()) >= min(P, MIN_CELLS_PER_CLUSTER * k):
                break
            grid, step = None, step / 2  # too few cells to place k clusters in some set: a finer grid
            xt.copy_(x.transpose(1, 2))
    if grid is not None:     # every point in grid units; the seeding and the iterations on the occupied cells
        origin, scale = grid.lo, grid.step
        _augment(xt, out=pa)
        wx = grid_cells(grid)                                        # (B, D + 1, U): [w·x, w] of each cell
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
    labels = torch.cat([_nearest(pa[i:i + 16], centers[i:i + 16])[0] for i in range(0, B, 16)])
    # the inertia from the differences themselves: |x|² − 2c·x + |c|² loses the small distances of tight
    # clusters to cancellation (relative errors of 1e-4, BLAS-dependent), enough to pick but not to report
    diff = pa[:, :D] - centers.gather(1, labels[..., None].expand(-1, -1, D)).transpose(1, 2)
    return KMeansResult(origin + scale * centers, labels, diff.square_().sum((1, 2)) * scale**2)


def lloyd(x: torch.Tensor, centres: torch.Tensor, max_iters: int = 100) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Lloyd's k-means on one set of points until no label changes: lab 03's ``kmeans`` exercise, the kit's answer.

    ``x (N, D)``, starting ``centres (K, D)`` → ``(centres (K, D), labels (N,) int64, inertia)``, the inertia
    being the sum of squared distances to the final centres. :func:`~colorlab.profiles.groups.build_profiles`
    takes a function with this contract as ``kmeans=`` (the student's, in lab 03).
    """
    c, labels = centres[None].float(), None
    for _ in range(max_iters):
        step = lloyd_kmeans(x[None], c, iters=1)          # assign, move; labels to the moved centres
        c = step.centers
        if labels is not None and torch.equal(step.labels, labels):
            break                                          # nothing moved: the next step would change nothing
        labels = step.labels
    final = lloyd_kmeans(x[None], c, iters=0)
    return final.centers[0], final.labels[0], float(final.inertia[0])


def elbow_k(inertias, cut: float = 0.2) -> int:
    """The K at the elbow of the k-means objective curve ``inertias[i] = J(K = i + 1)``: lab 03's ``choose_k``.

    The last K whose centre still removed at least ``cut`` (a fifth) of the J that was left; every centre
    after it removes less, as splitting one compact group does. (The K with the largest fractional cut
    finds the most striking gap instead, often two groups far from the rest, not the last one.)
    """
    j = torch.as_tensor(inertias, dtype=torch.float64).reshape(-1)
    big = torch.nonzero(j[1:] <= (1 - cut) * j[:-1]).reshape(-1)
    return int(big[-1]) + 2 if len(big) else 1
