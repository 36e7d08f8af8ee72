"""Dataset loaders on tiny fake copies of each real on-disk layout (nothing is downloaded)."""
from __future__ import annotations

import socket

import numpy as np
import pytest
import torch

from colorlab.data import (DATASETS, SampleDataset, TFFlowers, TinyImageNet, dataset_class, dataset_status,
                           get_dataset)
from colorlab.core.errors import ColorlabError


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a loader tried to use the network")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _check_items(ds, size=32):
    x, y = ds[0]
    assert x.dtype == torch.uint8 and x.shape == (3, size, size)
    assert isinstance(y, int)
    assert x.float().std() > 5  # a real photo, not a blank


def test_registry_names_and_errors():
    assert list(DATASETS) == ["sample", "tiny-imagenet", "flowers102", "tf-flowers", "places365", "folder", "scenes"]
    with pytest.raises(ColorlabError, match="unknown dataset 'imagenet'.*tiny-imagenet"):
        get_dataset("imagenet")
    with pytest.raises(ColorlabError, match="unknown option"):
        get_dataset("sample", colour=True)
    with pytest.raises(ColorlabError, match="unknown split 'training'"):
        get_dataset("sample", split="training")
    assert isinstance(get_dataset("SAMPLE", n=2), SampleDataset)
    assert dataset_class("Tiny_ImageNet") is TinyImageNet and dataset_class("tf_flowers") is TFFlowers


# ------------------------------------------------------------------------------- tiny imagenet
def test_tiny_imagenet_layout(tmp_path, make_tiny_imagenet):
    make_tiny_imagenet(tmp_path, per_class=3)
    train = get_dataset("tiny-imagenet", root=tmp_path, size=32)  # root: the parent also works
    assert len(train) == 9
    assert train.classes == ["goldfish", "European fire salamander", "bullfrog"]
    assert sorted(set(train.label(i) for i in range(len(train)))) == [0, 1, 2]
    assert all(p.parent.parent.name == train.wnids[y] for p, y in train.samples)
    _check_items(train)
    val = get_dataset("tiny-imagenet", root=tmp_path / "tiny-imagenet-200", split="val", size=32)
    assert [y for _, y in val.samples] == [0, 1, 2, 0, 1, 2]
    test = get_dataset("tiny-imagenet", root=tmp_path, split="test", size=32)
    assert [y for _, y in test.samples] == [-1]
    full = get_dataset("tiny-imagenet", root=tmp_path, size=None)
    assert full[0][0].shape == (3, 40, 48)


def test_tiny_imagenet_missing_and_incomplete(tmp_path, make_tiny_imagenet):
    with pytest.raises(ColorlabError, match=r"wnids\.txt.*expected layout.*tiny-imagenet-200.zip") as info:
        get_dataset("tiny-imagenet", root=tmp_path)
    assert "\n" not in str(info.value)
    base = make_tiny_imagenet(tmp_path)
    (base / "val" / "images" / "val_5.JPEG").unlink()
    with pytest.raises(ColorlabError, match=r"val_5\.JPEG.*incomplete"):
        get_dataset("tiny-imagenet", root=tmp_path, split="val")
    for f in (base / "train" / "n01629819" / "images").iterdir():
        f.unlink()
    (base / "train" / "n01629819" / "images").rmdir()
    with pytest.raises(ColorlabError, match=r"n01629819"):
        get_dataset("tiny-imagenet", root=tmp_path)


def test_default_root_is_the_data_folder(tmp_path, monkeypatch, make_tiny_imagenet):
    monkeypatch.setenv("COLORLAB_HOME", str(tmp_path))
    assert not {r["name"]: r for r in dataset_status()}["tiny-imagenet"]["present"]
    make_tiny_imagenet(tmp_path / "data")
    rows = {r["name"]: r for r in dataset_status()}
    assert set(rows) == set(DATASETS)
    assert rows["tiny-imagenet"]["present"] and rows["sample"]["present"]
    assert rows["tiny-imagenet"]["path"] == str(tmp_path / "data" / "tiny-imagenet-200")
    assert not rows["places365"]["present"] and "download=True" in rows["places365"]["how"]
    assert len(get_dataset("tiny-imagenet")) == 12


