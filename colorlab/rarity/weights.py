"""Rarity ("class rebalancing") weights: how much each ab bin counts in a loss, from the ab prior.

:func:`rarity_weights` takes an :class:`~colorlab.rarity.prior.ABPrior` (or any probability vector
``(Q,)``) and one of the :data:`SCHEMES`; the weights are scaled so that the mean pixel weight is 1.
"""
from __future__ import annotations

import math

import torch

from colorlab.core.errors import ColorlabError

__all__ = ["rarity_weights", "SCHEMES"]

#: Default λ of each scheme (``sqrt`` has none).
SCHEMES = {"zhang": 0.5, "lin_ferreira": 0.5, "sqrt": None}


def _prior_p(p: torch.Tensor) -> torch.Tensor:
    """A checked float64 probability vector ``(Q,)`` summing to exactly 1."""
    p = p.detach().double()
    if p.dim() != 1 or p.numel() < 2 or (p < 0).any() or not math.isclose(float(p.sum()), 1.0, abs_tol=1e-3):
        raise ColorlabError("the prior must be an ABPrior or a probability vector (Q,) that sums to 1")
    return p / p.sum()


def rarity_weights(prior, scheme: str = "zhang", lam: float | None = None) -> torch.Tensor:
    """Per-bin rarity weights ``w (Q,)``, normalised so that ``Σ p̃·w = 1`` (the mean pixel weight is 1).

    Schemes (``p̃`` is the smoothed prior ``prior.p``, Q its number of bins):

    * ``"zhang"`` — Zhang et al. 2016: ``w ∝ ((1−λ)·p̃ + λ/Q)⁻¹``, λ = 0.5.
    * ``"lin_ferreira"`` — Lin & Ferreira (EfficientNet FPN): ``v ∝ ((1−λ)·p̄ + λ/4)⁻¹``. The paper
      literally writes ``λ ÷ 4`` (not λ/Q); we follow it. λ defaults to 0.5.
    * ``"sqrt"`` — Robles & Budach: ``w = 1/sqrt(p + 1e-7)``, λ unused: their 64 × 64 histogram read as joint;
      the report does not say joint or one per channel (both readings: :mod:`colorlab.rarity.robles_budach`).

    Args:
        prior: an :class:`~colorlab.rarity.prior.ABPrior` or a probability vector ``(Q,)``.
        lam: λ in [0, 1]; None takes the scheme's default. λ = 1 gives uniform weights
            for ``"zhang"``.
    Returns:
        float32 ``(Q,)`` on the prior's device.
    """
    if scheme not in SCHEMES:
        raise ColorlabError(f"unknown rarity scheme {scheme!r}: use one of {', '.join(SCHEMES)}")
    raw = torch.as_tensor(getattr(prior, "p", prior))  # an ABPrior's p̃, or the vector itself
    p = _prior_p(raw)
    if scheme == "sqrt":
        w = 1.0 / torch.sqrt(p + 1e-7)
    else:
        lam = SCHEMES[scheme] if lam is None else float(lam)
        if not 0.0 <= lam <= 1.0:
            raise ColorlabError(f"λ must be in [0, 1], got {lam}")
        floor = lam / p.numel() if scheme == "zhang" else lam / 4.0
        if lam == 0.0 and (p == 0).any():
            p = p + 1e-12  # pure inverse frequency: empty bins get a huge but finite weight
        w = 1.0 / ((1.0 - lam) * p + floor)
    w = w / (p * w).sum()
    return w.float().to(raw.device)
