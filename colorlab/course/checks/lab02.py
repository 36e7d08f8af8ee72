"""Checks of lab 02 (colour statistics and rarity): the ab histogram, Zhang et al.'s rarity weights, and the
design decision: the λ that keeps every weight under a ceiling.

Every check draws its inputs from ``seed`` (the visible default, or the hidden tests' own) and passes exactly
what the exercise's contract says (torch tensors, float32 ab, float64 probabilities).
"""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.color import rgb_to_lab
from colorlab.course.checks import as_numpy, assert_close, call_student, describe, not_the_kit, passed, rng
from colorlab.rarity.prior import ab_histogram as reference_histogram
from colorlab.rarity.weights import zhang_weights

__all__ = ["ab_histogram", "rarity_weights", "lambda_for_ceiling", "not_the_kit"]


def _float64_tensor(x, what: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise AssertionError(f"{what} is a {describe(x)}: the contract asks for a torch.Tensor (float64); "
                             f"if you computed it with NumPy, wrap the result with torch.from_numpy")
    if x.dtype != torch.float64:
        raise AssertionError(f"{what} is {describe(x)}: the contract asks for float64 (with millions of pixels, "
                             f"float32 keeps too few digits of the rare bins' fractions)")


def _histogram_variant(ab: torch.Tensor, n: int, lim: float = 110.0, rounding=torch.floor) -> np.ndarray:
    width = 2 * lim / n
    i = rounding((ab[:, 0] + lim) / width).long().clamp(0, n - 1)
    j = rounding((ab[:, 1] + lim) / width).long().clamp(0, n - 1)
    counts = torch.bincount((i * n + j).flatten(), minlength=n * n)
    return (counts.double() / counts.sum()).numpy()


def ab_histogram(fn, seed: int = 3) -> None:
    """``fn(ab, n) -> p``: ab ``(N, 2, H, W)`` float32 in Lab units (of sRGB colours) → fractions ``(n·n,)`` float64
    on a regular n × n grid over [−110, 110] (flat index i·n + j, i from a, j from b)."""
    r = rng(seed)
    N, H, W = int(r.integers(2, 4)), int(r.integers(8, 13)), int(r.integers(8, 13))
    rgb = torch.from_numpy(r.integers(0, 256, (N, 3, H, W), dtype=np.uint8))
    ab = rgb_to_lab(rgb)[:, 1:].float()
    for n in (int(r.integers(5, 13)), int(r.choice([44, 64]))):
        what = f"my_ab_histogram(ab: {describe(ab)}, n={n})"
        p = call_student(fn, ab.clone(), n, what=what,
                         hint="ab is (N, 2, H, W): channel 0 of axis 1 is a, channel 1 is b")
        if isinstance(p, (torch.Tensor, np.ndarray)) and tuple(p.shape) == (n, n):
            raise AssertionError(f"{what} returned the (n, n) grid: the contract asks for it flat, shape (n·n,) = "
                                 f"({n * n},), row-major (index i·n + j)")
        _float64_tensor(p, "your histogram")
        assert tuple(p.shape) == (n * n,), f"{what} has shape {tuple(p.shape)}, expected ({n * n},): one fraction per bin"
        p = as_numpy(p)
        ref = reference_histogram(ab, n).numpy()
        total = float(p.sum())
        if abs(total - 1) > 1e-4 and np.allclose(p, ref * ab[:, 0].numel(), atol=1e-6):
            raise AssertionError(f"n = {n}: your histogram holds raw counts (they sum to {total:.6g}): the contract asks "
                                 f"for fractions, divided by the number of pixels")
        if abs(total - 1) > 1e-4:
            raise AssertionError(f"n = {n}: your fractions sum to {total:.6g}, not 1: divide the counts by the number "
                                 f"of pixels, {ab[:, 0].numel()}")
        if np.allclose(p, ref, atol=1e-9):
            continue
        if np.allclose(p, ref.reshape(n, n).T.reshape(-1), atol=1e-9):
            raise AssertionError(f"n = {n}: your grid is transposed: the row i comes from a and the column j from b, "
                                 f"flat index i·n + j")
        if np.allclose(p, _histogram_variant(ab, n, lim=128.0), atol=1e-9):
            raise AssertionError(f"n = {n}: your bins span [−128, 128] (another codebase's range): this grid spans "
                                 f"[−110, 110], bins {220 / n:g} units wide")
        if np.allclose(p, _histogram_variant(ab, n, rounding=torch.round), atol=1e-9):
            raise AssertionError(f"n = {n}: your bins are shifted by half a width: a value belongs to the bin whose "
                                 f"left edge is at or below it, so round down, not to the nearest")
        assert_close(p, ref, f"n = {n}: your histogram (bins {220 / n:g} ab units wide from −110; bin "
                             f"i = ⌊(a + 110) / width⌋ clamped to 0 … n−1)", atol=1e-9, rtol=0)
    passed(f"your histogram is right ({int((ref > 0).sum())} of {n * n} bins occupied at n = {n})")


def _prior(r: np.random.Generator, Q: int, shape: float, empty: float, floor: float = 0.0) -> np.ndarray:
    p = r.gamma(shape, size=Q) + floor                    # floor > 0: every colour seen is seen a few times
    p[r.random(Q) < empty] = 0.0                          # colours never seen, as in a real prior
    p[int(r.integers(Q))] += 0.5 * p.sum() + 1e-3          # one dominant bin (gray)
    return p / p.sum()


def rarity_weights(fn, seed: int = 4) -> None:
    """``fn(p, lam) -> w``: Zhang et al.'s ``w ∝ ((1−λ)p + λ/Q)⁻¹`` scaled so that ``Σ p·w = 1``; p float64 ``(Q,)``,
    w float64 ``(Q,)``, for several λ and two sizes of Q."""
    r = rng(seed)
    big, small = _prior(r, 313, 0.2, 0.4), _prior(r, int(r.integers(12, 24)), 0.5, 0.0)
    lams = sorted({round(float(x), 2) for x in r.uniform(0.05, 0.9, 2)}) + [1.0]
    cases = [(big, lam) for lam in lams] + [(small, round(float(r.uniform(0.1, 0.4)), 2))]
    for p_np, lam in cases:
        p = torch.tensor(p_np, dtype=torch.float64)
        Q = p.numel()
        what = f"my_rarity_weights(p: {describe(p)}, lam={lam})"
        w = call_student(fn, p.clone(), lam, what=what, hint="p is a torch.Tensor (Q,) float64, lam a float")
        _float64_tensor(w, "your weights")
        assert tuple(w.shape) == (Q,), f"{what} returned shape {tuple(w.shape)}, expected ({Q},): one weight per bin"
        w = as_numpy(w)
        assert np.isfinite(w).all(), f"{what} gives inf or NaN weights: with λ > 0 every bin should stay finite"
        ref = zhang_weights(p, lam).numpy()
        mean = float((p_np * w).sum())
        if abs(mean - 1) > 1e-3:
            if abs(w.mean() - 1) < 1e-3:
                raise AssertionError(f"λ = {lam}: your weights average 1 over the bins, but Σ p·w = {mean:.4g}: the "
                                     f"average pixel counts, so scale by the p-weighted mean Σ p·w")
            if abs(w.sum() - 1) < 1e-3:
                raise AssertionError(f"λ = {lam}: your weights sum to 1, as Robles & Budach scaled theirs; the "
                                     f"contract scales them so that Σ p·w = 1 (Σ p·w is {mean:.4g} here)")
            raise AssertionError(f"λ = {lam}: Σ p·w of your weights is {mean:.4g}, not 1: scale them by Σ p·w")
        if np.allclose(w, ref, rtol=1e-6, atol=1e-9):
            continue
        no_q = 1.0 / ((1 - lam) * p_np + lam)
        after = (1 - lam) / np.maximum(p_np, 1e-12) + lam / Q
        for wrong, hint in ((no_q / (p_np * no_q).sum(), "the uniform part is λ/Q, not λ: divide λ by the number "
                                                         "of bins"),
                            (after / (p_np * after).sum(), "you added λ/Q after inverting: mix first, "
                                                           "(1 − λ)·p + λ/Q, then invert")):
            if np.allclose(w, wrong, rtol=1e-6, atol=1e-9):
                raise AssertionError(f"λ = {lam}, Q = {Q}: Σ p·w is 1 but the weights are off: {hint}")
        assert_close(w, ref, f"λ = {lam}, Q = {Q}: your weight vector (Σ p·w is 1, so the shape is off: mix "
                             f"(1 − λ)·p + λ/Q, then invert)", rtol=1e-6, atol=1e-9)
    passed("rarity weights are right (λ = 1 gives every bin weight 1; smaller λ lifts the rare bins)")


def _top(p: torch.Tensor, lam: float) -> float:
    """The largest Zhang weight of ``p`` at ``lam`` (λ = 0 on a prior with empty bins: infinite)."""
    if lam <= 0 and (p <= 0).any():
        return float("inf")
    return float(zhang_weights(p, lam).max())


def _bisect(f, lo: float = 0.0, hi: float = 1.0) -> float:
    """The smallest λ in [lo, hi] with f(λ) true, f monotone (false … true)."""
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if f(mid) else (mid, hi)
    return hi


def lambda_for_ceiling(fn, seed: int = 5) -> None:
    """``fn(p, ceiling) -> lam``: the smallest λ whose Zhang weights (Σ p·w = 1) all stay ≤ ``ceiling``, judged by
    the outcome: at the student's λ the largest weight must be at most the ceiling and within 1 % of it (or λ = 0
    when even λ = 0 stays below it)."""
    r = rng(seed)
    big, small = _prior(r, 313, 0.2, 0.4, floor=0.02), _prior(r, int(r.integers(12, 24)), 0.8, 0.0)
    cases = [(big, round(float(r.uniform(1.3, 2.0)) * 313, 1)),               # a ceiling above Q
             (big, round(float(r.uniform(4, 9)), 1)), (big, round(float(r.uniform(15, 40)), 1)),
             (small, round(1.2 * _top(torch.tensor(small), 0.0) + 1, 1))]   # λ = 0 already stays under this one
    for p_np, ceiling in cases:
        p = torch.tensor(p_np, dtype=torch.float64)
        what = f"my_lambda_for_ceiling(p: {describe(p)}, ceiling={ceiling})"
        lam = call_student(fn, p.clone(), ceiling, what=what, hint="p is a torch.Tensor (Q,) float64, ceiling a float")
        if isinstance(lam, torch.Tensor) and lam.numel() == 1:
            raise AssertionError(f"{what} returned a one-element tensor: the contract asks for a Python float "
                                 f"(float(lam) or lam.item())")
        assert isinstance(lam, (float, int, np.floating, np.integer)) and not isinstance(lam, bool), \
            f"{what} returned a {describe(lam)}: the contract asks for a float λ in [0, 1]"
        lam = float(lam)
        assert 0.0 <= lam <= 1.0, f"{what} returned λ = {lam:g}: λ mixes two distributions, it lies in [0, 1]"
        top = _top(p, lam)
        best = 0.0 if _top(p, 0.0) <= ceiling else _bisect(lambda x: _top(p, x) <= ceiling)
        if top <= ceiling * (1 + 1e-3) and (top >= ceiling * 0.99 or lam <= max(best, 1e-4)):
            continue
        seen = p > 0
        unscaled = _bisect(lambda x: float((1 / ((1 - x) * p + x / p.numel())).max()) <= ceiling)
        seen_top = float(zhang_weights(p, lam)[seen].max()) if lam > 0 else float("inf")
        if top > ceiling * (1 + 1e-3) and not seen.all() and seen_top <= ceiling * (1 + 1e-3):
            raise AssertionError(f"ceiling {ceiling}: your λ = {lam:.4f} keeps the bins the data saw under the ceiling, "
                                 f"but the largest weight belongs to a bin it never saw (p = 0): {top:.3g} > {ceiling}")
        if lam > 0.999 and best < 0.99:
            raise AssertionError(f"ceiling {ceiling}: your λ = {lam:g} switches rebalancing off (every weight 1): the "
                                 f"task is the smallest λ that keeps the largest weight under {ceiling} (if you "
                                 f"searched: the largest weight falls as λ grows, so once it is under the ceiling, "
                                 f"the answer lies at smaller λ)")
        if abs(lam - unscaled) < 2e-3 and abs(unscaled - best) > 5e-3:
            raise AssertionError(f"ceiling {ceiling}: your λ = {lam:.4f} holds the weights under the ceiling before "
                                 f"they are scaled so that Σ p·w = 1; the ceiling is on the scaled weights (their "
                                 f"largest is {top:.3g} at your λ)")
        if top > ceiling * (1 + 1e-3):
            hint = (" The weights fall as λ grows: a largest weight over the ceiling needs a larger λ."
                    if lam < best else "")
            raise AssertionError(f"ceiling {ceiling}: at your λ = {lam:.4f} the largest weight is {top:.4g}, over the "
                                 f"ceiling.{hint}")
        raise AssertionError(f"ceiling {ceiling}: at your λ = {lam:.4f} the largest weight is {top:.4g}, more than 1 % "
                             f"under the ceiling: a smaller λ would still keep every weight under it and lift the rare "
                             f"colours more (search λ to about 10⁻⁴, or solve for it)")
    passed("your λ keeps every weight under the ceiling, and no higher than it needs to be")
