"""Rarity ("class rebalancing") weights and the colorization losses.

Every loss is an ``nn.Module`` usable directly as a fastai ``loss_func``: regression losses
take ``(pred, target)``, both normalised ab ``(N, 2, H, W)`` (ab / 110); the classification
loss takes ``(logits (N, Q, H, W), target normalised ab (N, 2, H, W))``. Buffers (weights,
bin tables) follow ``.to(device)``; the arithmetic runs in float32 also under bf16 autocast.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from colorlab.core.color import AB_SCALE
from colorlab.core.errors import ColorlabError
from colorlab.rarity.stats import ABPrior, BinLookup, annealed_mean, soft_encode_sparse

__all__ = [
    "rarity_weights", "SCHEMES", "MSELoss", "RarityWeightedMSE", "BlendedLoss", "RebalancedCrossEntropy",
    "make_loss", "LOSSES",
]

#: Default λ of each scheme (``sqrt`` has none).
SCHEMES = {"zhang": 0.5, "lin_ferreira": 0.5, "sqrt": None}


def _prior_p(prior) -> torch.Tensor:
    p = prior.p if isinstance(prior, ABPrior) else torch.as_tensor(prior)
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
    * ``"sqrt"`` — Robles & Budach: ``w = 1/sqrt(p + 1e-7)`` (they used a 64 × 64 histogram), λ unused.

    Args:
        prior: an :class:`~colorlab.rarity.stats.ABPrior` or a probability vector ``(Q,)``.
        lam: λ in [0, 1]; None takes the scheme's default. λ = 1 gives uniform weights
            for ``"zhang"``.
    Returns:
        float32 ``(Q,)`` on the prior's device.
    """
    if scheme not in SCHEMES:
        raise ColorlabError(f"unknown rarity scheme {scheme!r}: use one of {', '.join(SCHEMES)}")
    p = _prior_p(prior)
    device = (prior.p if isinstance(prior, ABPrior) else torch.as_tensor(prior)).device
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
    return w.float().to(device)


def _infer_grid(q: int) -> str:
    if q == 313:
        return "zhang313"
    n = math.isqrt(q)
    if n * n == q:
        return f"regular{n}"
    raise ColorlabError(f"cannot tell the ab grid of {q} weights: pass an ABPrior instead")


