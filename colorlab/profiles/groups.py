"""Colour profiles and category groups: one :class:`Groups` per way of grouping a dataset's images.

Robles & Budach group training images into K colour *profiles* (K = 4: :func:`build_profiles`, K-means
over the descriptors of :mod:`colorlab.profiles.descriptors`) and train one colorizer per profile;
Siswanto & Karnati group them by *category* instead (:func:`category_groups`). Both give a
:class:`Groups` — one label per image, group names, palette swatches and example images — and
everything downstream (the predictor, the figures, per-group training) takes a :class:`Groups`.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from colorlab.core.errors import ColorlabError
from colorlab.core.files import atomic_write
from colorlab.core.options import with_options
from colorlab.profiles.descriptors import (FEATURES, DominantColors, ImageDescriptors, describe_images,
                                           descriptor_features)

__all__ = ["Groups", "group_palettes", "group_examples", "ColorProfiles", "ProfileConfig", "build_profiles",
           "category_groups", "name_groups"]


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
        return atomic_write(path, lambda tmp: torch.save(self.state_dict(), tmp))

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


@dataclass(frozen=True)
class ProfileConfig:
    """How :func:`build_profiles` describes the images and clusters them.

    Attributes:
        k: number of profiles (Robles & Budach: 4).
        features: the descriptor blocks clustered, ``"dcd"`` and/or ``"hist"``
            (:func:`~colorlab.profiles.descriptors.descriptor_features`).
        n_colors, iters, hist_bins, seed: the descriptors (:func:`~colorlab.profiles.descriptors.describe_images`);
            ``seed`` also seeds the profile K-means and the palettes.
        n_swatches, n_examples: palette swatches and example images kept per profile.
        n_init: K-means restarts.
        device, batch_size, progress: where and how the descriptors are computed.
    """

    k: int = 4
    features: tuple = FEATURES
    n_colors: int = 5
    iters: int = 10
    hist_bins: int = 8
    n_swatches: int = 5
    n_examples: int = 8
    seed: int = 0
    n_init: int = 10
    device: str = "auto"
    batch_size: int = 256
    progress: bool = True


def _best_of_starts(kmeans, z: np.ndarray, k: int, n_init: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(centres (K, D), labels (N,))``: the lowest-inertia run of ``kmeans(x, centres)`` over ``n_init``
    k-means++ starts (scikit-learn's seeding, ``random_state = seed + i``)."""
    from sklearn.cluster import kmeans_plusplus

    x, best = torch.from_numpy(z).float(), None
    for i in range(max(1, n_init)):
        start, _ = kmeans_plusplus(z, k, random_state=seed + i)
        centres, labels, inertia = kmeans(x.clone(), torch.from_numpy(start).float())
        centres = np.asarray(centres.detach().cpu() if isinstance(centres, torch.Tensor) else centres, dtype=np.float64)
        labels = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels).astype(np.int64).reshape(-1)
        inertia = float(inertia)
        if best is None or inertia < best[0]:
            best = (inertia, centres, labels)
    return best[1], best[2]


def build_profiles(data, config: ProfileConfig | None = None, descriptors: ImageDescriptors | None = None,
                   *, kmeans=None, **options) -> ColorProfiles:
    """K colour profiles of a dataset: describe every image, then scikit-learn K-means.

    Each descriptor block (``features``: ``"dcd"`` and/or ``"hist"``) is scaled to a total
    variance of 1, so blocks count equally whatever their length. The ``"dcd"`` block mixes
    units, so each of its columns is standardised (and scaled by 1/sqrt(its width)); the
    ``"hist"`` block is one distribution, so it is scaled as a whole: standardising each bin
    would blow a rare colour's bin (a flower in a few images) up to the weight of the sky's,
    and K-means would then split photos by their rare objects instead of by their palette.

    Args:
        data: a prepared cache, an array ``(N, H, W, 3)`` or an iterable of batches.
        config: a :class:`ProfileConfig`; ``options`` override its fields (``k=4``, ``hist_bins=16``, ...).
        descriptors: reuse descriptors already computed by :func:`~colorlab.profiles.descriptors.describe_images`.
        kmeans: None (scikit-learn's K-means), or a function ``kmeans(x (N, D), centres (K, D)) → (centres,
            labels, inertia)`` with the contract of :func:`colorlab.profiles.kmeans.lloyd` (lab 03: the
            student's), run from ``n_init`` k-means++ starts; the run with the lowest inertia is kept.
    """
    from sklearn.cluster import KMeans

    c = with_options(config or ProfileConfig(), options, "profile")
    k = c.k
    desc = descriptors if descriptors is not None else describe_images(
        data, c.n_colors, c.iters, c.hist_bins, c.seed, device=c.device, batch_size=c.batch_size, progress=c.progress)
    n = len(desc)
    if not 1 <= k <= n:
        raise ColorlabError(f"cannot make {k} profiles from {n} images")
    blocks = descriptor_features(desc, c.features)
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
    if kmeans is None:
        km = KMeans(n_clusters=k, n_init=c.n_init, random_state=c.seed).fit(z)
        km_centers, km_labels = km.cluster_centers_, km.labels_
    else:
        km_centers, km_labels = _best_of_starts(kmeans, z, k, c.n_init, c.seed)
    # Number profiles by size (largest first) so names are stable across runs.
    sizes = np.bincount(km_labels, minlength=k)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    labels = rank[km_labels].astype(np.int64)
    centers = torch.from_numpy(km_centers[order])
    pal, wts = group_palettes(desc.dcd, labels, k, c.n_swatches, c.seed)
    examples = group_examples(z, labels, k, c.n_examples)
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
