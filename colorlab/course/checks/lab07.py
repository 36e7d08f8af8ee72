"""Checks of lab 07's exercises (colorization as classification): the annealed mean, the rebalanced
cross-entropy and the soft-encoding against the kit's own implementation, and the training step with the
rebalanced loss, judged by what a model trained with it reaches.

Every check draws its inputs from ``seed`` (shapes and values), so the hidden tests run on inputs the
student never saw; every stored wrong answer (tests/exercise_answers/lab07.py) gets a message naming it.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn as nn

from colorlab.core.color import AB_SCALE
from colorlab.course.checks import as_numpy, assert_close, assert_shape, call_student, not_the_kit, one_thread, passed, rng
from colorlab.rarity.bins import zhang_bins
from colorlab.rarity.losses import RebalancedCrossEntropy
from colorlab.rarity.prior import ABPrior
from colorlab.rarity.soft_encoding import annealed_mean as reference_annealed_mean, soft_encode as reference_soft_encode
from colorlab.rarity.weights import rarity_weights

__all__ = ["annealed_mean", "rebalanced_cross_entropy", "soft_encode", "train_step", "not_the_kit"]


def _tensor(x, what: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise AssertionError(f"{what} should be a torch tensor, got {type(x).__name__}")
    return x


def _close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-3) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a.double(), b.double(), atol=atol, rtol=1e-4))


def _made_up_prior(seed: int = 0):
    """A made-up ab prior on Zhang's 313 bins: most pixels near gray, a few vivid ones."""
    c = zhang_bins().double()
    r = rng(seed)
    counts = 1e5 * torch.exp(-c.square().sum(1) / (2 * 25.0 ** 2)) + torch.from_numpy(r.integers(0, 40, len(c)))
    return ABPrior.from_counts(counts.round().long())


def _shape(r: np.random.Generator) -> tuple[int, int, int]:
    """A small (N, H, W) drawn from the check's generator, H ≠ W (so a swapped axis shows)."""
    n, h, w = int(r.integers(1, 4)), int(r.integers(2, 6)), int(r.integers(2, 6))
    return n, h, w + 1 if w == h else w


# --- exercise 1: the annealed mean ---------------------------------------------------------------

def _softmax_mean(logits, centres, dim):
    return torch.einsum("nqhw,qc->nchw", torch.softmax(logits, dim=dim), centres)


def annealed_mean(my_annealed_mean, *, seed: int = 7) -> None:
    """``my_annealed_mean(logits (N, Q, H, W), centres (Q, 2), T) → ab (N, 2, H, W)`` in Lab units, against
    :func:`colorlab.rarity.soft_encoding.annealed_mean` at T = 1, 0.38 and 0.1."""
    centres = zhang_bins()
    r = rng(seed)
    n, h, w = _shape(r)
    logits = torch.from_numpy(r.normal(size=(n, len(centres), h, w)) * 3).float()
    plain = reference_annealed_mean(logits, centres, 1.0)
    for T in (1.0, 0.38, 0.1):
        what = f"my_annealed_mean(logits {tuple(logits.shape)}, centres {tuple(centres.shape)}, T={T})"
        mine = _tensor(call_student(my_annealed_mean, logits.clone(), centres.clone(), T, what=what,
                                    hint="logits is (N, Q, H, W) with the Q bins on axis 1; centres is (Q, 2)."),
                       "the annealed mean")
        ref = reference_annealed_mean(logits, centres, T)
        if mine.shape == (n, h, w, 2):
            raise AssertionError(f"{what} returned shape {tuple(mine.shape)}: put a and b on axis 1, (N, 2, H, W)")
        assert_shape(mine, ref.shape, what)
        mine = mine.detach().float()
        if _close(mine, ref):
            continue
        if _close(mine * AB_SCALE, ref):
            raise AssertionError(f"{what}: your ab is the expected one divided by {AB_SCALE:g}: return it in Lab units, "
                                 f"as the centres are")
        for dim in (0, 2, 3):
            if _close(mine, _softmax_mean(logits / T, centres, dim)):
                axis = {0: "the batch (axis 0)", 2: "the rows (axis 2)", 3: "the columns (axis 3)"}[dim]
                raise AssertionError(f"{what}: your probabilities are normalised over {axis}; each pixel's "
                                     f"distribution is over the Q bins, axis 1")
        if T != 1.0 and _close(mine, _softmax_mean(logits * T, centres, 1)):
            raise AssertionError(f"{what}: you multiplied the logits by T; divide them by T (T < 1 sharpens)")
        if T != 1.0 and _close(mine, plain):
            raise AssertionError(f"{what}: you return the plain mean (T = 1) at every T: the temperature must "
                                 f"change the distribution before the mean")
        if _close(mine, centres[logits.argmax(1)].permute(0, 3, 1, 2)):
            raise AssertionError(f"{what}: you return the centre of the most likely bin (the mode); the annealed "
                                 f"mean is an expectation over every bin")
        assert_close(mine, ref, f"{what} (ab in Lab units)", atol=1e-3, rtol=1e-4)
    passed("the annealed mean matches colorlab.rarity.soft_encoding.annealed_mean at T = 1, 0.38 and 0.1")


