"""The ab prior: the empirical ab distribution of a data set on a grid of bins, smoothed.

:func:`ab_prior` accumulates the histogram with ``torch.bincount`` on the batch's device and
smooths it with a 2-D Gaussian blur of the bin grid; :func:`prior_for` caches it next to a
prepared data set. :class:`ABPrior` holds the result (counts, smoothed p̃) and saves/loads it.

Shapes: ab is ``(..., 2, H, W)`` in Lab units (not normalised) unless said otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from colorlab.core.color import rgb_to_lab
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.core.files import atomic_write
from colorlab.core.filters import gaussian_kernel
from colorlab.data.batches import iter_batches
from colorlab.rarity.bins import DEFAULT_GRID, BinLookup, bin_cells, grid_layout
from colorlab.rarity.weights import rarity_weights

__all__ = ["ABPrior", "ab_histogram", "ab_prior", "prior_for"]

#: A regular grid of side 5 over [−110, 110] tiles Zhang et al.'s cells (side 10, centred on multiples of 10):
#: fine cell k lies in Zhang cell (k + 1) // 2, the border cells take what lies beyond ±110.
_FINE_FOR_ZHANG = 44


def _gaussian_blur_grid(grid: torch.Tensor, sigma_cells: float) -> torch.Tensor:
    """Blur a ``(G, G)`` float64 grid with a normalised separable Gaussian (zero padding)."""
    if sigma_cells <= 0:
        return grid
    k = gaussian_kernel(sigma_cells, dtype=grid.dtype)
    r = len(k) // 2
    g = grid[None, None]
    g = F.conv2d(g, k.view(1, 1, -1, 1), padding=(r, 0))
    g = F.conv2d(g, k.view(1, 1, 1, -1), padding=(0, r))
    return g[0, 0]


def ab_histogram(ab: torch.Tensor, n: int = 64) -> torch.Tensor:
    """ab ``(N, 2, H, W)`` in Lab units → the fraction of pixels in each bin of an ``n × n`` grid over
    ``[−110, 110]²``: ``(n·n,)`` float64 summing to 1, flat index ``i·n + j`` (row i from a, column j from b,
    ``i = ⌊(a + 110)·n / 220⌋`` clamped to ``0 … n−1``). Unsmoothed; Robles & Budach used n = 64.
    Lab 02's exercise writes it; :func:`ab_prior` takes one like it as ``histogram``."""
    idx = BinLookup(f"regular{int(n)}").to(ab.device)(ab).reshape(-1)
    return torch.bincount(idx, minlength=int(n) * int(n)).double().cpu() / max(idx.numel(), 1)


def _counts_from_histogram(histogram, ab: torch.Tensor, grid: str) -> torch.Tensor:
    """The pixel counts ``(Q,)`` (int64, CPU) of ``ab`` on ``grid`` from ``histogram(ab, n) -> fractions (n·n,)``.

    ``"regular<n>"`` is the histogram's own grid; ``"zhang313"`` takes n = 44 (cells of side 5, 2 × 2 of them
    in each of Zhang's cells of side 10) and sums the fine cells into Zhang's bins.
    """
    centers, _, _, G, lut = grid_layout(grid)
    m = _FINE_FOR_ZHANG if grid == DEFAULT_GRID else G
    frac = torch.as_tensor(histogram(ab.detach().cpu().float(), m)).detach().to("cpu", torch.float64).reshape(-1)
    if frac.shape != (m * m,):
        raise ColorlabError(f"the histogram function returned {tuple(frac.shape)} values for n = {m}, expected ({m * m},)")
    counts = (frac * ab[:, 0].numel()).round().long()
    if grid != DEFAULT_GRID:
        return counts
    zc = (torch.arange(m) + 1) // 2                       # the Zhang cell of each fine cell, per axis
    cells = (zc[:, None] * G + zc[None, :]).reshape(-1)
    return torch.zeros(len(centers), dtype=torch.int64).index_add_(0, lut[cells], counts)


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
        centers, lo, width, G, lut = grid_layout(grid)
        counts = torch.as_tensor(counts).detach().to("cpu", torch.int64)
        if counts.shape != (len(centers),):
            raise ColorlabError(f"grid {grid!r} has {len(centers)} bins, got counts of shape {tuple(counts.shape)}")
        total = counts.sum()
        if total <= 0:
            raise ColorlabError("the ab histogram is empty: no pixels were counted")
        cells = bin_cells(grid)
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
        """Rarity weights ``(Q,)``; see :func:`colorlab.rarity.weights.rarity_weights`."""
        return rarity_weights(self, scheme=scheme, lam=lam)

    def to_plane(self, values: torch.Tensor | None = None) -> np.ndarray:
        """Scatter per-bin ``values`` (default ``p``) onto the ``G × G`` plane (a rows, b columns), NaN off-grid."""
        _, lo, width, G, _ = grid_layout(self.grid)
        v = (self.p if values is None else torch.as_tensor(values)).detach().cpu().double()
        plane = torch.full((G * G,), float("nan"), dtype=torch.float64)
        plane[bin_cells(self.grid)] = v
        return plane.view(G, G).numpy()

    def extent(self) -> tuple[float, float, float, float]:
        """``(lo, hi, lo, hi)`` of the plane in ab units (for ``imshow(extent=...)``)."""
        _, lo, width, G, _ = grid_layout(self.grid)
        return lo, lo + G * width, lo, lo + G * width

    def to(self, device) -> "ABPrior":
        dev = get_device(device)
        return ABPrior(self.grid, self.centers.to(dev), self.counts.to(dev), self.p.to(dev), self.sigma, self.path)

    def state_dict(self) -> dict:
        return {"grid": self.grid, "centers": self.centers.cpu(), "counts": self.counts.cpu(),
                "p": self.p.cpu(), "sigma": float(self.sigma), "format": 1}

    def save(self, path: str | Path) -> Path:
        """Write the prior (plain tensors and strings: loads with ``torch.load(weights_only=True)``)."""
        path = atomic_write(path, lambda tmp: torch.save(self.state_dict(), tmp))
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


