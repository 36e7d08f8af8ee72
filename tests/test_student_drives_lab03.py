"""Lab 03: the student's ``kmeans`` builds the colour profiles the lab scores with the ARI and trains its predictor on
(``build_profiles(..., kmeans=...)``), and the student's ``choose_k`` reads K off the explorer's curve. A different
function changes what the experiment computes; the kit's own gives the default grouping."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from sklearn.metrics import adjusted_rand_score

from colorlab.profiles.descriptors import describe_images
from colorlab.profiles.groups import build_profiles
from colorlab.profiles.kmeans import elbow_k, lloyd


def _photos(seed: int = 0):
    """24 photos of 16 × 16 in four palettes (two colours each, in stripes of random width) and their palette."""
    r = np.random.default_rng(seed)
    palettes = np.array([[[200, 40, 30], [240, 200, 60]], [[30, 60, 200], [20, 160, 170]],
                         [[40, 150, 40], [120, 90, 40]], [[200, 200, 210], [90, 90, 100]]])
    truth = np.repeat(np.arange(4), 6)
    images = np.empty((24, 16, 16, 3), dtype=np.uint8)
    for n, g in enumerate(truth):
        split = int(r.integers(5, 11))
        img = np.where(np.arange(16)[None, :, None] < split, palettes[g, 0], palettes[g, 1]).repeat(16, 0)
        images[n] = np.clip(img + r.normal(0, 8, img.shape), 0, 255).astype(np.uint8)
    return images, truth


def _first_points(x, centres):
    """A wrong k-means: the first K points as centres, no iteration."""
    c = x[:len(centres)].clone()
    d2 = ((x[:, None] - c[None]) ** 2).sum(-1)
    return c, d2.argmin(1), float(d2.min(1).values.sum())


@lru_cache(maxsize=1)
def _described():
    images, truth = _photos()
    return images, truth, describe_images(images, hist_bins=8, seed=0, device="cpu")


def _profiles(**kw):
    images, truth, desc = _described()
    return build_profiles(images, k=4, descriptors=desc, n_init=3, seed=0, progress=False, **kw), truth


@lru_cache(maxsize=1)
def _default():
    return _profiles()


def test_the_kits_kmeans_gives_the_default_profiles():
    default, truth = _default()
    kit, _ = _profiles(kmeans=lloyd)
    assert np.array_equal(kit.groups.labels, default.groups.labels)
    assert np.allclose(kit.centers.numpy(), default.centers.numpy(), atol=1e-4)
    assert adjusted_rand_score(truth, kit.groups.labels) == 1.0


def test_a_different_kmeans_changes_the_profiles():
    default, truth = _default()
    other, _ = _profiles(kmeans=_first_points)
    assert not np.array_equal(other.groups.labels, default.groups.labels)
    assert adjusted_rand_score(truth, other.groups.labels) < adjusted_rand_score(truth, default.groups.labels)


def test_the_chosen_k_comes_from_the_rule():
    curve = np.array([256.0, 191.1, 139.5, 103.2, 93.1, 85.9, 79.8, 73.5])   # the scenes' explorer curve (quick size)
    assert elbow_k(curve) == 4
    assert (lambda J: int(np.argmax(J[:-1] / J[1:])) + 2)(curve) != elbow_k(curve)
