"""The syllabus covers every lab: a section per notebook with 3–5 objectives a grader can check, the published
work the lab's References cell cites, the points its nbgrader metadata gives (per lab and in the assessment
table), a place in both plans, and the README links it."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from colorlab.course.nbgrader_cells import total_points
from colorlab.course.times import lab_notebooks

ROOT = Path(__file__).resolve().parents[1]
SYLLABUS = ROOT / "docs" / "syllabus.md"
NOTEBOOKS = lab_notebooks(ROOT / "notebooks")
# verbs whose result a grader can check (an answer, a number, code, a choice with its reason)
VERBS = {"compute", "convert", "derive", "explain", "predict", "implement", "write", "build", "train", "measure",
         "estimate", "choose", "compare", "design", "define", "judge", "read", "run", "find", "prepare", "split",
         "encode", "soft-encode", "download", "check", "state", "name"}


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^### Lab (\d\d) — .*\(`(\d\d_[\w-]+)\.ipynb`\)\s*$", text, flags=re.M)
    return {parts[i + 1]: parts[i + 2].split("\n## ", 1)[0] for i in range(1, len(parts) - 1, 3)}


def _read(path: Path):
    return nbformat.reads(path.read_text(), as_version=4)


def _objectives(section: str) -> list[str]:
    block = section.split("**Objectives.**", 1)[1].split("**Readings.**", 1)[0]
    return re.findall(r"^\d+\. (.+)$", block, re.M)


def _verb(objective: str) -> str:
    return re.match(r"[\w-]+", objective)[0].lower()


def _points(text: str) -> tuple[int, int]:
    auto = re.search(r"(\d+) points? autograded|no autograded exercise", text, re.I)
    think = re.search(r"(\d+) points? Think answers|no Think answers", text, re.I)
    assert auto and think, f"no points in {text!r}"
    return int(auto.group(1) or 0), int(think.group(1) or 0)


@pytest.fixture(scope="module")
def sections():
    return _sections(SYLLABUS.read_text())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_lab_has_checkable_objectives(path, sections):
    assert path.stem in sections, f"docs/syllabus.md has no '### Lab {path.name[:2]} — … (`{path.name}`)' section"
    objectives = _objectives(sections[path.stem])
    assert 3 <= len(objectives) <= 5, f"{path.stem}: {len(objectives)} objectives (3 to 5 wanted)"
    for o in objectives:
        assert _verb(o) in VERBS, f"{path.stem}: '{o}' does not start with a verb a grader can check"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_readings_hold_what_the_lab_cites_and_points_match(path, sections):
    nb = _read(path)
    section = sections[path.stem]
    refs = [c.source for c in nb.cells if "references" in c.metadata.get("tags", [])]
    for link in re.findall(r"https?://\S+", refs[0] if refs else ""):
        assert link in section, f"{path.stem}: the lab cites {link}; the syllabus's readings do not"
    graded = section.split("**Graded.**", 1)[1].split("\n\n", 1)[0]
    assert _points(graded) == total_points(nb), f"{path.stem}: points (auto, Think) {total_points(nb)}: {graded}"
    row = re.search(rf"^\| {path.name[:2]} \| (\d+) \| (\d+) \|$", SYLLABUS.read_text(), re.M)
    assert row and (int(row[1]), int(row[2])) == total_points(nb), \
        f"{path.stem}: the assessment table's row should read | {path.name[:2]} | {total_points(nb)[0]} | {total_points(nb)[1]} |"


def test_both_plans_hold_every_lab_once_and_the_readme_links_the_syllabus():
    text = SYLLABUS.read_text()
    for plan in ("## The 12-week plan", "## The compressed 6-week plan"):
        table = text.split(plan, 1)[1].split("\n## ", 1)[0]
        weeks = re.findall(r"^\| \d+ \| ([\d, –]+) \|", table, re.M)
        labs = []
        for cell in weeks:
            for part in cell.split(","):
                a, _, b = part.strip().partition("–")
                labs += [f"{n:02d}" for n in range(int(a), int(b or a) + 1)]
        assert set(labs) >= {p.name[:2] for p in NOTEBOOKS}, f"{plan}: labs {labs} leave some notebook out"
        assert len(labs) == len(set(labs)), f"{plan}: a lab twice"
    assert "(docs/syllabus.md)" in (ROOT / "README.md").read_text()
    assert "capstone.md" in text


def test_the_checks_fail_on_a_planted_problem():
    """A section cut to two objectives, an objective with an uncheckable verb and a wrong point count are caught."""
    sec = _sections(SYLLABUS.read_text())["03_colour_profiles"]
    objectives = _objectives(sec)
    cut = "\n".join(line for line in sec.splitlines() if not re.match(r"[3-9]\. ", line))
    assert len(_objectives(cut)) == 2
    vague = sec.replace(objectives[0], "Understand K-means.")
    assert _verb(_objectives(vague)[0]) not in VERBS
    wrong = sec.replace("7 points autograded", "9 points autograded")
    nb = _read(ROOT / "notebooks" / "03_colour_profiles.ipynb")
    assert _points(wrong.split("**Graded.**", 1)[1]) != total_points(nb) == _points(sec.split("**Graded.**", 1)[1])
