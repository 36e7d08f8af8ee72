"""The colorization losses: plain, rarity-weighted and blended MSE, and the rebalanced cross-entropy.

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
from colorlab.core.names import LOSS_NAMES
from colorlab.rarity.bins import BinLookup
from colorlab.rarity.prior import ABPrior
from colorlab.rarity.robles_budach import robles_budach_weights
from colorlab.rarity.soft_encoding import annealed_mean, soft_encode, soft_encode_sparse
from colorlab.rarity.weights import rarity_weights

__all__ = ["blend", "MSELoss", "RarityWeightedMSE", "BlendedLoss", "LinFerreiraMSE", "RebalancedCrossEntropy",
           "rebalanced_cross_entropy", "make_loss", "prior_grid", "LOSSES"]

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
        prior: an :class:`~colorlab.rarity.prior.ABPrior`, or per-bin weights ``(Q,)`` (the grid is
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


def blend(pred: torch.Tensor, target: torch.Tensor, w: torch.Tensor, alpha: float = 0.65) -> torch.Tensor:
    """``α·mean(e) + (1−α)·mean(w·e)``, e the per-pixel squared error averaged over the two channels;
    ``pred``, ``target`` ``(N, 2, H, W)``, ``w`` ``(N, H, W)`` → a scalar (what :class:`BlendedLoss` computes)."""
    err = (pred.float() - target.float()).square().mean(1)
    return alpha * err.mean() + (1.0 - alpha) * (w * err).mean()


class BlendedLoss(nn.Module):
    """Robles & Budach's blend ``α·MSE + (1−α)·rarity-weighted MSE`` (α = 0.65, sqrt weights on 64 × 64 bins).

    The report gives the blend "at 65 %" and the weights ``1/sqrt(a_weights + 1e-7)``, ``1/sqrt(b_weights + 1e-7)``
    of a 64 × 64 histogram, "combined" and normalised to sum to 1; whether that histogram is joint or one
    per channel is not said. ``histogram`` (``"joint"`` / ``"separate"``), ``combine`` (``"product"`` / ``"sum"``)
    and ``normalise`` (``"mean"`` / ``"sum"``) pick a reading: see :mod:`colorlab.rarity.robles_budach`. The
    prior should be on ``"regular64"`` (:func:`prior_grid`); the default reading (joint, mean) also accepts
    another grid, as the scheme ``scheme`` of :func:`~colorlab.rarity.weights.rarity_weights`.

    ``fn``: the blend itself as a function ``fn(pred, target, w, alpha)`` (the contract of :func:`blend`;
    lab 05 passes the student's), given the kit's pixel weights ``w``; None: the kit's own arithmetic.
    """

    def __init__(self, prior, alpha: float = 0.65, scheme: str = "sqrt", lam: float | None = None, fn=None,
                 histogram: str = "joint", combine: str = "product", normalise: str = "mean"):
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ColorlabError(f"alpha must be in [0, 1], got {alpha}")
        if fn is not None and not callable(fn):
            raise ColorlabError(f"fn must be a function (pred, target, w, alpha) -> loss, got {type(fn).__name__}")
        self.alpha, self.fn = float(alpha), fn
        self.reading = {"histogram": histogram, "combine": combine, "normalise": normalise}
        self.mse = MSELoss()
        if (histogram, normalise) != ("joint", "mean") and isinstance(prior, ABPrior):
            if scheme != "sqrt":
                raise ColorlabError(f"histogram={histogram!r} / normalise={normalise!r} are readings of Robles & "
                                    f"Budach's sqrt weights, not of scheme {scheme!r}")
            prior = robles_budach_weights(prior, histogram, combine, normalise)
        self.weighted = RarityWeightedMSE(prior, scheme=scheme, lam=lam)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.fn is not None:
            return self.fn(pred.float(), target.float(), self.weighted.pixel_weights(target), self.alpha)
        return self.alpha * self.mse(pred, target) + (1.0 - self.alpha) * self.weighted(pred, target)


class LinFerreiraMSE(RarityWeightedMSE):
    """Lin & Ferreira's loss: MSE on the two (tanh) ab outputs, each pixel weighted by its colour's rarity.

    ``L = 1/(2hw) Σ v(Y) ‖Y − Ŷ‖²`` with ``v(a, b) ∝ 1/((1−λ)·p̄(a, b) + λ/4)``, ``E[v] = Σ p̄·v = 1`` — their
    report's formulas (the ``λ ÷ 4`` as written). A regression loss, not Zhang et al.'s cross-entropy. Their
    report gives neither λ nor the bins of p̄: λ = 0.5 and Zhang's 313 bins (smoothed, σ = 5) are the kit's.
    """

    def __init__(self, prior, lam: float | None = None):
        super().__init__(prior, scheme="lin_ferreira", lam=lam)


def rebalanced_cross_entropy(logits: torch.Tensor, z: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``−mean over the N·H·W pixels of v · Σ_q z_q log softmax(logits)_q``: logits and soft targets ``z``
    ``(N, Q, H, W)``, per-pixel weights ``v (N, H, W)`` → a scalar (lab 07's exercise has this contract)."""
    return (v * -(z * torch.log_softmax(logits, dim=1)).sum(1)).mean()


class RebalancedCrossEntropy(nn.Module):
    """Zhang et al.'s class-rebalanced multinomial cross-entropy over Q ab bins.

    ``L = −mean_pixels( w[q*] · Σ_q z_q log softmax(logits)_q )`` where ``z`` is the soft
    encoding of the true ab (``k`` nearest bins, Gaussian σ) and ``q*`` its nearest bin. A target
    larger than the logits is average-pooled to their size first (Zhang computes the loss at
    the network's output resolution).

    Args:
        prior: an :class:`~colorlab.rarity.prior.ABPrior` (its bins and rarity weights).
        rebalance: False gives the plain (unweighted) soft cross-entropy.
        encode, criterion: other pieces with the contracts of :func:`~colorlab.rarity.soft_encoding.soft_encode`
            (ab in Lab units, centres, k, σ → dense targets) and :func:`rebalanced_cross_entropy` (logits,
            targets, per-pixel weights → scalar), e.g. a student's (lab 07); None: the kit's own.
    """

    def __init__(self, prior: ABPrior, scheme: str = "zhang", lam: float | None = None, k: int = 5,
                 sigma: float = 5.0, rebalance: bool = True, encode=None, criterion=None):
        super().__init__()
        self.encode = None if encode is soft_encode else encode
        self.criterion = None if criterion is rebalanced_cross_entropy else criterion
        if not isinstance(prior, ABPrior):
            raise ColorlabError("RebalancedCrossEntropy needs an ABPrior (colorlab.rarity.prior.prior_for(train))")
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
        if self.encode is not None or self.criterion is not None:  # a piece of someone else's: the dense path
            centers = self.centers.to(target.device)
            z = (self.encode or soft_encode)(target * AB_SCALE, centers.clone(), self.k, self.sigma).float()
            v = self.weights.to(logits.device)[z.argmax(1)]          # weight of the nearest bin
            return (self.criterion or rebalanced_cross_entropy)(logits.float(), z, v)
        idx, z = soft_encode_sparse(target * AB_SCALE, self.centers.to(target.device), self.k, self.sigma)
        logp = torch.log_softmax(logits.float(), dim=1)
        ce = -(z * logp.gather(1, idx)).sum(1)                      # (N, H, W)
        w = self.weights.to(logits.device)[idx[:, 0]]               # weight of the nearest bin
        return (w * ce).mean()

    def decode(self, logits: torch.Tensor, T: float = 0.38) -> torch.Tensor:
        """Logits → normalised ab ``(N, 2, H, W)`` by the annealed mean."""
        return annealed_mean(logits, self.centers, T) / AB_SCALE


#: Names accepted by :func:`make_loss`.
LOSSES = LOSS_NAMES  # the names the command line checks before torch loads


#: The ab grid each loss's prior is built on: Robles & Budach's 64 × 64 for the blend, Zhang's 313 bins else.
PRIOR_GRIDS = {"blend": "regular64", "rarity": "zhang313", "lin_ferreira": "zhang313", "ce": "zhang313"}


def prior_grid(loss: str) -> str | None:
    """The grid of the ab prior that loss ``loss`` is trained with (None: ``"mse"`` needs no prior)."""
    if loss not in LOSSES:
        raise ColorlabError(f"unknown loss {loss!r}: use one of {', '.join(LOSSES)}")
    return PRIOR_GRIDS.get(loss)


def make_loss(name: str, prior: ABPrior | None = None, **kwargs) -> nn.Module:
    """The loss the training code asks for by name: ``"mse"``, ``"rarity"``, ``"blend"``, ``"lin_ferreira"`` or ``"ce"``.

    All but ``"mse"`` need ``prior`` (``colorlab.rarity.prior.prior_for(train)``); ``kwargs`` go to
    the loss class (``scheme``, ``lam``, ``alpha``, ``k``, ``sigma``...).
    """
    if name not in LOSSES:
        raise ColorlabError(f"unknown loss {name!r}: use one of {', '.join(LOSSES)}")
    if name == "mse":
        if kwargs:
            raise ColorlabError(f"the mse loss takes no options, got {', '.join(kwargs)}")
        return MSELoss()
    if prior is None:
        raise ColorlabError(f"the {name!r} loss needs the ab prior: pass prior=colorlab.rarity.prior.prior_for(train)")
    cls = {"rarity": RarityWeightedMSE, "blend": BlendedLoss, "lin_ferreira": LinFerreiraMSE,
           "ce": RebalancedCrossEntropy}[name]
    try:
        return cls(prior, **kwargs)
    except TypeError as e:
        raise ColorlabError(f"bad option for the {name!r} loss: {e}") from None

