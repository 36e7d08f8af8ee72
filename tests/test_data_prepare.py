"""prepare(): streamed uint8 memmap cache, reuse, atomic publication, skipped and gray photos."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch

from colorlab.data import (GRAY_AB_THRESHOLD, Prepared, SampleDataset, ab_spread, get_dataset, is_gray,
                           load_prepared, prepare)
from colorlab.core.errors import ColorlabError


def test_prepared_sample_fixture(prepared_sample, prepared_sample_val):
    p = prepared_sample
    assert isinstance(p, Prepared) and len(p) == 64
    assert isinstance(p.images, np.memmap) and p.images.shape == (64, 32, 32, 3) and p.images.dtype == np.uint8
    with pytest.raises(ValueError):
        p.images[0, 0, 0, 0] = 1  # read-only
    assert p.labels.dtype == np.int64 and p.labels.shape == (64,)
    assert p.meta["dataset"] == "sample" and p.meta["split"] == "train" and p.meta["size"] == 32
    assert set(p.classes).isdisjoint(prepared_sample_val.classes)
    assert len(prepared_sample_val) == 16
    x, y = p[5]
    assert x.shape == (3, 32, 32) and x.dtype == torch.uint8 and y == p.labels[5]
    assert np.array_equal(x.permute(1, 2, 0).numpy(), p.images[5])
    xb, yb = p.batch([5, 0, 7])
    assert xb.shape == (3, 3, 32, 32) and torch.equal(xb[0], x) and yb.tolist() == p.labels[[5, 0, 7]].tolist()
    assert len(p.sources) == 64


def test_cache_matches_the_dataset(tmp_path):
    p = prepare("sample", size=16, n=10, seed=2, cache_dir=tmp_path, progress=False)
    ds = get_dataset("sample", size=16, n=10, seed=2)
    assert all(torch.equal(p[i][0], ds[i][0]) and p[i][1] == ds[i][1] for i in range(10))


def test_reuse_force_and_different_arguments(tmp_path, capsys):
    a = prepare("sample", size=16, n=8, cache_dir=tmp_path, progress=True)
    assert "prepared 8 sample/train" in capsys.readouterr().out
    stamp = (a.path / "index.json").stat().st_mtime_ns
    b = prepare("sample", size=16, n=8, cache_dir=tmp_path, progress=False)
    assert b.path == a.path and (b.path / "index.json").stat().st_mtime_ns == stamp  # reused, not rebuilt
    c = prepare("sample", size=16, n=8, cache_dir=tmp_path, progress=False, force=True)
    assert c.path == a.path and (c.path / "index.json").stat().st_mtime_ns != stamp
    d = prepare("sample", size=16, n=8, seed=1, cache_dir=tmp_path, progress=False)
    e = prepare("sample", size=16, n=8, cache_dir=tmp_path, progress=False, zooms=(1.0,))
    assert len({a.path, d.path, e.path}) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.path.name for p in (a, d, e))


def test_interrupted_prepare_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    real_read, calls = SampleDataset.read, []

    def read_then_die(self, index):
        calls.append(index)
        if len(calls) > 20:
            raise KeyboardInterrupt
        return real_read(self, index)

    monkeypatch.setattr(SampleDataset, "read", read_then_die)
    with pytest.raises(KeyboardInterrupt):
        prepare("sample", size=16, n=64, cache_dir=tmp_path, progress=False, workers=1, chunk=16)
    assert list(tmp_path.iterdir()) == []  # no half-written cache, no temporary folder
    monkeypatch.setattr(SampleDataset, "read", real_read)
    assert len(prepare("sample", size=16, n=64, cache_dir=tmp_path, progress=False)) == 64


def test_stale_temporary_of_a_killed_prepare_is_removed(tmp_path):
    p = prepare("sample", size=16, n=4, cache_dir=tmp_path, progress=False)
    stale = tmp_path / f".{p.path.name}.tmp-999999999-deadbeef"
    (stale / "images.u8").parent.mkdir()
    (stale / "images.u8").write_bytes(b"\x00" * 10)
    prepare("sample", size=16, n=4, cache_dir=tmp_path, progress=False, force=True)
    assert not stale.exists()


def test_unreadable_files_are_skipped_and_counted(tmp_path, write_photo):
    for i in range(5):
        write_photo(tmp_path / "photos" / f"p{i}.jpg", i)
    (tmp_path / "photos" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "photos" / "half.png").write_bytes((tmp_path / "photos" / "p0.jpg").read_bytes()[:200])
    p = prepare("folder", root=tmp_path / "photos", split="all", size=16, cache_dir=tmp_path / "cache",
                progress=False)
    assert len(p) == 5 and p.meta["skipped"] == 2
    assert sorted(f.split(":")[0].rsplit("/", 1)[-1] for f in p.meta["skipped_files"]) == ["broken.jpg", "half.png"]
    assert sorted(p.sources) == [f"p{i}.jpg" for i in range(5)]
    assert p.classes == [] and set(p.labels.tolist()) == {-1}


def test_gray_photos_are_dropped_and_counted(tmp_path, make_tiny_imagenet):
    make_tiny_imagenet(tmp_path, per_class=4, gray=[(0, 1), (2, 3)])
    p = prepare("tiny-imagenet", root=tmp_path, size=16, cache_dir=tmp_path / "cache", progress=False)
    assert len(p) == 10 and p.meta["gray_dropped"] == 2
    assert "n01443537/images/n01443537_1.JPEG" not in "\n".join(p.sources)
    assert p.classes[0] == "goldfish" and sorted(set(p.labels.tolist())) == [0, 1, 2]
    x, _ = p.batch(range(len(p)))
    assert not is_gray(x).any()
    kept = prepare("tiny-imagenet", root=tmp_path, size=16, cache_dir=tmp_path / "cache", progress=False,
                   drop_gray=False)
    assert len(kept) == 12 and kept.meta["gray_dropped"] == 0 and kept.path != p.path


def test_n_limits_photos_with_a_seeded_subset(tmp_path, make_tf_flowers):
    make_tf_flowers(tmp_path, per_class=4)
    a = prepare("tf-flowers", root=tmp_path, split="all", size=16, n=5, cache_dir=tmp_path / "c", progress=False)
    b = prepare("tf-flowers", root=tmp_path, split="all", size=16, n=5, seed=1, cache_dir=tmp_path / "c",
                progress=False)
    assert len(a) == len(b) == 5 and a.sources != b.sources
    assert a.sources == sorted(a.sources)  # read in disk order


def test_prepared_survives_pickling_for_dataloader_workers(prepared_sample):
    clone = pickle.loads(pickle.dumps(prepared_sample))
    assert len(pickle.dumps(prepared_sample)) < 10_000  # the memmap is re-opened, not copied
    assert torch.equal(clone[3][0], prepared_sample[3][0])
    x, y = next(iter(torch.utils.data.DataLoader(prepared_sample, batch_size=8)))
    assert x.shape == (8, 3, 32, 32) and y.tolist() == prepared_sample.labels[:8].tolist()


def test_load_prepared_errors(tmp_path, prepared_sample):
    with pytest.raises(ColorlabError, match="not a prepared cache"):
        load_prepared(tmp_path)
    import shutil
    broken = tmp_path / "broken"
    shutil.copytree(prepared_sample.path, broken)
    with open(broken / "images.u8", "r+b") as f:
        f.truncate(100)
    with pytest.raises(ColorlabError, match="wrong size"):
        load_prepared(broken)
    meta = json.loads((broken / "index.json").read_text())
    meta["complete"] = False
    (broken / "index.json").write_text(json.dumps(meta))
    with pytest.raises(ColorlabError, match="incomplete"):
        load_prepared(broken)


def test_prepare_argument_errors(tmp_path):
    with pytest.raises(ColorlabError, match="size"):
        prepare("sample", size=0, cache_dir=tmp_path)
    with pytest.raises(ColorlabError, match="n must"):
        prepare("sample", n=-3, cache_dir=tmp_path)
    with pytest.raises(ColorlabError, match="unknown dataset"):
        prepare("cifar", cache_dir=tmp_path)
    with pytest.raises(ColorlabError, match="expected layout"):
        prepare("places365", root=tmp_path / "nothing", cache_dir=tmp_path / "c")


def test_ab_spread_separates_gray_from_colour(small_photos):
    colour = torch.from_numpy(np.stack(small_photos[:4])).permute(0, 3, 1, 2)
    gray = colour.float().mean(1, keepdim=True).round().to(torch.uint8).expand(-1, 3, -1, -1)
    assert ab_spread(gray).max() < 0.01
    assert ab_spread(colour).min() > GRAY_AB_THRESHOLD
    assert is_gray(torch.cat([gray[:1], colour[:1]])).tolist() == [True, False]
    assert ab_spread(colour[0]).shape == ()


def test_sample_draws_more_patches_to_replace_gray_ones(tmp_path):
    p = prepare("sample", size=16, n=24, cache_dir=tmp_path, progress=False, gray_threshold=20.0)
    assert len(p) == 24 and p.meta["gray_dropped"] > 0
    assert p.meta["tried"] >= 24 + p.meta["gray_dropped"]
    x, _ = p.batch(range(24))
    assert ab_spread(x).min() >= 20.0