class MSELoss(nn.Module):
    """Plain mean squared error on normalised ab ``(N, 2, H, W)``, computed in float32."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(pred.float(), target.float())


class RarityWeightedMSE(nn.Module):
    """MSE with every pixel weighted by the rarity weight of its *true* ab bin.

    ``loss = mean_pixels(w[bin(target)] · mean_channels((pred − target)²))`` — exactly the MSE
    when all weights are 1. The target is converted back to ab units for the bin look-up.

    Args:
        prior: an :class:`~colorlab.rarity.stats.ABPrior`, or per-bin weights ``(Q,)`` (the grid is
            inferred from Q: 313 → Zhang's bins, n² → a regular n × n grid).
        scheme, lam: passed to :func:`rarity_weights` when ``prior`` is an ABPrior.
    """

    def __init__(self, prior, scheme: str = "zhang", lam: float | None = None):
        super().__init__()
        if isinstance(prior, ABPrior):
            grid, weights = prior.grid, rarity_weights(prior, scheme, lam)
        else:
            weights = torch.as_tensor(prior, dtype=torch.float32)
            if weights.dim() != 1:
                raise ColorlabError(f"weights must be a vector (Q,), got shape {tuple(weights.shape)}")
            grid = _infer_grid(weights.numel())
        self.scheme, self.lam = scheme, lam
        self.lookup = BinLookup(grid)
        self.register_buffer("weights", weights.detach().float().cpu().clone())

    def pixel_weights(self, target: torch.Tensor) -> torch.Tensor:
        """Normalised ab ``(N, 2, H, W)`` → weights ``(N, H, W)``."""
        return self.weights.to(target.device)[self.lookup.to(target.device)(target.float() * AB_SCALE)]

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        err = (pred.float() - target.float()).square().mean(1)
        return (self.pixel_weights(target) * err).mean()


class BlendedLoss(nn.Module):
    """Robles & Budach's blend ``α·MSE + (1−α)·rarity-weighted MSE`` (α = 0.65, sqrt weights on 64 × 64 bins)."""

    def __init__(self, prior, alpha: float = 0.65, scheme: str = "sqrt", lam: float | None = None):
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ColorlabError(f"alpha must be in [0, 1], got {alpha}")
        self.alpha = float(alpha)
        self.mse = MSELoss()
        self.weighted = RarityWeightedMSE(prior, scheme=scheme, lam=lam)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.alpha * self.mse(pred, target) + (1.0 - self.alpha) * self.weighted(pred, target)


class RebalancedCrossEntropy(nn.Module):
    """Zhang et al.'s class-rebalanced multinomial cross-entropy over Q ab bins.

    ``L = −mean_pixels( w[q*] · Σ_q z_q log softmax(logits)_q )`` where ``z`` is the soft
    encoding of the true ab (``k`` nearest bins, Gaussian σ) and ``q*`` its nearest bin. A target
    larger than the logits is average-pooled to their size first (Zhang computes the loss at
    the network's output resolution).

    Args:
        prior: an :class:`~colorlab.rarity.stats.ABPrior` (its bins and rarity weights).
        rebalance: False gives the plain (unweighted) soft cross-entropy.
    """

    def __init__(self, prior: ABPrior, scheme: str = "zhang", lam: float | None = None, k: int = 5,
                 sigma: float = 5.0, rebalance: bool = True):
        super().__init__()
        if not isinstance(prior, ABPrior):
            raise ColorlabError("RebalancedCrossEntropy needs an ABPrior (colorlab.rarity.stats.prior_for(train))")
        self.k, self.sigma, self.rebalance = int(k), float(sigma), rebalance
        w = rarity_weights(prior, scheme, lam) if rebalance else torch.ones(prior.Q)
        self.register_buffer("weights", w.detach().float().cpu().clone())
        self.register_buffer("centers", prior.centers.detach().float().cpu().clone())

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        Q = self.centers.shape[0]
        if logits.dim() != 4 or logits.shape[1] != Q:
            raise ColorlabError(f"logits must be (N, {Q}, H, W) for this prior's {Q} bins, got {tuple(logits.shape)}")
        target = target.float()
        if target.shape[-2:] != logits.shape[-2:]:
            target = F.adaptive_avg_pool2d(target, logits.shape[-2:])
        idx, z = soft_encode_sparse(target * AB_SCALE, self.centers.to(target.device), self.k, self.sigma)
        logp = torch.log_softmax(logits.float(), dim=1)
        ce = -(z * logp.gather(1, idx)).sum(1)                      # (N, H, W)
        w = self.weights.to(logits.device)[idx[:, 0]]               # weight of the nearest bin
        return (w * ce).mean()

    def decode(self, logits: torch.Tensor, T: float = 0.38) -> torch.Tensor:
        """Logits → normalised ab ``(N, 2, H, W)`` by the annealed mean."""
        return annealed_mean(logits, self.centers, T) / AB_SCALE


#: Names accepted by :func:`make_loss`.
LOSSES = ("mse", "rarity", "blend", "ce")


def make_loss(name: str, prior: ABPrior | None = None, **kwargs) -> nn.Module:
    """The loss the training code asks for by name: ``"mse"``, ``"rarity"``, ``"blend"`` or ``"ce"``.

    All but ``"mse"`` need ``prior`` (``colorlab.rarity.stats.prior_for(train)``); ``kwargs`` go to
    the loss class (``scheme``, ``lam``, ``alpha``, ``k``, ``sigma``...).
    """
    if name not in LOSSES:
        raise ColorlabError(f"unknown loss {name!r}: use one of {', '.join(LOSSES)}")
    if name == "mse":
        if kwargs:
            raise ColorlabError(f"the mse loss takes no options, got {', '.join(kwargs)}")
        return MSELoss()
    if prior is None:
        raise ColorlabError(f"the {name!r} loss needs the ab prior: pass prior=colorlab.rarity.stats.prior_for(train)")
    cls = {"rarity": RarityWeightedMSE, "blend": BlendedLoss, "ce": RebalancedCrossEntropy}[name]
    try:
        return cls(prior, **kwargs)
    except TypeError as e:
        raise ColorlabError(f"bad option for the {name!r} loss: {e}") from None

