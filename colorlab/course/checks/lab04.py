"""Checks of lab 04's exercises (a plain CNN trained with MSE): the best constant under MSE, a
Conv–BatchNorm–ReLU block, and one training step written by hand.

References: the mean (what MSE's minimiser is), :func:`colorlab.models.base.conv_bn_relu` (the kit's
block) and one step of plain PyTorch training with the kit's loss :class:`colorlab.rarity.losses.MSELoss`
(what fastai's ``Learner`` does for every batch of ``train_colorizer``: forward, loss, backward, step,
zero the gradients).
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
from colorlab.course.checks import as_numpy, assert_close, call_student, passed, rng

__all__ = ["best_constant_ab", "conv_block", "train_step"]


# --------------------------------------------------------------------------- exercise 1
def _fruit_pixels(seed: int = 0) -> torch.Tensor:
    """ab (N, 2, H, W) of fruit pixels: red on 70 % of them, teal on 30 %, with a little noise (ab units)."""
    r = rng(seed)
    n, h, w = 12, 4, 4
    red = r.random((n, h, w)) < 0.7
    ab = np.where(red[:, None], np.array(FRUIT_MODES[0])[None, :, None, None],
                  np.array(FRUIT_MODES[1])[None, :, None, None])
    return torch.tensor(ab + r.normal(0, 4, ab.shape), dtype=torch.float32)


def best_constant_ab(fn) -> None:
    """``fn(ab (N, 2, H, W)) → c (2,)`` minimising mean((ab − c)²): the mean ab."""
    ab = _fruit_pixels()
    got = call_student(fn, ab.clone(), what="best_constant_ab(ab)")
    c = as_numpy(got, "your constant")
    assert c.shape == (2,), f"return one ab pair, shape (2,); got shape {c.shape} (average over every axis but the channel)"
    x = ab.double().numpy()
    mse = lambda v: float(((x - np.asarray(v).reshape(1, 2, 1, 1)) ** 2).mean())
    r = rng(1)
    for d in r.normal(size=(16, 2)):  # several random directions, several step lengths
        d = d / np.linalg.norm(d)
        for step in (0.5, 3.0, 20.0):
            other = c + step * d
            assert mse(c) <= mse(other) + 1e-6, (
                f"your c = ({c[0]:.2f}, {c[1]:.2f}) has MSE {mse(c):.2f}, but ({other[0]:.2f}, {other[1]:.2f}) has "
                f"{mse(other):.2f}: a lower one. Here 70 % of the pixels are red and 30 % teal — which single "
                "ab is closest to all of them on average, in squared distance?")
    mean = x.mean(axis=(0, 2, 3))
    assert_close(c, mean, "your constant", atol=1e-3)
    passed(f"the best constant is the mean, ({c[0]:.1f}, {c[1]:.1f}): a dull mix of red and teal, neither colour")


# --------------------------------------------------------------------------- exercise 2
def conv_block(fn) -> None:
    """``fn(in_ch, out_ch, stride) → nn.Module``: 3×3 conv (padding 1, that stride) → BatchNorm2d → ReLU."""
    for cin, cout, stride, size in [(3, 8, 1, 12), (4, 6, 2, 12), (2, 5, 2, 9)]:
        torch.manual_seed(0)
        block = call_student(fn, cin, cout, stride, what=f"conv_block({cin}, {cout}, {stride})")
        assert isinstance(block, nn.Module), f"return an nn.Module (e.g. nn.Sequential), got {type(block).__name__}"
        convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
        bns = [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)]
        assert len(convs) == 1 and len(bns) == 1, (f"conv_block({cin}, {cout}, {stride}) holds {len(convs)} Conv2d and "
                                                   f"{len(bns)} BatchNorm2d layers; one of each wanted")
        conv, bn = convs[0], bns[0]
        assert tuple(conv.weight.shape) == (cout, cin, 3, 3), (
            f"the convolution's weight is {tuple(conv.weight.shape)}, expected ({cout}, {cin}, 3, 3): "
            f"{cin} channels in, {cout} out, a 3×3 kernel")
        assert bn.num_features == cout, f"BatchNorm2d normalises the conv's {cout} output channels, not {bn.num_features}"
        ref = conv_bn_relu(cin, cout, stride)
        with torch.no_grad():
            ref[0].weight.copy_(conv.weight)  # same filters; a conv bias (if any) is removed by BatchNorm in training
        x = torch.randn(4, cin, size, size, generator=torch.Generator().manual_seed(stride))
        block.train(), ref.train()
        y = call_student(block, x.clone(), what=f"your block on a batch {tuple(x.shape)}")
        want = ref(x)
        assert isinstance(y, torch.Tensor) and tuple(y.shape) == tuple(want.shape), (
            f"conv_block({cin}, {cout}, stride={stride}) on {tuple(x.shape)} gives "
            f"{tuple(getattr(y, 'shape', ()))}, expected {tuple(want.shape)}: padding=1 keeps H×W at stride 1, "
            "and the stride goes to the convolution")
        assert (y >= 0).all(), "your block's output has negative values: the ReLU comes last (Conv → BatchNorm → ReLU)"
        assert_close(y, want, f"conv_block({cin}, {cout}, stride={stride})'s output (given the same conv weights)",
                     atol=1e-4, rtol=1e-3)
    passed("Conv(3×3, padding 1, stride) → BatchNorm → ReLU: right shapes, and the same output as the kit's block")


# --------------------------------------------------------------------------- exercise 3
def _reference_step(model, opt, L, ab) -> float:
    loss = MSELoss()(model(L), ab)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def _params(model) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def train_step(fn) -> None:
    """``fn(model, opt, L, ab) → float``: one step of training with MSE, held against the reference step."""
    torch.manual_seed(0)
    model = PlainCNN(base=4, batchnorm=True)  # a tiny version of the lab's network
    ref = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    for t in range(1, 5):
        L = torch.rand(4, 1, 8, 8, generator=g) * 2 - 1
        ab = (torch.rand(4, 2, 8, 8, generator=g) - 0.5) * 0.8
        before = _params(model)
        want = _reference_step(ref, ref_opt, L, ab)
        got = call_student(fn, model, opt, L.clone(), ab.clone(), what=f"train_step (step {t})")
        try:
            got = float(got)
        except (TypeError, ValueError, RuntimeError):
            raise AssertionError(f"train_step should return the loss as a float (loss.item()), got {type(got).__name__}") from None
        assert abs(got - want) <= 1e-4 * abs(want) + 1e-7, (
            f"step {t}: you return the loss {got:.6g}, expected {want:.6g}: the mean squared error of the prediction "
            "for this batch, computed before the update (F.mse_loss or ((pred - ab) ** 2).mean())")
        now, target = _params(model), _params(ref)
        assert not torch.equal(now, before), (f"step {t}: your step did not change the parameters: call loss.backward() "
                                             "and then opt.step() (opt.step() before backward has no gradient to use, "
                                             "and zero_grad between backward and step throws them away)")
        diff = float((now - target).abs().max())
        assert diff <= 1e-5, (f"step {t}: your parameters differ from the reference step's by up to {diff:.3g}"
                              + (" — the first step matched, so something carries over between steps: PyTorch *adds* "
                                 "new gradients to the old ones until you call opt.zero_grad()" if t > 1 else
                                 " — forward, MSE loss, opt.zero_grad(), loss.backward(), opt.step(), in that order"))
    passed("four steps of your train_step move the weights exactly as the reference step "
           "(forward → MSE → zero_grad → backward → step)")
