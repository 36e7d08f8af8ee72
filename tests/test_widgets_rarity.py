"""RarityExplorer draws its weight maps on one fixed colour range, so moving the λ slider changes
the picture instead of only the colour bar (driven through plain Python, no browser)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from colorlab.rarity.prior import ABPrior  # noqa: E402
from colorlab.viz.stats import SLIDER_LAMS, weight_range  # noqa: E402
from colorlab.widgets import RarityExplorer  # noqa: E402


@pytest.fixture(scope="module")
def prior():
    """A skewed prior on Zhang's 313 bins: a few common bins, a long tail, many never seen."""
    g = torch.Generator().manual_seed(0)
    counts = (torch.rand(313, generator=g) ** 8 * 1e4).long()
    counts[torch.rand(313, generator=g) < 0.5] = 0
    return ABPrior.from_counts(counts)


@pytest.fixture(scope="module")
def photo():
    rng = np.random.default_rng(0)
    img = np.zeros((24, 32, 3), np.uint8)
    img[:, :16] = (200, 40, 40)     # red
    img[:, 16:] = (120, 120, 110)   # near gray
    return np.clip(img + rng.integers(-10, 10, img.shape), 0, 255).astype(np.uint8)


def _norms(fig):
    """(vmin, vmax) of the weight map on the ab plane and of the pixel-weight panel."""
    ab_map, pixels = fig.axes[0].images[0], fig.axes[2].images[0]
    return (ab_map.norm.vmin, ab_map.norm.vmax), (pixels.norm.vmin, pixels.norm.vmax)


def test_the_colour_range_is_the_same_for_every_lambda(prior, photo):
    ex = RarityExplorer(prior, photo)
    fixed = ex.weight_range("zhang")
    seen, colours = set(), []
    for lam in (0.05, 0.3, 0.5, 0.9, 1.0):
        ex.set("zhang", lam)
        fig = ex.figure()
        ab_norm, px_norm = _norms(fig)
        assert ab_norm == pytest.approx(fixed) and px_norm == pytest.approx(fixed), lam
        seen.add(ab_norm)
        im = fig.axes[0].images[0]
        colours.append(np.asarray(im.norm(im.get_array()).filled(np.nan)))
        plt.close(fig)
    assert len(seen) == 1
    # the picture changes with λ: on a fixed scale, λ = 1 (all weights 1) looks unlike λ = 0.05
    assert np.nanmax(np.abs(colours[0] - colours[-1])) > 0.3


def test_the_fixed_range_holds_every_slider_position(prior, photo):
    vmin, vmax = weight_range(prior, "zhang", SLIDER_LAMS)
    for lam in SLIDER_LAMS[1:]:
        w = prior.weights("zhang", lam)
        assert vmin <= float(w.min()) * (1 + 1e-6) and float(w.max()) <= vmax * (1 + 1e-6), lam
    assert vmax / vmin > 10  # a skewed prior spans decades: the range is not collapsed to λ = 1's
    # λ = 0 alone would blow the range up (never-seen bins weigh ~1e9); it is left out
    assert float(prior.weights("zhang", 0.0).max()) > vmax


def test_the_slider_keeps_the_range_and_redraws(prior, photo):
    ex = RarityExplorer(prior, photo)
    ex.widget
    fixed, before = ex.weight_range(), ex._view["image"].value
    ex._view["lam"].value = 0.2
    assert ex.lam == pytest.approx(0.2) and ex._view["image"].value != before
    assert ex.weight_range() == fixed
    assert ex._view["lam"].min == 0.0 and ex._view["lam"].max == 1.0
    ex._view["scheme"].value = "sqrt"  # another scheme: its own fixed range, still one for all λ
    sqrt_range = ex.weight_range()
    assert sqrt_range != fixed
    fig = ex.figure()
    assert _norms(fig)[0] == pytest.approx(sqrt_range)
    plt.close(fig)
