"""Colour profiles: per-image Dominant Colour Descriptors, K-means profiles, category groups.

Seed 000 groups training images into K colour *profiles* (K = 4) and trains one colorizer
per profile; seed 002 groups them by *category* instead. Both give a :class:`Groups` — one
label per image, group names, palette swatches and example images — and everything
downstream (the predictor, the figures, per-group training) takes a :class:`Groups`.

The Dominant Colour Descriptor (DCD, MPEG-7, as seed 000 quotes it) of an image is
``{(cᵢ, pᵢ, vᵢ)}, s``: N dominant Lab colours, their pixel fractions (Σ pᵢ = 1), their
per-channel variances, and a spatial-coherency number. We find the cᵢ with one k-means per
image, run for a whole batch of images at once on the batch's device
(:func:`batched_kmeans`), never one scikit-learn call per image. The k-means iterates over a
weighted colour histogram of each photo (a few hundred occupied cells instead of 4,096 pixels);
:func:`lloyd_kmeans` is the plain textbook version it is tested against.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .color import AB_SCALE, rgb_to_lab
from .device import get_device
from .errors import ColorlabError
from .stats import iter_rgb_batches

__all__ = [
    "KMeansResult", "batched_kmeans", "lloyd_kmeans", "colour_histogram", "DCD_STEP", "DominantColors",
    "dominant_colors_batch", "ImageDescriptors",
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


def _sq_dist(xt: torch.Tensor, c: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
    """Squared distances ``(B, k, P)`` between points ``xt (B, D, P)`` and centres ``c (B, k, D)``.

    Written as D multiply-adds over contiguous ``(B, k, P)`` rows: with D = 3 this is a few
    times faster on a CPU than a batched matmul with an inner size of 3. ``x2``: the points'
    squared norms ``(B, 1, P)`` if already known.
    """
    B, D, P = xt.shape
    x2 = xt.square().sum(1, keepdim=True) if x2 is None else x2
    d = (x2 + c.square().sum(-1, keepdim=True)).contiguous()
    for i in range(D):
        d.addcmul_(c[:, :, i:i + 1], xt[:, i:i + 1, :], value=-2.0)
    return d.clamp_min_(0.0)


def _assign(xa: torch.Tensor, x2: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index ``(B, P)`` of the nearest centre and the squared distance to it ``(B, P)``.

    What :func:`lloyd_kmeans` writes as ``d2.argmin(-1)``, faster. Args: points with a row of
    ones ``xa (B, D + 1, P)``, their squared norms ``x2 (B, 1, P)``, centres ``c (B, k, D)``, k ≤ 8.

    All k squared distances come from one batched matmul (``[-2c, |c|²] @ [x; 1] + |x|²``).
    The arg-min is a running minimum over k contiguous rows of integer keys: a non-negative
    float32 orders like its bit pattern, so we overwrite the 3 lowest mantissa bits with the
    centre's index (k ≤ 8; relative precision 2⁻²⁰ instead of 2⁻²³) and keep the smallest key.
    This is several times faster on a CPU than ``argmin`` over a short axis (ties go to the
    lower index, as with ``argmin``); the key without its index bits is the distance.
    """
    k = c.shape[1]
    ca = torch.cat([-2.0 * c, c.square().sum(-1, keepdim=True)], -1)
    d = torch.baddbmm(x2, ca, xa)                                    # (B, k, P)
    # negative bit patterns (tiny negative rounding errors, -0.0) clamp to +0.0
    key = d.view(torch.int32).clamp_min_(0).bitwise_and_(~7).bitwise_or_(
        torch.arange(k, device=d.device, dtype=torch.int32).view(1, k, 1))
    best = key[:, 0]
    for j in range(1, k):
        best = torch.minimum(best, key[:, j])
    return (best & 7).long(), (best & ~7).view(torch.float32)


def _nearest_center(xt: torch.Tensor, k: int):
    """``assign(centres) → (index (B, P), squared distance (B, P))`` of the nearest centre of each point ``xt (B, D, P)``."""
    if k > 8:  # the packed keys hold indices < 8; larger k takes the plain arg-min
        def assign(c):
            d, i = _sq_dist(xt, c).min(1)
            return i, d
        return assign
    B, D, P = xt.shape
    xa = torch.cat([xt, torch.ones(B, 1, P, device=xt.device)], 1)
    x2 = xt.square().sum(1, keepdim=True)
    return lambda c: _assign(xa, x2, c)