# --- exercise 2: the rebalanced cross-entropy ----------------------------------------------------

def rebalanced_cross_entropy(my_rebalanced_ce, *, seed: int = 11) -> None:
    """``my_rebalanced_ce(logits (N, Q, H, W), z (N, Q, H, W), v (N, H, W)) → scalar`` against
    :class:`colorlab.rarity.losses.RebalancedCrossEntropy` (value and gradient)."""
    prior = _made_up_prior(seed % 97)
    r = rng(seed)
    for lam in (0.2, 0.5):
        n, h, w = _shape(r)
        ab = torch.from_numpy(r.uniform(-75, 75, size=(n, 2, h, w))).float()     # no ties between bins
        logits = torch.from_numpy(r.normal(size=(n, prior.Q, h, w)) * 2).float()
        z = reference_soft_encode(ab, prior.centers)
        v = rarity_weights(prior, lam=lam)[z.argmax(1)].float()                 # weight of each pixel's nearest bin
        ref_in = logits.clone().requires_grad_(True)
        ref = RebalancedCrossEntropy(prior, lam=lam)(ref_in, ab / AB_SCALE)
        ref.backward()
        mine_in = logits.clone().requires_grad_(True)
        what = f"my_rebalanced_ce(logits {tuple(logits.shape)}, z {tuple(z.shape)}, v {tuple(v.shape)})"
        mine = _tensor(call_student(my_rebalanced_ce, mine_in, z.clone(), v.clone(), what=what,
                                    hint="logits and z are (N, Q, H, W) with the bins on axis 1; v is (N, H, W)."),
                       "the loss")
        assert mine.numel() == 1, f"{what} should return one number (a scalar tensor), got shape {tuple(mine.shape)}"
        got, want, pixels = float(mine.detach()), float(ref.detach()), n * h * w
        if abs(got - want) > 1e-4 * max(1.0, abs(want)):
            def variant(logp, weights=v, norm=pixels):
                return float(-(weights * (z * logp).sum(1)).sum() / norm)
            if np.isclose(got, want * pixels, rtol=1e-3):
                raise AssertionError(f"{what} is {got:.4g}, {pixels}× the expected {want:.4g}: you summed over the "
                                     f"pixels; average over the N·H·W pixels")
            if np.isclose(got, want * pixels / float(v.sum()), rtol=1e-3):
                raise AssertionError(f"{what} is {got:.4g}: you divided by the sum of the weights; divide by the "
                                     f"number of pixels N·H·W (expected {want:.4g})")
            if np.isclose(got, variant(torch.log_softmax(logits, 1), torch.ones_like(v)), rtol=1e-4):
                raise AssertionError(f"{what} is {got:.4g}: it leaves out the per-pixel weights v (expected {want:.4g})")
            for dim in (0, 2, 3):
                if np.isclose(got, variant(torch.log_softmax(logits, dim)), rtol=1e-4):
                    raise AssertionError(f"{what} is {got:.4g}: your (log-)softmax runs over axis {dim}; a pixel's "
                                         f"distribution is over the Q bins, axis 1 (expected {want:.4g})")
            if np.isclose(got, variant(torch.log(logits.abs() + 1e-8)), rtol=1e-3):
                raise AssertionError(f"{what} is {got:.4g}: you took the log of the raw scores; the logits become "
                                     f"probabilities through a softmax first (expected {want:.4g})")
            raise AssertionError(f"{what} is {got:.6g}, expected {want:.6g} (λ = {lam}, {pixels} pixels): −mean over "
                                 f"pixels of v · Σ_q z_q · log p_q, with p each pixel's softmax over the Q bins")
        assert mine.requires_grad, f"{what} does not depend on the logits through torch: keep it a torch computation"
        mine.backward()
        assert mine_in.grad is not None, "no gradient reached the logits: keep the loss a torch computation"
        assert_close(mine_in.grad, ref_in.grad, "the gradient of your loss with respect to the logits", atol=1e-6, rtol=1e-3)
    passed("the rebalanced cross-entropy matches colorlab.rarity.losses.RebalancedCrossEntropy (value and gradient)")


