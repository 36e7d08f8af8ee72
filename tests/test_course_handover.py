"""Handing the kit to a class: the install lines name our distribution, the instructor's guide holds
what students must not see, and the grading commands answer on the command line."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from colorlab.course.exercises import BEGIN, END, has_solution
from colorlab.course.export import DISTRIBUTION
from colorlab.course.guide import TITLE, instructor_guide
from colorlab.course.leaks import find_leaks
from colorlab.course.notebooks import list_notebooks

ROOT = Path(__file__).resolve().parents[1]

# `pip install` / `%pip install` / `conda install`, options, then a requirement that is a bare name from the index
_INSTALL = re.compile(r"(?:pip|conda|mamba)\s+install((?:\s+-{1,2}[\w-]+(?:[= ](?!colorlab)\S+)?)*)\s+([\"']?)([\w.-]+)(\[[^\]]*\])?\2(?=[\s`)]|$)")


def bare_installs(text: str) -> list[str]:
    """Every install line of ``text`` that asks the public index for ``colorlab`` or ``colorlab-kit`` by name."""
    return [m.group(0) for m in _INSTALL.finditer(text) if m.group(3).lower() in ("colorlab", "colorlab-kit", "colorlab_kit")]


def test_the_install_check_can_fail():
    name = "color" + "lab"  # written in two parts, so that this file holds no such instruction itself
    assert bare_installs(f'pip install "{name}[metrics]"') and bare_installs(f"pip install {name}")
    assert bare_installs(f"%pip install -q {name}-kit") and bare_installs(f"conda install {name}")
    assert not bare_installs('pip install "./wheels/colorlab_kit-0.1.0-py3-none-any.whl[metrics]"')
    assert not bare_installs('pip install -c constraints.txt -e ".[dev,metrics]"')
    assert not bare_installs("pip install lpips pytorch-fid")


def test_no_tracked_file_says_to_install_the_bare_name():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    hits = []
    for name in files:
        path = ROOT / name
        if path.suffix in (".png", ".jpg", ".pt", ".whl", ".gz") or not path.is_file():
            continue
        text = path.read_text(errors="ignore")
        hits += [f"{name}: {h}" for h in bare_installs(text)]
    assert not hits, "these install an unrelated package (or one never published):\n" + "\n".join(hits)


def test_distribution_name_is_ours_and_the_import_name_stays():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["name"] == DISTRIBUTION == "colorlab-kit"
    assert data["project"]["scripts"]["colorlab"] == "colorlab.cli:main"
    assert "nbgrader" in " ".join(data["project"]["optional-dependencies"]["course"])


def test_instructor_guide_holds_every_solution_answer_and_note():
    guide = instructor_guide(ROOT / "notebooks", ROOT / "tests" / "exercise_answers",
                             ROOT / "tests" / "notebooks" / "baselines.json")
    assert guide.startswith(TITLE)
    for path in list_notebooks(ROOT / "notebooks"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if has_solution(cell):
                body = [l for l in cell.source.splitlines() if l.strip() and l.strip() not in (BEGIN, END)]
                assert all(l in guide for l in body), f"{path.name}: the guide lacks a solution line"
            if {"answers", "instructor"} & set(tags):
                assert cell.source.strip() in guide, f"{path.name}: the guide lacks a {tags} cell"
    assert "Common mistakes" in guide and "Hidden tests" in guide


def test_a_bundle_holding_the_guide_would_be_caught(tmp_path):
    (tmp_path / "guide.md").write_text(instructor_guide(ROOT / "notebooks", None, None))
    assert len(find_leaks(tmp_path, ROOT / "notebooks")) > 20


@pytest.mark.parametrize("argv, needle", [(["course", "release", "--help"], "--labs"),
                                          (["course", "autograde", "--help"], "submissions"),
                                          (["course", "guide", "--help"], "instructor")])
def test_grading_commands_are_on_the_command_line(argv, needle):
    r = subprocess.run([sys.executable, "-m", "colorlab", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and needle in r.stdout, r.stdout + r.stderr