@torch.no_grad()
def ab_prior(data, grid: str = DEFAULT_GRID, sigma: float = 5.0, device="auto", batch_size: int = 256,
             progress: bool = False, histogram=None) -> ABPrior:
    """The smoothed empirical ab distribution of ``data`` (see :func:`colorlab.data.batches.iter_batches` for inputs).

    Counts are accumulated with ``torch.bincount`` on ``device`` (the GPU when there is one);
    only the ``Q`` counts ever leave it. ``histogram``: a function ``(ab (N, 2, H, W), n) -> fractions (n·n,)``
    like :func:`ab_histogram` (lab 02's exercise) that counts each batch instead (on the CPU).
    """
    dev = get_device(device)
    look = BinLookup(grid).to(dev)
    Q = len(grid_layout(grid)[0])
    counts = torch.zeros(Q, dtype=torch.int64, device=dev)
    lab = getattr(data, "lab", None)  # exact float Lab (the scenes cache): no RGB round trip
    for batch in iter_batches(data if lab is None else lab, batch_size, dev, progress=progress,
                              desc=f"ab prior ({grid})"):
        ab = (rgb_to_lab(batch) if lab is None else batch)[:, 1:].float()
        if histogram is None:
            counts += torch.bincount(look(ab).reshape(-1), minlength=Q)
        else:
            counts += _counts_from_histogram(histogram, ab, grid).to(dev)
    return ABPrior.from_counts(counts.cpu(), grid, sigma)


def prior_for(prepared, grid: str = DEFAULT_GRID, sigma: float = 5.0, device="auto", batch_size: int = 256,
              recompute: bool = False, progress: bool = True, histogram=None) -> ABPrior:
    """The ab prior of a prepared cache, computed once and kept as ``<cache>/ab_prior_<grid>.pt``.

    ``histogram``: count the pixels with this function instead (see :func:`ab_prior`); such a prior is
    computed afresh every time and never cached (the kit's own :func:`ab_histogram` uses the cache).
    """
    folder = getattr(prepared, "path", None)
    if folder is None:
        raise ColorlabError("prior_for needs a prepared cache (colorlab.data.prepare(...)); "
                            "use ab_prior(data) for plain arrays")
    if histogram is not None and histogram is not ab_histogram:
        return ab_prior(prepared, grid=grid, sigma=sigma, device=device, batch_size=batch_size, progress=progress,
                        histogram=histogram)
    sig = "" if sigma == 5.0 else f"_s{sigma:g}"
    path = Path(folder) / f"ab_prior_{grid}{sig}.pt"
    if path.is_file() and not recompute:
        prior = ABPrior.load(path)
        if int(prior.counts.sum()) > 0 and prior.grid == grid:
            return prior
    prior = ab_prior(prepared, grid=grid, sigma=sigma, device=device, batch_size=batch_size, progress=progress)
    prior.save(path)
    return prior
