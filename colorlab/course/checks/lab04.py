"""Checks of lab 04's exercises (a plain CNN trained with MSE): the best constant under MSE, a
Conv–BatchNorm–ReLU block, and one training step written by hand.

References: the mean (what MSE's minimiser is), :func:`colorlab.models.base.conv_bn_relu` (the kit's
block) and one step of plain PyTorch training with the kit's loss :class:`colorlab.rarity.losses.MSELoss`
(what fastai's ``Learner`` does for every batch of ``train_colorizer``: forward, loss, backward, step,
zero the gradients). Every check takes ``seed``: its inputs (sizes, values) are drawn from it.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn as nn

from colorlab.data.scenes import FRUIT_MODES
from colorlab.rarity.losses import MSELoss
from colorlab.models import PlainCNN
from colorlab.models.base import conv_bn_relu
from colorlab.course.checks import as_numpy, assert_close, call_student, not_the_kit, one_thread, passed, rng

__all__ = ["best_constant_ab", "conv_block", "not_the_kit", "train_step"]


def _shape(x) -> str:
    return f"{type(x).__name__} {str(x.dtype).replace('torch.', '')} {tuple(x.shape)}"


# --------------------------------------------------------------------------- exercise 1
def _fruit_pixels(seed: int = 0) -> tuple[torch.Tensor, float]:
    """ab (N, 2, H, W) of fruit pixels in Lab units: red on a share p of them, teal on the rest, a little noise."""
    r = rng(seed)
    n, h, w = int(r.integers(8, 16)), int(r.integers(3, 7)), int(r.integers(3, 7))
    p = float(r.uniform(0.6, 0.8))
    red = r.random((n, h, w)) < p
    ab = np.where(red[:, None], np.array(FRUIT_MODES[0])[None, :, None, None],
                  np.array(FRUIT_MODES[1])[None, :, None, None])
    return torch.tensor(ab + r.normal(0, 4, ab.shape), dtype=torch.float32), float(red.mean())


def best_constant_ab(fn, seed: int = 0) -> None:
    """``fn(ab (N, 2, H, W) float32) → c (2,)`` minimising mean((ab − c)²): the mean ab."""
    ab, share = _fruit_pixels(seed)
    got = call_student(fn, ab.clone(), what=f"best_constant_ab({_shape(ab)})")
    c = as_numpy(got, "your constant")
    assert c.shape == (2,), (f"return one ab pair, shape (2,); got shape {c.shape}: average over every axis but the "
                             "channel axis (axis 1)")
    x = ab.double().numpy()
    flat = x.transpose(1, 0, 2, 3).reshape(2, -1)
    mean = flat.mean(1)
    rounded = np.round(flat / 10) * 10
    values, counts = np.unique(rounded.T, axis=0, return_counts=True)
    variants = {
        "the midrange, halfway between the smallest and the largest value: it ignores how many pixels are red":
            (flat.max(1) + flat.min(1)) / 2,
        "the median of each channel: the median minimises the absolute (L1) error, not the squared one":
            np.median(flat, axis=1),
        "the (lower) median of each channel: the median minimises the absolute (L1) error, not the squared one":
            np.sort(flat, axis=1)[:, (flat.shape[1] - 1) // 2],
        "the colour of one pixel (the first): the constant has to serve every pixel": x[0, :, 0, 0],
        "the mean of the first image only: average over every image too": x[0].mean(axis=(1, 2)),
        "the most common colour (the mode): under MSE a guess is paid for by its squared distance to every pixel, "
        "not by how often it is exactly right": values[counts.argmax()],
    }
    for why, v in variants.items():
        if np.allclose(c, v, atol=1e-2) and not np.allclose(v, mean, atol=1e-2):
            raise AssertionError(f"your c = ({c[0]:.2f}, {c[1]:.2f}) is {why}")
    mse = lambda v: float(((x - np.asarray(v).reshape(1, 2, 1, 1)) ** 2).mean())
    for d in rng(seed + 1).normal(size=(16, 2)):  # several random directions, several step lengths
        d = d / np.linalg.norm(d)
        for step in (0.5, 3.0, 20.0):
            other = c + step * d
            assert mse(c) <= mse(other) + 1e-6, (
                f"your c = ({c[0]:.2f}, {c[1]:.2f}) has MSE {mse(c):.2f}, but ({other[0]:.2f}, {other[1]:.2f}) has "
                f"{mse(other):.2f}: a lower one. Here {share:.0%} of the pixels are red and the rest teal — which single "
                "ab is closest to all of them on average, in squared distance?")
    assert_close(c, mean, "your constant", atol=1e-3)
    passed(f"the best constant is the mean, ({c[0]:.1f}, {c[1]:.1f}): a dull mix of red and teal, neither colour")


# --------------------------------------------------------------------------- exercise 2
def _configs(seed: int):
    r = rng(seed)
    out = []
    for stride in (1, 2, 2):
        out.append((int(r.integers(1, 6)), int(r.integers(3, 10)), stride, int(r.integers(8, 14))))
    return out


def conv_block(fn, seed: int = 0) -> None:
    """``fn(in_ch, out_ch, stride) → nn.Module``: 3×3 conv (padding 1, that stride) → BatchNorm2d → ReLU."""
    with one_thread():   # tiny convolutions: one thread is fastest, and far faster on a busy machine
        _conv_block(fn, seed)


def _conv_block(fn, seed: int) -> None:
    for n, (cin, cout, stride, size) in enumerate(_configs(seed)):
        torch.manual_seed(seed + n)
        call = f"conv_block({cin}, {cout}, {stride})"
        block = call_student(fn, cin, cout, stride, what=call)
        assert isinstance(block, nn.Module), f"{call} should return an nn.Module, got {type(block).__name__}"
        pools = [type(m).__name__ for m in block.modules() if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d))]
        assert not pools, (f"{call} downsamples with {pools[0]} after the convolution: the right shape, but a different "
                           "block — here the convolution itself takes every second position (its stride)")
        convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
        bns = [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)]
        assert len(convs) == 1 and len(bns) == 1, (f"{call} holds {len(convs)} Conv2d and {len(bns)} BatchNorm2d "
                                                   "layers; one of each wanted")
        conv, bn = convs[0], bns[0]
        assert tuple(conv.weight.shape) == (cout, cin, 3, 3), (
            f"the convolution's weight is {tuple(conv.weight.shape)}, expected ({cout}, {cin}, 3, 3): "
            f"{cin} channels in, {cout} out, a 3×3 kernel")
        assert conv.padding in ((1, 1), "same"), (f"{call}: your convolution pads by {conv.padding}: a 3×3 kernel "
                                                  "needs one pixel of zeros on every side to keep H×W at stride 1")
        assert tuple(conv.stride) == (stride, stride), (f"{call}: your convolution's stride is {tuple(conv.stride)}: "
                                                        f"the block's stride ({stride}) belongs to the convolution")
        assert bn.num_features == cout, (f"{call}: your BatchNorm normalises {bn.num_features} channels: it comes after "
                                         f"the convolution, so it sees the conv's {cout} output channels")
        ref = conv_bn_relu(cin, cout, stride)
        with torch.no_grad():
            ref[0].weight.copy_(conv.weight)  # same filters; a conv bias (if any) is removed by BatchNorm in training
        x = torch.randn(4, cin, size, size, generator=torch.Generator().manual_seed(seed * 7 + n))
        block.train(), ref.train()
        y = call_student(block, x.clone(), what=f"your block from {call} on a batch {_shape(x)}")
        want = ref(x)
        assert isinstance(y, torch.Tensor) and tuple(y.shape) == tuple(want.shape), (
            f"{call} on {tuple(x.shape)} gives {tuple(getattr(y, 'shape', ()))}, expected {tuple(want.shape)}")
        assert (y >= 0).all(), (f"{call}'s output has negative values: the ReLU has to come last, after the "
                                "normalisation (Conv → BatchNorm → ReLU)")
        assert_close(y, want, f"{call}'s output (given the same conv weights)", atol=1e-4, rtol=1e-3)
    passed("Conv(3×3, padding 1, stride) → BatchNorm → ReLU: right shapes, and the same output as the kit's block")


# --------------------------------------------------------------------------- exercise 3
def _reference_step(model, opt, L, ab) -> tuple[float, float, float, float]:
    """One step; returns the MSE it trained on and, for the messages, its L1, its sum, and the MSE after."""
    pred = model(L)
    loss = MSELoss()(pred, ab)
    l1, total = float((pred - ab).detach().abs().mean()), float(((pred - ab).detach() ** 2).sum())
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.no_grad():
        after = float(MSELoss()(copy.deepcopy(model)(L), ab))  # a copy: BatchNorm's running stats stay as they are
    return loss.item(), l1, total, after


def _params(model) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def _has_gradients(model) -> bool:
    return any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in model.parameters())


def train_step(fn, seed: int = 0) -> None:
    """``fn(model, opt, L, ab) → float``: one step of training with MSE, held against the reference step."""
    with one_thread():   # tiny convolutions: one thread is fastest, and far faster on a busy machine
        _train_step(fn, seed)


def _train_step(fn, seed: int) -> None:
    torch.manual_seed(seed)
    r = rng(seed)
    n, side = int(r.integers(3, 6)), 8
    model = PlainCNN(base=4, batchnorm=True)  # a tiny version of the lab's network
    ref = copy.deepcopy(model)
    lr = float(r.choice([0.05, 0.1]))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=lr, momentum=0.9)
    g = torch.Generator().manual_seed(seed)
    for t in range(1, 5):
        L = torch.rand(n, 1, side, side, generator=g) * 2 - 1
        ab = (torch.rand(n, 2, side, side, generator=g) - 0.5) * 0.8
        before = _params(model)
        want, l1, total, after = _reference_step(ref, ref_opt, L, ab)
        got = call_student(fn, model, opt, L.clone(), ab.clone(),
                           what=f"train_step(PlainCNN, SGD, L {_shape(L)}, ab {_shape(ab)}) (step {t})")
        try:
            got = float(got)
        except (TypeError, ValueError, RuntimeError):
            raise AssertionError(f"train_step should return the loss as one Python float, got {type(got).__name__}") from None
        close = lambda a, b: abs(a - b) <= 1e-4 * abs(b) + 1e-7
        if not close(got, want):
            for value, why in ((l1, "the mean *absolute* error (L1); the lab's loss is the mean *squared* error"),
                               (total, "the *sum* of the squared errors: take their mean, or the gradients grow with "
                                       "the number of pixels"),
                               (after, "the loss *after* the update (a second forward pass): return the loss this "
                                       "step computed its gradients from")):
                if close(got, value):
                    raise AssertionError(f"step {t}: you return {got:.6g}, {why}")
            raise AssertionError(f"step {t}: you return the loss {got:.6g}, expected {want:.6g}: the mean squared error "
                                 "of this batch's prediction, before the update")
        now, target = _params(model), _params(ref)
        if torch.equal(now, before):
            if _has_gradients(model):
                raise AssertionError(f"step {t}: your step did not move the weights, yet gradients are stored: the "
                                     "optimizer stepped before back-propagation had computed them")
            raise AssertionError(f"step {t}: your step did not move the weights and no gradient is left: the gradients "
                                 "were cleared after back-propagation and before the optimizer used them")
        diff = float((now - target).abs().max())
        assert diff <= 1e-5, (f"step {t}: your parameters differ from the reference step's by up to {diff:.3g}"
                              + (" — the first step matched, so something carries over between steps: PyTorch *adds* "
                                 "new gradients to the stored ones until they are cleared" if t > 1 else
                                 " — forward, MSE, clear the gradients, back-propagate, step, in that order"))
    passed("four steps of your train_step move the weights exactly as the reference step "
           "(forward → MSE → clear the gradients → backward → step)")
