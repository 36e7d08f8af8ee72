"""Checks of lab 05 (a U-Net with the rarity loss): each pixel's weight, the blended loss, a U-Net decoder stage.

Every check draws its inputs from ``seed`` (shapes and values change with it) and names the mistake
behind each stored wrong answer (``tests/exercise_answers/lab05.py``).
"""
from __future__ import annotations


import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from colorlab.course.checks import assert_close, assert_shape, call_student, not_the_kit, one_thread, passed, rng
from colorlab.rarity.bins import BinLookup
from colorlab.rarity.losses import BlendedLoss, blend
from colorlab.rarity.prior import ABPrior

__all__ = ["pixel_weights", "blended_loss", "up_stage", "not_the_kit"]

AB = 110.0  # normalised ab × 110 = Lab units


def _torch_gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


# --- Exercise 1: the weight of each pixel --------------------------------------------------------

def pixel_weights(fn, *, seed: int = 0) -> None:
    """``fn(target, weights, bin_index)``: normalised ab ``(N, 2, H, W)`` float32, per-bin weights ``(Q,)``
    float32, lab 02's binning (Lab-unit ab → int64 bin indices ``(N, H, W)``) → each pixel's weight ``(N, H, W)``."""
    r, g = rng(seed), _torch_gen(seed)
    grids = ["zhang313", f"regular{int(r.choice([8, 10, 16]))}"]
    for grid in grids:
        lookup = BinLookup(grid)
        Q = int(lookup.lut.max()) + 1
        weights = (torch.rand(Q, generator=g) * 4 + 0.1).float()       # every bin its own weight
        N, H, W = int(r.integers(2, 4)), int(r.integers(3, 7)), int(r.integers(3, 7))
        target = (torch.rand(N, 2, H, W, generator=g) * 1.6 - 0.8).float()
        target[0, :, 0, 0] = torch.tensor([0.95, -0.9])                 # vivid colours far from gray
        ref = weights[lookup(target * AB)]
        what = f"your function (target {tuple(target.shape)}, weights ({Q},), bin_index of the {grid} grid)"
        mine = call_student(fn, target.clone(), weights.clone(), lookup, what=what,
                            hint="bin_index takes ab (N, 2, H, W) in Lab units and returns (N, H, W) integer indices")
        assert isinstance(mine, torch.Tensor), f"{what} should return a torch.Tensor, got {type(mine).__name__}"
        assert_shape(mine, (N, H, W), what + " (one weight per pixel: no channel axis)")
        mine = mine.detach().float()
        if torch.allclose(mine, ref, rtol=1e-5, atol=1e-6):
            continue
        if torch.allclose(mine, weights[lookup(target)], rtol=1e-5) or torch.allclose(mine, weights[lookup(target / AB)],
                                                                                           rtol=1e-5):
            raise AssertionError(f"{what}: every pixel got the weight of a bin next to gray — the target is normalised "
                                 f"(Lab a, b divided by 110) but the binning works in Lab units: undo the normalisation "
                                 f"before you bin")
        if torch.allclose(mine, ref / ref.mean(), rtol=1e-4):
            raise AssertionError(f"{what}: you rescaled the weights so that this batch averages 1; they are already "
                                 f"scaled over the training set (Σ p·w = 1) — a batch's own mean would change the "
                                 f"weight of a pixel with the company it keeps")
        if torch.allclose(mine, weights.mean().expand_as(ref), rtol=1e-5):
            raise AssertionError(f"{what}: every pixel got the mean weight — look up each pixel's own bin")
        bad = ~torch.isclose(mine, ref, rtol=1e-5, atol=1e-6)
        k = tuple(int(v) for v in torch.nonzero(bad)[0])
        a, b = (float(v) * AB for v in target[k[0], :, k[1], k[2]])
        raise AssertionError(f"{what}: {int(bad.sum())} of {bad.numel()} pixels get another weight; e.g. pixel {k}, "
                             f"true colour (a, b) = ({a:.1f}, {b:.1f}) in Lab units, its bin's weight {float(ref[k]):.4f}, "
                             f"yours {float(mine[k]):.4f}")
    passed("every pixel gets the weight of its true colour's bin")


# --- Exercise 2: the blended loss ----------------------------------------------------------------

def _lopsided_prior() -> ABPrior:
    """A 64 × 64 histogram piled near gray, so that a batch's weights do not average to 1."""
    c = (torch.arange(64) - 34.0) ** 2
    counts = (4000 * torch.exp(-(c[:, None] + c[None, :]) / 60)).long().reshape(-1) + 1
    return ABPrior.from_counts(counts, grid="regular64")