# --- exercise 3: soft-encoding --------------------------------------------------------------------

def _encode_variant(pts, centres, k, sigma, far=False, use_d=False, sigma_power=2):
    d2 = (pts[:, None, :] - centres[None]).square().sum(-1)
    dk, idx = d2.topk(k, dim=1, largest=far)
    x = dk.sqrt() if use_d else dk
    wk = torch.softmax(-x / (2 * sigma ** sigma_power), dim=1)
    return torch.zeros(pts.shape[0], centres.shape[0]).scatter_(1, idx, wk)


def soft_encode(my_soft_encode, *, seed: int = 3) -> None:
    """``my_soft_encode(ab (N, 2, H, W), centres (Q, 2), k, sigma) → (N, Q, H, W)`` against
    :func:`colorlab.rarity.soft_encoding.soft_encode` for (k, σ) = (5, 5) and (3, 8)."""
    centres = zhang_bins()
    Q = len(centres)
    r = rng(seed)
    for k, sigma in ((5, 5.0), (3, 8.0)):
        n, h, w = _shape(r)
        ab = torch.from_numpy(r.uniform(-75, 75, size=(n, 2, h, w))).float()     # no ties between bins
        what = f"my_soft_encode(ab {tuple(ab.shape)}, centres {tuple(centres.shape)}, k={k}, sigma={sigma:g})"
        mine = _tensor(call_student(my_soft_encode, ab.clone(), centres.clone(), k, sigma, what=what,
                                    hint="ab is (N, 2, H, W) in Lab units, centres (Q, 2); return (N, Q, H, W)."),
                       "the soft-encoding")
        ref = reference_soft_encode(ab, centres, k=k, sigma=sigma)
        assert_shape(mine, ref.shape, what)
        mine = mine.detach().float()
        if _close(mine, ref, 1e-4):
            continue
        pts = ab.permute(0, 2, 3, 1).reshape(-1, 2)
        as_image = lambda flat: flat.reshape(n, h, w, Q).permute(0, 3, 1, 2)  # noqa: E731
        sums = as_numpy(mine).sum(1)
        if not np.allclose(sums, 1.0, atol=1e-4):
            raise AssertionError(f"{what}: each pixel's weights should sum to 1; yours sum to {sums.min():.4g} … "
                                 f"{sums.max():.4g}: normalise them over the k bins")
        if _close(mine, as_image(_encode_variant(ab.reshape(-1, 2), centres, k, sigma)), 1e-4):
            raise AssertionError(f"{what}: you flattened ab (N, 2, H, W) to (P, 2) without moving the channel axis "
                                 f"last, so each 'pixel' pairs two a values or two b values of different pixels")
        if _close(mine, as_image(_encode_variant(pts, centres, k, sigma, far=True)), 1e-4):
            raise AssertionError(f"{what}: your weights sit on the k farthest bins; take the k nearest (the "
                                 f"smallest distances)")
        if _close(mine, as_image(_encode_variant(pts, centres, k, sigma, use_d=True)), 1e-4):
            raise AssertionError(f"{what}: your Gaussian uses the distance d; it is exp(−d²/2σ²), the squared distance")
        if _close(mine, as_image(_encode_variant(pts, centres, k, sigma, sigma_power=1)), 1e-4):
            raise AssertionError(f"{what}: your Gaussian divides by 2σ; it is exp(−d²/2σ²), σ squared")
        outside = (as_numpy(mine) != 0) & (as_numpy(ref) == 0)
        if outside.any():
            raise AssertionError(f"{what}: {int(outside.sum())} of your non-zero weights lie outside the k = {k} "
                                 f"nearest bins of their pixel")
        assert_close(mine, ref, f"{what}: the weights exp(−d²/2σ²), normalised over the k nearest bins,", atol=1e-4,
                     rtol=1e-3)
    passed("the soft-encoding matches colorlab.rarity.soft_encoding.soft_encode for (k, σ) = (5, 5) and (3, 8)")


