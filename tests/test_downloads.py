"""Dataset downloads through the real code path, against a loopback server posing as the course mirror.

The served archives are fake (a few small photos) but have the published file names and inner
layouts; the recipes' checksums are replaced by the fakes' own (the only thing patched).
"""
from __future__ import annotations

import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from colorlab.data import get_dataset
from colorlab.data import remote
from colorlab.core.download import DownloadError, Remote, fetch
from colorlab.core.errors import ColorlabError
from fake_mirror import fake_recipe, tar_bytes
from fake_mirror import flowers_blobs as flowers_blobs_of


_tar = tar_bytes


def _zip(folder: Path, arcroot: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in sorted(folder.rglob("*")):
            z.write(p, str(p.relative_to(arcroot)))
    return buf.getvalue()


def _serve(monkeypatch, server, name: str, blobs: dict[str, bytes]) -> None:
    """Serve ``blobs`` under their real names and make ``name``'s recipe expect exactly them."""
    monkeypatch.setitem(remote.RECIPES, name, fake_recipe(remote.RECIPES[name], blobs))
    server.files.update(blobs)


@pytest.fixture
def flowers_blobs(tmp_path, make_flowers102):
    return flowers_blobs_of(make_flowers102(tmp_path / "src"))


def _leftovers(data: Path) -> list[str]:
    """Anything in the data folder except the archive store (where a partial file may wait)."""
    if not data.exists():
        return []
    return sorted(str(p.relative_to(data)) for p in data.rglob("*") if ".downloads" not in p.parts)


def test_cli_download_flowers102_gives_a_folder_the_loader_reads(served, monkeypatch, flowers_blobs, tmp_path, capsys):
    from colorlab.cli import main
    _serve(monkeypatch, served, "flowers102", flowers_blobs)
    data = tmp_path / "data"
    assert main(["download", "flowers102", "--root", str(data)]) == 0
    out, err = capsys.readouterr()
    assert "Oxford Flowers 102" in out and "to download from the mirror" in out
    assert "102flowers.tgz: " in err and "\r" not in err  # not a terminal: one line per file, no bar redraws
    ds = get_dataset("flowers102", root=data, split="train", size=16)
    assert len(ds) == 4 and ds[0][0].shape == (3, 16, 16)
    assert len(get_dataset("flowers102", root=data, split="test", size=16)) == 4
    assert sorted(p.name for p in data.iterdir()) == ["flowers-102"]  # no archives, no temp folders
    n = len(served.requests)
    assert main(["download", "flowers102", "--root", str(data)]) == 0
    assert "already in" in capsys.readouterr().out and len(served.requests) == n


def test_get_dataset_download_true_fetches_once(served, monkeypatch, flowers_blobs, tmp_path):
    _serve(monkeypatch, served, "flowers102", flowers_blobs)
    ds = get_dataset("flowers102", root=tmp_path, split="val", size=8, download=True)
    assert len(ds) == 4 and ds.root == tmp_path / "flowers-102"
    n = len(served.requests)
    get_dataset("flowers102", root=tmp_path, split="test", size=8, download=True)
    assert len(served.requests) == n  # already there: nothing fetched


def test_tf_flowers_tiny_imagenet_and_places365_layouts(served, monkeypatch, tmp_path, make_tf_flowers,
                                                         make_tiny_imagenet, make_places365):
    tf = make_tf_flowers(tmp_path / "src_tf", per_class=3)
    tiny = make_tiny_imagenet(tmp_path / "src_tiny", per_class=2)
    places = make_places365(tmp_path / "src_places")
    lists = tmp_path / "src_lists"
    lists.mkdir()
    for f in ("categories_places365.txt", "places365_train_standard.txt", "places365_val.txt"):
        (lists / f).write_bytes((places / f).read_bytes())
    _serve(monkeypatch, served, "tf-flowers", {"flower_photos.tgz": _tar(tf, tf.parent)})
    _serve(monkeypatch, served, "tiny-imagenet", {"tiny-imagenet-200.zip": _zip(tiny, tiny.parent)})
    _serve(monkeypatch, served, "places365", {
        "filelist_places365-standard.tar": _tar(lists, lists, "w"),
        "val_256.tar": _tar(places / "val_256", places, "w"),
        "train_256_places365standard.tar": _tar(places / "data_256", places, "w")})
    data = tmp_path / "data"
    assert len(get_dataset("tf-flowers", root=data, split="all", size=8, download=True)) == 9
    assert len(get_dataset("tiny-imagenet", root=data, split="val", size=8, download=True)) == 6
    # places365: one split at a time (the real train archive is 26 GB); val first, then train added
    assert len(get_dataset("places365", root=data, split="val", size=8, download=True)) == 4
    assert not (data / "places365" / "data_256").exists()
    assert len(get_dataset("places365", root=data, split="train", size=8, download=True)) == 9
    n = len(served.requests)
    shutil.rmtree(data / "places365" / "val_256")
    remote.download_dataset("places365", root=data, progress=False)  # "all": only the missing split is fetched
    assert sorted(p for p, _ in served.requests[n:]) == ["/filelist_places365-standard.tar", "/val_256.tar"]
    assert len(get_dataset("places365", root=data, split="val", size=8)) == 4
    assert sorted(p.name for p in data.iterdir()) == ["flower_photos", "places365", "tiny-imagenet-200"]


def test_resume_after_a_cut_connection(served, monkeypatch, flowers_blobs, tmp_path):
    _serve(monkeypatch, served, "flowers102", flowers_blobs)
    size = len(flowers_blobs["102flowers.tgz"])
    served.cut["102flowers.tgz"] = size // 3
    data = tmp_path / "data"
    with pytest.raises(DownloadError, match="run the same command again to resume") as e:
        remote.download_dataset("flowers102", root=data, progress=False)
    assert "127.0.0.1" in str(e.value) and "102flowers.tgz" in str(e.value)
    part = data / ".downloads" / "102flowers.tgz.part"
    assert part.stat().st_size == size // 3
    assert _leftovers(data) == []
    remote.download_dataset("flowers102", root=data, progress=False)
    ranges = [r for path, r in served.requests if path.endswith("102flowers.tgz")]
    assert ranges == [None, f"bytes={size // 3}-"]  # the second request asked only for the rest
    assert len(get_dataset("flowers102", root=data, split="train", size=8)) == 4


@pytest.mark.parametrize("failure", ["http404", "html", "html_disguised", "checksum", "truncated_archive",
                                     "corrupt_archive", "no_network", "disk_full", "offline"])
def test_each_failure_is_one_clear_error_and_leaves_nothing_behind(failure, served, monkeypatch, flowers_blobs,
                                                                    tmp_path):
    _serve(monkeypatch, served, "flowers102", flowers_blobs)
    url = f"{served.url}/102flowers.tgz"
    expect = {"http404": "HTTP error 404", "html": "HTML page", "html_disguised": "HTML page",
              "checksum": "checksum mismatch", "truncated_archive": "truncated or corrupt",
              "corrupt_archive": "truncated or corrupt", "no_network": "cannot reach",
              "disk_full": "not enough disk space", "offline": "COLORLAB_OFFLINE"}[failure]
    if failure == "http404":
        del served.files["102flowers.tgz"]
    elif failure == "html":
        served.html["102flowers.tgz"] = True
    elif failure == "html_disguised":
        served.html_disguised["102flowers.tgz"] = True
    elif failure == "checksum":
        blob = flowers_blobs["102flowers.tgz"]
        served.files["102flowers.tgz"] = blob[:100] + bytes([blob[100] ^ 0xFF]) + blob[101:]
    elif failure in ("truncated_archive", "corrupt_archive"):
        blob = flowers_blobs["102flowers.tgz"]
        bad = blob[: len(blob) // 2] if failure == "truncated_archive" else blob[:20] + bytes(len(blob) - 20)
        _serve(monkeypatch, served, "flowers102", {**flowers_blobs, "102flowers.tgz": bad})
    elif failure == "no_network":
        monkeypatch.setenv("COLORLAB_MIRROR", "http://127.0.0.1:9")  # discard port: connection refused
        url = "http://127.0.0.1:9/102flowers.tgz"
    elif failure == "disk_full":
        import shutil
        real = shutil.disk_usage
        monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=1000))
    elif failure == "offline":
        monkeypatch.setenv("COLORLAB_OFFLINE", "1")
    data = tmp_path / "data"
    with pytest.raises(ColorlabError) as e:
        get_dataset("flowers102", root=data, split="train", size=8, download=True)
    msg = str(e.value)
    assert expect in msg and "\n" not in msg
    if failure not in ("disk_full", "truncated_archive", "corrupt_archive"):
        assert url in msg, msg
    assert _leftovers(data) == [], "something half-extracted was left where the loaders look"
    if failure != "no_network" and (data / ".downloads").exists():  # only a resumable partial file may stay
        assert not list((data / ".downloads").glob("102flowers.tgz*"))
    with pytest.raises(ColorlabError, match="missing"):  # and the loader still says it is missing
        get_dataset("flowers102", root=data, split="train", size=8)