@dataclass
class ColourHistogram:
    """Each set's points binned on a grid of cells ``step`` wide, only the occupied cells kept.

    Attributes:
        points: ``(B, D, U)`` mean of the points of each occupied cell, transposed like the ``xt`` of
            :func:`_sq_dist` (U: the most cells any set occupies; the others are padded).
        weights: ``(B, U)`` number of points in each cell (0: padding).
        index: ``(B, P)`` the cell (column of ``points``) of every point.
    """

    points: torch.Tensor
    weights: torch.Tensor
    index: torch.Tensor


def _n_cells(xt: torch.Tensor, step: float) -> int:
    return math.prod(int(v) + 1 for v in ((xt.amax(2).amax(0) - xt.amin(2).amin(0)) / step).floor())


def colour_histogram(xt: torch.Tensor, step: float) -> ColourHistogram:
    """Bin points ``xt (B, D, P)`` (transposed: one contiguous row per coordinate) into cells ``step`` wide."""
    B, D, P = xt.shape
    lo = xt.amin(2).amin(0)[:, None]                                 # (D, 1) corner of the grid
    cell = ((xt - lo) / step).floor_()                               # (B, D, P) integer cell coordinates
    sides = [int(v) + 1 for v in cell.amax(2).amax(0)]               # cells along each axis
    code = cell[:, 0]
    for i in range(1, D):
        code = code * sides[i] + cell[:, i]                          # (B, P) cell number, row-major
    code = code.long()
    occupied = torch.zeros(B, math.prod(sides), dtype=torch.int32, device=xt.device).scatter_(1, code, 1)
    slot = occupied.cumsum(1, dtype=torch.int32)                     # the n-th occupied cell → n
    index = slot.gather(1, code).long().sub_(1)                      # (B, P) column of each point's cell
    U = int(slot[:, -1].max())
    ones = torch.ones(B, 1, P, device=xt.device)
    acc = torch.zeros(B, D + 1, U, device=xt.device).scatter_add_(
        2, index[:, None].expand(-1, D + 1, -1), torch.cat([xt, ones], 1))  # sums and counts per cell
    weights = acc[:, D]
    return ColourHistogram(acc[:, :D] / weights.clamp_min(1)[:, None], weights, index)