# --- exercise 4 (a design): the training step with the rebalanced loss ---------------------------

GREEN, GRAY, RED = (-30.0, 30.0), (0.0, 0.0), (55.0, 40.0)
KINDS = ("grass (always green)", "road (always gray)", "fruit (gray, sometimes red)")


class PixelClassifier(nn.Module):
    """The check's model: logits ``(N, Q, H, W)`` from ``L (N, 1, H, W)``, one row of Q scores per kind of pixel
    (L = −0.5 grass, 0 road, 0.5 fruit). Small and convex, so a right step always gets there."""

    def __init__(self, q: int):
        super().__init__()
        self.table = nn.Parameter(torch.zeros(3, q))

    def forward(self, L):
        kind = ((L[:, 0] + 0.5) * 2).round().long().clamp(0, 2)
        return self.table[kind].permute(0, 3, 1, 2)


def _pixels(r: np.random.Generator, n: int, side: int, p_red: float):
    kind = r.choice(3, size=(n, side, side), p=[0.4, 0.4, 0.2])
    ab = np.zeros((n, 2, side, side))
    ab[:, 0][kind == 0], ab[:, 1][kind == 0] = GREEN
    red = (kind == 2) & (r.random(kind.shape) < p_red)
    ab[:, 0][red], ab[:, 1][red] = RED
    ab += r.normal(0, 2, ab.shape)
    return torch.tensor((kind[:, None] - 1) * 0.5, dtype=torch.float32), torch.tensor(ab, dtype=torch.float32)


def _task(seed: int):
    r = rng(seed)
    centres = zhang_bins()
    p_red = float(r.uniform(0.25, 0.35))
    side = int(r.integers(5, 8))
    L, ab = _pixels(r, 32, side, p_red)
    counts = reference_soft_encode(ab, centres).sum((0, 2, 3))
    w = rarity_weights(ABPrior.from_counts((counts * 100).round().long()), "zhang", 0.2).float()
    return r, centres, L, ab, w, p_red


def _weighted_ce(model, L, ab, centres, w) -> float:
    with torch.no_grad():
        z = reference_soft_encode(ab, centres)
        return float(-(w[z.argmax(1)] * (z * torch.log_softmax(model(L), 1)).sum(1)).mean())


def _params(model) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()


