"""Colour profiles: per-image Dominant Colour Descriptors, K-means profiles, category groups.

Seed 000 groups training images into K colour *profiles* (K = 4) and trains one colorizer
per profile; seed 002 groups them by *category* instead. Both give a :class:`Groups` — one
label per image, group names, palette swatches and example images — and everything
downstream (the predictor, the figures, per-group training) takes a :class:`Groups`.

The Dominant Colour Descriptor (DCD, MPEG-7, as seed 000 quotes it) of an image is
``{(cᵢ, pᵢ, vᵢ)}, s``: N dominant Lab colours, their pixel fractions (Σ pᵢ = 1), their
per-channel variances, and a spatial-coherency number. We find the cᵢ with one k-means per
image, run for a whole batch of images at once on the batch's device
(:func:`batched_kmeans`), never one scikit-learn call per image.
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
    "KMeansResult", "batched_kmeans", "DominantColors", "dominant_colors_batch", "ImageDescriptors",
    "describe_images", "descriptor_features", "Groups", "group_palettes", "group_examples",
    "ColorProfiles", "build_profiles", "category_groups", "name_groups", "FEATURES",
]

#: Descriptor blocks the profile K-means can use.
FEATURES = ("dcd", "hist")


# --------------------------------------------------------------------------- batched k-means
@dataclass
class KMeansResult:
    """Per-image k-means output: ``centers (B, k, D)``, ``labels (B, P)``, ``inertia (B,)``."""

    centers: torch.Tensor
    labels: torch.Tensor
    inertia: torch.Tensor


def _sq_dist(xt: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Squared distances ``(B, k, P)`` between points ``xt (B, D, P)`` and centres ``c (B, k, D)``.

    Written as D multiply-adds over contiguous ``(B, k, P)`` rows: with D = 3 this is a few
    times faster on a CPU than a batched matmul with an inner size of 3.
    """
    B, D, P = xt.shape
    d = (xt.square().sum(1, keepdim=True) + c.square().sum(-1, keepdim=True)).contiguous()
    for i in range(D):
        d.addcmul_(c[:, :, i:i + 1], xt[:, i:i + 1, :], value=-2.0)
    return d.clamp_min_(0.0)


