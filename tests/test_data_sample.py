"""The embedded sample set: photos from the installed packages, split by photo, seeded patches."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from colorlab.data import SAMPLE_PHOTOS, SAMPLE_VAL_PHOTOS, get_dataset, sample_photos
from colorlab.core.errors import ColorlabError


def test_photos_are_on_disk_and_split_by_photo():
    train, val, every = sample_photos("train"), sample_photos("val"), sample_photos("all")
    assert all(p.is_file() for _, p in every)
    assert [name for name, _ in val] == list(SAMPLE_VAL_PHOTOS)  # the held-out list is all installed
    assert {n for n, _ in train}.isdisjoint(n for n, _ in val)
    assert sorted(train + val) == sorted(every)
    assert len(train) >= 5
    assert {n for n, _ in every} <= {p.name for p in SAMPLE_PHOTOS}
    with pytest.raises(ColorlabError, match="split"):
        sample_photos("test")


def test_patches_shape_count_and_labels():
    ds = get_dataset("sample", size=24, n=20)
    assert len(ds) == 20 and len(get_dataset("sample")) == 512 and len(get_dataset("sample", split="val")) == 64
    x, y = ds[3]
    assert x.shape == (3, 24, 24) and x.dtype == torch.uint8
    assert ds.classes[y] == ds.source(3).split("@")[0]
    assert sorted({ds[i][1] for i in range(len(ds))}) == list(range(len(ds.classes)))  # every photo used
    with pytest.raises(IndexError):
        ds[20]


def test_val_patches_only_come_from_held_out_photos():
    val = get_dataset("sample", split="val", size=16, n=12)
    assert val.classes == list(SAMPLE_VAL_PHOTOS)
    assert {val.source(i).split("@")[0] for i in range(len(val))} == set(SAMPLE_VAL_PHOTOS)
    train = get_dataset("sample", split="train", size=16, n=40)
    assert not {train.source(i).split("@")[0] for i in range(len(train))} & set(SAMPLE_VAL_PHOTOS)


def test_patches_are_deterministic_for_a_seed():
    a = get_dataset("sample", size=16, n=8, seed=3)
    b = get_dataset("sample", size=16, n=8, seed=3)
    c = get_dataset("sample", size=16, n=8, seed=4)
    stack = lambda ds: torch.stack([ds[i][0] for i in range(len(ds))])  # noqa: E731
    assert torch.equal(stack(a), stack(b))
    assert not torch.equal(stack(a), stack(c))


def test_several_zooms():
    ds = get_dataset("sample", size=16, n=64, zooms=(1.0, 0.25))
    sides = {}
    for i in range(len(ds)):
        name, box = ds.source(i).split("@")
        sides.setdefault(name, set()).add(int(box.split("+")[1]))
    assert all(len(s) == 2 for s in sides.values())  # a whole-photo view and a close-up of each
    with pytest.raises(ColorlabError, match="zooms"):
        get_dataset("sample", zooms=(0.0,))


def test_patch_matches_its_crop():
    from PIL import Image
    from colorlab.core.io import load_image
    ds = get_dataset("sample", size=32, n=4, zooms=(1.0,))
    name, box = ds.source(0).split("@")
    xy, side = box.split("+")
    x, y, side = *map(int, xy.split(",")), int(side)
    photo = load_image(dict(sample_photos("all"))[name])
    expected = np.asarray(Image.fromarray(photo[y:y + side, x:x + side]).resize((32, 32), Image.Resampling.BICUBIC))
    assert np.abs(ds[0][0].permute(1, 2, 0).numpy().astype(int) - expected.astype(int)).mean() < 2
