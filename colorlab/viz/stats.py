"""Figures of the ab statistics: the histogram in its true colours, rarity weights, the effect of λ."""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.color import lab_to_rgb
from colorlab.rarity.prior import ABPrior
from colorlab.rarity.weights import rarity_weights

__all__ = ["ab_plane_rgb", "plot_ab_histogram", "plot_weight_map", "plot_lambda_effect", "plot_prior_and_weights",
           "weight_range", "SLIDER_LAMS"]

#: The λ values a slider from 0 to 1 in steps of 0.05 can take.
SLIDER_LAMS = tuple(round(0.05 * i, 2) for i in range(21))


def ab_plane_rgb(prior: ABPrior, L: float = 65.0) -> np.ndarray:
    """The colour of every cell of the prior's ab plane at lightness ``L``: ``(G, G, 3)`` in [0, 1]."""
    lo, hi, _, _ = prior.extent()
    G = prior.to_plane().shape[0]
    c = lo + (np.arange(G) + 0.5) * (hi - lo) / G
    a, b = np.meshgrid(c, c, indexing="ij")
    lab = torch.tensor(np.stack([np.full_like(a, L), a, b]), dtype=torch.float32)
    return lab_to_rgb(lab).permute(1, 2, 0).numpy()


def _imshow_plane(ax, img, prior: ABPrior, **kw):
    lo, hi, _, _ = prior.extent()
    # rows are a, columns b: transpose so a runs along x and b along y, as in Zhang's figures
    im = ax.imshow(np.swapaxes(img, 0, 1), origin="lower", extent=(lo, hi, lo, hi), interpolation="nearest", **kw)
    ax.set_xlabel("a")
    ax.set_ylabel("b")
    return im


def plot_ab_histogram(prior: ABPrior, ax=None, L: float = 65.0, raw: bool = False, decades: float = 5.0):
    """The ab distribution drawn in its true colours (at lightness L), opacity ∝ log probability
    over the top ``decades`` powers of ten (rarer bins are transparent)."""
    import matplotlib.pyplot as plt

    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4.5, 4.5))
    p = prior.to_plane(prior.raw if raw else prior.p)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log10(p)
    finite = np.isfinite(logp)
    hi = np.nanmax(logp[finite]) if finite.any() else 1.0
    lo = max(np.nanmin(logp[finite]), hi - decades) if finite.any() else 0.0
    alpha = np.where(finite, (logp - lo) / max(hi - lo, 1e-9), 0.0)
    rgba = np.concatenate([ab_plane_rgb(prior, L), np.clip(alpha, 0, 1)[..., None]], -1)
    _imshow_plane(ax, rgba, prior)
    ax.set_facecolor("white")
    ax.set_title(f"ab distribution ({prior.grid}, log scale,\nopacity: 10^{lo:.1f} … 10^{hi:.1f})", fontsize=9)
    return fig


def weight_range(prior: ABPrior, scheme: str = "zhang", lams=SLIDER_LAMS, weights_fn=None) -> tuple[float, float]:
    """One colour range ``(vmin, vmax)`` that holds the rarity weights for every λ in ``lams``.

    λ = 0 (pure inverse frequency) is left out: it gives bins the data never visited weights of
    10⁹ and more, which would squash every other map into one colour; drawn with this range, its
    rarest bins simply take the top colour. For ``"sqrt"`` (no λ) the range of its one weight map.
    ``weights_fn``: Zhang's formula as a function ``(p, λ) -> w`` (see :func:`rarity_weights`).
    """
    lams = [None] if scheme == "sqrt" else [lam for lam in lams if lam > 0] or [1.0]
    ws = [rarity_weights(prior, scheme, lam, weights_fn=weights_fn) for lam in lams]
    vmin, vmax = min(float(w.min()) for w in ws), max(float(w.max()) for w in ws)
    vmin = max(vmin, 1e-3)
    return min(vmin, 0.5), max(vmax, 2.0)  # a valid log range even when every weight is 1 (λ = 1)


