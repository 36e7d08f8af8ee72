"""Shared fixtures: an isolated COLORLAB_HOME, small photos cut from the bundled sample set,
and prepared sample caches that any test can reuse.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session", autouse=True)
def _isolated_colorlab_home(tmp_path_factory):
    """Nothing a test does may write to the user's real ~/.colorlab or torch hub cache, or use the
    network: COLORLAB_OFFLINE=1 (only the loopback server of ``served`` is ever contacted).

    Training is pinned to fp32 without torch.compile, so that results do not depend on the machine
    and no test pays for a speed probe (tests/test_speed.py exercises the measured choice).
    """
    keys = ("COLORLAB_HOME", "COLORLAB_DATA", "COLORLAB_CACHE", "COLORLAB_OFFLINE", "COLORLAB_MIRROR", "TORCH_HOME",
            "COLORLAB_PRECISION", "COLORLAB_COMPILE")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ["COLORLAB_HOME"] = str(tmp_path_factory.mktemp("colorlab_home"))
    os.environ["COLORLAB_OFFLINE"] = "1"
    os.environ["TORCH_HOME"] = str(tmp_path_factory.mktemp("torch_home"))
    os.environ["COLORLAB_PRECISION"] = "fp32"
    os.environ["COLORLAB_COMPILE"] = "off"
    os.environ.pop("COLORLAB_DATA", None)
    os.environ.pop("COLORLAB_CACHE", None)
    os.environ.pop("COLORLAB_MIRROR", None)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def small_photos() -> list[np.ndarray]:
    """24 small RGB uint8 photos (40x48), crops of the bundled sample photos (all clearly colourful)."""
    import torch
    from colorlab.data import ab_spread, sample_photos
    from colorlab.core.io import load_image

    crops = []
    for _, path in sample_photos("all"):
        rgb = load_image(path, draft=128)
        h, w = rgb.shape[:2]
        for fy, fx in ((0.3, 0.3), (0.5, 0.5), (0.1, 0.6), (0.6, 0.1)):
            y, x = int(h * fy), int(w * fx)
            crop = Image.fromarray(rgb[y:y + h // 3, x:x + w // 3]).resize((48, 40), Image.Resampling.BILINEAR)
            crop = np.array(crop)
            if ab_spread(torch.from_numpy(crop).permute(2, 0, 1)) > 8:
                crops.append(crop)
    assert len(crops) >= 24
    return crops[:24]


@pytest.fixture(scope="session")
def write_photo(small_photos):
    """``write_photo(path, k=0, gray=False)``: save small photo ``k`` (as JPEG/PNG by extension)."""
    def write(path: Path, k: int = 0, gray: bool = False) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        im = Image.fromarray(small_photos[k % len(small_photos)])
        if gray:
            im = im.convert("L")  # single-channel, like Tiny ImageNet's gray photos
        im.save(path)
        return path
    return write


@pytest.fixture(scope="session")
def prepared_sample(tmp_path_factory):
    """A prepared cache of the sample set's training photos: 64 patches at 32x32."""
    from colorlab.data import prepare
    return prepare("sample", split="train", size=32, n=64, seed=0,
                   cache_dir=tmp_path_factory.mktemp("prepared_sample"), progress=False)


@pytest.fixture(scope="session")
def prepared_sample_val(tmp_path_factory):
    """A prepared cache of the held-out sample photos (never in training): 16 patches at 32x32."""
    from colorlab.data import prepare
    return prepare("sample", split="val", size=32, n=16, seed=0,
                   cache_dir=tmp_path_factory.mktemp("prepared_sample_val"), progress=False)