def blended_loss(fn, *, seed: int = 0) -> None:
    """``fn(pred, target, w, alpha)`` → ``α·mean(e) + (1 − α)·mean(w·e)``, e the squared error averaged over a and b."""
    r, g = rng(seed), _torch_gen(seed)
    prior = _lopsided_prior()
    alphas = (0.65, round(float(r.uniform(0.2, 0.5)), 2))
    for alpha in alphas:
        N, H, W = int(r.integers(2, 5)), int(r.integers(3, 7)), int(r.integers(3, 7))
        weighted = BlendedLoss(prior, alpha=alpha).weighted
        target = (torch.rand(N, 2, H, W, generator=g) * 1.2 - 0.6).float()
        pred = (torch.rand(N, 2, H, W, generator=g) * 1.2 - 0.6).float()
        w = weighted.pixel_weights(target).float()
        ref = float(blend(pred, target, w, alpha))
        what = f"my_blended_loss(pred {tuple(pred.shape)}, target, w {tuple(w.shape)}, alpha={alpha})"
        mine = call_student(fn, pred.clone(), target.clone(), w.clone(), alpha, what=what,
                            hint="w is (N, H, W) and has no channel axis; the squared error is (N, 2, H, W) until you "
                                 "average it over a and b")
        assert isinstance(mine, torch.Tensor), f"{what} should return a torch.Tensor (it trains a model), got {type(mine).__name__}"
        assert mine.numel() == 1, f"{what}: the loss should be one number, got shape {tuple(mine.shape)}"
        mine = float(mine)
        if abs(mine - ref) <= 1e-6 + 1e-4 * abs(ref):
            continue
        e = (pred - target).square().mean(1)
        mse, we = float(e.mean()), float((w * e).mean())
        close = lambda v: abs(mine - v) <= 1e-6 + 1e-4 * abs(v)  # noqa: E731
        if close(mse):
            raise AssertionError(f"{what}: your loss is the plain MSE ({mse:.5f}) — the weights w change nothing in it")
        if close(alpha * mse + (1 - alpha) * float((w * e).sum() / w.sum())):
            raise AssertionError(f"{what}: you divided Σ w·e by Σ w (a weighted average); L_w is the mean of w·e over "
                                 f"the M pixels, Σ w·e / M. The weights average 1 over the training set, not over "
                                 f"this batch (here their mean is {float(w.mean()):.2f}), so the two differ")
        if close((1 - alpha) * mse + alpha * we):
            raise AssertionError(f"{what}: alpha weighs the wrong term — α goes with the plain MSE, 1 − α with the "
                                 f"weighted one")
        if close(2 * ref):
            raise AssertionError(f"{what}: your loss is twice the expected one — the per-pixel error e is the *mean* of "
                                 f"the two channels' squared differences, not their sum")
        if N == 2 and close(alpha * mse + (1 - alpha) * float((w[None] * (pred - target).square()).mean())):
            raise AssertionError(f"{what}: w was broadcast against the channel axis (image n's weights multiplied "
                                 f"channel n); w has no channel axis: weigh the per-pixel error (N, H, W)")
        raise AssertionError(f"{what}: your loss is {mine:.6f}, expected {ref:.6f} (plain MSE {mse:.6f}, mean of w·e "
                             f"{we:.6f})")
    passed(f"the blended loss: α·MSE + (1 − α)·mean(w·e), for α = {alphas[0]} and {alphas[1]}")


# --- Exercise 3: a U-Net decoder stage -----------------------------------------------------------

def _expect_module(cls, args) -> nn.Module:
    try:
        stage = cls(*args)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to build is the student's to see
        raise AssertionError(f"UpStage{args} could not be built: {type(e).__name__}: {e}") from e
    assert isinstance(stage, nn.Module), f"UpStage{args} should be an nn.Module, got {type(stage).__name__}"
    return stage


def _spec_params(in_ch: int, skip_ch: int, out_ch: int, g: torch.Generator) -> dict:
    """Weights of the written spec's stage, drawn at random; BatchNorm statistics that are not the identity."""
    def u(*shape, lo=-0.5, hi=0.5):
        return torch.rand(*shape, generator=g) * (hi - lo) + lo
    P = {"up_w": u(in_ch, out_ch, 2, 2), "up_b": u(out_ch, lo=-0.2, hi=0.2)}
    for i, c_in in ((1, out_ch + skip_ch), (2, out_ch)):
        P[f"w{i}"] = u(out_ch, c_in, 3, 3, lo=-0.3, hi=0.3)
        P[f"g{i}"], P[f"b{i}"] = u(out_ch, lo=0.5, hi=1.5), u(out_ch, lo=-0.2, hi=0.2)
        P[f"m{i}"], P[f"v{i}"] = u(out_ch, lo=-0.3, hi=0.3), u(out_ch, lo=0.5, hi=2.0)
    return P