# ------------------------------------------------------------------------------- flowers 102
def test_flowers102_official_splits(tmp_path, make_flowers102):
    make_flowers102(tmp_path)
    for split, ids in (("train", [1, 2, 3, 4]), ("val", [5, 6, 7, 8]), ("test", [9, 10, 11, 12])):
        ds = get_dataset("flowers102", root=tmp_path, split=split, size=32)
        assert [p.name for p, _ in ds.samples] == [f"image_{i:05d}.jpg" for i in ids]
        assert [y for _, y in ds.samples] == [(i - 1) % 3 for i in ids]  # 1-based labels → 0-based
    assert len(ds.classes) == 102 and ds.classes[0] == "pink primrose"
    _check_items(ds)


def test_flowers102_agrees_with_torchvision(tmp_path, monkeypatch, make_flowers102):
    import torchvision.datasets.flowers102 as tvf
    make_flowers102(tmp_path)
    monkeypatch.setattr(tvf, "check_integrity", lambda *args, **kwargs: True)  # as torchvision's tests do
    tv = tvf.Flowers102(str(tmp_path), split="val")
    ours = get_dataset("flowers102", root=tmp_path, split="val")
    assert [str(p) for p, _ in ours.samples] == [str(p) for p in tv._image_files]
    assert [y for _, y in ours.samples] == list(tv._labels)


def test_flowers102_missing_metadata(tmp_path, make_flowers102):
    base = make_flowers102(tmp_path)
    (base / "setid.mat").unlink()
    with pytest.raises(ColorlabError, match=r"setid\.mat.*imagelabels\.mat.*download=True"):
        get_dataset("flowers102", root=tmp_path)


def test_flowers102_download_goes_through_colorlab_downloader(tmp_path, monkeypatch, make_flowers102):
    from colorlab.data import remote
    calls = []

    def fake_download(name, root=None, split="all", **kw):
        calls.append((name, root, split))
        return make_flowers102(tmp_path)

    monkeypatch.setattr(remote, "download_dataset", fake_download)
    ds = get_dataset("flowers102", root=tmp_path / "flowers-102", split="test", download=True)
    assert calls == [("flowers102", tmp_path / "flowers-102", "all")] and len(ds) == 4
    get_dataset("flowers102", root=tmp_path, download=True)  # present now: no second download
    assert len(calls) == 1


# ------------------------------------------------------------------------------- tf flowers
def test_tf_flowers_split_by_photo(tmp_path, make_tf_flowers):
    make_tf_flowers(tmp_path, per_class=10)
    every = get_dataset("tf-flowers", root=tmp_path, split="all", size=32)
    train = get_dataset("tf-flowers", root=tmp_path, split="train")
    val = get_dataset("tf-flowers", root=tmp_path, split="val", val_fraction=0.3)
    train30 = get_dataset("tf-flowers", root=tmp_path, split="train", val_fraction=0.3)
    assert every.classes == ["daisy", "roses", "tulips"] and len(every) == 30  # LICENSE.txt is skipped
    assert len(train) > len(train30) and len(val) > 0
    assert {p for p, _ in val.samples}.isdisjoint(p for p, _ in train30.samples)
    assert sorted(val.samples + train30.samples) == sorted(every.samples)
    again = get_dataset("tf-flowers", root=tmp_path, split="val", val_fraction=0.3)
    assert again.samples == val.samples
    _check_items(every)


def test_tf_flowers_missing(tmp_path):
    with pytest.raises(ColorlabError, match=r"flower_photos.*flower_photos\.tgz"):
        get_dataset("tf-flowers", root=tmp_path / "nowhere")


# ------------------------------------------------------------------------------- places365
@pytest.mark.parametrize("train_dir", ["data_256", "data_256_standard"])
def test_places365_layout(tmp_path, make_places365, train_dir):
    make_places365(tmp_path, train_dir=train_dir)
    train = get_dataset("places365", root=tmp_path, size=32)
    assert train.classes == ["airfield", "bakery/shop", "canyon"]
    assert len(train) == 9 and [y for _, y in train.samples] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert all(p.is_file() for p, _ in train.samples)
    val = get_dataset("places365", root=tmp_path / "places365", split="val", size=32)
    assert [y for _, y in val.samples] == [1, 2, 0, 1]
    _check_items(val)


def test_places365_agrees_with_torchvision(tmp_path, monkeypatch, make_places365):
    import torchvision.datasets.places365 as tvp
    make_places365(tmp_path, train_dir="data_256_standard")
    monkeypatch.setattr(tvp, "check_integrity", lambda *args, **kwargs: True)
    for split, tv_split in (("train", "train-standard"), ("val", "val")):
        tv = tvp.Places365(str(tmp_path / "places365"), split=tv_split, small=True, download=False)
        ours = get_dataset("places365", root=tmp_path, split=split)
        assert [(str(p), y) for p, y in ours.samples] == [(str(p), y) for p, y in tv.imgs]


