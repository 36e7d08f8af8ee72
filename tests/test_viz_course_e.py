"""The figure helpers of labs 09 and 10: sampled hints, the hint sampler's laws, the cumulative ab-error curve."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from colorlab.evaluation.evaluate import rarity_lookup  # noqa: E402
from colorlab.hints.sampling import HintSampler  # noqa: E402
from colorlab.evaluation.metrics import auc_ab  # noqa: E402
from colorlab.viz.hints import plot_hint_sampler, plot_sampled_hints  # noqa: E402
from colorlab.viz.metrics import ab_error_curve, plot_ab_error_curves  # noqa: E402


def test_plot_sampled_hints_draws_gray_hints_mask_and_truth():
    g = torch.Generator().manual_seed(0)
    L = torch.rand(3, 1, 16, 16, generator=g) * 2 - 1
    ab = torch.rand(3, 2, 16, 16, generator=g) - 0.5
    hints = HintSampler(reveal_p=0)(ab, generator=g, n=4)
    fig = plot_sampled_hints(L, ab, hints, title="hints")
    assert np.array(fig.axes).size == 12 and [fig.axes[r * 3].get_ylabel() for r in range(4)] == \
        ["gray input", "hints on it", "hint mask", "truth"]
    mask_shown = fig.axes[6].images[0].get_array()
    assert np.array_equal(np.asarray(mask_shown), hints[0, 2].numpy() > 0)
    hinted = fig.axes[3].images[0].get_array()  # gray outside the hints, coloured inside
    outside = hints[0, 2].numpy() == 0
    assert np.allclose(np.ptp(np.asarray(hinted)[outside], axis=-1), 0, atol=2e-3)
    assert np.ptp(np.asarray(hinted)[~outside], axis=-1).max() > 0.05
    plt.close(fig)


def test_plot_hint_sampler_counts_follow_the_geometric_law():
    fig = plot_hint_sampler(HintSampler(p=0.25), size=16, n=2000, seed=1)
    left, right = fig.axes[:2]
    shares = np.array([b.get_height() for b in left.patches])
    assert shares[0] == pytest.approx(0.25, abs=0.03) and shares[1] == pytest.approx(0.25 * 0.75, abs=0.03)
    cover = np.asarray(right.images[0].get_array())
    assert cover.shape == (16, 16) and cover[6:10, 6:10].mean() > cover[0, :].mean()  # hints gather at the centre
    plt.close(fig)


def test_ab_error_curve_area_is_the_auc():
    g = torch.Generator().manual_seed(0)
    true = torch.randn(2, 2, 8, 8, generator=g) * 40
    pred = true + torch.randn(2, 2, 8, 8, generator=g) * 30
    t, share, auc = ab_error_curve(pred, true)
    assert t[0] == 0 and t[-1] == 150 and np.all(np.diff(share) >= 0) and 0 <= share[0] <= share[-1] <= 1
    assert auc == pytest.approx(float(auc_ab(pred, true).mean()), abs=1e-6)  # equal-size images: pooled = mean
    assert np.trapezoid(share, t) / 150 == pytest.approx(auc, abs=1 / 150)  # the drawn curve's area
    err = torch.linalg.vector_norm(pred - true, dim=1)
    assert share[20] == pytest.approx(float((err <= 20).float().mean()))
    w = torch.rand(2, 8, 8, generator=g) * torch.tensor([1.0, 5.0]).view(2, 1, 1)  # the second image weighs more
    _, _, auc_w = ab_error_curve(pred, true, w)
    assert auc_w == pytest.approx(float(auc_ab(pred, true, pixel_weights=w).mean()), abs=1e-6)  # the table's number
    _, exact, auc_exact = ab_error_curve(true, true)
    assert auc_exact == pytest.approx(1.0) and np.all(exact == 1)


def test_plot_ab_error_curves_with_the_rebalanced_variant(prepared_sample):
    from colorlab.rarity.prior import ab_prior
    prior = ab_prior(prepared_sample, device="cpu")
    from colorlab.data.loaders import lab_batch
    _, ab = lab_batch(prepared_sample, range(8), "cpu")
    true = ab * 110
    fig = plot_ab_error_curves({"gray": torch.zeros_like(true), "truth": true}, true, prior=prior)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.lines]
    assert len(labels) == 4 and labels[0].startswith("gray: AuC") and "rebalanced" in labels[1]
    assert labels[2] == "truth: AuC 1.000"
    gray_auc = float(labels[0].rsplit(" ", 1)[1])
    assert gray_auc == pytest.approx(float(auc_ab(torch.zeros_like(true), true).mean()), abs=1e-3)
    w = rarity_lookup(prior)(true)
    rebalanced = float(auc_ab(torch.zeros_like(true), true, pixel_weights=w).mean())  # as colorlab.evaluation.evaluate
    assert float(labels[1].rsplit(" ", 1)[1]) == pytest.approx(rebalanced, abs=1e-3)
    assert len(ax.collections) == 1  # the first curve's area is shaded
    plt.close(fig)