def _sample(weights: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` indices per row drawn with probability ∝ ``weights (B, P)`` (with replacement), by inverting the CDF."""
    cdf = weights.cumsum(1)
    u = torch.rand(weights.shape[0], n, generator=gen, device=weights.device) * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).clamp_max_(weights.shape[1] - 1)


def _kmeanspp(x: torch.Tensor, xt: torch.Tensor, w: torch.Tensor, k: int, gen: torch.Generator,
              n_trials: int) -> torch.Tensor:
    """Greedy k-means++ seeding of weighted points (Arthur & Vassilvitskii; greedy trials as scikit-learn).

    ``x (B, P, D)``, ``xt`` the same transposed ``(B, D, P)``, ``w (B, P)`` point weights; vectorised over B.
    """
    B, P, D = x.shape
    rows = torch.arange(B, device=x.device)
    x2 = xt.square().sum(1, keepdim=True)
    first = _sample(w, 1, gen)[:, 0]
    centers = [x[rows, first]]                                       # list of (B, D)
    closest = _sq_dist(xt, centers[0][:, None], x2).squeeze(1)       # (B, P)
    for _ in range(1, k):
        potential = w * closest
        probs = torch.where(potential.sum(1, keepdim=True) > 0, potential, w)  # all points equal → by weight
        cand = _sample(probs, n_trials, gen)                         # (B, T)
        cand_pts = x[rows[:, None], cand]                            # (B, T, D)
        new_closest = torch.minimum(closest[:, None], _sq_dist(xt, cand_pts, x2))  # (B, T, P)
        best = (new_closest * w[:, None]).sum(-1).argmin(1)          # (B,)
        centers.append(cand_pts[rows, best])
        closest = new_closest[rows, best]
    return torch.stack(centers, 1)


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
    """
    if x.dim() != 3:
        raise ColorlabError(f"points must have shape (B, P, D), got {tuple(x.shape)}")
    B, P, D = x.shape
    if not 1 <= k <= P:
        raise ColorlabError(f"k must be between 1 and the number of points per set ({P}), got {k}")
    if init not in ("k-means++", "first"):
        raise ColorlabError(f"unknown k-means init {init!r}: use 'k-means++' or 'first'")
    x = x.float()
    offset = x.mean(1, keepdim=True)  # centred sets: the |x|² − 2x·c + |c|² distances lose less precision
    xt = (x.transpose(1, 2) - offset.transpose(1, 2)).contiguous()  # (B, D, P): one row per coordinate
    hist = None
    while step and _n_cells(xt, step) <= MAX_CELLS:
        hist = colour_histogram(xt, step)
        if int((hist.weights > 0).sum(1).min()) >= min(P, MIN_CELLS_PER_CLUSTER * k):
            break
        hist, step = None, step / 2  # too few cells to place k clusters in some set: a finer grid
    if hist is not None:
        pt, w = hist.points, hist.weights                            # (B, D, U) cells, (B, U) their counts
    else:
        pt, w = xt, torch.ones(B, P, device=x.device)
    if init == "k-means++":
        gen = torch.Generator(device=x.device).manual_seed(int(seed))
        centers = _kmeanspp(pt.transpose(1, 2), pt, w, k, gen, n_trials or 2 + int(math.log(k)))
    else:
        centers = xt[:, :, :k].transpose(1, 2).clone()
    assign = _nearest_center(pt, k)
    weighted = torch.cat([pt * w[:, None], w[:, None]], 1)           # (B, D + 1, U): weighted points, counts
    for _ in range(iters):
        labels = assign(centers)[0]                                  # (B, U)
        acc = torch.zeros(B, D + 1, k, device=x.device).scatter_add_(
            2, labels[:, None].expand(-1, D + 1, -1), weighted).transpose(1, 2)
        sums, counts = acc[..., :D], acc[..., D:]                    # per-cluster sums and counts
        centers = torch.where(counts > 0, sums / counts.clamp_min(1e-12), centers)
    labels, d2 = (_nearest_center(xt, k) if hist is not None else assign)(centers)  # every point to its nearest
    return KMeansResult(centers + offset, labels, d2.sum(1))


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


@torch.no_grad()
def dominant_colors_batch(rgb: torch.Tensor, n_colors: int = 5, iters: int = 10, seed: int = 0,
                          init: str = "k-means++") -> DominantColors:
    """The DCD of every image of a batch ``(B, 3, H, W)`` (uint8 or [0, 1]), on its device."""
    lab = rgb_to_lab(rgb).float()
    B, _, H, W = lab.shape
    x = lab.permute(0, 2, 3, 1).reshape(B, H * W, 3)
    km = batched_kmeans(x, n_colors, iters=iters, init=init, seed=seed, step=DCD_STEP)
    k = n_colors
    counts = torch.zeros(B, k, device=x.device).scatter_add_(1, km.labels, torch.ones_like(km.labels, dtype=x.dtype))
    diff2 = (x - km.centers.gather(1, km.labels[..., None].expand(-1, -1, 3))).square()
    var = torch.zeros(B, k, 3, device=x.device).scatter_add_(1, km.labels[..., None].expand(-1, -1, 3), diff2)
    var = var / counts.clamp_min(1)[..., None]
    onehot = F.one_hot(km.labels.view(B, H, W), k).permute(0, 3, 1, 2).float()
    uniform = -F.max_pool2d(-onehot, 3, stride=1, padding=1)        # 1 where the 3×3 window is all this label
    coherency = (uniform * onehot).sum(1).mean((1, 2))
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


def _ab_hist_batch(rgb: torch.Tensor, bins: int) -> torch.Tensor:
    ab = rgb_to_lab(rgb)[:, 1:].float()
    B = ab.shape[0]
    ij = ((ab + AB_SCALE) / (2 * AB_SCALE) * bins).floor().long().clamp_(0, bins - 1)
    cell = (ij[:, 0] * bins + ij[:, 1]).reshape(B, -1)
    hist = torch.zeros(B, bins * bins, device=ab.device).scatter_add_(1, cell, torch.ones_like(cell, dtype=ab.dtype))
    return hist / cell.shape[1]


@torch.no_grad()
def describe_images(data, n_colors: int = 5, iters: int = 10, hist_bins: int = 8, seed: int = 0,
                    device="auto", batch_size: int = 256, progress: bool = False) -> ImageDescriptors:
    """DCD and ab histogram of every image of ``data``, a batch at a time on ``device``.

    ``data`` is anything :func:`colorlab.stats.iter_rgb_batches` reads (a prepared cache, an
    array, an iterable of batches). Only the small descriptors are kept, never the pixels.
    """
    dev = get_device(device)
    dcds, hists = [], []
    for i, rgb in enumerate(iter_rgb_batches(data, batch_size, dev, progress=progress, desc="colour descriptors")):
        dcds.append(dominant_colors_batch(rgb, n_colors, iters, seed=seed + i).cpu())
        hists.append(_ab_hist_batch(rgb, hist_bins).cpu())
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
    """K colour profiles learnt by K-means over per-image descriptors (seed 000, K = 4).

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
        k: number of profiles (seed 000: 4).
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
    """Group images by the dataset's own category labels (seed 002's classify-then-colorize).

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

