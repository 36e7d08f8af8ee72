"""Files the kit writes (#26 item 3, #23's race): one atomic writer, unique temporary names, and the mode the
user's umask gives — images, checkpoints, caches, reports — under umask 022 and 077."""
from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import numpy as np
import pytest

from colorlab.core.checkpoint import save_checkpoint
from colorlab.core.figures import pyplot, save_figure
from colorlab.core.files import atomic_write, current_umask, temp_name
from colorlab.core.io import save_image
from colorlab.data.prepare import prepare
from colorlab.models import create
from colorlab.rarity.prior import prior_for


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _modes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode) for p in sorted(folder.rglob("*"))}


def test_every_file_written_follows_the_umask(tmp_path, umask):
    assert current_umask() == umask
    save_image(tmp_path / "photo.png", np.zeros((8, 8, 3), np.uint8))
    save_image(tmp_path / "photo.jpg", np.zeros((8, 8, 3), np.uint8))
    save_checkpoint(tmp_path / "model.pt", create("unet", base=4, depth=2), {"size": 16})
    fig = pyplot().figure(figsize=(1, 1))
    save_figure(fig, tmp_path / "report" / "figure.png")
    atomic_write(tmp_path / "report" / "metrics.json", lambda tmp: Path(tmp).write_text("{}"))
    cache = prepare("sample", split="val", size=16, n=4, cache_dir=tmp_path / "cache", progress=False)
    prior_for(cache, device="cpu", progress=False)
    modes = _modes(tmp_path)
    assert any(name.endswith("ab_prior_zhang313.pt") for name in modes) and "model.json" in modes
    files = {n: m for n, m in modes.items() if (tmp_path / n).is_file()}
    folders = {n: m for n, m in modes.items() if (tmp_path / n).is_dir()}
    assert files and all(m == 0o666 & ~umask for m in files.values()), {n: oct(m) for n, m in files.items()}
    assert all(m == 0o777 & ~umask for m in folders.values()), {n: oct(m) for n, m in folders.items()}


def test_temporary_names_are_unique_and_nothing_is_left_behind(tmp_path):
    target = tmp_path / "ab_prior.pt"
    assert temp_name(target) != temp_name(target) and temp_name(target).parent == tmp_path
    errors = []

    def writer(i):
        try:
            for _ in range(20):
                atomic_write(target, lambda tmp: Path(tmp).write_text(json.dumps({"writer": i, "pad": "x" * 5000})))
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and json.loads(target.read_text())["writer"] in range(4)
    assert [p.name for p in tmp_path.iterdir()] == ["ab_prior.pt"]


def test_a_failed_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "x.json"
    target.write_text("old")

    def fails(tmp):
        Path(tmp).write_text("half")
        raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        atomic_write(target, fails)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.json"]
