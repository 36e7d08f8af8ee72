"""Checks of lab 02 (colour statistics and rarity): the ab histogram as a prior, Zhang et al.'s rarity weights."""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.color import rgb_to_lab
from colorlab.course.checks import as_numpy, assert_close, assert_shape, call_student, passed, rng
from colorlab.rarity.prior import ab_prior
from colorlab.rarity.weights import rarity_weights as reference_weights

__all__ = ["ab_histogram", "rarity_weights"]


def ab_histogram(fn) -> None:
    """``fn(ab, n) -> p``: ab ``(N, 2, H, W)`` in Lab units → probabilities ``(n·n,)`` on a regular n × n grid over
    [−110, 110] (flat index i·n + j, i from a, j from b), summing to 1 — against the kit's own prior,
    :func:`colorlab.rarity.prior.ab_prior` with ``grid="regular<n>"`` and no smoothing (σ = 0)."""
    rgb = torch.from_numpy(rng(3).integers(0, 256, (2, 3, 12, 10), dtype=np.uint8))
    ab = rgb_to_lab(rgb)[:, 1:].float()
    for n in (8, 64):
        ref = ab_prior(rgb, grid=f"regular{n}", sigma=0.0, device="cpu").p.double().numpy()
        what = f"my_ab_histogram(ab (2, 2, 12, 10), n={n})"
        p = as_numpy(call_student(fn, ab.clone(), n, what=what, hint="ab is (N, 2, H, W): a = ab[:, 0], b = ab[:, 1]"),
                     "your histogram")
        if p.shape == (n, n):
            raise AssertionError(f"{what} returned an (n, n) grid: return it flat, shape (n·n,) = ({n * n},), "
                                 f"row-major (index i·n + j), e.g. with .reshape(-1)")
        assert_shape(p, ref.shape, f"{what} (one probability per bin, flat)")
        total = float(p.sum())
        if not abs(total - 1) < 1e-4:
            raise AssertionError(f"n = {n}: your probabilities sum to {total:.6g}, not 1: divide the counts by the "
                                 f"number of pixels")
        if not np.allclose(p, ref, atol=1e-6):
            if np.allclose(p, ref.reshape(n, n).T.reshape(-1), atol=1e-6):
                raise AssertionError(f"n = {n}: your grid is transposed: i (the row) comes from a and j from b, "
                                     f"flat index i·n + j")
            assert_close(p, ref, f"n = {n}: your histogram (bins {220 / n:g} ab units wide, from −110 to 110; "
                                 f"bin i = floor((a + 110) / width), clamped to 0 … n−1)", atol=1e-6, rtol=0)
    passed(f"your histogram is the kit's unsmoothed prior ({int((ref > 0).sum())} of {n * n} bins occupied at n = {n})")


def rarity_weights(fn) -> None:
    """``fn(p, lam) -> w``: Zhang et al.'s ``w ∝ ((1−λ)p + λ/Q)⁻¹`` scaled so that ``Σ p·w = 1``, against
    :func:`colorlab.rarity.weights.rarity_weights`."""
    r = rng(4)
    big = r.gamma(0.2, size=313)
    big[r.random(313) < 0.4] = 0.0                       # many colours never seen, as in a real prior
    small = r.gamma(0.5, size=16)
    cases = [(big / big.sum(), lam) for lam in (0.1, 0.5, 1.0)] + [(small / small.sum(), 0.25)]
    for p_np, lam in cases:
        p = torch.tensor(p_np, dtype=torch.float64)
        Q = p.numel()
        what = f"my_rarity_weights(p (Q = {Q}), lam={lam})"
        w = as_numpy(call_student(fn, p.clone(), lam, what=what), "your weights")
        assert_shape(w, (Q,), f"{what} (one weight per bin)")
        assert np.isfinite(w).all(), f"{what} gives inf or NaN weights: with λ > 0 every bin should stay finite"
        ref = reference_weights(p, "zhang", lam).double().numpy()
        mean = float((p_np * w).sum())
        if not abs(mean - 1) < 1e-3:
            plain = " (your weights average to 1 over the bins — weight the mean by p)" if abs(w.mean() - 1) < 1e-3 else ""
            raise AssertionError(f"λ = {lam}: the prior-weighted mean Σ p·w of your weights is {mean:.4g}, not 1{plain}. "
                                 f"Hint: divide w by Σ p·w")
        assert_close(w, ref, f"λ = {lam}, Q = {Q}: your weight vector (Σ p·w is 1, so the shape is off: the uniform part "
                             f"is λ/Q, added to (1 − λ)·p before inverting)", rtol=1e-3, atol=1e-5)
    passed("rarity weights are right (λ = 1 gives every bin weight 1; smaller λ lifts the rare bins)")
