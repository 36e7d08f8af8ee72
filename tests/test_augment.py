"""Batch augmentation: the papers' transforms on the batch's device, L and ab kept aligned."""
import numpy as np
import pytest
import torch

from colorlab.data.augment import PAPERS_RECIPE, Augment, make_augment
from colorlab.core.color import join_l_ab, denormalize_l, rgb_to_lab, split_lab, normalize_ab, normalize_l
from colorlab.core.errors import ColorlabError
from colorlab.data.loaders import LabBatch


@pytest.fixture
def batch(prepared_sample):
    return torch.from_numpy(np.array(prepared_sample.images[:8])).permute(0, 3, 1, 2).float() / 255


def test_augment_then_split_equals_split_then_augment(batch):
    aug = Augment(**{**PAPERS_RECIPE, "interpolation": "nearest"})
    torch.manual_seed(3)
    L1, ab1 = split_lab(aug(batch))
    torch.manual_seed(3)
    lab = aug(rgb_to_lab(batch))  # the same draws, applied to Lab instead of RGB
    assert torch.allclose(L1, normalize_l(lab[:, :1]), atol=1e-5)
    assert torch.allclose(ab1, normalize_ab(lab[:, 1:]), atol=1e-5)
    assert not torch.allclose(L1, split_lab(batch)[0])  # it did change the images


def test_several_batches_get_the_same_warp(batch):
    aug = make_augment("papers")
    a, b = aug(batch, batch * 2)
    assert torch.allclose(a * 2, b, atol=1e-5)


def test_each_image_gets_its_own_draw_and_flip_only_flips(batch):
    torch.manual_seed(0)
    out = Augment(flip=True)(batch.repeat(16, 1, 1, 1)[:16])
    flipped = [torch.equal(o, batch[0].flip(-1)) for o in out[::8]]
    same = [torch.equal(o, batch[0]) for o in out[::8]]
    assert all(f or s for f, s in zip(flipped, same))
    same_all = [torch.equal(out[i], batch[i % 8]) for i in range(16)]
    assert 0 < sum(same_all) < 16


def test_nearest_fill_repeats_the_border_instead_of_black():
    img = torch.ones(8, 3, 16, 16) * 0.7
    torch.manual_seed(0)
    nearest = Augment(flip=False, rotation=45, interpolation="nearest", fill="nearest")(img)
    torch.manual_seed(0)
    black = Augment(flip=False, rotation=45, interpolation="nearest", fill="constant")(img)
    assert torch.equal(nearest, img)
    assert (black == 0).any()


def test_labbatch_augments_rgb_before_the_split(prepared_sample):
    x = torch.from_numpy(np.array(prepared_sample.images[:4]))
    aug = Augment(flip=False, rotation=30, interpolation="nearest")
    torch.manual_seed(1)
    L, ab = LabBatch(augment=aug).encodes((x, torch.zeros(4)))
    torch.manual_seed(1)
    expected = aug(x.permute(0, 3, 1, 2).float() / 255)
    rgb = join_l_ab(denormalize_l(L), ab * 110)
    assert (rgb - expected).abs().max() < 2e-3


def test_make_augment_specs():
    assert make_augment(None) is None and make_augment(False) is None and make_augment("none") is None
    assert make_augment(True) == Augment(**PAPERS_RECIPE)
    assert make_augment({"rotation": 5}).rotation == 5
    with pytest.raises(ColorlabError, match="bad augment option"):
        make_augment({"twist": 1})
    with pytest.raises(ColorlabError, match="fill"):
        Augment(fill="wrap")


def _fixed_draws(monkeypatch, *tables):
    """Make torch.rand (Augment's draws) return the given rows (one table per call, broadcast over the batch)."""
    import colorlab.data.augment as augment
    queue = list(tables)
    monkeypatch.setattr(augment.torch, "rand", lambda *shape, device=None, **kw: torch.tensor(
        queue.pop(0), dtype=torch.float32, device=device).expand(*shape).clone())


def test_the_warp_geometry_rotates_and_shifts_by_the_drawn_amounts(monkeypatch):
    img, wide = torch.rand(2, 3, 8, 8), torch.rand(1, 1, 4, 12)
    # u = (apply, flip, angle, shear, zoom, -): angle draw 1.0 → +90°, shear 0, zoom 1; no shift
    _fixed_draws(monkeypatch, [0.0, 0.9, 1.0, 0.5, 0.5, 0.0], [0.5, 0.5])
    out = Augment(flip=True, rotation=90, interpolation="nearest")(img)
    assert any(torch.equal(out, torch.rot90(img, k, dims=(-2, -1))) for k in (1, -1)), "not a quarter turn"
    # shift draw 1.0 in x → +shift · W = 3 pixels to the right; 0.5 in y → none
    _fixed_draws(monkeypatch, [0.0, 0.9, 0.5, 0.5, 0.5, 0.0], [1.0, 0.5])
    moved = Augment(flip=False, shift=0.25, interpolation="nearest", fill="constant")(wide)
    assert torch.equal(moved[..., 3:], wide[..., :-3]) and (moved[..., :3] == 0).all()


def test_a_batch_is_warped_at_once_without_reading_values_back(batch, monkeypatch):
    import torch.nn.functional as F
    import colorlab.data.augment as augment
    from host_syncs import count_host_syncs
    calls = []
    real = F.grid_sample
    monkeypatch.setattr(augment.F, "grid_sample", lambda *a, **k: calls.append(a[0].shape[0]) or real(*a, **k))
    aug = make_augment("papers")
    with count_host_syncs() as counts:
        out = aug(batch, batch * 2)
    assert calls == [len(batch), len(batch)]  # one call per batch, all images in it
    assert not counts, dict(counts)
    assert out[0].shape == batch.shape and not torch.equal(out[0], batch)
