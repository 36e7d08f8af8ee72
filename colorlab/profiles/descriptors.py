"""Per-image colour descriptors: the Dominant Colour Descriptor (DCD) and an ab histogram.

The DCD (MPEG-7, as Robles & Budach quote it) of an image is ``{(cᵢ, pᵢ, vᵢ)}, s``: N dominant Lab
colours, their pixel fractions (Σ pᵢ = 1), their per-channel variances, and a spatial-coherency
number. The cᵢ come from one k-means per image, a whole batch of images at once
(:func:`colorlab.profiles.kmeans.batched_kmeans`). :func:`describe_images` computes the DCD and the
ab histogram of a dataset; :func:`descriptor_features` turns them into the vectors the colour
profiles cluster (:mod:`colorlab.profiles.groups`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from colorlab.core.color import AB_SCALE, rgb_to_lab
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.data.batches import iter_batches
from colorlab.profiles.kmeans import batched_kmeans
from colorlab.rarity.bins import BinLookup

__all__ = ["DCD_STEP", "FEATURES", "DominantColors", "dominant_colors_batch", "ImageDescriptors", "describe_images",
           "descriptor_features"]

#: Descriptor blocks the profile K-means can use.
FEATURES = ("dcd", "hist")
#: Cell size (Lab units) of the colour histogram the dominant-colour k-means clusters: a 64×64 photo's
#: 4,096 pixels fall into a few hundred occupied cells and the inertia moves by under 1 %
#: (``bench/bench_kmeans.py`` measures both).
DCD_STEP = 8.0


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


def _ab_hist_batch(lab: torch.Tensor, lookup: BinLookup) -> torch.Tensor:
    """The ab histogram ``(B, n²)`` of each Lab image on ``lookup``'s ``regular<n>`` grid (each row sums to 1)."""
    cell = lookup(lab[:, 1:]).flatten(1)                                # (B, H·W): each pixel's bin
    hist = torch.zeros(cell.shape[0], lookup.G ** 2, device=lab.device)
    return hist.scatter_add_(1, cell, torch.ones_like(cell, dtype=hist.dtype)) / cell.shape[1]


@torch.no_grad()
def describe_images(data, n_colors: int = 5, iters: int = 10, hist_bins: int = 8, seed: int = 0,
                    device="auto", batch_size: int = 256, progress: bool = False) -> ImageDescriptors:
    """DCD and ab histogram of every image of ``data``, a batch at a time on ``device``.

    ``data`` is anything :func:`colorlab.data.batches.iter_batches` reads (a prepared cache, an
    array, an iterable of batches). Only the small descriptors are kept, never the pixels.
    """
    dev = get_device(device)
    lookup = BinLookup(f"regular{hist_bins}").to(dev)
    dcds, hists = [], []
    for i, rgb in enumerate(iter_batches(data, batch_size, dev, progress=progress, desc="colour descriptors")):
        lab = rgb_to_lab(rgb)
        dcds.append(dominant_colors_batch(rgb, n_colors, iters, seed=seed + i, lab=lab).cpu())
        hists.append(_ab_hist_batch(lab, lookup).cpu())
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
