"""From a model's output to ab: regression passes through, classification is decoded.

Zhang et al.'s classification variant predicts logits over Q ab bins; the colour shown is
the *annealed mean* — softmax(logits / T), then the expectation over the bin centres. T = 1
is the plain mean (desaturated), T → 0 the mode (noisy); T = 0.38 is Zhang's compromise.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..color import AB_SCALE
from ..errors import ColorlabError

__all__ = ["annealed_mean", "predict_ab", "default_bin_centers"]


def annealed_mean(logits: torch.Tensor, centers: torch.Tensor, T: float = 0.38) -> torch.Tensor:
    """Q-bin logits ``(N, Q, H, W)`` and bin centres ``(Q, 2)`` (ab units) → ab ``(N, 2, H, W)``.

    Uses :func:`colorlab.stats.annealed_mean` when that module provides it, so that
    training and decoding share one implementation.
    """
    try:
        from ..stats import annealed_mean as stats_annealed_mean
    except ImportError:
        stats_annealed_mean = None
    if stats_annealed_mean is not None:
        return stats_annealed_mean(logits, centers, T=T)
    if T <= 0:
        raise ColorlabError(f"annealing temperature T must be > 0, got {T}")
    probs = torch.softmax(logits.float() / T, dim=1)
    return torch.einsum("nqhw,qc->nchw", probs, centers.to(probs))


def default_bin_centers() -> torch.Tensor:
    """Zhang's 313 in-gamut bin centres ``(313, 2)`` from :mod:`colorlab.stats`."""
    try:
        from ..stats import zhang_bins
    except ImportError as e:
        raise ColorlabError("decoding Q-bin logits needs the bin centres: pass bin_centers= "
                            "(e.g. prior.centers)") from e
    bins = zhang_bins()
    return getattr(bins, "centers", bins)


@torch.no_grad()
def predict_ab(model: nn.Module, L_norm: torch.Tensor, T: float = 0.38,
               bin_centers: torch.Tensor | None = None) -> torch.Tensor:
    """Normalised ab ``(N, 2, H, W)`` (ab / 110) for either head type, in eval mode, without grad.

    Args:
        model: a colorizer; ``model.head`` says how to read its output.
        L_norm: ``(N, in_channels, H, W)``, normalised L (plus any extra channels).
        T: annealing temperature for the classification head.
        bin_centers: ``(Q, 2)`` ab bin centres for the classification head (default: Zhang's 313).
    """
    was_training = model.training
    model.eval()
    try:
        out = model(L_norm)
    finally:
        model.train(was_training)
    if getattr(model, "head", "regression") == "regression":
        return out.float()
    centers = default_bin_centers() if bin_centers is None else bin_centers
    if centers.shape[0] != out.shape[1]:
        raise ColorlabError(f"model outputs {out.shape[1]} bins but {centers.shape[0]} bin centres were given")
    return annealed_mean(out, centers.to(out.device), T=T) / AB_SCALE
