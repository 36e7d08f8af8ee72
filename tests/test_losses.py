"""Rarity weights and the colorization losses (colorlab.rarity.losses)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from colorlab.core.errors import ColorlabError
from colorlab.rarity.losses import BlendedLoss, MSELoss, RarityWeightedMSE, RebalancedCrossEntropy, make_loss
from colorlab.rarity.prior import ABPrior, ab_prior
from colorlab.rarity.soft_encoding import soft_encode
from colorlab.rarity.weights import rarity_weights


@pytest.fixture(scope="module")
def priors():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    img[:2] = 128  # lots of gray: a skewed distribution, like real photos
    return {g: ab_prior(img, grid=g, device="cpu") for g in ("zhang313", "regular16")}


def _batch(n=2, h=6, w=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 2, h, w, generator=g) - 0.5) * 1.2, (torch.rand(n, 2, h, w, generator=g) - 0.5) * 1.2


@pytest.mark.parametrize("grid", ["zhang313", "regular16"])
@pytest.mark.parametrize("scheme,lam", [("zhang", None), ("zhang", 0.1), ("zhang", 0.9), ("sqrt", None),
                                        ("lin_ferreira", None), ("lin_ferreira", 0.25)])
def test_weights_are_normalised_so_the_mean_pixel_weight_is_one(priors, grid, scheme, lam):
    prior = priors[grid]
    w = rarity_weights(prior, scheme=scheme, lam=lam)
    assert w.shape == (prior.Q,) and torch.all(w > 0)
    assert abs(float((prior.p.double() * w.double()).sum()) - 1.0) < 1e-4
    common, rare = prior.p.argmax(), prior.p.argmin()
    assert w[rare] > w[common]


def test_zhang_weights_formula_and_limits(priors):
    prior = priors["zhang313"]
    p = prior.p.double()
    w = rarity_weights(prior, "zhang", lam=0.5).double()
    expected = 1 / (0.5 * p + 0.5 / 313)
    assert torch.allclose(w, expected / (p * expected).sum(), rtol=1e-5)
    assert torch.allclose(rarity_weights(prior, "zhang", lam=1.0), torch.ones(313))
    # Lin & Ferreira literally uses λ/4, not λ/Q: a different (flatter) curve
    w4 = rarity_weights(prior, "lin_ferreira", lam=0.5)
    assert not torch.allclose(w4, w.float()) and w4.max() / w4.min() < w.max() / w.min()
    with pytest.raises(ColorlabError):
        rarity_weights(prior, "nope")
    with pytest.raises(ColorlabError):
        rarity_weights(prior, "zhang", lam=2.0)


def test_weighted_losses_reduce_to_mse_when_weights_are_uniform():
    pred, target = _batch()
    mse = F.mse_loss(pred, target)
    for q in (313, 256):
        assert torch.allclose(RarityWeightedMSE(torch.ones(q))(pred, target), mse)
        assert torch.allclose(BlendedLoss(torch.ones(q), alpha=0.3)(pred, target), mse)
    assert torch.allclose(MSELoss()(pred, target), mse)


def test_rarity_weighted_mse_uses_the_weight_of_the_true_bin(priors):
    prior = priors["zhang313"]
    loss = RarityWeightedMSE(prior)
    pred, target = _batch()
    w = rarity_weights(prior)[prior.bin_index(target * 110)]
    expected = (w * (pred - target).square().mean(1)).mean()
    assert torch.allclose(loss(pred, target), expected)
    blend = BlendedLoss(prior, alpha=0.65, scheme="zhang")(pred, target)
    assert torch.allclose(blend, 0.65 * F.mse_loss(pred, target) + 0.35 * expected)


def test_rebalanced_cross_entropy(priors):
    prior = priors["zhang313"]
    _, target = _batch(h=4, w=4)
    z = soft_encode(target * 110, prior.centers)
    plain = RebalancedCrossEntropy(prior, rebalance=False)
    logits = torch.randn(2, 313, 4, 4, requires_grad=True)
    expected = -(z * torch.log_softmax(logits, 1)).sum(1).mean()
    out = plain(logits, target)
    assert torch.allclose(out, expected, atol=1e-5)
    out.backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    good = torch.log(z + 1e-6)  # logits that already predict the soft target
    assert plain(good, target) < plain(torch.zeros_like(good), target)
    rebal = RebalancedCrossEntropy(prior)
    w = rarity_weights(prior)[z.argmax(1)]
    assert torch.allclose(rebal(logits.detach(), target), (w * -(z * torch.log_softmax(logits.detach(), 1)).sum(1)).mean(),
                          atol=1e-5)
    # a larger target is pooled to the logits' size
    assert torch.isfinite(rebal(torch.randn(2, 313, 2, 2), target))
    with pytest.raises(ColorlabError, match="313"):
        rebal(torch.randn(2, 10, 4, 4), target)


@pytest.mark.parametrize("name", ["mse", "rarity", "blend", "ce"])
def test_losses_under_bf16_autocast_match_fp32(priors, name):
    prior = priors["zhang313"]
    loss = make_loss(name, prior=None if name == "mse" else prior)
    pred, target = _batch(h=4, w=4)
    x = torch.randn(2, 313, 4, 4) if name == "ce" else pred
    ref = loss(x, target)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = loss(x.bfloat16(), target)
    assert out.dtype == torch.float32 and torch.isfinite(out)
    assert torch.allclose(out, ref, rtol=3e-2)


def test_make_loss_and_buffers(priors):
    loss = make_loss("rarity", prior=priors["regular16"], scheme="sqrt")
    assert isinstance(loss, RarityWeightedMSE) and loss.weights.shape == (256,)
    names = dict(loss.named_buffers())
    assert "weights" in names and "lookup.lut" in names  # both follow .to(device)
    with pytest.raises(ColorlabError, match="prior"):
        make_loss("ce")
    with pytest.raises(ColorlabError, match="unknown loss"):
        make_loss("l1")
    with pytest.raises(ColorlabError, match="bad option"):
        make_loss("blend", prior=priors["zhang313"], beta=1)
    with pytest.raises(ColorlabError):
        RarityWeightedMSE(torch.ones(300))