@pytest.fixture
def one_thread():
    """Tiny tensors: one torch thread (a second one only waits for the first on a busy 2-core machine).
    A test module uses it for all its tests with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    from colorlab.course.checks import one_thread as single

    with single():
        yield


# ------------------------------------------------------------------ tiny fake copies of real layouts
@pytest.fixture(scope="session")
def make_tiny_imagenet(write_photo):
    """``make_tiny_imagenet(root, per_class=4, gray=())`` → ``root/tiny-imagenet-200`` with 3 classes.

    ``gray`` lists ``(class index, image index)`` pairs saved as single-channel JPEGs.
    """
    wnids = ["n01443537", "n01629819", "n01641577"]
    words = {"n00001740": "entity", "n01443537": "goldfish, Carassius auratus",
             "n01629819": "European fire salamander, Salamandra salamandra", "n01641577": "bullfrog, Rana catesbeiana"}

    def make(root: Path, per_class: int = 4, gray=(), val_per_class: int = 2) -> Path:
        base = Path(root) / "tiny-imagenet-200"
        base.mkdir(parents=True)
        (base / "wnids.txt").write_text("\n".join(wnids) + "\n")
        (base / "words.txt").write_text("".join(f"{k}\t{v}\n" for k, v in words.items()))
        k = 0
        for c, wnid in enumerate(wnids):
            boxes = []
            for i in range(per_class):
                name = f"{wnid}_{i}.JPEG"
                write_photo(base / "train" / wnid / "images" / name, k, gray=(c, i) in gray)
                boxes.append(f"{name}\t0\t0\t40\t40")
                k += 1
            (base / "train" / wnid / f"{wnid}_boxes.txt").write_text("\n".join(boxes) + "\n")
        lines = []
        for j in range(val_per_class * len(wnids)):
            write_photo(base / "val" / "images" / f"val_{j}.JPEG", k)
            lines.append(f"val_{j}.JPEG\t{wnids[j % len(wnids)]}\t0\t0\t40\t40")
            k += 1
        (base / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
        write_photo(base / "test" / "images" / "test_0.JPEG", k)
        return base
    make.wnids = wnids
    return make


@pytest.fixture(scope="session")
def make_flowers102(write_photo):
    """``make_flowers102(root, n=12)`` → ``root/flowers-102``: ``n`` photos (a multiple of 3), labels 1..3,
    the official splits a third each (12: ids 1–4, 5–8, 9–12)."""
    from scipy.io import savemat

    def make(root: Path, n: int = 12) -> Path:
        base = Path(root) / "flowers-102"
        for i in range(1, n + 1):
            write_photo(base / "jpg" / f"image_{i:05d}.jpg", i)
        savemat(base / "imagelabels.mat", {"labels": np.array([[1, 2, 3] * (n // 3)])})
        ids = np.arange(1, n + 1).reshape(3, n // 3)
        savemat(base / "setid.mat", {"trnid": ids[:1], "valid": ids[1:2], "tstid": ids[2:]})
        return base
    return make


@pytest.fixture(scope="session")
def make_places365(write_photo):
    """``make_places365(root, train_dir="data_256")`` → ``root/places365`` with 3 categories."""
    categories = ["/a/airfield", "/b/bakery/shop", "/c/canyon"]

    def make(root: Path, train_dir: str = "data_256") -> Path:
        base = Path(root) / "places365"
        base.mkdir(parents=True)
        (base / "categories_places365.txt").write_text("".join(f"{c} {i}\n" for i, c in enumerate(categories)))
        train, val = [], []
        for i, c in enumerate(categories):
            for j in range(1, 4):
                rel = f"{c}/{j:08d}.jpg"
                write_photo(base / train_dir / rel.lstrip("/"), 3 * i + j)
                train.append(f"{rel} {i}")
        for j in range(1, 5):
            name = f"Places365_val_{j:08d}.jpg"
            write_photo(base / "val_256" / name, 10 + j)
            val.append(f"{name} {j % 3}")
        (base / "places365_train_standard.txt").write_text("\n".join(train) + "\n")
        (base / "places365_val.txt").write_text("\n".join(val) + "\n")
        return base
    make.categories = categories
    return make


@pytest.fixture(scope="session")
def make_tf_flowers(write_photo):
    """``make_tf_flowers(root, per_class=8)`` → ``root/flower_photos/<class>/*.jpg`` + LICENSE.txt."""
    def make(root: Path, per_class: int = 8) -> Path:
        base = Path(root) / "flower_photos"
        for c, cls in enumerate(("daisy", "roses", "tulips")):
            for i in range(per_class):
                write_photo(base / cls / f"{1000 * c + i}_{cls}.jpg", c * per_class + i)
        (base / "LICENSE.txt").write_text("All images in this archive are licensed under CC-BY 2.0\n")
        return base
    return make


# ------------------------------------------------------------------ a loopback "internet" for downloads
@pytest.fixture
def served(monkeypatch):
    """A :class:`loopback_server.LoopbackServer` on 127.0.0.1, set as ``COLORLAB_MIRROR``.

    COLORLAB_OFFLINE is lifted for the test so the real HTTP code path runs — against this
    server only (every URL the kit builds then starts with the mirror's 127.0.0.1 address).
    """
    from loopback_server import LoopbackServer
    with LoopbackServer() as server:
        monkeypatch.setenv("COLORLAB_MIRROR", server.url)
        monkeypatch.delenv("COLORLAB_OFFLINE", raising=False)
        yield server


# ------------------------------------------------------------------ the notebooks, executed once per session
@pytest.fixture(scope="session")
def notebook_runs(tmp_path_factory, make_flowers102):
    """Every notebook in notebooks/, executed at smoke size, two kernels at a time; notebook stem → result
    (``status``, ``output``: the executed copy, ``metrics``, ...). Shared by tests/test_notebooks.py and the
    website tests, so the suite pays for one run.

    Lab 12 downloads Oxford Flowers 102: a loopback server serves a fake copy (39 photos in the published
    layout, under the published file names) as ``COLORLAB_MIRROR`` for the whole run, and the kernels accept
    the fakes' checksums (tests/fake_mirror.py: an IPython startup file, nothing in the package)."""
    import time

    from fake_mirror import flowers_blobs, kernel_env
    from loopback_server import LoopbackServer

    from colorlab.course.notebooks import list_notebooks
    from colorlab.course.runner import SMOKE, format_table, longest_first, run_notebooks

    root = Path(__file__).resolve().parents[1]
    # Longest first (by docs/times.json, as `colorlab run-notebooks` orders them), so that two kernels finish
    # together instead of lab 10 (a quarter of the smoke time) starting last. Results are keyed by notebook.
    notebooks = longest_first(list_notebooks(root / "notebooks"), root / "docs" / "times.json")
    out = tmp_path_factory.mktemp("notebook_runs")
    fakes = {"flowers102": flowers_blobs(make_flowers102(tmp_path_factory.mktemp("fake_flowers"), n=39))}
    with LoopbackServer() as mirror:
        for blobs in fakes.values():
            mirror.files.update(blobs)
        env = {**kernel_env(tmp_path_factory.mktemp("kernel_env"), fakes), "COLORLAB_MIRROR": mirror.url}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)  # the kernels inherit it
        try:
            t0 = time.time()
            results = run_notebooks(notebooks, out, SMOKE, workers=2, start_timeout=180, execution_timeout=300)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    print(f"\n{format_table(results)}\nwall {time.time() - t0:.0f} s")
    return {r["notebook"]: r for r in results}
