"""The figure helpers of labs 07 and 08: values on the ab bins, soft-encoding and annealing figures,
and the wrong-profile gallery."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from colorlab.rarity.bins import zhang_bins  # noqa: E402
from colorlab.rarity.soft_encoding import annealed_mean, soft_encode  # noqa: E402
from colorlab.viz.classes import (bin_colours, bins_plane, class_pixel_logits, mixture_logits,  # noqa: E402
                                  plot_annealed, plot_bin_values, plot_soft_encoding)
from colorlab.viz.routing import one_per_group, wrong_profile_gallery  # noqa: E402


def test_bins_plane_puts_each_bin_in_its_cell():
    c = zhang_bins()
    plane, (lo, hi, lo2, hi2) = bins_plane(torch.arange(len(c)), c)
    assert (lo, hi) == (lo2, hi2) == (-115.0, 105.0) and plane.shape == (22, 22)
    assert np.isfinite(plane).sum() == len(c) == 313
    for q in (0, 100, 312):
        i, j = ((c[q].numpy() - lo) / 10 - 0.5).round().astype(int)
        assert plane[i, j] == q
    with pytest.raises(ValueError, match="values for"):
        bins_plane(np.zeros(3), c)


def test_bin_colours_are_rgb_and_gray_at_the_origin():
    rgb = bin_colours(torch.tensor([[0.0, 0.0], [60.0, 40.0]]), L=50)
    assert rgb.shape == (2, 3) and (0 <= rgb).all() and (rgb <= 1).all()
    assert np.ptp(rgb[0]) < 0.02 and rgb[1, 0] > rgb[1, 2]          # gray, then a red


def test_mixture_logits_peak_at_the_heavier_mode():
    c = zhang_bins()
    logits = mixture_logits(c, modes=[(50, 34), (-42, -26)], weights=(0.6, 0.4))
    p = torch.softmax(logits, 0)
    assert logits.shape == (313,) and torch.isclose(p.sum(), torch.tensor(1.0))
    assert torch.dist(c[p.argmax()], torch.tensor([50.0, 30.0])) < 10.1
    # the annealed mean moves from between the modes (T = 1) to the heavier one (T → 0)
    ab = [annealed_mean(logits.view(1, -1, 1, 1), c, T)[0, :, 0, 0] for T in (1.0, 0.38, 0.1)]
    assert ab[0][0] < ab[1][0] < ab[2][0] and ab[2][0] > 40


def test_soft_encoding_and_annealed_figures_draw(tmp_path):
    c = zhang_bins()
    fig = plot_soft_encoding((44, -23), c, k=5, sigma=5.0)
    z = soft_encode(torch.tensor([44.0, -23.0]).view(1, 2, 1, 1), c)[0, :, 0, 0]
    labels = [t.get_text() for t in fig.axes[1].texts]
    assert sorted(labels) == sorted(f"{v:.2f}" for v in z[z > 0].tolist())   # one label per non-zero bin
    fig.savefig(tmp_path / "soft.png")
    assert (tmp_path / "soft.png").stat().st_size > 5000
    fig2 = plot_annealed(mixture_logits(c, [(50, 34), (-42, -26)]), c, temps=(1.0, 0.1), title="t")
    assert len(fig2.axes) == 3 and fig2.axes[0].get_title().startswith("T = 1")
    fig3 = plot_bin_values(torch.rand(313), c, title="x")
    for f in (fig, fig2, fig3):
        plt.close(f)


class _Scenes:
    """A tiny stand-in for a prepared scenes cache: uint8 images and a class map."""

    def __init__(self, n=4, size=16, cls=4):
        rng = np.random.default_rng(0)
        self.images = rng.integers(0, 255, size=(n, size, size, 3), dtype=np.uint8)
        self.class_map = np.zeros((n, size, size), np.int64)
        self.class_map[2, 4:10, 5:11] = cls           # image 2 holds the biggest object
        self.class_map[1, 0:2, 0:2] = cls

    def __len__(self):
        return len(self.images)


class _Const(nn.Module):
    def __init__(self, value, q=None):
        super().__init__()
        self.value, self.head = value, "regression" if q is None else "classification"
        self.q = q

    def forward(self, L):
        if self.q is not None:
            return torch.arange(self.q, dtype=torch.float32).view(1, -1, 1, 1).expand(L.shape[0], -1, *L.shape[-2:]) \
                + L[:, :1]
        return torch.full((L.shape[0], 2, *L.shape[-2:]), float(self.value))


def test_class_pixel_logits_picks_the_middle_of_the_biggest_object():
    data = _Scenes()
    logits, (n, y, x) = class_pixel_logits(_Const(0, q=313), data, cls=4)
    assert n == 2 and 4 <= y < 10 and 5 <= x < 11 and logits.shape == (313,)
    assert (y, x) in {(6, 7), (6, 8), (7, 7), (7, 8)}
    with pytest.raises(ValueError, match="no pixel"):
        class_pixel_logits(_Const(0, q=313), data, cls=7)


def test_one_per_group_and_the_wrong_profile_gallery():
    labels = np.array([2, 0, 2, 0, 2])
    assert one_per_group(labels, 3) == [(0, 1), (2, 0)]            # group 1 has no photo
    data = _Scenes(n=5)
    fig = wrong_profile_gallery([_Const(-0.3), _Const(0.0), _Const(0.4)], data, labels, names=["a", "b", "c"])
    axes = np.array(fig.axes).reshape(5, 2)                           # gray, 3 colorizers, truth × 2 scenes
    assert axes[0, 0].get_title().endswith("a") and axes[0, 1].get_title().endswith("c")
    widths = [[max(s.get_linewidth() for s in ax.spines.values()) for ax in row] for row in axes[1:4]]
    assert widths == [[4, 1.5], [1.5, 1.5], [1.5, 4]]               # green frame on the scene's own colorizer
    plt.close(fig)