def train_step(my_train_step, *, seed: int = 0, steps: int = 60, lr: float = 2.0) -> None:
    """``my_train_step(model, L, ab, centres, w, lr) → float``: one step of gradient descent on the
    rarity-rebalanced cross-entropy. Judged by what it reaches: after ``steps`` steps on a made-up task
    (grass always green, road always gray, fruit gray or — rarely — red), the annealed mean (T = 0.38) must paint
    the grass green and the road gray, and paint the fruit red: the rare colour wins only when it is weighted up."""
    r, centres, L, ab, w, p_red = _task(seed)
    call = lambda model, i, rate=lr: call_student(  # noqa: E731
        my_train_step, model, L[i].clone(), ab[i].clone(), centres.clone(), w.clone(), rate,
        what=f"my_train_step(model, L {tuple(L[i].shape)}, ab {tuple(ab[i].shape)}, centres, w, lr={rate:g})",
        hint="model(L) gives logits (N, Q, H, W); ab and centres are in Lab units; w holds one weight per bin.")
    batch = np.arange(4)
    with one_thread():
        model = PixelClassifier(len(centres))           # all zeros: no random state touched
        before = _params(model)
        loss = call(model, batch)
        if isinstance(loss, torch.Tensor) and loss.numel() == 1:
            loss = float(loss.detach())
        if not isinstance(loss, (float, int, np.floating)) or not np.isfinite(loss):
            raise AssertionError(f"my_train_step should return the batch's loss as a finite float, got {loss!r}")
        if torch.equal(before, _params(model)):
            raise AssertionError("one call of my_train_step left the model's parameters as they were: the step must "
                                 "update them (a step of size lr against the gradient)")
        # a step must not depend on gradients already in .grad when it starts (e.g. from an earlier backward)
        clean, stale = PixelClassifier(len(centres)), PixelClassifier(len(centres))
        for p in stale.parameters():
            p.grad = torch.full_like(p, 0.5)
        call(clean, batch), call(stale, batch)
        if not torch.allclose(_params(clean), _params(stale), atol=1e-6):
            raise AssertionError("your step used gradients that were already in the parameters' .grad when it started "
                                 "(left by an earlier backward): clear them before backward, or every step adds "
                                 "the previous steps' gradients to its own")
        held_out = (L[16:], ab[16:])
        first = _weighted_ce(model, *held_out, centres, w)
        for _ in range(steps - 1):
            call(model, r.integers(0, 16, 4))
        last = _weighted_ce(model, *held_out, centres, w)
        with torch.no_grad():
            kinds = torch.tensor([-0.5, 0.0, 0.5]).view(3, 1, 1, 1)
            got = reference_annealed_mean(model(kinds), centres, 0.38)[:, :, 0, 0].numpy()
    if not last < first:
        raise AssertionError(f"after {steps} steps the rebalanced loss on held-out pixels rose from {first:.3f} to "
                             f"{last:.3f}: your step climbs the loss; move the parameters against the gradient")
    for kind, want in ((0, GREEN), (1, GRAY)):
        if np.hypot(*(got[kind] - want)) > 8:
            raise AssertionError(f"after {steps} steps the {KINDS[kind]} pixels decode to ab ({got[kind][0]:.1f}, "
                                 f"{got[kind][1]:.1f}), not near ({want[0]:g}, {want[1]:g}): the targets you train on "
                                 f"are not these pixels' colours — ab and the centres are both in Lab units")
    chroma = float(np.hypot(*got[2]))
    if chroma < 40:
        raise AssertionError(f"after {steps} steps the fruit (gray {1 - p_red:.0%}, red {p_red:.0%} of the time) decode "
                             f"to chroma {chroma:.1f} at T = 0.38; a rebalanced loss makes the rare red win (chroma "
                             f"≥ 40): weight each pixel's cross-entropy by w of its true colour's bin")
    passed(f"your training step reaches the goal in {steps} steps: grass ({got[0][0]:.0f}, {got[0][1]:.0f}), road "
           f"({got[1][0]:.0f}, {got[1][1]:.0f}), fruit ({got[2][0]:.0f}, {got[2][1]:.0f}) — the rare red wins")