def test_disk_full_while_writing_is_one_clear_error(served, monkeypatch, tmp_path):
    import errno
    served.files["w.bin"] = b"x" * 3_000_000
    real_open = open

    class Full(io.RawIOBase):
        def __init__(self, f):
            self.f = f

        def write(self, b):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.f.close()

    def fake_open(path, mode="r", *a, **k):
        f = real_open(path, mode, *a, **k)
        return Full(f) if str(path).endswith(".part") and "b" in mode and ("w" in mode or "a" in mode) else f

    monkeypatch.setattr("builtins.open", fake_open)
    with pytest.raises(DownloadError, match="disk full") as e:
        fetch(Remote("https://example.org/w.bin", 3_000_000), tmp_path, progress=False)
    assert f"{served.url}/w.bin" in str(e.value)
    assert not list(tmp_path.iterdir())


def test_a_local_folder_mirror_needs_no_network(monkeypatch, tmp_path, flowers_blobs):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name, blob in flowers_blobs.items():
        (mirror / name).write_bytes(blob)
    monkeypatch.setenv("COLORLAB_MIRROR", str(mirror))
    monkeypatch.setenv("COLORLAB_OFFLINE", "1")
    from loopback_server import LoopbackServer
    with LoopbackServer() as server:  # only used for its checksum helper: never contacted
        _serve(monkeypatch, server, "flowers102", flowers_blobs)
    ds = get_dataset("flowers102", root=tmp_path / "data", split="train", size=8, download=True)
    assert len(ds) == 4 and server.requests == []


def test_places365_says_its_size_before_starting(monkeypatch):
    files, total, line = remote.download_plan("places365")
    assert total > 26e9 and "26.1 GB" in line and "26.7 GB to download" in line
    assert [f.filename for f in remote.download_plan("places365", "val")[0]] == [
        "filelist_places365-standard.tar", "val_256.tar"]
    for name in ("folder", "sample", "scenes"):
        with pytest.raises(ColorlabError, match="cannot be downloaded"):
            remote.download_plan(name)


def test_concurrent_fetches_of_one_file_download_it_once(served, tmp_path):
    """torchrun ranks or parallel notebooks asking for the same weights: one download, the rest wait."""
    import threading
    blob = bytes(range(256)) * 4000
    served.files["w-0123abcd.pth"] = blob
    remote_file = Remote("https://example.org/w-0123abcd.pth", len(blob), sha256=hashlib.sha256(blob).hexdigest())
    results, errors = [], []

    def get():
        try:
            results.append(fetch(remote_file, tmp_path, progress=False))
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=get) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4 and results[0].read_bytes() == blob
    assert [p for p, _ in served.requests] == ["/w-0123abcd.pth"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w-0123abcd.pth"]