def plot_weight_map(prior: ABPrior, scheme: str = "zhang", lam: float | None = None, ax=None, vmax=None, vmin=None,
                    weights_fn=None):
    """The rarity weight of every bin on the ab plane (log colour scale).

    By default the colour range is this map's own; pass ``vmin``/``vmax`` (e.g. from
    :func:`weight_range`) to draw several maps on one scale so that they can be compared.
    Weights outside the range take the end colours (the colour bar shows an arrow). ``weights_fn``:
    Zhang's formula as a function ``(p, λ) -> w`` (see :func:`rarity_weights`).
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4.5, 4))
    w = rarity_weights(prior, scheme, lam, weights_fn=weights_fn)
    plane = prior.to_plane(w)
    vmax = vmax or float(w.max())
    if vmin is None:
        vmin = min(max(float(w.min()), 1e-3), 0.5 * vmax)  # λ = 1: all weights 1, keep a valid range
    im = _imshow_plane(ax, np.ma.masked_invalid(plane), prior, cmap="magma", norm=LogNorm(vmin=vmin, vmax=vmax))
    low, high = float(w.min()) < vmin * (1 - 1e-6), float(w.max()) > vmax * (1 + 1e-6)
    extend = {(False, False): "neither", (True, False): "min", (False, True): "max", (True, True): "both"}[low, high]
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, extend=extend)
    lam_txt = "" if scheme == "sqrt" else f", λ = {lam if lam is not None else 0.5:g}"
    ax.set_title(f"weights: {scheme}{lam_txt}", fontsize=9)
    return fig


def plot_lambda_effect(prior: ABPrior, lams=(0.0, 0.25, 0.5, 0.75, 1.0), scheme: str = "zhang", weights_fn=None):
    """How λ changes the weights: one map per λ, all on one log colour scale (:func:`weight_range`
    of the λ > 0 shown), and weight vs. probability curves on one plot. ``weights_fn``: Zhang's
    formula as a function ``(p, λ) -> w`` (see :func:`rarity_weights`)."""
    import matplotlib.pyplot as plt

    lams = list(lams)
    vmin, vmax = weight_range(prior, scheme, lams, weights_fn=weights_fn)
    fig, axes = plt.subplots(1, len(lams) + 1, figsize=(3.2 * (len(lams) + 1), 3.2))
    for ax, lam in zip(axes, lams):
        plot_weight_map(prior, scheme, lam, ax=ax, vmin=vmin, vmax=vmax, weights_fn=weights_fn)
    ax = axes[-1]
    order = torch.argsort(prior.p, descending=True)
    p = prior.p[order].numpy()
    for lam in lams:
        w = rarity_weights(prior, scheme, lam, weights_fn=weights_fn)
        ax.loglog(np.clip(p, 1e-12, None), w[order].numpy(), label=f"λ={lam:g}")
    ax.set_xlabel("smoothed probability p̃")
    ax.set_ylabel("weight")
    ax.legend(fontsize=7)
    ax.set_title("rare colours weigh more as λ → 0", fontsize=9)
    fig.tight_layout()
    return fig


def plot_prior_and_weights(prior: ABPrior, lam: float = 0.5, L: float = 65.0, weights_fn=None):
    """Three panels on the ab plane: the smoothed prior p̃ in its true colours, Zhang et al.'s weights
    for ``lam`` and the ``1/sqrt(p + 1e-7)`` weights of Robles & Budach — the two weight maps on one
    log colour scale, so that they can be compared bin by bin. ``weights_fn``: Zhang's formula as a
    function ``(p, λ) -> w`` (see :func:`rarity_weights`)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    plot_ab_histogram(prior, ax=axes[0], L=L)
    axes[0].set_title("how often each colour occurs: p̃\n(opacity ∝ log p̃; white = never seen)", fontsize=9)
    ws = [rarity_weights(prior, "zhang", lam, weights_fn=weights_fn), rarity_weights(prior, "sqrt")]
    vmin = max(min(float(w.min()) for w in ws), 1e-3)
    vmax = max(max(float(w.max()) for w in ws), 2 * vmin)
    plot_weight_map(prior, "zhang", lam, ax=axes[1], vmin=vmin, vmax=vmax, weights_fn=weights_fn)
    axes[1].set_title(f"Zhang et al.: ((1−λ)p̃ + λ/Q)⁻¹, λ = {lam:g}\n(mean pixel weight 1)", fontsize=9)
    plot_weight_map(prior, "sqrt", ax=axes[2], vmin=vmin, vmax=vmax)
    axes[2].set_title("Robles & Budach: 1/sqrt(p̃ + 1e-7)\n(mean pixel weight 1)", fontsize=9)
    fig.tight_layout()
    return fig
