"""The GPU check script and the GPU tests' gating, on a machine without a GPU."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import gpu_check  # noqa: E402


@pytest.mark.skipif(torch.cuda.is_available(), reason="the dry run is the no-GPU path; a GPU machine runs it for real")
def test_the_dry_check_writes_its_json_with_the_gpu_parts_marked_no_cuda(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_check, "run", lambda cmd, env, timeout, cwd=ROOT: _fake(cmd, env, tmp_path))
    report = gpu_check.main(["--dry", "--out", str(tmp_path / "check.json"), "--wheels", str(tmp_path / "none")])
    saved = json.loads((tmp_path / "check.json").read_text())
    assert saved["dry"] is True and saved["machine"]["cuda"] is False and saved["ok"] is True
    assert saved["gpu_tests"]["cmd"].startswith("-m pytest tests/gpu")
    assert saved["lab05"]["status"] == "skipped (dry)"
    assert "--allow-cpu" in saved["bench_gpu"]["cmd"] and report["seconds"] >= 0


def _fake(cmd, env, tmp):
    """Stand-in for the subprocesses (their real run is the GPU machine's): checks what they would be given."""
    assert str(ROOT) in env["PYTHONPATH"] and env["COLORLAB_OFFLINE"] == "1"
    return {"cmd": " ".join(cmd[1:]), "rc": 0, "seconds": 0.0, "tail": ""}


def test_missing_packages_come_from_the_wheels_into_a_temporary_folder(tmp_path, monkeypatch):
    import zipfile
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "tqdm-9.9-py3-none-any.whl", "w") as z:
        z.writestr("tqdm/__init__.py", "FAKE = True\n")
    real = gpu_check.importlib.util.find_spec
    monkeypatch.setattr(gpu_check.importlib.util, "find_spec",
                        lambda name: None if name in ("tqdm", "yaml", "IPython") else real(name))
    site = tmp_path / "site"
    site.mkdir()
    got = gpu_check.unpack_missing(wheels, site)
    assert got["missing"] == ["tqdm", "yaml"] and got["no_wheel"] == ["yaml"]
    assert (site / "tqdm" / "__init__.py").read_text() == "FAKE = True\n"
    assert (site / "IPython" / "display.py").exists()  # notebooks run as scripts without IPython


def test_the_lab_becomes_a_script_without_magics_and_with_its_settings():
    script = gpu_check.lab_script(ROOT / "notebooks" / "05_unet_rarity_loss.ipynb", quick=False, device="cuda")
    compile(script, "lab05.py", "exec")
    assert "%matplotlib" not in script and "quick = False\ndevice = 'cuda'\nout_dir = 'lab05'" in script
    assert script.index("quick = False") > script.index("quick = quick_mode()")  # after the parameters


@pytest.mark.parametrize("cuda", [False, True])
def test_gpu_tests_get_their_marker_and_are_skipped_only_without_cuda(monkeypatch, cuda):
    import importlib.util
    spec = importlib.util.spec_from_file_location("gpu_conftest", ROOT / "tests" / "gpu" / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)

    class Item:
        def __init__(self, path):
            self.path, self.marks = path, []

        def add_marker(self, mark):
            self.marks.append(mark)
    gpu_item, cpu_item = Item(ROOT / "tests" / "gpu" / "test_gpu_kit.py"), Item(ROOT / "tests" / "test_train.py")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    conftest.pytest_collection_modifyitems(None, [gpu_item, cpu_item])
    names = [m.name for m in gpu_item.marks]
    assert "gpu" in names and cpu_item.marks == []
    skips = [m for m in gpu_item.marks if m.name == "skip"]
    assert (skips[0].kwargs["reason"] == "no CUDA device") if not cuda else skips == []
