"""A real nbgrader round trip on lab 01, offline: release, six submissions, autograde, gradebook, feedback.

* the release holds no solution, hidden test or model answer;
* the solutions get every autograded point; the untouched release gets none;
* one stored wrong answer loses exactly its exercise's points;
* a submission that raises, one that hangs (stopped by the per-cell timeout) and one that deleted its
  test cells are graded without stopping the others or the grader (the deleted tests are put back);
* nothing in the instructor's source (the course folder's source/ and the repository's notebooks/) changes.

The other stored answers go through every visible and hidden test in-process (test_exercise_answers.py):
an autograde per stored answer would not fit the suite's budget.
"""
from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

from colorlab.course.exercises import BEGIN, END, notebook_text
from colorlab.course.grading import autograde, feedback_pages, release
from colorlab.course.leaks import find_leaks

ROOT = Path(__file__).resolve().parents[1]
LAB = "01"
HANG_TIMEOUT = 20  # seconds a cell may run in this test's course (the hanging one is stopped after it)


def _digest(folder: Path, pattern: str = "*.ipynb") -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob(pattern))}


def _wrong_answer(exercise: str) -> str:
    lab, name = exercise.split(".")
    spec = importlib.util.spec_from_file_location("answers", ROOT / "tests" / "exercise_answers" / f"{lab}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ANSWERS[name]["wrong"][0][1]


def _solved(released, source):
    """The released notebook with every exercise cell holding the solution (as a good student writes it)."""
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in solutions:
            cell.source = "\n".join(l for l in solutions[gid].splitlines() if l.strip() not in (BEGIN, END))
        elif cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "1. The colours are concentrated. 2. …"
    return nb


def _with(nb, grade_id: str, source: str):
    out = copy.deepcopy(nb)
    cell = next(c for c in out.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    cell.source = source
    return out


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    repo_before = _digest(ROOT / "notebooks", f"{LAB}_*.ipynb")
    course = base / "course"
    (released_path,) = release(course, labs=[LAB], src=ROOT / "notebooks", timeout=HANG_TIMEOUT)
    released = nbformat.read(released_path, as_version=4)
    source = nbformat.read(next((course / "source" / f"lab{LAB}").glob("*.ipynb")), as_version=4)
    tests = [c.metadata["nbgrader"] for c in source.cells
             if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")]
    points = {m["grade_id"].removesuffix("-test"): m["points"] for m in tests}
    exercises = list(points)  # "lab01-chroma_hue", … in notebook order
    full = sum(points.values())
    solved = _solved(released, source)
    raising, wrong, hanging = exercises[0], exercises[1], exercises[-1]
    submissions = {
        "solutions": solved,
        "untouched": released,
        "wrong": _with(solved, wrong, _wrong_answer(wrong.replace("-", "."))),
        "raises": _with(solved, raising, 'raise RuntimeError("my code crashed")'),
        "hangs": _with(solved, hanging, "import time\nwhile True:\n    time.sleep(0.2)"),
        "deleted_tests": nbformat.v4.new_notebook(
            cells=[c for c in solved.cells if not (c.metadata.get("nbgrader", {}).get("grade")
                                                   and c.cell_type == "code")],
            metadata=solved.metadata),
    }
    expected = {"solutions": full, "untouched": 0, "wrong": full - points[wrong], "raises": full - points[raising],
                "hangs": full - points[hanging], "deleted_tests": full}
    folder = base / "submissions"
    for student, nb in submissions.items():
        (folder / student).mkdir(parents=True)
        (folder / student / released_path.name).write_text(notebook_text(nb))
    source_before = _digest(course / "source")
    rows = {r["student"]: r for r in autograde(course, LAB, folder)}
    return {"course": course, "rows": rows, "expected": expected, "released": released_path, "full": full,
            "source_before": source_before, "repo_before": repo_before}


@pytest.mark.slow
def test_release_holds_no_solution_hidden_test_or_model_answer(course):
    assert find_leaks(course["released"].parent, ROOT / "notebooks") == []
    text = course["released"].read_text()
    assert "raise NotImplementedError" in text and "YOUR ANSWER HERE" in text


@pytest.mark.slow
def test_each_submission_gets_exactly_its_points(course):
    got = {s: r["score"] for s, r in course["rows"].items()}
    assert got == course["expected"], f"autograded points {got}, expected {course['expected']}"
    assert course["full"] >= 5 and all(r["status"] == "graded" for r in course["rows"].values()), course["rows"]


@pytest.mark.slow
def test_gradebook_csv_and_feedback_for_every_student(course):
    csv_text = (course["course"] / "grades.csv").read_text().splitlines()
    assert csv_text[0].startswith("assignment,") and len(csv_text) == 1 + len(course["expected"])
    pages = {p.parts[-3] for p in feedback_pages(course["course"], LAB)}
    assert pages == set(course["expected"]), pages
    hang = next(p for p in feedback_pages(course["course"], LAB) if p.parts[-3] == "hangs").read_text()
    assert "Timeout" in hang or "timeout" in hang


@pytest.mark.slow
def test_the_instructors_source_is_untouched(course):
    assert _digest(course["course"] / "source") == course["source_before"]
    assert _digest(ROOT / "notebooks", f"{LAB}_*.ipynb") == course["repo_before"]
    meta = json.loads(course["released"].read_text())["metadata"]
    assert meta["kernelspec"]["name"] == "python3"
