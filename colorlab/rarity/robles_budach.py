"""Robles & Budach's rarity weights, in each reading their report allows.

Their report (section 4.3): "extracting the a and b values from all our images and creating a histogram
with 64 x 64 bins", weights ``1/sqrt(a_weights + 0.0000001)`` and ``1/sqrt(b_weights + 0.0000001)``, "We then
combined the weights for both a and b together and normalized the whole array to add up to 1". It does not
say whether the 64 × 64 histogram is *joint* (one count per (a, b) cell) or two histograms of 64 bins, one
for a and one for b, nor how the two weights are "combined". The kit offers the readings:

* ``histogram="joint"`` (default): one 64 × 64 histogram of (a, b); ``w = 1/sqrt(p + 1e-7)`` per cell.
* ``histogram="separate"``: the a and b histograms (64 bins each, the marginals of the same grid),
  ``w_a = 1/sqrt(p_a + 1e-7)``, ``w_b = 1/sqrt(p_b + 1e-7)``, combined over the 64 × 64 array as
  ``combine="product"`` (``w_a[i]·w_b[j]``) or ``"sum"`` (``w_a[i] + w_b[j]``).

Normalisation: ``normalise="sum"`` is the report's literal one (the whole array sums to 1: each weight
is then about 1/4096 and empty cells, whose weight is 1/sqrt(1e-7), take most of the sum); ``"mean"``
(the kit's default) scales the same weights so that the mean pixel weight is 1 (``Σ p·w = 1``), which
keeps the weighted MSE on the scale of the plain MSE it is blended with. Both differ by one constant
factor. ``p`` is the prior's ``p`` — smoothed (σ = 5 ab units) unless the prior was built with
``sigma=0``; the report does not smooth.
"""
from __future__ import annotations

import math

import torch

from colorlab.core.errors import ColorlabError

__all__ = ["robles_budach_weights", "HISTOGRAMS", "COMBINES", "NORMALISES", "EPS"]

HISTOGRAMS = ("joint", "separate")
COMBINES = ("product", "sum")
NORMALISES = ("mean", "sum")
#: The report's "0.0000001".
EPS = 1e-7


def _side(grid: str, q: int) -> int:
    n = math.isqrt(q)
    if not str(grid).startswith("regular") or n * n != q:
        raise ColorlabError(f"Robles & Budach's weights need a regular n × n grid (they used 'regular64'), "
                            f"got {grid!r}: use prior_for(train, grid='regular64')")
    return n


def robles_budach_weights(prior, histogram: str = "joint", combine: str = "product",
                          normalise: str = "mean") -> torch.Tensor:
    """Per-bin weights ``(n·n,)`` float32 of a prior on a regular ``n × n`` grid, in one reading of the report.

    Args:
        prior: an :class:`~colorlab.rarity.prior.ABPrior` on ``"regular<n>"`` (the report: n = 64).
        histogram: ``"joint"`` or ``"separate"`` (see the module's docstring).
        combine: how the separate a and b weights make one array: ``"product"`` or ``"sum"``.
        normalise: ``"mean"`` (Σ p·w = 1) or ``"sum"`` (Σ w = 1, the report's words).
    """
    for name, value, allowed in (("histogram", histogram, HISTOGRAMS), ("combine", combine, COMBINES),
                                 ("normalise", normalise, NORMALISES)):
        if value not in allowed:
            raise ColorlabError(f"unknown {name} {value!r}: use one of {', '.join(allowed)}")
    p = torch.as_tensor(prior.p).detach().to("cpu", torch.float64)
    n = _side(getattr(prior, "grid", ""), p.numel())
    p = p / p.sum()
    if histogram == "joint":
        w = 1.0 / torch.sqrt(p + EPS)
    else:
        plane = p.view(n, n)                       # rows: a, columns: b
        w_a = 1.0 / torch.sqrt(plane.sum(1) + EPS)
        w_b = 1.0 / torch.sqrt(plane.sum(0) + EPS)
        w = (w_a[:, None] * w_b[None, :] if combine == "product" else w_a[:, None] + w_b[None, :]).reshape(-1)
    w = w / (w.sum() if normalise == "sum" else (p * w).sum())
    return w.float()
