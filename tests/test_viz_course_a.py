"""The figures of labs 01 and 02: the sRGB gamut on the ab plane, chroma and hue, the prior next to
its rarity weights."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from colorlab.core.color import lab_to_rgb, rgb_to_lab  # noqa: E402
from colorlab.rarity.prior import ABPrior  # noqa: E402
from colorlab.core.color import chroma_hue
from colorlab.viz.lab import ab_gamut, plot_ab_gamut  # noqa: E402
from colorlab.viz.stats import plot_prior_and_weights, plot_weight_map  # noqa: E402


def test_chroma_and_hue_of_known_colours():
    ab = torch.tensor([[10.0, 0.0], [0.0, 10.0], [-3.0, 0.0], [-3.0, -4.0]]).T.reshape(2, 2, 2)
    C, h = chroma_hue(ab)
    assert C.shape == h.shape == (2, 2)
    assert C.flatten().tolist() == pytest.approx([10, 10, 3, 5])
    assert h.flatten().tolist() == pytest.approx([0, 90, 180, 233.1301], abs=1e-3)
    assert chroma_hue(ab[None])[0].shape == (1, 2, 2)  # (..., 2, H, W)


def test_ab_gamut_marks_what_srgb_can_show():
    n = 45
    rgb, inside = ab_gamut(50, n=n)
    assert rgb.shape == (n, n, 3) and inside.shape == (n, n) and inside.dtype == bool
    assert 0 <= rgb.min() and rgb.max() <= 1
    mid = n // 2
    assert inside[mid, mid]                     # a = b = 0: mid gray
    assert not inside[0, 0] and not inside[-1, -1]  # the corners are far outside sRGB
    c = np.linspace(-110, 110, n)
    b, a = np.meshgrid(c, c, indexing="ij")
    lab = torch.tensor(np.stack([np.full_like(a, 50.0), a, b])[:, inside], dtype=torch.float32)[..., None]
    back = rgb_to_lab(lab_to_rgb(lab))
    assert (back - lab).abs().max() < 0.5       # every point marked inside survives the round trip
    # bright yellow exists, dark yellow does not (it is olive / brown)
    yellow = (np.abs(a + 10) < 10) & (b > 60)
    assert ab_gamut(90, n=n)[1][yellow].any() and not ab_gamut(25, n=n)[1][yellow].any()


def test_plot_ab_gamut_draws_one_panel_per_lightness(tmp_path):
    fig = plot_ab_gamut((25, 75), n=41)
    assert len(fig.axes) == 2 and fig.axes[0].get_title().startswith("L = 25")
    fig.savefig(tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 1000
    plt.close(fig)


@pytest.fixture(scope="module")
def prior():
    g = torch.Generator().manual_seed(1)
    counts = (torch.rand(313, generator=g) ** 6 * 1e4).long()
    counts[torch.rand(313, generator=g) < 0.4] = 0
    return ABPrior.from_counts(counts)


def test_prior_and_weights_share_one_colour_scale(prior, tmp_path):
    fig = plot_prior_and_weights(prior, lam=0.5)
    maps = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
    assert len(maps) == 3
    (z, s) = (maps[1].images[0].norm, maps[2].images[0].norm)
    assert (z.vmin, z.vmax) == (s.vmin, s.vmax)
    lo = min(float(prior.weights("zhang", 0.5).min()), float(prior.weights("sqrt").min()))
    assert z.vmin == pytest.approx(lo, rel=1e-5)
    fig.savefig(tmp_path / "p.png")
    plt.close(fig)


def test_weight_map_takes_a_given_range(prior):
    fig = plot_weight_map(prior, "zhang", 0.5, vmin=0.01, vmax=1000.0)
    norm = fig.axes[0].images[0].norm
    assert (norm.vmin, norm.vmax) == (0.01, 1000.0)
    plt.close(fig)
