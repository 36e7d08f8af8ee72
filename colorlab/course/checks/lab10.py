"""Checks of lab 10 (evaluation): PSNR per image, and the fooled rate of a Turing test with its Wilson interval.

References: :func:`colorlab.evaluation.metrics.psnr` and :func:`colorlab.widgets.turing_test.wilson_interval`.
Each known mistake is recognised by what it would have returned, and named. Every check draws its inputs from
``seed``: the hidden tests run them on a seed of their own.
"""
from __future__ import annotations

import numpy as np
import torch

from colorlab.course.checks import as_numpy, assert_close, assert_shape, call_student, not_the_kit, passed, rng
from colorlab.evaluation.metrics import psnr
from colorlab.widgets.turing_test import wilson_interval

__all__ = ["my_psnr", "fooled_rate", "not_the_kit"]


def _psnr_case(seed: int):
    """RGB in [0, 1], ``(N, 3, H, W)``: the error differs from image to image AND from channel to channel."""
    r = rng(seed)
    n, h, w = int(r.integers(3, 6)), int(r.integers(6, 11)), int(r.integers(6, 11))
    target = torch.tensor(r.random((n, 3, h, w)), dtype=torch.float32)
    noise = torch.tensor(r.choice([0.01, 0.02, 0.05, 0.1, 0.2, 0.3], (n, 3)), dtype=torch.float32)
    noise[0] = torch.tensor([0.01, 0.05, 0.3])                      # one image: clean red, noisy blue
    pred = (target + torch.tensor(r.normal(0, 1, (n, 3, h, w)), dtype=torch.float32) * noise.view(n, 3, 1, 1)).clamp(0, 1)
    return pred, target


def my_psnr(fn, seed: int = 0) -> None:
    """``fn(pred, target)`` on RGB ``(N, 3, H, W)`` torch tensors in [0, 1] → PSNR in dB per image, a tensor ``(N,)``."""
    pred, target = _psnr_case(seed)
    n = len(pred)
    what = f"my_psnr(pred, target) on {n} images of shape {tuple(pred.shape[1:])}"
    out = call_student(fn, pred.clone(), target.clone(), what=what,
                       hint="pred and target are torch tensors (N, 3, H, W); return one PSNR per image")
    assert isinstance(out, torch.Tensor), (f"{what} returned a {type(out).__name__}; the contract asks for a torch "
                                           f"tensor of shape ({n},)")
    ref = psnr(pred, target).double()
    mine = as_numpy(out, what)
    if mine.size == 1 and n > 1:
        raise AssertionError(f"{what} returned one number; PSNR is per image: one MSE per image over its channels "
                             f"and pixels, so {n} values")
    assert_shape(mine, (n,), f"{what} (one PSNR per image)")
    sq = (pred - target).double().square()
    mistakes = [
        ((10 * torch.log10(1 / sq.mean())).expand(n),
         "every image has the same PSNR: you took one MSE over the whole batch; take one MSE per image (over its "
         "channels and pixels)"),
        (2 * ref, "you used 20·log10(1 / MSE): 20·log10 is for amplitudes (1 / RMSE); for the squared error it is "
                  "10·log10(1 / MSE)"),
        ((10 * torch.log10(1 / sq.mean((2, 3)))).mean(1),
         "you averaged the PSNRs of the three channels; PSNR is 10·log10(1 / MSE) with the MSE taken over channels "
         "AND pixels of the image (average the squared errors, not the dBs)"),
        (10 * torch.log10(1 / (pred - target).double().abs().flatten(1).mean(1)),
         "you averaged the absolute errors; PSNR uses the mean SQUARED error"),
    ]
    for alt, message in mistakes:
        alt = alt.numpy()
        if np.allclose(mine, alt, atol=1e-3) and not np.allclose(alt, ref.numpy(), atol=1e-3):
            raise AssertionError(f"{what}: {message}")
    try:
        assert_close(mine, ref, what, atol=1e-3, rtol=1e-5)
    except AssertionError as e:
        raise AssertionError(f"{e}. PSNR = 10·log10(1 / MSE), the MSE being the mean of the squared differences "
                             f"over the channels and pixels of each image (one MSE per image)") from None
    passed(f"PSNR per image is right: {[round(v, 2) for v in ref.tolist()]} dB")


