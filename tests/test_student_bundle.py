"""The student bundle (`colorlab course export`): everything a student needs and nothing of the staff's.

The wheel in it installs into a fresh virtual environment with no repository around (the heavy
dependencies — torch, fastai… — are lent from the test environment through a .pth file, so the test
needs no network and stays quick), and lab 01's exercise notebook runs there until its first unsolved
exercise, which fails with the exercise's own message.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from colorlab.core.errors import ColorlabError
from colorlab.course.exercises import STUB
from colorlab.course.export import DISTRIBUTION, export_bundle
from colorlab.course.leaks import find_leaks

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    dst = tmp_path_factory.mktemp("bundle") / "course"
    r = subprocess.run([sys.executable, "-m", "colorlab", "course", "export", str(dst)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return dst


def test_bundle_holds_what_students_need_and_no_staff_text(bundle):
    names = {p.relative_to(bundle).parts[0] for p in bundle.iterdir()}
    assert names == {"README.md", "constraints-portable.txt", "datasets", "exercises", "wheels"}, names
    assert len(list((bundle / "wheels").glob("colorlab_kit-*-py3-none-any.whl"))) == 1
    assert sorted(p.name for p in (bundle / "exercises").glob("*.ipynb")) == \
        sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert (bundle / "datasets" / "scenes" / "README.md").is_file() and (bundle / "datasets" / "scenes" / "scenes.png").is_file()
    for nb in (bundle / "exercises").glob("[01][0-9]_*.ipynb"):
        cells = json.loads(nb.read_text())["cells"]
        tags = [t for c in cells for t in c["metadata"].get("tags", [])]
        assert "answers" not in tags and "instructor" not in tags and "metrics" not in tags, nb.name
        if "questions" in tags:
            assert "your-answers" in tags, nb.name
    assert not list(bundle.rglob("exercise_answers*")) and not (bundle / "notebooks").exists()
    assert find_leaks(bundle, ROOT / "notebooks") == []


def test_the_leak_check_can_fail(bundle, tmp_path):
    """A solution notebook copied into a bundle is found, as are nbgrader's markers."""
    leaky = tmp_path / "leaky"
    leaky.mkdir()
    src = ROOT / "notebooks" / "02_colour_statistics_and_rarity.ipynb"
    (leaky / "oops.ipynb").write_text(src.read_text())
    found = find_leaks(leaky, ROOT / "notebooks")
    assert any("marker" in f for f in found) and any("from 02_" in f for f in found)


def test_student_readme_installs_the_bundled_wheel_not_the_bare_name(bundle):
    readme = (bundle / "README.md").read_text()
    wheel = next((bundle / "wheels").glob("*.whl")).name
    assert f'pip install "./wheels/{wheel}[metrics]"' in readme
    assert "-c constraints-portable.txt" in readme and "%pip install" in readme
    for line in readme.splitlines():
        assert not re.search(r"pip install\s+(-\S+\s+)*[\"']?colorlab(\[[^]]*\])?[\"']?(\s|$)", line), line
    assert "hidden tests" in readme and "kit's own function" in readme


def _lend_site_packages(fresh: Path) -> None:
    """Make the test environment's packages visible to ``fresh`` — all but this kit's own install."""
    heavy = fresh / "heavy"
    heavy.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        n = entry.name.lower()
        if n.startswith(("colorlab", "__editable__")) or n.endswith(".pth"):
            continue
        (heavy / entry.name).symlink_to(entry)
    purelib = subprocess.run([str(fresh / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "_heavy_dependencies.pth").write_text(str(heavy) + "\n")


def _script(notebook: Path) -> str:
    """The code cells of a notebook as one script (IPython magics dropped)."""
    nb = json.loads(notebook.read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    return "\n\n".join("\n".join(l for l in c.splitlines() if not l.lstrip().startswith(("%", "!"))) for c in cells)


@pytest.mark.slow
def test_the_wheel_installs_without_the_repository_and_lab01_runs_to_its_first_exercise(bundle, tmp_path):
    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=False)
    _lend_site_packages(fresh)
    py = str(fresh / "bin" / "python")
    wheel = next((bundle / "wheels").glob("*.whl"))
    outside = tmp_path / "student"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    r = subprocess.run([py, "-m", "pip", "install", "--no-index", "--no-build-isolation", "--quiet",
                        f"{wheel}[metrics]"], cwd=outside, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    r = subprocess.run([py, "-c", "import colorlab, importlib.metadata as m; print(colorlab.__file__); "
                        f"print(m.version({DISTRIBUTION!r}))"], cwd=outside, capture_output=True, text=True, env=env)
    where = r.stdout.splitlines()[0]
    assert str(fresh) in where and str(ROOT) not in where, r.stdout + r.stderr
    script = outside / "lab01.py"
    script.write_text(_script(bundle / "exercises" / "01_lab_colour_space.ipynb"))
    r = subprocess.run([py, str(script)], cwd=outside, capture_output=True, text=True, timeout=600,
                       env={**env, "MPLBACKEND": "Agg", "COLORLAB_QUICK": "1"})
    assert r.returncode != 0, "lab 01 ran to the end with every exercise unsolved"
    last = r.stderr.strip().splitlines()[-1]
    assert last == f"NotImplementedError: {STUB.split('(', 1)[1][1:-2]}", r.stderr[-3000:]
    assert "training and" in r.stdout, "the lab stopped before its first exercise:\n" + r.stdout[-2000:]


def test_export_refuses_to_mix_into_a_full_folder(tmp_path):
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(ColorlabError, match="not empty"):
        export_bundle(tmp_path, src=ROOT / "notebooks", datasets=ROOT / "datasets")
