"""From a model's output to ab: regression passes through, classification is decoded.

Zhang et al.'s classification variant predicts logits over Q ab bins; the colour shown is
the *annealed mean* — softmax(logits / T), then the expectation over the bin centres. T = 1
is the plain mean (desaturated), T → 0 the mode (noisy); T = 0.38 is Zhang's compromise.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from colorlab.core.color import AB_SCALE
from colorlab.core.errors import ColorlabError
from colorlab.rarity.bins import zhang_bins
from colorlab.rarity.soft_encoding import annealed_mean

__all__ = ["annealed_mean", "predict_ab"]


@torch.no_grad()
def predict_ab(model: nn.Module, L_norm: torch.Tensor, T: float = 0.38,
               bin_centers: torch.Tensor | None = None) -> torch.Tensor:
    """Normalised ab ``(N, 2, H, W)`` (ab / 110) for either head type, in eval mode, without grad.

    Args:
        model: a colorizer; ``model.head`` says how to read its output.
        L_norm: ``(N, in_channels, H, W)``, normalised L (plus any extra channels).
        T: annealing temperature for the classification head.
        bin_centers: ``(Q, 2)`` ab bin centres for the classification head, e.g. ``prior.centers``
            (default: Zhang's 313, :func:`colorlab.rarity.bins.zhang_bins`).
    """
    was_training = model.training
    model.eval()
    try:
        out = model(L_norm)
    finally:
        model.train(was_training)
    if getattr(model, "head", "regression") == "regression":
        return out.float()
    centers = zhang_bins() if bin_centers is None else bin_centers
    if centers.shape[0] != out.shape[1]:
        raise ColorlabError(f"model outputs {out.shape[1]} bins but there are {centers.shape[0]} bin centres; "
                            f"pass bin_centers= (e.g. prior.centers)")
    return annealed_mean(out, centers.to(out.device), T=T) / AB_SCALE