def _assign(xa: torch.Tensor, x2: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Index ``(B, P)`` of the nearest centre.

    Args:
        xa: points with a row of ones ``(B, D + 1, P)``; x2: their squared norms ``(B, 1, P)``.
        c: centres ``(B, k, D)``.

    All k squared distances come from one batched matmul (``[-2c, |c|²] @ [x; 1] + |x|²``).
    The arg-min is a running minimum over k contiguous rows of integer keys: a non-negative
    float32 orders like its bit pattern, so we overwrite the 3 lowest mantissa bits with the
    centre's index (k ≤ 8; relative precision 2⁻²⁰ instead of 2⁻²³) and keep the smallest key.
    This is several times faster on a CPU than ``argmin`` over a short axis.
    """
    k = c.shape[1]
    ca = torch.cat([-2.0 * c, c.square().sum(-1, keepdim=True)], -1)
    d = torch.baddbmm(x2, ca, xa)                                    # (B, k, P)
    # negative bit patterns (tiny negative rounding errors, -0.0) clamp to +0.0
    key = d.view(torch.int32).clamp_min(0).bitwise_and_(~7).bitwise_or_(
        torch.arange(k, device=d.device, dtype=torch.int32).view(1, k, 1))
    best = key[:, 0]
    for j in range(1, k):
        best = torch.minimum(best, key[:, j])
    return best.bitwise_and_(7).long()


def _kmeanspp(x: torch.Tensor, xt: torch.Tensor, k: int, gen: torch.Generator, n_trials: int) -> torch.Tensor:
    """Greedy k-means++ seeding (Arthur & Vassilvitskii; greedy trials as scikit-learn), vectorised over B."""
    B, P, D = x.shape
    rows = torch.arange(B, device=x.device)
    first = torch.randint(P, (B,), generator=gen, device=x.device)
    centers = [x[rows, first]]                                       # list of (B, D)
    closest = _sq_dist(xt, centers[0][:, None]).squeeze(1)           # (B, P)
    for _ in range(1, k):
        total = closest.sum(1, keepdim=True)
        probs = torch.where(total > 0, closest, torch.ones_like(closest))  # all points equal → uniform
        cand = torch.multinomial(probs, n_trials, replacement=True, generator=gen)  # (B, T)
        cand_pts = x[rows[:, None], cand]                            # (B, T, D)
        new_closest = torch.minimum(closest[:, None], _sq_dist(xt, cand_pts))  # (B, T, P)
        best = new_closest.sum(-1).argmin(1)                         # (B,)
        centers.append(cand_pts[rows, best])
        closest = new_closest[rows, best]
    return torch.stack(centers, 1)


@torch.no_grad()
def batched_kmeans(x: torch.Tensor, k: int, iters: int = 10, init: str = "k-means++", seed: int = 0,
                   n_trials: int | None = None) -> KMeansResult:
    """Lloyd's k-means for a batch of point sets at once, each set clustered on its own.

    Args:
        x: points ``(B, P, D)`` (float; computed in float32 on x's device).
        k: clusters per set.
        iters: Lloyd iterations (fixed: no early stop, so every set costs the same).
        init: ``"k-means++"`` (greedy, ``n_trials = 2 + ⌊ln k⌋`` candidates per step, as
            scikit-learn) or ``"first"`` (the first k points, deterministic).
        seed: seeds the k-means++ sampling.
    Returns:
        :class:`KMeansResult`; ``inertia`` is the sum of squared distances of each set's
        points to their nearest final centre (scikit-learn's ``inertia_``). A cluster that
        empties keeps its previous centre.
    """
    if x.dim() != 3:
        raise ColorlabError(f"points must have shape (B, P, D), got {tuple(x.shape)}")
    B, P, D = x.shape
    if not 1 <= k <= P:
        raise ColorlabError(f"k must be between 1 and the number of points per set ({P}), got {k}")
    offset = x.float().mean(1, keepdim=True)
    x = x.float() - offset  # centred sets: the |x|² − 2x·c + |c|² distances lose less precision
    xt = x.transpose(1, 2).contiguous()
    if init == "k-means++":
        gen = torch.Generator(device=x.device).manual_seed(int(seed))
        centers = _kmeanspp(x, xt, k, gen, n_trials or 2 + int(math.log(k)))
    elif init == "first":
        centers = x[:, :k].clone()
    else:
        raise ColorlabError(f"unknown k-means init {init!r}: use 'k-means++' or 'first'")
    x1 = torch.cat([x, torch.ones(B, P, 1, device=x.device)], -1)   # points + a count column (B, P, D+1)
    if k > 8:  # the packed-key arg-min holds indices < 8; larger k takes the plain path
        def assign(c):
            return _sq_dist(xt, c).argmin(1)
    else:
        xa = torch.cat([xt, torch.ones(B, 1, P, device=x.device)], 1)
        x2 = xt.square().sum(1, keepdim=True)

        def assign(c):
            return _assign(xa, x2, c)
    for _ in range(iters):
        labels = assign(centers)                                     # (B, P)
        acc = torch.zeros(B, k, D + 1, device=x.device).scatter_add_(1, labels[..., None].expand(-1, -1, D + 1), x1)
        sums, counts = acc[..., :D], acc[..., D:]                    # per-cluster sums and counts
        centers = torch.where(counts > 0, sums / counts.clamp_min(1), centers)
    labels = assign(centers)
    inertia = (x - centers.gather(1, labels[..., None].expand(-1, -1, D))).square().sum((1, 2))
    return KMeansResult(centers + offset, labels, inertia)


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
    km = batched_kmeans(x, n_colors, iters=iters, init=init, seed=seed)
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

