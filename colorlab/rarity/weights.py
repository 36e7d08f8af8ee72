"""Rarity ("class rebalancing") weights: how much each ab bin counts in a loss, from the ab prior.

:func:`rarity_weights` takes an :class:`~colorlab.rarity.prior.ABPrior` (or any probability vector
``(Q,)``) and one of the :data:`SCHEMES`; the weights are scaled so that the mean pixel weight is 1.
"""
from __future__ import annotations

import math

import torch

from colorlab.core.errors import ColorlabError

__all__ = ["rarity_weights", "zhang_weights", "lambda_for_ceiling", "SCHEMES"]

#: Default λ of each scheme (``sqrt`` has none).
SCHEMES = {"zhang": 0.5, "lin_ferreira": 0.5, "sqrt": None}


def _prior_p(p: torch.Tensor) -> torch.Tensor:
    """A checked float64 probability vector ``(Q,)`` summing to exactly 1."""
    p = p.detach().double()
    if p.dim() != 1 or p.numel() < 2 or (p < 0).any() or not math.isclose(float(p.sum()), 1.0, abs_tol=1e-3):
        raise ColorlabError("the prior must be an ABPrior or a probability vector (Q,) that sums to 1")
    return p / p.sum()


def zhang_weights(p: torch.Tensor, lam: float = 0.5) -> torch.Tensor:
    """Zhang et al.'s weights of a probability vector ``p (Q,)``: ``((1−λ)·p + λ/Q)⁻¹`` scaled so that
    ``Σ p·w = 1``, in p's dtype (float64 in, float64 out). The formula lab 02's exercise writes;
    :func:`rarity_weights` takes an ABPrior, checks it and accepts a function like this one."""
    w = 1.0 / ((1.0 - lam) * p + lam / p.numel())
    return w / (p * w).sum()


def lambda_for_ceiling(p: torch.Tensor, ceiling: float) -> float:
    """The smallest λ in [0, 1] whose Zhang weights of ``p (Q,)`` (scaled so that Σ p·w = 1) all stay
    ≤ ``ceiling`` (≥ 1): the largest weight, that of the rarest bin, falls steadily as λ grows, to 1 at
    λ = 1, so a bisection finds it (0 when even pure inverse frequency stays under the ceiling)."""
    p = p.detach().double()

    def top(lam: float) -> float:
        return float(zhang_weights(p, lam).max())

    if (p > 0).all() and top(0.0) <= ceiling:
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if top(mid) <= ceiling else (mid, hi)
    return hi


def rarity_weights(prior, scheme: str = "zhang", lam: float | None = None, weights_fn=None) -> torch.Tensor:
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
        weights_fn: for ``"zhang"``, a function ``(p (Q,) float64, λ) -> w (Q,)`` used in place of
            :func:`zhang_weights` (lab 02 passes the student's); ignored by the other schemes.
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
        if scheme == "zhang" and weights_fn is not None:
            w = torch.as_tensor(weights_fn(p.clone(), lam)).detach().to("cpu", torch.float64).reshape(-1)
            return w.float().to(raw.device)
        w = 1.0 / ((1.0 - lam) * p + floor)
    w = w / (p * w).sum()
    return w.float().to(raw.device)
