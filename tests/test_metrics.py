"""Metrics against hand-computed values, published test data and scikit-image."""
import math

import numpy as np
import pytest
import torch
from skimage.color import deltaE_ciede2000
from skimage.metrics import structural_similarity

from colorlab.evaluation import metrics
from colorlab.core.errors import ColorlabError
from colorlab.evaluation.metrics import auc_ab, ciede2000, colourfulness, frechet_distance, psnr, ssim

# Sharma, Wu & Dalal (2005), Table 1: L1 a1 b1 L2 a2 b2 ΔE00 — the 34 published test pairs.
SHARMA = np.array([
    (50, 2.6772, -79.7751, 50, 0, -82.7485, 2.0425), (50, 3.1571, -77.2803, 50, 0, -82.7485, 2.8615),
    (50, 2.8361, -74.0200, 50, 0, -82.7485, 3.4412), (50, -1.3802, -84.2814, 50, 0, -82.7485, 1.0000),
    (50, -1.1848, -84.8006, 50, 0, -82.7485, 1.0000), (50, -0.9009, -85.5211, 50, 0, -82.7485, 1.0000),
    (50, 0, 0, 50, -1, 2, 2.3669), (50, -1, 2, 50, 0, 0, 2.3669),
    (50, 2.49, -0.001, 50, -2.49, 0.0009, 7.1792), (50, 2.49, -0.001, 50, -2.49, 0.001, 7.1792),
    (50, 2.49, -0.001, 50, -2.49, 0.0011, 7.2195), (50, 2.49, -0.001, 50, -2.49, 0.0012, 7.2195),
    (50, -0.001, 2.49, 50, 0.0009, -2.49, 4.8045), (50, -0.001, 2.49, 50, 0.001, -2.49, 4.8045),
    (50, -0.001, 2.49, 50, 0.0011, -2.49, 4.7461), (50, 2.5, 0, 50, 0, -2.5, 4.3065),
    (50, 2.5, 0, 73, 25, -18, 27.1492), (50, 2.5, 0, 61, -5, 29, 22.8977),
    (50, 2.5, 0, 56, -27, -3, 31.9030), (50, 2.5, 0, 58, 24, 15, 19.4535),
    (50, 2.5, 0, 50, 3.1736, 0.5854, 1.0000), (50, 2.5, 0, 50, 3.2972, 0, 1.0000),
    (50, 2.5, 0, 50, 1.8634, 0.5757, 1.0000), (50, 2.5, 0, 50, 3.2592, 0.335, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
])


def _as_image(rows: np.ndarray, dtype=torch.float32) -> torch.Tensor:
    """(P, 3) Lab rows → (1, 3, P, 1) tensor."""
    return torch.tensor(rows, dtype=dtype).T.reshape(1, 3, -1, 1)


def test_psnr_of_a_known_perturbation():
    x = torch.full((2, 3, 8, 8), 0.5)
    y = x.clone()
    y[0] += 0.1                  # MSE 0.01 → 20 dB
    y[1, :, :4] += 0.2           # half the pixels off by 0.2 → MSE 0.02 → 10·log10(50) dB
    torch.testing.assert_close(psnr(y, x), torch.tensor([20.0, 10 * math.log10(50)]))
    assert torch.isinf(psnr(x, x)).all()


def test_ssim_matches_skimage_and_is_one_on_identical_images():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 24, 30, generator=g)
    y = (x + 0.15 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    ref = [structural_similarity(x[i].permute(1, 2, 0).numpy(), y[i].permute(1, 2, 0).numpy(), data_range=1.0,
                                 channel_axis=2, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
           for i in range(2)]
    torch.testing.assert_close(ssim(y, x), torch.tensor(ref, dtype=torch.float32), atol=1e-4, rtol=0)
    torch.testing.assert_close(ssim(x, x), torch.ones(2))
    with pytest.raises(ColorlabError, match="at least 11x11"):
        ssim(x[..., :8, :8], y[..., :8, :8])


def test_colourfulness_of_constructed_images():
    img = torch.zeros(3, 3, 4, 4)
    img[0, 0, :2] = 1.0          # top half pure red, bottom half black
    img[1] = 0.4                 # a gray image
    img[2, :, :, :2] = torch.tensor([0.0, 0.0, 1.0]).reshape(3, 1, 1)  # left half blue, right black
    # red/black: rg ∈ {255, 0}, yb ∈ {127.5, 0} → σ = μ = (127.5, 63.75) → 1.3·63.75·√5
    # blue/black: rg ∈ {0, 0}, yb ∈ {−255, 0} → σ_yb = |μ_yb| = 127.5 → 1.3·127.5
    expected = torch.tensor([1.3 * 63.75 * math.sqrt(5), 0.0, 1.3 * 127.5])
    torch.testing.assert_close(colourfulness(img), expected)
    torch.testing.assert_close(colourfulness((img * 255).round().to(torch.uint8)), expected)


def test_auc_of_known_error_distributions():
    true = torch.zeros(4, 2, 2, 2)
    pred = torch.zeros(4, 2, 2, 2)
    pred[1, 0] = 75.0                          # every error 75 → half the thresholds pass
    pred[2, 0, 0] = 30.0                       # half the pixels exact, half off by 30 → (1 + 0.8) / 2
    pred[3, 0] = 90.0
    pred[3, 1] = 120.0                         # error 150 → never within a threshold < 150
    torch.testing.assert_close(auc_ab(pred, true), torch.tensor([1.0, 0.5, 0.9, 0.0]))


def test_auc_agrees_with_a_threshold_sweep_and_weights_rebalance_it():
    g = torch.Generator().manual_seed(0)
    true = torch.randn(3, 2, 8, 8, generator=g) * 30
    pred = torch.randn(3, 2, 8, 8, generator=g) * 30
    err = torch.linalg.vector_norm(pred - true, dim=1).flatten(1)
    t = torch.arange(0, 151, dtype=torch.float32)
    cdf = (err[:, :, None] <= t).float().mean(1)          # fraction within each threshold
    sweep = torch.trapezoid(cdf, t, dim=1) / 150
    torch.testing.assert_close(auc_ab(pred, true), sweep, atol=1 / 150, rtol=0)

    # pixel weights: weight 3 on exact pixels, 1 on pixels off by ≥ 150 → 3/4
    pred2 = torch.zeros(1, 2, 1, 4)
    pred2[0, 0, 0, 2:] = 200.0
    w = torch.tensor([[[3.0, 3.0, 1.0, 1.0]]])
    torch.testing.assert_close(auc_ab(pred2, torch.zeros_like(pred2), pixel_weights=w), torch.tensor([0.75]))
    torch.testing.assert_close(auc_ab(pred, true, pixel_weights=torch.ones(3, 8, 8)), auc_ab(pred, true))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ciede2000_on_sharma_test_data(dtype):
    de = ciede2000(_as_image(SHARMA[:, :3], dtype), _as_image(SHARMA[:, 3:6], dtype)).flatten()
    # the published values have 4 decimals
    np.testing.assert_allclose(de.double().numpy(), SHARMA[:, 6], atol=1e-4)
    swapped = ciede2000(_as_image(SHARMA[:, 3:6], dtype), _as_image(SHARMA[:, :3], dtype)).flatten()
    np.testing.assert_allclose(swapped.double().numpy(), SHARMA[:, 6], atol=1e-4)


def test_ciede2000_matches_skimage_on_random_colours():
    rng = np.random.default_rng(0)
    lab1 = np.stack([rng.uniform(0, 100, 500), rng.uniform(-90, 90, 500), rng.uniform(-100, 90, 500)], 1)
    lab2 = lab1 + rng.normal(0, 8, lab1.shape)
    ours = ciede2000(_as_image(lab1, torch.float64), _as_image(lab2, torch.float64)).flatten().numpy()
    np.testing.assert_allclose(ours, deltaE_ciede2000(lab1, lab2), atol=1e-6)
    assert ciede2000(_as_image(lab1), _as_image(lab1)).abs().max() < 1e-5


def test_shape_errors_are_clear():
    with pytest.raises(ColorlabError, match="auc_ab"):
        auc_ab(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4))
    with pytest.raises(ColorlabError, match="psnr"):
        psnr(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 5))
    with pytest.raises(ColorlabError, match="colourfulness"):
        colourfulness(torch.zeros(3, 4, 4))


