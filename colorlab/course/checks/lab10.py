"""Checks of lab 10 (evaluation): PSNR per image, and the fooled rate of a Turing test with its Wilson interval.

References: :func:`colorlab.evaluation.metrics.psnr` and :func:`colorlab.widgets.turing_test.wilson_interval`.
"""
from __future__ import annotations

import numpy as np
import torch

from colorlab.course.checks import as_numpy, assert_close, assert_shape, call_student, passed
from colorlab.evaluation.metrics import psnr
from colorlab.widgets.turing_test import wilson_interval

__all__ = ["my_psnr", "fooled_rate"]


def my_psnr(fn) -> None:
    """``fn(pred, target)`` on RGB ``(N, 3, H, W)`` in [0, 1] → PSNR in dB per image ``(N,)``."""
    g = torch.Generator().manual_seed(0)
    target = torch.rand(4, 3, 8, 8, generator=g)
    # the error differs from image to image AND from channel to channel (red noisy, blue clean, ...)
    noise = torch.tensor([[0.01, 0.02, 0.04], [0.05, 0.05, 0.05], [0.2, 0.02, 0.01], [0.1, 0.3, 0.02]])
    pred = (target + torch.randn(4, 3, 8, 8, generator=g) * noise.view(4, 3, 1, 1)).clamp(0, 1)
    mine = call_student(fn, pred, target, what="my_psnr", hint="pred and target are (N, 3, H, W) tensors")
    ref = psnr(pred, target)
    assert_shape(as_numpy(mine), tuple(ref.shape), "my_psnr(pred, target) (one PSNR per image)")
    m = as_numpy(mine)
    per_channel = 10 * torch.log10(1 / (pred - target).square().mean((2, 3))).mean(1)
    if np.allclose(m, per_channel.numpy(), atol=1e-3) and not np.allclose(m, ref.numpy(), atol=1e-3):
        raise AssertionError("my_psnr averages the PSNR of the three channels; PSNR is 10·log10(1 / MSE) with the "
                             "MSE taken over channels AND pixels of the image (average the squared errors, not the dBs)")
    try:
        assert_close(mine, ref, "my_psnr(pred, target)", atol=1e-3, rtol=1e-5)
    except AssertionError as e:
        raise AssertionError(f"{e}. PSNR = 10·log10(1 / MSE), the MSE being the mean of the squared differences "
                             f"over the channels and pixels of each image (one MSE per image)") from None
    passed(f"PSNR per image is right: {[round(v, 2) for v in ref.tolist()]} dB")


def fooled_rate(fn) -> None:
    """``fn(fooled)`` (list of bools, True where the colorization was picked) → ``(rate, low, high)``, 95 % Wilson."""
    rng = np.random.default_rng(10)
    cases = [[True, False, False, True, False, False, True, False, False, False],    # 3 of 10
             [False] * 10,                                                           # never fooled
             [True] * 5,                                                             # always fooled
             [bool(v) for v in rng.random(100) < 0.32],                              # about Zhang et al.'s 32 %
             [True]]
    for fooled in cases:
        k, n = sum(fooled), len(fooled)
        out = call_student(fn, list(fooled), what="fooled_rate", hint="fooled is a list of True/False; return three numbers (rate, low, high)")
        got = as_numpy(out, "fooled_rate(...)").reshape(-1)
        assert got.size == 3, f"fooled_rate should return three numbers (rate, low, high), got {got.size}"
        rate = k / n
        low, high = wilson_interval(k, n)
        what = f"fooled_rate on {k} fooled of {n} trials"
        if abs(got[0] - (1 - rate)) < 1e-6 and abs(rate - 0.5) > 1e-6:
            raise AssertionError(f"{what}: your rate {got[0]:.3f} is the share of trials where the REAL photo was "
                                 f"picked; the fooled rate is the share where the colorization was ({rate:.3f})")
        assert_close(got[0], rate, f"{what}: the rate", atol=1e-6)
        if abs(got[1] - max(0.0, rate - 1.959964 * np.sqrt(rate * (1 - rate) / n))) < 1e-6 and abs(got[1] - low) > 1e-4:
            raise AssertionError(f"{what}: you computed the normal (Wald) interval rate ± z·sqrt(rate(1 − rate)/n); "
                                 f"Wilson's interval is centred at (p̂ + z²/2n)/(1 + z²/n) — it is not empty at 0 "
                                 f"or n fooled (expected {low:.4f}–{high:.4f})")
        assert_close(got[1:], [low, high], f"{what}: the 95 % Wilson interval (low, high)", atol=1e-4)
        assert got[1] <= got[0] <= got[2], f"{what}: the interval {got[1]:.3f}–{got[2]:.3f} should contain the rate"
    passed("fooled rate and 95 % Wilson interval agree with colorlab.widgets.turing_test.wilson_interval "
           f"(3 of 10: 30 %, {100 * wilson_interval(3, 10)[0]:.0f}–{100 * wilson_interval(3, 10)[1]:.0f} %)")