_Z = 1.959963984540054   # the normal distribution's 97.5 % point


def _wilson(k: int, n: int, z: float = _Z, extra: bool = True) -> tuple[float, float, float]:
    p = k / n
    centre = (p + z ** 2 / (2 * n)) / (1 + z ** 2 / n)
    half = z / (1 + z ** 2 / n) * np.sqrt(p * (1 - p) / n + (z ** 2 / (4 * n ** 2) if extra else 0.0))
    return p, centre - half, centre + half


def _fooled_cases(seed: int) -> list[list[bool]]:
    r = rng(seed)
    ten = [bool(v) for v in r.permutation([True] * int(r.integers(2, 5)) + [False] * 10)[:10]]
    n_big = int(r.integers(60, 150))
    return [ten,                                                      # a few of 10
            [False] * int(r.integers(5, 21)),                         # never fooled
            [True] * int(r.integers(3, 9)),                           # always fooled
            [bool(v) for v in r.random(n_big) < 0.32],                # about Zhang et al.'s 32 %
            [True]]


def fooled_rate(fn, seed: int = 0) -> None:
    """``fn(fooled)`` (a list of bools, True where the colorization was picked) → ``(rate, low, high)``, 95 % Wilson."""
    for fooled in _fooled_cases(seed):
        k, n = sum(fooled), len(fooled)
        what = f"fooled_rate on {k} fooled of {n} trials"
        out = call_student(fn, list(fooled), what=what,
                           hint="fooled is a list of True/False; return three numbers (rate, low, high)")
        got = as_numpy(out, what).reshape(-1)
        assert got.size == 3, f"{what} should return three numbers (rate, low, high), got {got.size}"
        rate = k / n
        low, high = wilson_interval(k, n)
        ref = np.array([rate, low, high])
        if abs(got[0] - (1 - rate)) < 1e-6 and abs(rate - 0.5) > 1e-6:
            raise AssertionError(f"{what}: your rate {got[0]:.3f} is the share of trials where the REAL photo was "
                                 f"picked; the fooled rate is the share where the colorization was ({rate:.3f})")
        assert_close(got[0], rate, f"{what}: the rate (the share of trials where the colorization was picked)", atol=1e-6)
        half = _Z * np.sqrt(rate * (1 - rate) / n)
        mistakes = [
            ((rate, max(0.0, rate - half), min(1.0, rate + half)),
             "you computed the normal (Wald) interval rate ± z·sqrt(rate(1 − rate)/n); Wilson's interval is centred "
             f"at (p̂ + z²/2n)/(1 + z²/n) and is not empty at 0 or n fooled (expected {low:.4f}–{high:.4f})"),
            ((rate, rate - half, rate + half),
             "you computed the normal (Wald) interval rate ± z·sqrt(rate(1 − rate)/n); Wilson's interval is centred "
             f"at (p̂ + z²/2n)/(1 + z²/n) and is not empty at 0 or n fooled (expected {low:.4f}–{high:.4f})"),
            (_wilson(k, n, z=1.645), "your interval is too narrow: z = 1.645 gives a 90 % interval; 95 % needs "
                                     "z = 1.96 (the normal distribution's 97.5 % point)"),
            (_wilson(k, n, extra=False), "the term z²/4n² under the square root is missing: without it the interval "
                                         "collapses to a point at 0 or n fooled"),
        ]
        for alt, message in mistakes:
            alt = np.asarray(alt, dtype=np.float64)
            if np.allclose(got, alt, atol=1e-4) and not np.allclose(alt, ref, atol=1e-4):
                raise AssertionError(f"{what}: {message}")
        assert_close(got[1:], [low, high], f"{what}: the 95 % Wilson interval (low, high)", atol=1e-4)
        assert got[1] - 1e-9 <= got[0] <= got[2] + 1e-9, f"{what}: the interval {got[1]:.3f}–{got[2]:.3f} should contain the rate"
    passed("fooled rate and 95 % Wilson interval agree with colorlab.widgets.turing_test.wilson_interval "
           f"(3 of 10: 30 %, {100 * wilson_interval(3, 10)[0]:.0f}–{100 * wilson_interval(3, 10)[1]:.0f} %)")
