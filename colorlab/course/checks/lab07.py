"""Checks of lab 07's exercises (colorization as classification): the annealed mean, the rebalanced
cross-entropy and the soft-encoding, each against the kit's own implementation."""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.color import AB_SCALE
from colorlab.course.checks import as_numpy, assert_close, assert_shape, call_student, passed, rng
from colorlab.rarity.bins import zhang_bins
from colorlab.rarity.losses import RebalancedCrossEntropy
from colorlab.rarity.prior import ABPrior
from colorlab.rarity.soft_encoding import annealed_mean as reference_annealed_mean, soft_encode as reference_soft_encode
from colorlab.rarity.weights import rarity_weights

__all__ = ["annealed_mean", "rebalanced_cross_entropy", "soft_encode"]


def _tensor(x, what: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise AssertionError(f"{what} should be a torch tensor, got {type(x).__name__}")
    return x


def _made_up_prior(seed: int = 0):
    """A made-up ab prior on Zhang's 313 bins: most pixels near gray, a few vivid ones."""
    c = zhang_bins().double()
    r = rng(seed)
    counts = 1e5 * torch.exp(-c.square().sum(1) / (2 * 25.0 ** 2)) + torch.from_numpy(r.integers(0, 40, len(c)))
    return ABPrior.from_counts(counts.round().long())


def annealed_mean(my_annealed_mean) -> None:
    """``my_annealed_mean(logits (N, Q, H, W), centres (Q, 2), T) → ab (N, 2, H, W)`` against
    :func:`colorlab.rarity.soft_encoding.annealed_mean` at T = 1, 0.38 and 0.1."""
    centres = zhang_bins()
    logits = torch.from_numpy(rng(7).normal(size=(2, len(centres), 3, 4)) * 3).float()
    plain = reference_annealed_mean(logits, centres, 1.0)
    for T in (1.0, 0.38, 0.1):
        mine = _tensor(call_student(my_annealed_mean, logits.clone(), centres.clone(), T, hint="Take softmax(logits / T) over dim 1 (the Q bins), then the expected centre."),
                       "the annealed mean")
        ref = reference_annealed_mean(logits, centres, T)
        assert_shape(mine, ref.shape, f"the annealed mean at T = {T}")
        if T != 1.0 and np.allclose(as_numpy(mine), as_numpy(plain), atol=1e-3):
            raise AssertionError(f"at T = {T} you return the plain mean (T = 1): divide the logits by T before the softmax")
        assert_close(mine, ref, f"the annealed mean at T = {T}", atol=1e-3, rtol=1e-4)
    passed("the annealed mean matches colorlab.rarity.soft_encoding.annealed_mean at T = 1, 0.38 and 0.1")


def rebalanced_cross_entropy(my_rebalanced_ce) -> None:
    """``my_rebalanced_ce(logits (N, Q, H, W), z (N, Q, H, W), v (N, H, W)) → scalar`` against
    :class:`colorlab.rarity.losses.RebalancedCrossEntropy` (value and gradient)."""
    prior = _made_up_prior(1)
    r = rng(11)
    for lam, shape in ((0.2, (2, 3, 4)), (0.5, (3, 2, 5))):
        n, h, w = shape
        ab = torch.from_numpy(r.uniform(-75, 75, size=(n, 2, h, w))).float()     # no ties between bins
        logits = torch.from_numpy(r.normal(size=(n, prior.Q, h, w)) * 2).float()
        z = reference_soft_encode(ab, prior.centers)
        v = rarity_weights(prior, lam=lam)[z.argmax(1)]                       # weight of each pixel's nearest bin
        ref_in = logits.clone().requires_grad_(True)
        ref = RebalancedCrossEntropy(prior, lam=lam)(ref_in, ab / AB_SCALE)
        ref.backward()
        mine_in = logits.clone().requires_grad_(True)
        mine = _tensor(call_student(my_rebalanced_ce, mine_in, z.clone(), v.clone(), hint="logits and z are (N, Q, H, W), v is (N, H, W): log-softmax over dim 1."), "the loss")
        assert mine.numel() == 1, f"the loss should be one number (a scalar tensor), got shape {tuple(mine.shape)}"
        got, want, pixels = float(mine.detach()), float(ref.detach()), n * h * w
        if abs(got - want) > 1e-4 * max(1.0, abs(want)):
            if np.isclose(got, want * pixels, rtol=1e-3):
                raise AssertionError(f"your loss is {got:.4g}, {pixels}× the expected {want:.4g}: average over the "
                                     f"N·H·W pixels instead of summing")
            if np.isclose(got, want * pixels / float(v.sum()), rtol=1e-3):
                raise AssertionError(f"your loss {got:.4g} divides by the sum of the weights; the kit divides by the "
                                     f"number of pixels N·H·W (expected {want:.4g})")
            plain = float(RebalancedCrossEntropy(prior, rebalance=False)(logits, ab / AB_SCALE))
            if np.isclose(got, plain, rtol=1e-4):
                raise AssertionError(f"your loss {got:.4g} leaves out the per-pixel weights v (expected {want:.4g})")
            raise AssertionError(f"your loss is {got:.6g}, expected {want:.6g} (λ = {lam}, {n}×{h}×{w} pixels): "
                                 f"−mean over pixels of v · Σ_q z_q · log softmax(logits)_q, softmax over the Q bins (dim 1)")
        assert mine.requires_grad, "your loss does not depend on the logits through torch: keep it a torch computation"
        mine.backward()
        assert mine_in.grad is not None, "no gradient reached the logits: keep the loss a torch computation"
        assert_close(mine_in.grad, ref_in.grad, "the gradient of your loss with respect to the logits", atol=1e-6, rtol=1e-3)
    passed("the rebalanced cross-entropy matches colorlab.rarity.losses.RebalancedCrossEntropy (value and gradient)")


def soft_encode(my_soft_encode) -> None:
    """``my_soft_encode(ab (N, 2, H, W), centres (Q, 2), k, sigma) → (N, Q, H, W)`` against
    :func:`colorlab.rarity.soft_encoding.soft_encode` for (k, σ) = (5, 5) and (3, 8)."""
    centres = zhang_bins()
    r = rng(3)
    for k, sigma, shape in ((5, 5.0, (2, 3, 4)), (3, 8.0, (1, 2, 5))):
        n, h, w = shape
        ab = torch.from_numpy(r.uniform(-75, 75, size=(n, 2, h, w))).float()     # no ties between bins
        mine = _tensor(call_student(my_soft_encode, ab.clone(), centres.clone(), k, sigma, hint="ab is (N, 2, H, W), centres (Q, 2); return (N, Q, H, W)."), "the soft-encoding")
        ref = reference_soft_encode(ab, centres, k=k, sigma=sigma)
        assert_shape(mine, ref.shape, f"the soft-encoding (k = {k})")
        m = as_numpy(mine)
        sums = m.sum(1)
        if not np.allclose(sums, 1.0, atol=1e-4):
            raise AssertionError(f"each pixel's weights should sum to 1; yours sum to {sums.min():.4g} … {sums.max():.4g}: "
                                 f"normalise them")
        outside = (m != 0) & (as_numpy(ref) == 0)
        if outside.any():
            raise AssertionError(f"{int(outside.sum())} of your non-zero weights lie outside the k = {k} nearest bins of "
                                 f"their pixel: pick the smallest distances (topk(k, largest=False)), and keep each "
                                 f"pixel's two ab values together when you flatten (channel axis last)")
        try:
            assert_close(mine, ref, f"the soft-encoding (k = {k}, σ = {sigma:g})", atol=1e-4, rtol=1e-3)
        except AssertionError as e:
            raise AssertionError(f"{e}. The weights are exp(−d²/2σ²) with d² the squared distance and σ² (not σ) "
                                 f"in the denominator, normalised over the k nearest bins") from None
    passed("the soft-encoding matches colorlab.rarity.soft_encoding.soft_encode for (k, σ) = (5, 5) and (3, 8)")
