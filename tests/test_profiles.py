"""Batched k-means, dominant colour descriptors, colour profiles and category groups (colorlab.profiles)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from colorlab.color import rgb_to_lab
from colorlab.errors import ColorlabError
from colorlab.profiles import (ColorProfiles, batched_kmeans, build_profiles, category_groups, describe_images,
                               dominant_colors_batch)

# four families of colours: reds, greens, blues, grays (RGB 0..255)
FAMILIES = [((200, 40, 40), (150, 20, 60)), ((40, 170, 60), (90, 200, 30)),
            ((40, 60, 200), (20, 120, 220)), ((128, 128, 128), (60, 60, 60))]


def _family_images(per_family=6, size=16, seed=0):
    """Images made of two flat blocks from one colour family, plus noise; labels = family."""
    rng = np.random.default_rng(seed)
    imgs, labels = [], []
    for f, (c1, c2) in enumerate(FAMILIES):
        for _ in range(per_family):
            img = np.empty((size, size, 3))
            cut = rng.integers(size // 4, 3 * size // 4)
            img[:, :cut], img[:, cut:] = c1, c2
            img += rng.normal(0, 6, img.shape)
            imgs.append(np.clip(img, 0, 255).astype(np.uint8))
            labels.append(f)
    return np.stack(imgs), np.array(labels)


def _same_partition(a, b) -> bool:
    from sklearn.metrics import adjusted_rand_score
    return adjusted_rand_score(a, b) == 1.0


def test_batched_kmeans_recovers_planted_clusters():
    g = torch.Generator().manual_seed(0)
    B, per, k = 5, 60, 3
    planted = torch.rand(B, k, 3, generator=g) * 100
    truth = torch.arange(k).repeat_interleave(per)
    x = planted[:, truth] + torch.randn(B, k * per, 3, generator=g) * 0.5
    res = batched_kmeans(x, k, iters=10, seed=0)
    assert res.centers.shape == (B, k, 3) and res.labels.shape == (B, k * per)
    for b in range(B):
        d = torch.cdist(planted[b], res.centers[b])
        assert d.min(1).values.max() < 0.5          # every planted centre found
        assert _same_partition(truth.numpy(), res.labels[b].numpy())
    expected = (x - res.centers.gather(1, res.labels[..., None].expand(-1, -1, 3))).square().sum((1, 2))
    assert torch.allclose(res.inertia, expected, rtol=1e-4)


def test_batched_kmeans_inertia_matches_scikit_learn():
    from sklearn.cluster import KMeans

    imgs, _ = _family_images(per_family=1, size=24)
    x = rgb_to_lab(torch.from_numpy(imgs).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).reshape(len(imgs), -1, 3)
    ours = batched_kmeans(x, 4, iters=10, seed=0).inertia.double()
    ref = torch.tensor([KMeans(4, n_init=1, max_iter=10, random_state=0).fit(p.numpy()).inertia_ for p in x])
    assert float(ours.sum() / ref.sum()) < 1.05


def test_kmeans_rejects_bad_input():
    with pytest.raises(ColorlabError):
        batched_kmeans(torch.rand(2, 3, 3), k=5)
    with pytest.raises(ColorlabError):
        batched_kmeans(torch.rand(2, 10, 3), k=2, init="random-ish")


def test_dominant_colours_of_a_two_colour_image():
    img = torch.zeros(1, 3, 16, 16, dtype=torch.uint8)
    img[0, 0, :, :12] = 255                      # 3/4 red, 1/4 blue
    img[0, 2, :, 12:] = 255
    d = dominant_colors_batch(img, n_colors=2)
    assert torch.allclose(d.fractions[0], torch.tensor([0.75, 0.25]))
    red, blue = rgb_to_lab(img[..., :1, :1]).view(3), rgb_to_lab(img[..., :1, -1:]).view(3)
    assert torch.allclose(d.colors[0, 0], red, atol=1e-2) and torch.allclose(d.colors[0, 1], blue, atol=1e-2)
    assert d.variances.abs().max() < 1e-2
    assert abs(float(d.coherency[0]) - 14 / 16) < 1e-6   # only the two columns along the edge are mixed
    checker = torch.zeros(1, 3, 8, 8, dtype=torch.uint8)
    checker[0, :, ::2, ::2] = 255
    checker[0, :, 1::2, 1::2] = 255
    assert float(dominant_colors_batch(checker, n_colors=2).coherency[0]) == 0.0


def test_profiles_find_the_colour_families_and_are_stable(tmp_path):
    imgs, fam = _family_images()
    a = build_profiles(imgs, k=4, device="cpu", batch_size=10, progress=False)
    b = build_profiles(imgs, k=4, device="cpu", batch_size=10, progress=False)
    assert _same_partition(a.groups.labels, fam)
    assert np.array_equal(a.groups.labels, b.groups.labels)
    assert a.groups.palettes.shape == (4, 5, 3) and np.allclose(a.groups.palette_weights.sum(1), 1)
    assert a.groups.counts.tolist() == [6, 6, 6, 6]
    ex = a.groups.examples
    assert all(set(a.groups.labels[ex[g][ex[g] >= 0]]) == {g} for g in range(4))
    # a red profile's first swatch is red: a > 30 in Lab
    red = int(a.groups.labels[0])
    assert a.groups.palettes[red, 0, 1] > 30
    path = a.save(tmp_path / "profiles.pt")
    torch.load(path, weights_only=True)
    back = ColorProfiles.load(path)
    new, new_fam = _family_images(per_family=3, seed=1)
    assigned = back.assign_profile(new, device="cpu")
    assert _same_partition(assigned, new_fam)
    assert np.array_equal(back.assign_profile(imgs, device="cpu", batch_size=10), a.groups.labels)


@pytest.mark.parametrize("features", [("dcd",), ("hist",)])
def test_each_feature_block_alone_separates_the_families(features):
    imgs, fam = _family_images()
    p = build_profiles(imgs, k=4, features=features, device="cpu", progress=False)
    assert p.features == features and _same_partition(p.groups.labels, fam)


def test_category_groups_use_the_same_downstream_shape():
    imgs, fam = _family_images(per_family=4)
    desc = describe_images(imgs, device="cpu")
    g = category_groups(fam, classes=["red", "green", "blue", "gray"], descriptors=desc)
    assert g.kind == "category" and g.n_groups == 4 and g.palettes.shape == (4, 5, 3)
    assert np.array_equal(g.labels, fam)
    assert g.palettes[0, 0, 1] > 30 and abs(g.palettes[3, 0, 1]) < 5     # reds are red, grays gray
    with pytest.raises(ColorlabError, match="no category labels"):
        category_groups(np.array([0, -1, 1]))


def test_profiles_on_the_prepared_sample(prepared_sample):
    p = build_profiles(prepared_sample, k=3, device="cpu", progress=False)
    assert len(p.groups.labels) == len(prepared_sample) and (p.groups.counts > 0).all()


def test_profile_figures_draw():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from colorlab.viz.profiles import plot_dominant_colors, plot_group_examples, plot_palettes

    imgs, fam = _family_images(per_family=3)
    p = build_profiles(imgs, k=4, device="cpu", progress=False)
    desc = describe_images(imgs[:1], device="cpu")
    pal = plot_palettes(p.groups)
    assert len(pal.axes[0].patches) >= 8          # at least two swatches per profile
    ex = plot_group_examples(p.groups, imgs, n=3)
    assert len(ex.axes) == 12 and sum(len(a.images) for a in ex.axes) == 12
    dom = plot_dominant_colors(imgs[0], desc.dcd)
    assert len(dom.axes) == 2 and len(dom.axes[1].patches) == 5
    for fig in (pal, ex, dom):
        plt.close(fig)


def test_kmeans_benchmark_runs_small(tmp_path):
    import json
    import runpy
    from pathlib import Path

    bench = runpy.run_path(str(Path(__file__).resolve().parents[1] / "bench" / "bench_kmeans.py"), run_name="bench")
    res = bench["main"](["--n", "12", "--size", "16", "--batch-size", "8", "--device", "cpu",
                         "--out", str(tmp_path / "k.json")])
    saved = json.loads((tmp_path / "k.json").read_text())
    assert saved["images"] == 12 and saved["speedup"] == res["speedup"] > 0
    assert 0.9 < saved["inertia_ratio"] < 1.1


@pytest.mark.parametrize("k", [5, 10])  # k ≤ 8 uses the packed-key arg-min, k > 8 the plain one
def test_fast_assignment_matches_a_plain_argmin(k):
    from colorlab.profiles import _assign, _sq_dist

    g = torch.Generator().manual_seed(k)
    xt = torch.randn(3, 3, 500, generator=g) * 40
    c = torch.randn(3, k, 3, generator=g) * 40
    plain = _sq_dist(xt, c).argmin(1)
    if k <= 8:
        xa = torch.cat([xt, torch.ones(3, 1, 500)], 1)
        assert (_assign(xa, xt.square().sum(1, keepdim=True), c) == plain).float().mean() > 0.999
    res = batched_kmeans(xt.transpose(1, 2), k, iters=3)
    assert res.labels.max() < k and torch.isfinite(res.inertia).all()
