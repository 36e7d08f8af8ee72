"""Large-dataset prepare: memory stays flat as the input grows, killed prepares resume, worker processes decode."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorlab.data import PhotoFolder, prepare
from colorlab.core.errors import ColorlabError


def _photo_folder(root: Path, n: int, side: int = 192, seed: int = 0) -> Path:
    """``n`` colourful JPEG photos (smooth gradients + noise, so they do not compress to nothing)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side] / side
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        c = rng.uniform(0, 1, (3, 3))
        img = np.stack([c[k, 0] * xx + c[k, 1] * yy + c[k, 2] * xx * yy for k in range(3)], -1) * 200
        img = (img + rng.normal(0, 12, img.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(img).save(root / f"p{i:04d}.jpg", quality=90)
    return root


# Two views of the same run: peak RSS (everything, C libraries included) and tracemalloc's peak
# (Python objects and numpy buffers: exact, no allocator noise).
_MEASURE = textwrap.dedent("""
    import json, resource, sys, tracemalloc
    from colorlab.data import prepare
    import colorlab.data.folder  # noqa: F401  (everything imported before the baseline)
    def rss_mib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    base = rss_mib()
    tracemalloc.start()
    p = prepare("folder", root=sys.argv[1], split="all", size=128, cache_dir=sys.argv[2], progress=False,
                workers=2, pool="thread", chunk=32)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    print(json.dumps({"grew_mib": rss_mib() - base, "traced_peak_mib": traced, "count": len(p),
                      "cache_mib": p.images.nbytes / 2**20}))
""")


def _peak_growth(folder: Path, cache: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(folder), str(cache)], capture_output=True, text=True,
                         timeout=300, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin",
                              # glibc hands freed memory back instead of keeping it per thread,
                              # so peak RSS measures what prepare holds, not allocator history
                              "MALLOC_ARENA_MAX": "2", "MALLOC_TRIM_THRESHOLD_": "131072"})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_peak_memory_stays_flat_while_the_input_grows_fourfold(tmp_path):
    small = _peak_growth(_photo_folder(tmp_path / "small", 100), tmp_path / "c1")
    large = _peak_growth(_photo_folder(tmp_path / "large", 400, seed=1), tmp_path / "c2")
    assert small["count"] == 100 and large["count"] == 400
    extra_data = large["cache_mib"] - small["cache_mib"]  # 300 more frames at 128 px: about 14 MiB
    assert extra_data > 13
    # holding the extra frames (or their decoded 192 px sources) in memory would add >= extra_data MiB
    assert large["traced_peak_mib"] - small["traced_peak_mib"] < 0.1 * extra_data, (small, large)
    assert large["traced_peak_mib"] < 0.5 * large["cache_mib"], (small, large)  # about one chunk of photos
    assert large["grew_mib"] - small["grew_mib"] < 0.4 * extra_data, (small, large)


def test_a_killed_prepare_resumes_where_it_stopped(tmp_path, monkeypatch):
    folder = _photo_folder(tmp_path / "photos", 40, side=48)
    fresh = prepare("folder", root=folder, split="all", size=16, cache_dir=tmp_path / "fresh", progress=False)
    real_read, calls = PhotoFolder.read, []

    def read_then_die(self, index):
        calls.append(index)
        if len(calls) > 25:
            raise KeyboardInterrupt
        return real_read(self, index)

    kw = dict(root=folder, split="all", size=16, cache_dir=tmp_path / "cache", progress=False, workers=1, chunk=8,
              resume=True)
    monkeypatch.setattr(PhotoFolder, "read", read_then_die)
    with pytest.raises(KeyboardInterrupt):
        prepare("folder", **kw)
    partial = [p for p in (tmp_path / "cache").iterdir() if p.name.endswith(".partial")]
    assert len(partial) == 1 and not any(p.is_dir() and not p.name.startswith(".") for p in (tmp_path / "cache").iterdir())
    journal = json.loads((partial[0] / "progress.json").read_text())
    assert journal["count"] == journal["tried"] == 24  # three whole chunks survived
    with open(partial[0] / "images.u8", "ab") as f:  # killed between a write and its journal entry
        f.write(b"\x07" * 16 * 16 * 3 * 2)
    with open(partial[0] / "sources.txt", "a") as f:
        f.write("torn.jpg\n")

    calls.clear()
    monkeypatch.setattr(PhotoFolder, "read", lambda self, i: (calls.append(i), real_read(self, i))[1])
    resumed = prepare("folder", **kw)
    assert len(calls) == 40 - 24  # only what the killed run had not done
    assert np.array_equal(np.asarray(resumed.images), np.asarray(fresh.images))
    assert resumed.sources == fresh.sources and resumed.labels.tolist() == fresh.labels.tolist()
    assert not partial[0].exists()


def test_worker_processes_decode_the_same_cache_as_threads(tmp_path):
    folder = _photo_folder(tmp_path / "photos", 12, side=40)
    (folder / "broken.jpg").write_bytes(b"not a photo")
    kw = dict(root=folder, split="all", size=16, progress=False, workers=2)
    threads = prepare("folder", cache_dir=tmp_path / "t", pool="thread", **kw)
    procs = prepare("folder", cache_dir=tmp_path / "p", pool="process", **kw)
    assert procs.meta["pool"] == "process" and threads.meta["pool"] == "thread"
    assert np.array_equal(np.asarray(procs.images), np.asarray(threads.images)) and len(procs) == 12
    assert procs.meta["skipped"] == threads.meta["skipped"] == 1
    with pytest.raises(ColorlabError, match="pool"):
        prepare("folder", cache_dir=tmp_path / "x", pool="gpu", **kw)