def _spec(x, skip, P, order: str = "up, skip", bn_after_relu: bool = False, training: bool = False):
    """The written spec (2×2 transposed conv, concatenate [up(x), skip], (3×3 conv → BN → ReLU) × 2), or a variant."""
    up = F.conv_transpose2d(x, P["up_w"], P["up_b"], stride=2)
    y = torch.cat([up, skip] if order == "up, skip" else [skip, up], 1)
    for i in (1, 2):
        y = F.conv2d(y, P[f"w{i}"], padding=1)
        bn = lambda t: F.batch_norm(t, P[f"m{i}"].clone(), P[f"v{i}"].clone(), P[f"g{i}"], P[f"b{i}"],  # noqa: E731
                                    training=training, eps=1e-5)
        y = bn(F.relu(y)) if bn_after_relu else F.relu(bn(y))
    return y


def _layers(stage: nn.Module, what: str):
    """The stage's transposed conv, its two 3×3 convs and two BatchNorms, in the order they run."""
    ups = [m for m in stage.modules() if isinstance(m, nn.ConvTranspose2d)]
    convs = [m for m in stage.modules() if type(m) is nn.Conv2d]
    bns = [m for m in stage.modules() if isinstance(m, nn.BatchNorm2d)]
    interp = [m for m in stage.modules() if isinstance(m, nn.Upsample)]
    if len(ups) != 1 or tuple(ups[0].kernel_size) != (2, 2) or tuple(ups[0].stride) != (2, 2):
        how = "by interpolation" if interp or not ups else f"with {len(ups)} transposed convolution(s)"
        raise AssertionError(f"{what}: your stage upsamples {how}; this exercise's stage upsamples x with one learnt "
                             f"2 × 2 transposed convolution of stride 2 (interpolation is another design, not this one)")
    if not bns:
        raise AssertionError(f"{what}: your stage has no BatchNorm. This exercise's block is (3×3 conv → BatchNorm → "
                             f"ReLU) twice, the kit's U-Net block; a block without normalisation is another design "
                             f"(Ronneberger et al.'s had none) and is not what is asked here")
    if len(convs) != 2 or len(bns) != 2:
        raise AssertionError(f"{what}: the spec has two 3×3 convolutions, each followed by a BatchNorm; yours has "
                             f"{len(convs)} convolution(s) besides the transposed one and {len(bns)} BatchNorm(s)")
    for c in convs:
        if tuple(c.kernel_size) != (3, 3) or tuple(c.padding) != (1, 1) or tuple(c.stride) != (1, 1):
            raise AssertionError(f"{what}: each convolution of the block is 3×3 with padding 1 and stride 1 "
                                 f"(the output keeps the skip's size); one of yours is {c}")
    order: list = []
    hooks = [m.register_forward_hook(lambda m, i, o: order.append(m)) for m in (*ups, *convs, *bns)]
    return ups[0], convs, bns, order, hooks


def _load(stage, what, out_ch, skip_ch, P, x, skip):
    up, convs, bns, order, hooks = _layers(stage, what)
    with torch.no_grad():
        stage.eval()
        stage(x, skip)
    for h in hooks:
        h.remove()
    ran_convs = [m for m in order if m in convs]
    ran_bns = [m for m in order if m in bns]
    assert len(ran_convs) == 2 and len(ran_bns) == 2 and len(set(map(id, ran_convs))) == 2, \
        f"{what}: each of the two convolutions and the two BatchNorms should run once per call"
    first, second = ran_convs
    if first.in_channels != out_ch + skip_ch:
        raise AssertionError(f"{what}: the first convolution to run sees {first.in_channels} channels; after the "
                             f"concatenation it should see out_ch + skip_ch = {out_ch + skip_ch}")
    with torch.no_grad():
        up.weight.copy_(P["up_w"])
        if up.bias is not None:
            up.bias.copy_(P["up_b"])
        else:
            P = dict(P, up_b=torch.zeros_like(P["up_b"]))
        for i, (c, bn) in enumerate(zip((first, second), ran_bns), 1):
            c.weight.copy_(P[f"w{i}"])
            if c.bias is not None:   # a bias before BatchNorm is cancelled by it: harmless, set to 0 here
                c.bias.zero_()
            bn.weight.copy_(P[f"g{i}"]), bn.bias.copy_(P[f"b{i}"])
            bn.running_mean.copy_(P[f"m{i}"]), bn.running_var.copy_(P[f"v{i}"])
            bn.eps = 1e-5
    return P


