"""Lab 02's experiment runs on the student's code (issue #21): their ``my_ab_histogram`` counts the pixels of
the prior the lab plots, their ``my_rarity_weights`` are the weights its maps and numbers show — so a
different function changes what the lab computes, and the kit's own gives the default."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from colorlab.rarity.prior import ab_histogram, ab_prior, prior_for
from colorlab.rarity.weights import lambda_for_ceiling, rarity_weights, zhang_weights
from colorlab.viz.stats import weight_range

IMAGES = np.random.default_rng(1).integers(0, 256, (4, 12, 10, 3), dtype=np.uint8)


def _one_bin(ab, n):  # every pixel in the middle bin
    p = torch.zeros(n * n, dtype=torch.float64)
    p[(n // 2) * n + n // 2] = 1.0
    return p


def test_the_prior_is_counted_by_the_students_histogram(tmp_path):
    default = ab_prior(IMAGES, device="cpu")
    for grid in ("zhang313", "regular16"):
        base = ab_prior(IMAGES, grid=grid, device="cpu")
        kit = ab_prior(IMAGES, grid=grid, device="cpu", histogram=lambda ab, n: ab_histogram(ab, n))
        assert torch.equal(kit.counts, base.counts) and torch.equal(kit.p, base.p)
    other = ab_prior(IMAGES, device="cpu", histogram=_one_bin)
    assert int((other.counts > 0).sum()) == 1 and not torch.equal(other.counts, default.counts)
    cache = SimpleNamespace(images=IMAGES, path=tmp_path)
    assert torch.equal(prior_for(cache, device="cpu", progress=False, histogram=ab_histogram).counts, default.counts)
    mine = prior_for(cache, device="cpu", progress=False, histogram=_one_bin)  # never read from the cache
    assert torch.equal(mine.counts, other.counts)


def test_the_weights_the_lab_shows_are_the_students():
    prior = ab_prior(IMAGES, device="cpu")
    default = rarity_weights(prior, lam=0.5)
    assert torch.allclose(rarity_weights(prior, lam=0.5, weights_fn=zhang_weights), default)
    flat = rarity_weights(prior, lam=0.5, weights_fn=lambda p, lam: torch.ones_like(p))
    assert torch.equal(flat, torch.ones_like(default)) and not torch.allclose(flat, default)
    assert weight_range(prior, weights_fn=lambda p, lam: 3 * zhang_weights(p, lam)) != weight_range(prior)
    lam = lambda_for_ceiling(prior.p.double() / prior.p.double().sum(), 20.0)
    assert float(rarity_weights(prior, lam=lam).max()) <= 20.0 * (1 + 1e-4)
