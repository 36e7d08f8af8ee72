"""Colour statistics of a dataset: the empirical ab distribution, soft-encoding, annealed mean.

Two ways to cut the ab plane into ``Q`` bins ("grids"):

* ``"zhang313"`` — Zhang et al. (2016)'s 313 in-gamut bins of a grid of 10 over
  ``[-110, 110]`` (the bin list of their release, in its order, so Q-bin models stay
  compatible with it).
* ``"regular<n>"`` — an ``n × n`` regular grid over ``[-110, 110]`` (Robles & Budach used 64 × 64).

Both are embedded in a square grid of cells, so the nearest-bin look-up is one ``floor`` and
one table index per pixel (:class:`BinLookup`), and smoothing is a 2-D Gaussian blur of that
grid. :func:`ab_prior` accumulates the histogram with ``torch.bincount`` on the batch's
device; :func:`prior_for` caches it next to a prepared dataset.

Shapes: ab is ``(..., 2, H, W)`` in Lab units (not normalised) unless said otherwise.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from colorlab.core.color import rgb_to_lab
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError

__all__ = [
    "zhang_bins", "grid_bins", "BinLookup", "ABPrior", "ab_prior", "prior_for", "iter_rgb_batches",
    "soft_encode", "soft_encode_sparse", "annealed_mean", "DEFAULT_GRID",
]

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
def _grid_layout(grid: str) -> tuple[torch.Tensor, float, float, int, torch.Tensor]:
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
    return _grid_layout(grid)[0].clone()


class BinLookup(nn.Module):
    """ab → bin index by a table look-up; an ``nn.Module`` so the table follows ``.to(device)``.

    The ab plane is cut into ``G × G`` square cells of side ``width`` starting at ``lo``;
    ``lut`` maps each cell to its bin (for Zhang's grid, cells outside the 313 map to the
    bin nearest their centre). Values beyond the grid are clamped to the border cells.
    """

    def __init__(self, grid: str = DEFAULT_GRID):
        super().__init__()
        _, self.lo, self.width, self.G, lut = _grid_layout(grid)
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


def _gaussian_blur_grid(grid: torch.Tensor, sigma_cells: float) -> torch.Tensor:
    """Blur a ``(G, G)`` float64 grid with a normalised separable Gaussian (zero padding)."""
    if sigma_cells <= 0:
        return grid
    r = max(1, int(math.ceil(3 * sigma_cells)))
    x = torch.arange(-r, r + 1, dtype=grid.dtype)
    k = torch.exp(-x ** 2 / (2 * sigma_cells ** 2))
    k = k / k.sum()
    g = grid[None, None]
    g = F.conv2d(g, k.view(1, 1, -1, 1), padding=(r, 0))
    g = F.conv2d(g, k.view(1, 1, 1, -1), padding=(0, r))
    return g[0, 0]


@dataclass
class ABPrior:
    """The empirical ab distribution of a dataset on a grid of ``Q`` bins.

    Attributes:
        grid: ``"zhang313"`` or ``"regular<n>"``.
        centers: bin centres ``(Q, 2)`` in ab units.
        counts: raw pixel counts ``(Q,)`` (int64).
        p: smoothed probabilities ``(Q,)`` summing to 1 (Zhang's p̃).
        sigma: the Gaussian σ (ab units) used for smoothing.
        path: the file it was loaded from / saved to, if any.
    """

    grid: str
    centers: torch.Tensor
    counts: torch.Tensor
    p: torch.Tensor
    sigma: float = 5.0
    path: Path | None = None

    @classmethod
    def from_counts(cls, counts: torch.Tensor, grid: str = DEFAULT_GRID, sigma: float = 5.0) -> "ABPrior":
        """Smooth raw bin counts ``(Q,)`` into a prior (a 2-D Gaussian of σ ab units, renormalised)."""
        centers, lo, width, G, lut = _grid_layout(grid)
        counts = torch.as_tensor(counts).detach().to("cpu", torch.int64)
        if counts.shape != (len(centers),):
            raise ColorlabError(f"grid {grid!r} has {len(centers)} bins, got counts of shape {tuple(counts.shape)}")
        total = counts.sum()
        if total <= 0:
            raise ColorlabError("the ab histogram is empty: no pixels were counted")
        cells = _bin_cells(grid)
        plane = torch.zeros(G * G, dtype=torch.float64)
        plane[cells] = counts.double() / total.double()
        smooth = _gaussian_blur_grid(plane.view(G, G), sigma / width).reshape(-1)[cells]
        smooth = smooth / smooth.sum()
        return cls(grid=grid, centers=centers.clone(), counts=counts, p=smooth.float(), sigma=float(sigma))

    @property
    def Q(self) -> int:
        return int(self.centers.shape[0])

    @property
    def raw(self) -> torch.Tensor:
        """Unsmoothed probabilities ``(Q,)``."""
        return self.counts.double().div(self.counts.sum()).float()

    def lookup(self) -> BinLookup:
        """A :class:`BinLookup` module for this grid (on the prior's device)."""
        return BinLookup(self.grid).to(self.centers.device)

    def bin_index(self, ab: torch.Tensor) -> torch.Tensor:
        """ab ``(..., 2, H, W)`` (ab units) → bin index ``(..., H, W)``, on ab's device."""
        return BinLookup(self.grid).to(ab.device)(ab)

    def weights(self, scheme: str = "zhang", lam: float | None = None) -> torch.Tensor:
        """Rarity weights ``(Q,)``; see :func:`colorlab.rarity.losses.rarity_weights`."""
        from colorlab.rarity.losses import rarity_weights
        return rarity_weights(self, scheme=scheme, lam=lam)

    def to_plane(self, values: torch.Tensor | None = None) -> np.ndarray:
        """Scatter per-bin ``values`` (default ``p``) onto the ``G × G`` plane (a rows, b columns), NaN off-grid."""
        _, lo, width, G, _ = _grid_layout(self.grid)
        v = (self.p if values is None else torch.as_tensor(values)).detach().cpu().double()
        plane = torch.full((G * G,), float("nan"), dtype=torch.float64)
        plane[_bin_cells(self.grid)] = v
        return plane.view(G, G).numpy()

    def extent(self) -> tuple[float, float, float, float]:
        """``(lo, hi, lo, hi)`` of the plane in ab units (for ``imshow(extent=...)``)."""
        _, lo, width, G, _ = _grid_layout(self.grid)
        return lo, lo + G * width, lo, lo + G * width

    def to(self, device) -> "ABPrior":
        dev = get_device(device)
        return ABPrior(self.grid, self.centers.to(dev), self.counts.to(dev), self.p.to(dev), self.sigma, self.path)

    def state_dict(self) -> dict:
        return {"grid": self.grid, "centers": self.centers.cpu(), "counts": self.counts.cpu(),
                "p": self.p.cpu(), "sigma": float(self.sigma), "format": 1}

    def save(self, path: str | Path) -> Path:
        """Write the prior (plain tensors and strings: loads with ``torch.load(weights_only=True)``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save(self.state_dict(), tmp)
        tmp.replace(path)
        self.path = path
        return path

    @classmethod
    def load(cls, path: str | Path) -> "ABPrior":
        path = Path(path)
        try:
            d = torch.load(path, map_location="cpu", weights_only=True)
            prior = cls(d["grid"], d["centers"], d["counts"], d["p"], float(d["sigma"]), path)
        except FileNotFoundError:
            raise ColorlabError(f"{path}: no such ab prior file") from None
        except Exception as e:  # noqa: BLE001 - any unreadable file is one user-facing problem
            raise ColorlabError(f"{path}: not a readable ab prior ({type(e).__name__}); delete it to recompute") from None
        return prior

    def __repr__(self) -> str:
        return f"ABPrior(grid={self.grid!r}, Q={self.Q}, pixels={int(self.counts.sum())}, sigma={self.sigma})"


@lru_cache(maxsize=16)
def _bin_cells(grid: str) -> torch.Tensor:
    """The flat cell index of every bin centre ``(Q,)``."""
    centers, lo, width, G, _ = _grid_layout(grid)
    ij = ((centers - lo) / width).floor().long()
    return ij[:, 0] * G + ij[:, 1]


def iter_rgb_batches(data, batch_size: int = 256, device="auto", progress: bool = False,
                     desc: str = "images") -> Iterator[torch.Tensor]:
    """Yield RGB batches ``(B, 3, H, W)`` (uint8, or float in [0, 1] as given) on ``device``.

    ``data`` may be a prepared cache (anything with ``.images`` ``(N, H, W, 3)``), an array or
    tensor ``(N, H, W, 3)`` / ``(N, 3, H, W)``, or an iterable of batches ``(B, 3, H, W)`` (or of
    ``(batch, labels)`` pairs, as a DataLoader gives). Arrays are read a batch at a time, so
    memmaps never have to fit in memory.
    """
    from tqdm.auto import tqdm

    dev = get_device(device)
    arr = getattr(data, "images", data)
    if isinstance(arr, (np.ndarray, torch.Tensor)):
        if arr.ndim == 3:
            arr = arr[None]
        if arr.ndim != 4 or 3 not in (arr.shape[1], arr.shape[-1]):
            raise ColorlabError(f"images must have shape (N, H, W, 3) or (N, 3, H, W), got {tuple(arr.shape)}")
        channels_last = arr.shape[-1] == 3
        n = arr.shape[0]
        starts = range(0, n, batch_size)
        for s in tqdm(starts, desc=desc, disable=not progress, total=len(starts)):
            chunk = arr[s:s + batch_size]
            t = chunk if isinstance(chunk, torch.Tensor) else torch.from_numpy(np.array(chunk))  # copy: memmaps are read-only
            t = t.to(dev, non_blocking=True)
            yield t.permute(0, 3, 1, 2) if channels_last else t
        return
    if not isinstance(data, Iterable):
        raise ColorlabError(f"cannot read images from a {type(data).__name__}: pass a prepared cache, "
                            "an array (N, H, W, 3) or an iterable of (B, 3, H, W) batches")
    for b in tqdm(data, desc=desc, disable=not progress):
        if isinstance(b, (tuple, list)):
            b = b[0]
        b = torch.as_tensor(b)
        if b.dim() == 3:
            b = b[None]
        if b.dim() != 4 or b.shape[1] != 3:
            raise ColorlabError(f"each batch must have shape (B, 3, H, W), got {tuple(b.shape)}")
        yield b.to(dev, non_blocking=True)


@torch.no_grad()
def ab_prior(data, grid: str = DEFAULT_GRID, sigma: float = 5.0, device="auto", batch_size: int = 256,
             progress: bool = False) -> ABPrior:
    """The smoothed empirical ab distribution of ``data`` (see :func:`iter_rgb_batches` for inputs).

    Counts are accumulated with ``torch.bincount`` on ``device`` (the GPU when there is one);
    only the ``Q`` counts ever leave it.
    """
    dev = get_device(device)
    look = BinLookup(grid).to(dev)
    Q = len(_grid_layout(grid)[0])
    counts = torch.zeros(Q, dtype=torch.int64, device=dev)
    lab = getattr(data, "lab", None)  # exact float Lab (the scenes cache): no RGB round trip
    batches = (iter_rgb_batches(lab, batch_size, dev, progress=progress, desc=f"ab prior ({grid})") if lab is not None
               else (rgb_to_lab(rgb) for rgb in iter_rgb_batches(data, batch_size, dev, progress=progress,
                                                                 desc=f"ab prior ({grid})")))
    for lab_batch in batches:
        ab = lab_batch[:, 1:].float()
        counts += torch.bincount(look(ab).reshape(-1), minlength=Q)
    return ABPrior.from_counts(counts.cpu(), grid, sigma)


def prior_for(prepared, grid: str = DEFAULT_GRID, sigma: float = 5.0, device="auto", batch_size: int = 256,
              recompute: bool = False, progress: bool = True) -> ABPrior:
    """The ab prior of a prepared cache, computed once and kept as ``<cache>/ab_prior_<grid>.pt``."""
    folder = getattr(prepared, "path", None)
    if folder is None:
        raise ColorlabError("prior_for needs a prepared cache (colorlab.data.prepare(...)); "
                            "use ab_prior(data) for plain arrays")
    sig = "" if sigma == 5.0 else f"_s{sigma:g}"
    path = Path(folder) / f"ab_prior_{grid}{sig}.pt"
    if path.is_file() and not recompute:
        prior = ABPrior.load(path)
        if int(prior.counts.sum()) > 0 and prior.grid == grid:
            return prior
    prior = ab_prior(prepared, grid=grid, sigma=sigma, device=device, batch_size=batch_size, progress=progress)
    prior.save(path)
    return prior


@lru_cache(maxsize=8)
def _lattice_neighbours(key: bytes, Q: int):
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


def soft_encode_sparse(ab: torch.Tensor, centers: torch.Tensor, k: int = 5, sigma: float = 5.0,
                       chunk: int = 1 << 16) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest bins of every pixel and their Gaussian weights (summing to 1).

    For centres on a regular lattice (Zhang's 313 bins, ``regular<n>`` grids) only the 25 bins of
    the 5 × 5 cells around each pixel are candidates — exact whenever the k-th of them is nearer
    than any bin outside (2.5 cell widths); the few pixels where that fails (far outside the
    bins) are searched over every bin. Several times faster than a (pixels × Q) search.

    Args:
        ab: ``(N, 2, H, W)`` in ab units.
        centers: ``(Q, 2)`` bin centres in ab units.
    Returns:
        ``(index (N, k, H, W) int64, weight (N, k, H, W) float32)``, nearest bin first.
    """
    if ab.dim() != 4 or ab.shape[1] != 2:
        raise ColorlabError(f"ab must have shape (N, 2, H, W), got {tuple(ab.shape)}")
    Q = centers.shape[0]
    if not 1 <= k <= Q:
        raise ColorlabError(f"k must be between 1 and the number of bins ({Q}), got {k}")
    N, _, H, W = ab.shape
    with torch.autocast(ab.device.type, enabled=False):
        pts = ab.float().permute(0, 2, 3, 1).reshape(-1, 2)
        c = centers.to(pts.device, torch.float32)
        lattice = _lattice_neighbours(centers.detach().float().cpu().contiguous().numpy().tobytes(), Q) if k <= 25 else None
        if lattice is not None:
            lo, width, G, table = lattice
            cell = ((pts - lo) / width).floor().long().clamp(0, G - 1)
            cand = table.to(pts.device)[cell[:, 0] * G + cell[:, 1]]                 # (P, 25)
            c_pad = torch.cat([c, c.new_full((1, 2), float("inf"))])
            d2 = (pts[:, None, :] - c_pad[cand]).square().sum(-1).nan_to_num(float("inf"))
            d2k, j = d2.topk(k, dim=1, largest=False)
            idx = cand.gather(1, j)
            bad = ~(d2k[:, -1] < (2.5 * width) ** 2)                                # not provably exact
            if bad.any():
                d2b, idxb = torch.cdist(pts[bad], c).square().topk(k, dim=1, largest=False)
                d2k[bad], idx[bad] = d2b, idxb
            w = torch.softmax(-d2k / (2 * sigma ** 2), dim=1)
        else:
            idx_parts, w_parts = [], []
            for s in range(0, pts.shape[0], chunk):  # bounded (chunk, Q) distance matrices
                d2 = torch.cdist(pts[s:s + chunk], c).square()
                d2k, idx = d2.topk(k, dim=1, largest=False)
                idx_parts.append(idx)
                w_parts.append(torch.softmax(-d2k / (2 * sigma ** 2), dim=1))  # exp(-d²/2σ²), normalised
            idx, w = torch.cat(idx_parts), torch.cat(w_parts)
        idx = idx.view(N, H, W, k).permute(0, 3, 1, 2)
        w = w.view(N, H, W, k).permute(0, 3, 1, 2)
    return idx, w


def soft_encode(ab: torch.Tensor, centers: torch.Tensor, k: int = 5, sigma: float = 5.0) -> torch.Tensor:
    """Soft-encode ab ``(N, 2, H, W)`` onto ``Q`` bins → ``(N, Q, H, W)``, each pixel summing to 1.

    Zhang et al.: the ``k`` nearest bin centres (paper 5, their code 10) weighted by
    ``exp(-d² / 2σ²)`` with σ = 5, normalised.
    """
    idx, w = soft_encode_sparse(ab, centers, k, sigma)
    out = torch.zeros(ab.shape[0], centers.shape[0], *ab.shape[-2:], device=ab.device, dtype=torch.float32)
    return out.scatter_(1, idx, w)


def annealed_mean(logits: torch.Tensor, centers: torch.Tensor, T: float = 0.38) -> torch.Tensor:
    """Q-bin logits ``(N, Q, H, W)`` → ab ``(N, 2, H, W)`` (ab units, float32).

    ``softmax(logits / T)`` then the expectation over the bin ``centers (Q, 2)``. T = 1 gives
    the mean of the predicted distribution, T → 0 its mode (``T = 0`` takes the arg-max).
    """
    if T < 0:
        raise ColorlabError(f"annealing temperature T must be >= 0, got {T}")
    if logits.dim() != 4 or logits.shape[1] != centers.shape[0]:
        raise ColorlabError(f"logits must be (N, Q, H, W) with Q = {centers.shape[0]} bins, got {tuple(logits.shape)}")
    c = centers.to(logits.device, torch.float32)
    with torch.autocast(logits.device.type, enabled=False):
        x = logits.float()
        if T == 0:
            return c[x.argmax(1)].permute(0, 3, 1, 2).contiguous()
        probs = torch.softmax(x / T, dim=1)
        return torch.einsum("nqhw,qc->nchw", probs, c)
