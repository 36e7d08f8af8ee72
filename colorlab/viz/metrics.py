"""Figures of the evaluation metrics (lab 10): the cumulative ab-error curve whose area is Zhang's AuC."""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.figures import pyplot
from colorlab.evaluation.evaluate import rarity_lookup
from colorlab.viz.palettes import CATEGORICAL

__all__ = ["ab_error_curve", "plot_ab_error_curves"]


def ab_error_curve(pred_ab: torch.Tensor, true_ab: torch.Tensor, pixel_weights: torch.Tensor | None = None,
                   max_t: float = 150.0, steps: int = 151) -> tuple[np.ndarray, np.ndarray, float]:
    """The share of pixels whose ab error is at most t, for ``steps`` thresholds t in [0, max_t].

    Args:
        pred_ab, true_ab: ``(N, 2, H, W)`` in Lab units.
        pixel_weights: optional ``(N, H, W)`` weights (the rebalanced curve: each pixel counts by the
            rarity of its true colour).
    Returns:
        ``(t, share, auc)``: the thresholds, the (weighted) share of pixels with error ≤ t, and the
        area under the curve divided by ``max_t``. Shares are taken per image and averaged over the
        images, so ``auc`` is the mean over images of :func:`colorlab.evaluation.metrics.auc_ab` (weighted or
        not), the number :func:`colorlab.evaluation.evaluate.evaluate` puts in its table.
    """
    err = torch.linalg.vector_norm(pred_ab.float() - true_ab.float(), dim=1).double()   # (N, H, W)
    w = torch.ones_like(err) if pixel_weights is None else pixel_weights.reshape(err.shape).double().to(err.device)
    w = (w / w.flatten(1).sum(1).view(-1, 1, 1)).flatten()            # every image weighs the same in total
    err = err.flatten()
    t = torch.linspace(0, max_t, steps, dtype=torch.float64, device=err.device)
    order = torch.argsort(err)
    cum = torch.cumsum(w[order], 0) / w.sum()
    # share with error <= t: the cumulative weight up to the last error not above t
    idx = torch.searchsorted(err[order].contiguous(), t, right=True)
    share = torch.where(idx > 0, cum[(idx - 1).clamp_min(0)], torch.zeros_like(t))
    auc = float((w * (1 - err / max_t).clamp_min(0)).sum() / w.sum())
    return t.cpu().numpy(), share.cpu().numpy(), auc


def plot_ab_error_curves(preds: dict, true_ab: torch.Tensor, prior=None, pixel_weights: torch.Tensor | None = None,
                         max_t: float = 150.0, ax=None, shade: str | None = None, title: str | None = None):
    """Cumulative ab-error curves, one per prediction, their AuC in the legend.

    Args:
        preds: name → predicted ab ``(N, 2, H, W)`` (Lab units), compared with ``true_ab``.
        prior: the training set's ab prior (:func:`colorlab.rarity.prior.prior_for`): also draw each rebalanced
            curve (dashed), every pixel weighted by 1/p̃ of its true colour's bin, as the table's "AuC rebalanced".
        pixel_weights: ``(N, H, W)`` weights to use instead of the prior's.
        shade: the name whose area (its AuC) is shaded (default: the first).
    """
    plt = pyplot()
    own = ax is None
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5.2, 3.6))
    shade = shade if shade is not None else next(iter(preds), None)
    if pixel_weights is None and prior is not None:
        pixel_weights = rarity_lookup(prior)(true_ab.float())
    for k, (name, ab) in enumerate(preds.items()):
        colour = CATEGORICAL[k % len(CATEGORICAL)]
        t, share, auc = ab_error_curve(ab, true_ab, max_t=max_t)
        ax.plot(t, share, color=colour, label=f"{name}: AuC {auc:.3f}")
        if name == shade:
            ax.fill_between(t, share, color=colour, alpha=0.15)
        if pixel_weights is not None:
            t, share, auc = ab_error_curve(ab, true_ab, pixel_weights, max_t=max_t)
            ax.plot(t, share, color=colour, ls="--", label=f"{name}, rebalanced: {auc:.3f}")
    ax.set_xlim(0, max_t)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("threshold t on the ab error (distance in the ab plane)")
    ax.set_ylabel("share of pixels with error ≤ t")
    ax.set_title(title or f"cumulative ab error (AuC = shaded area / {max_t:g})", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    if own:
        fig.tight_layout()
    return fig
