"""Checks of lab 05 (a U-Net with the rarity loss): the pixel-weight look-up, the blended loss, a U-Net stage."""
from __future__ import annotations

import torch
import torch.nn as nn

from colorlab.course.checks import assert_close, assert_shape, call_student, passed
from colorlab.models.unet import UNet
from colorlab.rarity.bins import BinLookup
from colorlab.rarity.losses import BlendedLoss
from colorlab.rarity.prior import ABPrior

__all__ = ["pixel_weights", "blended_loss", "up_stage"]


def pixel_weights(fn) -> None:
    """``fn(ab, w, n)``: ab (N, 2, H, W) in Lab units, w (n·n,) → the weight of each pixel's bin (N, H, W),
    the same as the kit's :class:`~colorlab.rarity.bins.BinLookup` on a regular n × n grid over [−110, 110]."""
    g = torch.Generator().manual_seed(5)
    for n in (64, 10):
        w = torch.rand(n * n, generator=g) * 4 + 0.1          # every bin its own weight: a ≠ b shows
        ab = torch.rand(3, 2, 5, 7, generator=g) * 220 - 110
        ab[0, :, 0, 0] = torch.tensor([-110.0, 0.3])          # the grid's corners and borders
        ab[0, :, 0, 1] = torch.tensor([110.0, -20.0])         # a = 110 exactly: the last row of bins
        ab[0, :, 0, 2] = torch.tensor([15.0, 110.0])          # b = 110 exactly: the last column
        ab[0, :, 0, 3] = torch.tensor([109.99, -109.99])
        ref = w[BinLookup(f"regular{n}")(ab)]
        mine = call_student(fn, ab.clone(), w.clone(), n, what=f"pixel_weights(ab, w, n={n})", hint="the bin index must stay in 0 … n−1: clamp i and j (a = 110 falls on the border)")
        assert_shape(mine, (3, 5, 7), f"pixel_weights(ab (3, 2, 5, 7), w, n={n})")
        same = torch.isclose(torch.as_tensor(mine).float(), ref)
        if not same.all():
            k = tuple(int(v) for v in torch.nonzero(~same)[0])
            a, b = (float(v) for v in ab[k[0], :, k[1], k[2]])
            width = 220 / n
            i, j = int((a + 110) // width), int((b + 110) // width)
            raise AssertionError(
                f"n = {n}: {int((~same).sum())} of {same.numel()} pixels get the wrong weight; e.g. pixel {k}, "
                f"(a, b) = ({a:.2f}, {b:.2f}) lies in bin (i, j) = ({min(i, n - 1)}, {min(j, n - 1)}) → "
                f"w[{min(i, n - 1) * n + min(j, n - 1)}] = {float(ref[k]):.4f}; yours {float(mine[k]):.4f}. "
                f"Hint: i comes from a, j from b, the flat index is i·n + j, and the bin is the cell (x − lo) / width "
                f"falls in (floor, not round)")
    passed("your look-up gives every pixel the weight of its ab bin, as the kit's BinLookup does")


def blended_loss(fn) -> None:
    """``fn(pred, target, w, alpha)`` against the kit's :class:`~colorlab.rarity.losses.BlendedLoss`."""
    g = torch.Generator().manual_seed(0)
    # a lopsided 64 × 64 histogram, so that the batch's weights do not average to 1
    c = (torch.arange(64) - 34.0) ** 2
    counts = (4000 * torch.exp(-(c[:, None] + c[None, :]) / 60)).long().reshape(-1) + 1
    prior = ABPrior.from_counts(counts, grid="regular64")
    for alpha, shape in ((0.65, (3, 2, 6, 5)), (0.3, (2, 2, 4, 4))):
        blend = BlendedLoss(prior, alpha=alpha)
        target = torch.rand(*shape, generator=g) * 1.2 - 0.6
        pred = torch.rand(*shape, generator=g) * 1.2 - 0.6
        w = blend.weighted.pixel_weights(target)
        ref = blend(pred, target)
        mine = call_student(fn, pred, target, w, alpha, what=f"my_blended_loss(pred {shape}, target, w {tuple(w.shape)}, alpha={alpha})", hint="w is (N, H, W) and the squared error (N, 2, H, W): take the mean over the channel "
                                 "axis first (or use w[:, None])")
        mine = torch.as_tensor(mine)
        assert mine.numel() == 1, f"the loss should be one number, got shape {tuple(mine.shape)}"
        mse = (pred - target).square().mean()
        assert_close(mine.reshape(()), ref, f"your loss (alpha = {alpha}; the plain MSE here is {mse:.4f}, "
                                           f"the kit's blend {ref:.4f})", rtol=1e-4, atol=1e-6)
    passed(f"the blended loss matches the kit's BlendedLoss ({ref.item():.4f} at alpha = 0.3)")


def _expect_module(cls, args) -> nn.Module:
    try:
        stage = cls(*args)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to build is the student's to see
        raise AssertionError(f"UpStage{args} could not be built: {type(e).__name__}: {e}") from e
    assert isinstance(stage, nn.Module), f"UpStage{args} should be an nn.Module, got {type(stage).__name__}"
    return stage


def _kit_stage(out_ch: int):
    """A two-level kit U-Net (its one decoder stage has in_ch = 2·out_ch, skip_ch = out_ch), and the
    encoder features that reach that stage plus the stage's output, for one input."""
    net = UNet(base=out_ch, depth=2).eval()
    with torch.no_grad():
        for m in net.modules():  # BatchNorm statistics that are not the identity
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    seen = {}
    hooks = [net.stem.register_forward_hook(lambda m, i, o: seen.__setitem__("skip", o.clone())),
             net.down[0].register_forward_hook(lambda m, i, o: seen.__setitem__("x", o.clone())),
             net.merge[0].register_forward_hook(lambda m, i, o: seen.__setitem__("out", o.clone()))]
    with torch.no_grad():
        net(torch.randn(2, 1, 8, 12))
    for h in hooks:
        h.remove()
    return net, seen


def _matches_kit(stage: nn.Module, out_ch: int) -> bool | None:
    """Copy the kit's weights into ``stage`` when it is built like the kit's stage (ConvTranspose2d 2×2, then
    conv-BN-ReLU twice); None when it is built differently, else whether it gives the kit's output.
    Both concatenation orders are accepted ([up, skip] as the kit, or [skip, up])."""
    net, seen = _kit_stage(out_ch)
    ref = list(net.up[0].state_dict().values()) + list(net.merge[0].state_dict().values())
    keys = list(stage.state_dict().keys())
    mine = list(stage.state_dict().values())
    if [tuple(t.shape) for t in mine] != [tuple(t.shape) for t in ref]:
        return None
    first = next(i for i, t in enumerate(ref) if t.dim() == 4 and t.shape[1] == 2 * out_ch and t.shape[-1] == 3)
    for order in ("up, skip", "skip, up"):
        tensors = [t.clone() for t in ref]
        if order == "skip, up":
            tensors[first] = torch.cat([ref[first][:, out_ch:], ref[first][:, :out_ch]], 1)
        stage.load_state_dict(dict(zip(keys, tensors)))
        stage.eval()
        with torch.no_grad():
            out = stage(seen["x"], seen["skip"])
        if torch.allclose(out, seen["out"], atol=1e-4, rtol=1e-4):
            return True
    return False


def up_stage(cls) -> None:
    """``cls(in_ch, skip_ch, out_ch)``; ``forward(x (N, in_ch, h, w), skip (N, skip_ch, 2h, 2w))`` → ``(N, out_ch, 2h, 2w)``.

    Fair to any correct design (transposed conv or interpolation, either concatenation order): it checks
    the shapes for two channel layouts, that gradients reach both inputs, that the skip arrives at full
    resolution, and that the stage is not linear; a stage built like the kit's is also compared with the
    kit's U-Net stage, weight for weight.
    """
    with torch.random.fork_rng():
        torch.manual_seed(0)
        for in_ch, skip_ch, out_ch, (h, w) in ((8, 4, 4, (3, 5)), (6, 3, 5, (4, 4))):
            stage = _expect_module(cls, (in_ch, skip_ch, out_ch)).eval()
            x = torch.randn(2, in_ch, h, w, requires_grad=True)
            skip = torch.randn(2, skip_ch, 2 * h, 2 * w, requires_grad=True)
            what = f"UpStage({in_ch}, {skip_ch}, {out_ch})(x {tuple(x.shape)}, skip {tuple(skip.shape)})"
            y = call_student(stage, x, skip, what=what, hint=f"after concatenating, the conv block sees out_ch + skip_ch = "
                                                f"{out_ch} + {skip_ch} channels (if you upsample to out_ch first)")
            assert_shape(y, (2, out_ch, 2 * h, 2 * w), what)
            (y * torch.randn_like(y)).sum().backward()
            assert x.grad is not None and x.grad.abs().sum() > 0, f"{what}: the output does not depend on x"
            assert skip.grad is not None and skip.grad.abs().sum() > 0, \
                f"{what}: the output does not depend on the skip input — concatenate it with the upsampled x"
            with torch.no_grad():
                base = stage(x, skip)
                # the skip must reach the conv block at full resolution: two neighbours inside one
                # 2 × 2 block must not have the same effect (they would if the skip were pooled first)
                bumps = []
                for col in (2, 3):
                    s = skip.clone()
                    s[:, :, 2, col] += 2.0
                    bumps.append(stage(x, s) - base)
                assert not torch.allclose(bumps[0], bumps[1], atol=1e-6), \
                    (f"{what}: nudging skip pixel (2, 2) or its neighbour (2, 3) changes the output in the very same "
                     f"way — the skip's fine detail is lost. Upsample x to the skip's size, not the skip down to x's.")
                a = (torch.randn_like(x), torch.randn_like(skip))
                b = (torch.randn_like(x), torch.randn_like(skip))
                mid = stage((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
                assert not torch.allclose(mid, (stage(*a) + stage(*b)) / 2, atol=1e-5), \
                    f"{what}: the stage is linear (affine) — a ReLU after each convolution is missing"
        same = _matches_kit(_expect_module(cls, (8, 4, 4)), 4)
        assert same is not False, ("your stage is built like the kit's (ConvTranspose2d 2×2, then conv-BN-ReLU twice), "
                                   "but with the kit's weights copied in it gives another output than the kit's U-Net "
                                   "stage: check the order conv → BatchNorm → ReLU, padding 1 and stride 2")
    note = ", and it matches the kit's U-Net stage weight for weight" if same else \
        " (built differently from the kit's stage, so checked by behaviour)"
    passed(f"your U-Net stage upsamples, concatenates the skip and mixes them{note}")