def up_stage(cls, *, seed: int = 0) -> None:
    """``cls(in_ch, skip_ch, out_ch)``; ``forward(x (N, in_ch, h, w), skip (N, skip_ch, 2h, 2w))`` → ``(N, out_ch, 2h, 2w)``.

    The written spec, checked by behaviour: shapes, gradients to both inputs, the skip at full resolution,
    non-linearity; then the spec's weights (drawn from ``seed``) are copied into the student's modules and the
    output must equal the spec's — in eval mode (running statistics) and in training mode (batch statistics).
    """
    r, g = rng(seed), _torch_gen(seed)
    configs = []
    for _ in range(2):
        out_ch = int(r.integers(3, 7))
        skip_ch = int(r.integers(2, 6))
        in_ch = int(r.integers(out_ch + 1, 2 * out_ch + 3))
        configs.append((in_ch, skip_ch, out_ch, (int(r.integers(2, 5)), int(r.integers(3, 6)))))
    with torch.random.fork_rng(), one_thread():
        torch.manual_seed(seed)
        for in_ch, skip_ch, out_ch, (h, w) in configs:
            stage = _expect_module(cls, (in_ch, skip_ch, out_ch)).eval()
            x = torch.randn(2, in_ch, h, w, generator=g, requires_grad=True)
            skip = torch.randn(2, skip_ch, 2 * h, 2 * w, generator=g, requires_grad=True)
            what = f"UpStage({in_ch}, {skip_ch}, {out_ch})(x {tuple(x.shape)}, skip {tuple(skip.shape)})"
            y = call_student(stage, x, skip, what=what, hint=f"after concatenating, the first convolution sees out_ch + "
                                                              f"skip_ch = {out_ch} + {skip_ch} channels")
            assert_shape(y, (2, out_ch, 2 * h, 2 * w), what)
            (y * torch.randn(y.shape, generator=g)).sum().backward()
            assert x.grad is not None and x.grad.abs().sum() > 0, f"{what}: the output does not depend on x"
            assert skip.grad is not None and skip.grad.abs().sum() > 0, \
                f"{what}: the output does not depend on the skip input — it is never concatenated with the upsampled x"
            x, skip = x.detach(), skip.detach()
            with torch.no_grad():
                base = stage(x, skip)
                bumps = []
                for col in (2, 3):   # two neighbours inside one 2 × 2 block must not act alike
                    s = skip.clone()
                    s[:, :, 2, col] += 2.0
                    bumps.append(stage(x, s) - base)
                assert not torch.allclose(bumps[0], bumps[1], atol=1e-6), \
                    (f"{what}: nudging skip pixel (2, 2) or its neighbour (2, 3) changes the output in the very same "
                     f"way — the skip's fine detail is lost: the merge must happen at the skip's resolution, after x "
                     f"is brought up to it")
                a = (torch.randn(x.shape, generator=g), torch.randn(skip.shape, generator=g))
                b = (torch.randn(x.shape, generator=g), torch.randn(skip.shape, generator=g))
                mid = stage((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
                assert not torch.allclose(mid, (stage(*a) + stage(*b)) / 2, atol=1e-5), \
                    f"{what}: the stage is linear (affine) — a ReLU after each BatchNorm is missing"
            P = _load(stage, what, out_ch, skip_ch, _spec_params(in_ch, skip_ch, out_ch, g), x, skip)
            for training in (False, True):
                stage.train(training)
                with torch.no_grad():
                    mine = stage(x, skip)
                ref = _spec(x, skip, P, training=training)
                if torch.allclose(mine, ref, atol=1e-4, rtol=1e-4):
                    continue
                mode = "training mode (batch statistics)" if training else "eval mode (running statistics)"
                if torch.allclose(mine, _spec(x, skip, P, order="skip, up", training=training), atol=1e-4, rtol=1e-4):
                    raise AssertionError(f"{what}: you concatenated [skip, up(x)]; the spec stacks the upsampled x "
                                         f"first, then the skip. With the same weights the two orders give different "
                                         f"outputs (here by up to {float((mine - ref).abs().max()):.3g}): the first "
                                         f"convolution's weights are laid out for one order")
                if torch.allclose(mine, _spec(x, skip, P, bn_after_relu=True, training=training), atol=1e-4, rtol=1e-4):
                    raise AssertionError(f"{what}: your block applies BatchNorm after the ReLU; the spec is conv → "
                                         f"BatchNorm → ReLU (normalise, then cut at zero: the ReLU's output is not "
                                         f"zero-mean, and the stage's output can go negative)")
                raise AssertionError(f"{what}: with the spec's weights copied into your layers, your stage's output "
                                     f"in {mode} differs from the spec's by up to {float((mine - ref).abs().max()):.3g}: "
                                     f"check the order upsample → concatenate [up(x), skip] → (conv → BatchNorm → "
                                     f"ReLU) × 2")
    passed("your U-Net stage: the 2×2 transposed conv, [up(x), skip], (conv → BN → ReLU) × 2 — the spec, number for "
           "number, in eval and training mode")
