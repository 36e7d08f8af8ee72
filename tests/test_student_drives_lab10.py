"""Lab 10: the student's ``my_psnr`` computes the PSNR column of the lab's metrics table (``evaluate(psnr=...)``)
and their ``fooled_rate`` reports its Turing test (``TuringTest(fooled_rate=...)``). A different function changes
what the lab shows; the kit's own gives exactly the default."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from colorlab.course.checks import one_thread
from colorlab.evaluation.evaluate import evaluate
from colorlab.evaluation.metrics import psnr
from colorlab.widgets.turing_test import TuringTest, fooled_rate


class _ConstantColorizer(nn.Module):
    """Paints every pixel one colour (a = 0.2 · 110, b = −0.1 · 110)."""

    in_channels, head = 1, "regression"

    def forward(self, x):
        out = x.new_zeros(x.shape[0], 2, *x.shape[-2:])
        out[:, 0], out[:, 1] = 0.2, -0.1
        return out


def _photos() -> np.ndarray:
    y, x = np.mgrid[0:12, 0:12] / 11.0
    return np.stack([(np.stack([0.5 + 0.5 * np.sin(3 * x + k), 0.5 + 0.4 * np.cos(2 * y + k), 0.3 + 0.3 * x * y], -1)
                      * 255).astype(np.uint8) for k in range(3)])


def _psnr_of_channels(pred, target):
    """A wrong PSNR: the mean of the three channels' PSNRs."""
    return (10 * torch.log10(1 / (pred - target).square().mean((2, 3)))).mean(1)


def test_the_students_psnr_fills_the_tables_psnr_column():
    kw = dict(device="cpu", progress=False, groups=None)
    models = {"constant": _ConstantColorizer()}
    with one_thread():   # tiny images: threads only cost time here
        default = evaluate(models, _photos(), **kw)["PSNR (dB)"].to_numpy()
        kit = evaluate(models, _photos(), psnr=psnr, **kw)["PSNR (dB)"].to_numpy()
        other = evaluate(models, _photos(), psnr=_psnr_of_channels, **kw)["PSNR (dB)"].to_numpy()
    assert np.allclose(default, kit)
    assert not np.allclose(other, kit, atol=1e-3)


def _played(rate_fn=None) -> TuringTest:
    photos = _photos()
    test = TuringTest(list(photos), [p[::-1].copy() for p in photos], seed=0, fooled_rate=rate_fn)
    for side in ("left", "left", "right"):
        test.choose(side)
    return test


def test_the_students_fooled_rate_reports_the_turing_test():
    default, kit = _played().report(), _played(fooled_rate).report()
    assert (default.fooled_rate, default.ci_low, default.ci_high) == (kit.fooled_rate, kit.ci_low, kit.ci_high)
    wald = lambda f: (sum(f) / len(f), 0.0, 1.0)  # noqa: E731 - a wrong interval
    other = _played(wald).report()
    assert other.fooled == default.fooled and (other.ci_low, other.ci_high) != (default.ci_low, default.ci_high)
    assert TuringTest([_photos()[0]], [_photos()[1]], fooled_rate=wald).report().trials == 0  # nothing to rate yet
