"""The ``scenes`` dataset: deterministic, in gamut, and built so that each effect is measurable —
classes recognisable from L, the fruit's colour modes *not* recognisable from L, a rare class,
profiles inferable from the whole scene."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from colorlab.data import get_dataset, prepare
from colorlab.data import scenes as S
from colorlab.data.scenes_render import in_gamut
from colorlab.core.errors import ColorlabError


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def drawn():
    ds = S.ScenesDataset(split="train", size=48, n=400, seed=0)
    return [ds.scene(i) for i in range(len(ds))]


def test_deterministic_and_splits_disjoint():
    a = S.ScenesDataset(split="train", size=32, n=4, seed=0)
    b = S.ScenesDataset(split="train", size=32, n=4, seed=0)
    np.testing.assert_array_equal(a.scene(3).lab, b.scene(3).lab)
    assert not np.allclose(a.scene(3).lab, S.ScenesDataset(split="val", size=32, n=4, seed=0).scene(3).lab)
    assert not np.allclose(a.scene(3).lab, S.ScenesDataset(split="train", size=32, n=4, seed=1).scene(3).lab)
    x, y = get_dataset("scenes", split="test", size=40, n=3)[2]
    assert x.dtype == torch.uint8 and x.shape == (3, 40, 40) and 0 <= y < len(S.PROFILES)


@pytest.mark.parametrize("bad", [dict(size=31), dict(size=257), dict(size="64"), dict(n=0), dict(split="dev")])
def test_bad_arguments_give_one_clear_error(bad):
    with pytest.raises(ColorlabError, match="scenes"):
        S.ScenesDataset(**{"split": "train", "size": 64, **bad})


def test_every_colour_is_in_gamut_and_rgb_shows_the_truth(drawn):
    lab = np.stack([s.lab for s in drawn[:100]])
    assert in_gamut(lab[..., 0], lab[..., 1], lab[..., 2], eps=1e-3).all()
    from colorlab.core.color import rgb_to_lab
    back = rgb_to_lab(torch.from_numpy(np.stack([s.rgb for s in drawn[:20]])).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    assert (back - torch.from_numpy(lab[:20])).abs().amax().item() < 1.5  # only 8-bit rounding


def test_class_shares_and_the_rare_class(drawn):
    cls = np.stack([s.classes for s in drawn])
    share = np.bincount(cls.ravel(), minlength=len(S.CLASSES)) / cls.size
    assert share[S.SKY] > 0.2 and share[S.GRASS] + share[S.WATER] > 0.2
    assert 0.03 < share[S.FRUIT] < 0.2 and 0.01 < share[S.CAR] < 0.15
    with_flower = np.mean([(s.classes == S.FLOWER).any() for s in drawn])
    assert 0.02 <= with_flower <= 0.12, with_flower          # a few percent of images ...
    assert 0 < share[S.FLOWER] < 0.005, share[S.FLOWER]      # ... and well under 1 % of pixels
    val = S.ScenesDataset(split="val", size=48, n=24, seed=0)
    assert all((val.scene(i).classes == S.FLOWER).any() for i in range(0, 24, 8))  # always measurable
    red = sum(((s.classes == S.CAR) & (s.modes == 2)).sum() for s in drawn)
    gray = sum(((s.classes == S.CAR) & (s.modes == 1)).sum() for s in drawn)
    assert 0.1 < red / (red + gray) < 0.35                   # the car: usually gray, sometimes red


def test_fruit_modes_are_isoluminant_and_nearly_complementary(drawn):
    L = {1: [], 2: []}
    for s in drawn:
        for m in (1, 2):
            L[m].append(s.lab[..., 0][(s.classes == S.FRUIT) & (s.modes == m)])
    L1, L2 = np.concatenate(L[1]), np.concatenate(L[2])
    assert abs(L1.mean() - L2.mean()) < 0.6 and abs(L1.std() - L2.std()) < 0.6
    mean_ab = (np.array(S.FRUIT_MODES[0]) + np.array(S.FRUIT_MODES[1])) / 2
    assert np.hypot(*mean_ab) < 0.25 * np.hypot(*S.FRUIT_MODES[0])


def _crops(drawn, where, half=6):
    """L patches (1, 2h, 2h) centred on connected blobs selected by ``where(scene) -> (mask, label)``."""
    from scipy.ndimage import center_of_mass, label as cc
    xs, ys = [], []
    for s in drawn:
        L = np.pad(s.lab[..., 0], half, mode="edge")
        for mask, y in where(s):
            blobs, n = cc(mask)
            for k in range(1, n + 1):
                if (blobs == k).sum() < 12:
                    continue
                cy, cx = (int(round(v)) + half for v in center_of_mass(blobs == k))
                xs.append(L[cy - half:cy + half, cx - half:cx + half])
                ys.append(y)
    x = torch.from_numpy(np.stack(xs)).float()[:, None] / 50 - 1
    return x, torch.tensor(ys)


def _fit_small_cnn(x, y, classes, epochs=12, seed=0):
    """A small CNN on L patches; returns its accuracy on a held-out third."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    perm = torch.randperm(len(x), generator=g)
    cut = len(x) * 2 // 3
    tr, te = perm[:cut], perm[cut:]
    net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1),
                        nn.Flatten(), nn.Linear(32, classes))
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    for _ in range(epochs):
        order = tr[torch.randperm(cut, generator=g)]
        for i in range(0, cut, 32):
            b = order[i:i + 32]
            opt.zero_grad()
            nn.functional.cross_entropy(net(x[b]), y[b]).backward()
            opt.step()
    with torch.no_grad():
        return (net(x[te]).argmax(1) == y[te]).float().mean().item()


