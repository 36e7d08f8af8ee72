"""ab bins, the ab prior, soft-encoding and the annealed mean (colorlab.rarity.bins, .prior, .soft_encoding)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from colorlab.core.color import rgb_to_lab
from colorlab.core.errors import ColorlabError
from colorlab.rarity.bins import BinLookup, grid_bins, zhang_bins
from colorlab.rarity.prior import ABPrior, ab_prior, prior_for
from colorlab.rarity.soft_encoding import annealed_mean, soft_encode, soft_encode_sparse


def _blocks(n=6, size=16, seed=0) -> np.ndarray:
    """Synthetic uint8 photos (N, H, W, 3): four flat colour blocks each."""
    rng = np.random.default_rng(seed)
    imgs = np.zeros((n, size, size, 3), np.uint8)
    h = size // 2
    for i in range(n):
        for y in (0, h):
            for x in (0, h):
                imgs[i, y:y + h, x:x + h] = rng.integers(0, 256, 3)
    return imgs


def test_zhang_bins_are_313_distinct_points_on_the_grid_of_10():
    b = zhang_bins()
    assert b.shape == (313, 2)
    assert len(torch.unique(b, dim=0)) == 313
    assert torch.all(b % 10 == 0) and b.min() >= -110 and b.max() <= 110


def test_every_srgb_colour_falls_in_a_zhang_bin_cell():
    v = torch.arange(0, 256, 15, dtype=torch.float32) / 255
    rgb = torch.stack(torch.meshgrid(v, v, v, indexing="ij")).reshape(3, -1, 1)
    ab = rgb_to_lab(rgb)[1:]
    idx = BinLookup("zhang313")(ab[None]).reshape(-1)
    d = (zhang_bins()[idx] - ab.reshape(2, -1).T).abs().max(1).values
    assert d.max() <= 5.0 + 1e-4  # inside the bin's own 10 × 10 cell


@pytest.mark.parametrize("grid", ["zhang313", "regular16", "regular64"])
def test_bin_index_of_each_centre_is_itself(grid):
    c = grid_bins(grid)
    ab = c.T.reshape(1, 2, 1, -1)
    assert torch.equal(BinLookup(grid)(ab).reshape(-1), torch.arange(len(c)))


def test_unknown_grid_is_a_clear_error():
    with pytest.raises(ColorlabError, match="regular<n>"):
        grid_bins("hexagonal")


def test_prior_counts_every_pixel_in_its_bin_and_smoothing_spreads_it():
    img = np.zeros((2, 8, 8, 3), np.uint8)
    img[..., 0] = 200  # one flat red
    prior = ab_prior(img, device="cpu")
    ab = rgb_to_lab(torch.tensor([200 / 255, 0.0, 0.0]).view(3, 1, 1))[1:]
    true_bin = int(prior.bin_index(ab[None]).reshape(-1)[0])
    assert int(prior.counts.sum()) == 128 and int(prior.counts[true_bin]) == 128
    assert math.isclose(float(prior.p.sum()), 1.0, abs_tol=1e-5)
    assert 0.3 < float(prior.p[true_bin]) < 1.0          # σ = 5 moves some mass to the neighbours
    assert int((prior.p > 1e-3).sum()) >= 5
    sharp = ABPrior.from_counts(prior.counts, "zhang313", sigma=0)
    assert torch.allclose(sharp.p, prior.raw)


def test_prior_reads_arrays_tensors_and_batch_iterables_alike():
    imgs = _blocks()
    a = ab_prior(imgs, grid="regular32", device="cpu", batch_size=4)
    t = torch.from_numpy(imgs).permute(0, 3, 1, 2)
    b = ab_prior(t, grid="regular32", device="cpu")
    c = ab_prior([(t[:3], torch.zeros(3)), (t[3:], torch.zeros(3))], grid="regular32", device="cpu")
    assert torch.equal(a.counts, b.counts) and torch.equal(a.counts, c.counts)
    assert a.Q == 32 * 32


def test_prior_save_load_round_trip_with_weights_only(tmp_path):
    prior = ab_prior(_blocks(), device="cpu")
    path = prior.save(tmp_path / "p.pt")
    raw = torch.load(path, weights_only=True)
    assert raw["grid"] == "zhang313"
    back = ABPrior.load(path)
    assert torch.equal(back.counts, prior.counts) and torch.allclose(back.p, prior.p)
    (tmp_path / "bad.pt").write_text("not a prior")
    with pytest.raises(ColorlabError, match="bad.pt"):
        ABPrior.load(tmp_path / "bad.pt")


def test_prior_for_caches_next_to_the_prepared_set(prepared_sample, monkeypatch):
    prior = prior_for(prepared_sample, progress=False)
    path = prepared_sample.path / "ab_prior_zhang313.pt"
    assert path.is_file() and prior.path == path
    assert int(prior.counts.sum()) == prepared_sample.images.size // 3
    import colorlab.rarity.prior as prior_module
    monkeypatch.setattr(prior_module, "ab_prior", lambda *a, **k: pytest.fail("recomputed a cached prior"))
    again = prior_for(prepared_sample)
    assert torch.equal(again.counts, prior.counts)


def test_soft_encoding_rows_sum_to_one_and_peak_at_the_true_bin():
    torch.manual_seed(0)
    ab = (torch.rand(2, 2, 5, 7) - 0.5) * 160
    c = zhang_bins()
    z = soft_encode(ab, c, k=5, sigma=5.0)
    assert z.shape == (2, 313, 5, 7)
    assert torch.allclose(z.sum(1), torch.ones(2, 5, 7), atol=1e-5)
    nearest = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), c).argmin(1).view(2, 5, 7)
    assert torch.equal(z.argmax(1), nearest)
    assert int((z > 0).sum(1).max()) == 5
    one = soft_encode(ab, c, k=1)
    assert torch.equal(one.argmax(1), nearest) and torch.all(one.max(1).values == 1)


def test_soft_encoding_of_a_bin_centre_keeps_most_mass_there():
    c = zhang_bins()
    ab = c[100].view(1, 2, 1, 1)
    idx, w = soft_encode_sparse(ab, c, k=5, sigma=5.0)
    assert int(idx[0, 0, 0, 0]) == 100 and float(w[0, 0, 0, 0]) > 0.5


def test_annealed_mean_limits():
    torch.manual_seed(0)
    c = zhang_bins()
    logits = torch.randn(2, 313, 3, 4) * 3
    probs = torch.softmax(logits, 1)
    mean = torch.einsum("nqhw,qc->nchw", probs, c)
    assert torch.allclose(annealed_mean(logits, c, T=1.0), mean, atol=1e-3)
    mode = c[logits.argmax(1)].permute(0, 3, 1, 2)
    assert torch.allclose(annealed_mean(logits, c, T=1e-4), mode, atol=1e-2)
    assert torch.equal(annealed_mean(logits, c, T=0), mode)
    mid = annealed_mean(logits, c, T=0.38)
    # lower T sharpens: the result moves from the mean towards the mode
    assert ((mid - mode).norm(dim=1) < (mean - mode).norm(dim=1)).float().mean() > 0.9
    with pytest.raises(ColorlabError):
        annealed_mean(logits[:, :10], c)


def test_viz_figures_draw(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from colorlab.viz.stats import plot_ab_histogram, plot_lambda_effect, plot_weight_map

    prior = ab_prior(_blocks(), device="cpu")
    fig = plot_ab_histogram(prior)
    assert len(fig.axes) >= 1
    fig2 = plot_weight_map(prior, scheme="zhang")
    fig3 = plot_lambda_effect(prior, lams=(0.0, 0.5, 1.0))
    assert len(fig3.axes) >= 4
    fig3.savefig(tmp_path / "l.png")
    assert (tmp_path / "l.png").stat().st_size > 1000
    for f in (fig, fig2, fig3):
        matplotlib.pyplot.close(f)


@pytest.mark.parametrize("grid", ["zhang313", "regular16"])
def test_soft_encode_lattice_search_matches_the_exhaustive_one(grid):
    """The 5 x 5-cell candidate search finds the same nearest bins as comparing with every bin,
    also for pixels far outside the bins (which fall back to the full search)."""
    centers = grid_bins(grid)
    g = torch.Generator().manual_seed(0)
    ab = torch.cat([torch.rand(4, 2, 16, 16, generator=g) * 220 - 110, torch.full((1, 2, 16, 16), 400.0)])
    idx, w = soft_encode_sparse(ab, centers, k=5)
    pts = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    d2 = torch.cdist(pts, centers).square()
    best = d2.topk(5, dim=1, largest=False).values
    got = d2.gather(1, idx.permute(0, 2, 3, 1).reshape(-1, 5))
    torch.testing.assert_close(got, best, atol=1e-2, rtol=1e-4)
    torch.testing.assert_close(w.sum(1), torch.ones(5, 16, 16))


def _brute_force_soft_encoding(ab, centers, k, sigma):
    """Zhang et al.'s target written out: each pixel's k nearest centres (distances in float64, every bin
    compared) weighted exp(-d² / 2σ²), normalised — no function of the package involved."""
    pts = ab.double().permute(0, 2, 3, 1).reshape(-1, 2)
    d2 = ((pts[:, None, :] - centers.double()[None]) ** 2).sum(-1)
    d2k, idx = d2.topk(k, dim=1, largest=False)
    w = torch.exp(-(d2k - d2k[:, :1]) / (2 * sigma ** 2))  # exp(-d²/2σ²) divided by the nearest one's: no underflow
    w = w / w.sum(1, keepdim=True)
    dense = torch.zeros(pts.shape[0], centers.shape[0], dtype=torch.float64).scatter_(1, idx, w)
    N, _, H, W = ab.shape
    return dense.view(N, H, W, -1).permute(0, 3, 1, 2)


@pytest.mark.parametrize("grid, k", [("zhang313", 5), ("zhang313", 10), ("regular16", 5)])
def test_soft_encoding_equals_the_brute_force_formula(grid, k):
    """Lattice search (and its fall-back for pixels far outside the bins) against the formula by hand."""
    centers = grid_bins(grid)
    g = torch.Generator().manual_seed(1)
    ab = torch.cat([torch.rand(3, 2, 12, 12, generator=g) * 220 - 110,       # in and around the gamut
                    torch.rand(1, 2, 12, 12, generator=g) * 800 - 400])      # far outside: the fall-back
    want = _brute_force_soft_encoding(ab, centers, k, sigma=5.0)
    got = soft_encode(ab, centers, k=k, sigma=5.0)
    torch.testing.assert_close(got.double(), want, atol=2e-4, rtol=0)


def test_soft_encoding_reads_the_centres_once_per_tensor(monkeypatch):
    """No host copy of the bin centres (a NumPy cache key) and no neighbour-table copy on every call."""
    import colorlab.rarity.soft_encoding as se
    calls = []
    real = se.lattice_neighbours
    monkeypatch.setattr(se, "lattice_neighbours", lambda key, Q: calls.append(Q) or real(key, Q))
    centers = zhang_bins().clone()
    ab = torch.rand(2, 2, 8, 8) * 200 - 100
    first = soft_encode_sparse(ab, centers)
    for _ in range(3):
        again = soft_encode_sparse(ab, centers)
    assert calls == [313]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    centers.add_(1.0)  # changed in place: looked at again
    soft_encode_sparse(ab, centers)
    assert calls == [313, 313]