def test_lpips_and_fid_report_why_they_are_unavailable(tmp_path, monkeypatch):
    monkeypatch.setattr(metrics, "_installed", lambda name: False)
    ok, why = metrics.lpips_available()
    assert not ok and why.startswith("unavailable: package 'lpips' is not installed — pip install lpips")
    ok, why = metrics.fid_available()
    assert not ok and "pytorch-fid" in why
    # the packages present but no weights on disk (and COLORLAB_OFFLINE) → the missing file is named
    monkeypatch.setattr(metrics, "_installed", lambda name: True)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    ok, why = metrics.lpips_available()
    assert not ok and str(tmp_path) in why and "alexnet" in why.lower()
    ok, why = metrics.fid_available()
    assert not ok and str(tmp_path) in why


def test_frechet_distance_of_shifted_feature_sets():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(200, 4, generator=g, dtype=torch.float64)
    shift = torch.tensor([3.0, 0.0, -4.0, 0.0], dtype=torch.float64)
    # same covariance, means 5 apart → FID = |Δμ|² = 25
    assert frechet_distance(a, a + shift) == pytest.approx(25.0, abs=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # scaling by 2: trace term = tr(S) + tr(4S) − 2·tr(2S) = tr(S)
    b = a - a.mean(0)
    assert frechet_distance(b, 2 * b) == pytest.approx(float(torch.cov(b.T).trace()), rel=1e-6)


def _fid_by_hand(a, b):
    """Fréchet distance from the covariances themselves: tr sqrt(S1 S2) = Σ sqrt(eig(√S1 S2 √S1)) (PSD, eigh only)."""
    a, b = a.double().numpy(), b.double().numpy()
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ s2 @ root1), 0, None)).sum()
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


@pytest.mark.parametrize("n1, n2", [(4, 4), (3, 7)])
def test_frechet_distance_with_fewer_images_than_dimensions(monkeypatch, n1, n2):
    """The branch every evaluation of fewer than 2,048 images takes (singular covariances, the SVD of A0 B0ᵀ)
    against the definition computed another way; scipy's sqrtm must not be needed there."""
    import scipy.linalg
    g = torch.Generator().manual_seed(n1 + n2)
    a, b = torch.randn(n1, 16, generator=g), torch.randn(n2, 16, generator=g) * 1.5 + 0.3
    monkeypatch.setattr(scipy.linalg, "sqrtm", lambda *x, **k: pytest.fail("took the D x D branch"))
    assert frechet_distance(a, b) == pytest.approx(_fid_by_hand(a, b), rel=1e-6, abs=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