def test_places365_missing_images(tmp_path, make_places365):
    base = make_places365(tmp_path)
    for f in (base / "val_256").iterdir():
        f.unlink()
    (base / "val_256").rmdir()
    with pytest.raises(ColorlabError, match=r"val_256.*expected layout"):
        get_dataset("places365", root=tmp_path, split="val")
    with pytest.raises(ColorlabError, match=r"categories_places365\.txt"):
        get_dataset("places365", root=tmp_path / "empty")


# ------------------------------------------------------------------------------- folder
def test_folder_classes_from_subfolders(tmp_path, write_photo):
    write_photo(tmp_path / "cats" / "a.jpg", 0)
    write_photo(tmp_path / "cats" / "deeper" / "b.png", 1)
    write_photo(tmp_path / "dogs" / "c.JPG", 2)
    write_photo(tmp_path / "loose.jpg", 3)
    write_photo(tmp_path / ".hidden" / "d.jpg", 4)
    (tmp_path / "dogs" / "notes.txt").write_text("not a photo")
    ds = get_dataset("folder", root=tmp_path, split="all", size=32)
    assert ds.classes == ["cats", "dogs"]
    assert sorted((p.relative_to(tmp_path).as_posix(), y) for p, y in ds.samples) == [
        ("cats/a.jpg", 0), ("cats/deeper/b.png", 0), ("dogs/c.JPG", 1), ("loose.jpg", -1)]
    _check_items(ds)
    flat = get_dataset("folder", root=tmp_path / "cats", split="all")
    assert flat.classes == ["deeper"] and len(flat) == 2


def test_folder_errors(tmp_path):
    with pytest.raises(ColorlabError, match="not found"):
        get_dataset("folder", root=tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ColorlabError, match="no photos"):
        get_dataset("folder", root=tmp_path / "empty")
    with pytest.raises(ColorlabError, match="nothing to download"):
        get_dataset("folder", root=tmp_path, download=True)


def test_unreadable_item_gives_clear_error(tmp_path, write_photo):
    write_photo(tmp_path / "good.jpg")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff garbage")
    ds = get_dataset("folder", root=tmp_path, split="all")
    bad = [i for i, (p, _) in enumerate(ds.samples) if p.name == "bad.jpg"][0]
    with pytest.raises(ColorlabError, match="bad.jpg"):
        ds[bad]


def test_items_batch_with_a_dataloader(tmp_path, make_tf_flowers):
    make_tf_flowers(tmp_path, per_class=2)
    ds = get_dataset("tf-flowers", root=tmp_path, split="all", size=16)
    x, y = next(iter(torch.utils.data.DataLoader(ds, batch_size=6)))
    assert x.shape == (6, 3, 16, 16) and x.dtype == torch.uint8
    assert y.tolist() == [0, 0, 1, 1, 2, 2]
    assert np.array_equal(x[0].numpy(), ds[0][0].numpy())


def test_places365_download_only_fetches_a_missing_split(tmp_path, monkeypatch, make_places365):
    import shutil
    from colorlab.data import remote
    base = make_places365(tmp_path)
    shutil.rmtree(base / "val_256")
    calls = []

    def fake_download(name, root=None, split="all", **kw):
        calls.append((name, split))
        make_places365(tmp_path / "fresh")
        shutil.copytree(tmp_path / "fresh" / "places365" / "val_256", base / "val_256")
        return base

    monkeypatch.setattr(remote, "download_dataset", fake_download)
    assert len(get_dataset("places365", root=tmp_path, split="train", download=True)) == 9
    assert calls == []  # train is there: nothing fetched
    assert len(get_dataset("places365", root=tmp_path, split="val", download=True)) == 4
    assert calls == [("places365", "val")]


def test_loader_processes_default_to_what_suits_the_device(monkeypatch):
    from colorlab.data.loaders import default_workers
    from colorlab.training.config import TrainConfig
    assert default_workers("cpu") == 0  # the model already uses every core
    monkeypatch.setattr("colorlab.data.loaders.get_device", lambda d: torch.device("cuda", 0))
    monkeypatch.setattr("colorlab.data.loaders.os.cpu_count", lambda: 16)
    assert default_workers("cuda") == 4  # reading overlaps the GPU's work
    monkeypatch.setattr("colorlab.data.loaders.os.cpu_count", lambda: 2)
    assert default_workers("cuda") == 1
    assert TrainConfig().num_workers is None  # the run asks the loaders, not a fixed 0