def test_fruit_colour_cannot_be_told_from_L_but_the_fruit_can(drawn):
    """The control: the same small CNN that finds fruit among other objects from L cannot tell a red
    fruit from a teal one (≤ 55 %): the modes are truly ambiguous."""
    x, y = _crops(drawn, lambda s: [((s.classes == S.FRUIT) & (s.modes == m), m - 1) for m in (1, 2)])
    assert len(x) > 600 and 0.4 < y.float().mean() < 0.6
    acc_mode = _fit_small_cnn(x, y, 2)
    print(f"fruit colour from L: {acc_mode:.3f}")
    assert acc_mode <= 0.55, f"fruit colour is predictable from L ({acc_mode:.2f}): the dataset leaks"
    xo, yo = _crops(drawn, lambda s: [(s.classes == S.FRUIT, 0), (s.classes == S.CAR, 1), (s.classes == S.BARK, 2)])
    acc_class = _fit_small_cnn(xo, yo, 3)
    print(f"object class from L: {acc_class:.3f}")
    assert acc_class >= 0.9, f"objects not recognisable from L ({acc_class:.2f})"


def test_profile_is_inferable_from_the_whole_scene():
    """A small CNN on L alone finds the scene's profile from its global cue."""
    ds = S.ScenesDataset(split="train", size=32, n=600, seed=3)
    scenes = [ds.scene(i) for i in range(len(ds))]
    x = torch.from_numpy(np.stack([s.lab[..., 0] for s in scenes])).float()[:, None] / 50 - 1
    y = torch.tensor([s.profile for s in scenes])
    acc = _fit_small_cnn(x, y, len(S.PROFILES), epochs=15)
    print(f"profile from L: {acc:.3f}")
    assert acc >= 0.85


def test_prepare_keeps_exact_lab_and_labels_and_keys_the_generator(monkeypatch, tmp_path):
    p = prepare("scenes", split="val", size=32, n=10, seed=0, cache_dir=tmp_path, progress=False)
    ds = S.ScenesDataset(split="val", size=32, n=10, seed=0)
    assert p.lab.dtype == np.float32 and p.lab.shape == (10, 32, 32, 3)
    np.testing.assert_array_equal(p.lab[7], ds.scene(7).lab)
    np.testing.assert_array_equal(p.class_map[7], ds.scene(7).classes)
    np.testing.assert_array_equal(p.mode_map[7], ds.scene(7).modes)
    np.testing.assert_array_equal(p.images[7], ds.scene(7).rgb)
    assert p.labels.tolist() == [ds.scene(i).profile for i in range(10)]
    assert prepare("scenes", split="val", size=32, n=10, seed=0, cache_dir=tmp_path, progress=False).path == p.path
    monkeypatch.setattr(S, "GENERATOR_VERSION", S.GENERATOR_VERSION + 1)
    assert prepare("scenes", split="val", size=32, n=10, seed=0, cache_dir=tmp_path, progress=False).path != p.path


def test_loaders_and_evaluate_read_the_exact_lab(tmp_path):
    from colorlab.evaluation.evaluate import evaluate
    from colorlab.data.loaders import make_dataloaders
    p = prepare("scenes", split="val", size=32, n=16, seed=0, cache_dir=tmp_path, progress=False)
    dls = make_dataloaders(p, p, bs=8, device="cpu")
    L, ab = dls.valid.one_batch()
    torch.testing.assert_close(L[0, 0], torch.from_numpy(np.array(p.lab[0, ..., 0])) / 50 - 1)
    torch.testing.assert_close(ab[0], torch.from_numpy(np.array(p.lab[0, ..., 1:])).permute(2, 0, 1) / 110)

    class Oracle(nn.Module):  # predicts the true ab of the evaluation set, in order
        def __init__(self):
            super().__init__()
            self.i = 0

        def forward(self, x):
            out = torch.from_numpy(np.array(p.lab[self.i:self.i + len(x), ..., 1:])).permute(0, 3, 1, 2) / 110
            self.i += len(x)
            return out
    df = evaluate({"oracle": Oracle()}, p, device="cpu", progress=False, groups=S.scene_groups())
    assert df.loc["oracle", "chroma ratio [multimodal]"] == pytest.approx(1.0, abs=1e-4)
    assert df.loc["oracle", "recall@20 [rare]"] == 1.0
    assert df.loc["gray (ab=0)", "chroma ratio [multimodal]"] == 0.0
    assert df.attrs["notes"]["groups"]["rare"] > 0
