"""Graded labs with nbgrader: a course folder, released assignments, autograding, a gradebook.

nbgrader (the Jupyter ecosystem's grader) does the work; this module only lays out the course folder
it expects and runs its commands::

    colorlab course release COURSE --labs 01 02          # COURSE/release/lab01/01_….ipynb: what students get
    colorlab course autograde COURSE 01 SUBMISSIONS      # SUBMISSIONS/<student>/01_….ipynb → grades.csv, feedback

* ``COURSE/source/labNN/`` holds the instructor's version of each lab: the solution notebook as the
  repository has it (solutions, hidden tests, model answers, nbgrader metadata stamped by
  ``scripts/make_exercises.py``), without the course staff's cells (tagged ``metrics``, ``instructor``).
* ``generate_assignment`` strips solutions (they become the kit's ``NotImplementedError`` stub), hidden
  tests and model answers; ``autograde`` puts the test cells back from the source (a student who
  deleted or edited them is graded on the originals), runs every cell with a per-cell timeout and
  ``$COLORLAB_QUICK=1`` (nbgrader does not inject notebook parameters), and scores the test cells.
* ``export`` writes the gradebook CSV; ``generate_feedback`` one HTML page per student and lab.

nbgrader grades the students one after the other in one run; a submission that raises loses the cells
that fail, one whose cell hangs is interrupted after the per-cell timeout and loses that cell, and
neither stops the others.
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

from colorlab.core.errors import ColorlabError
from colorlab.course.exercises import STUB, notebook_text, student_text
from colorlab.course.notebooks import QUICK_ENV, list_notebooks

__all__ = ["CELL_TIMEOUT", "autograde", "build_course", "feedback_pages", "gradebook", "lab_name", "release"]

#: Seconds a cell may run while autograding (nbgrader's default is 30; the labs' quick training cells
#: need more on a 2-core laptop).
CELL_TIMEOUT = 300
_CONFIG = '''# nbgrader configuration of a colorlab course folder (written by `colorlab course release`).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "colorlab"
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = {db!r}
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE: write a few sentences for each question above."
c.Execute.timeout = {timeout}
c.Execute.allow_errors = True
c.Execute.interrupt_on_timeout = True
c.OverwriteCells.add_missing_cells = True  # a deleted test cell is put back, and graded
'''


def lab_name(number) -> str:
    """``"lab05"`` for 5, ``"05"`` or ``"lab05"``."""
    s = str(number).lower().removeprefix("lab")
    if not s.isdigit():
        raise ColorlabError(f"a lab is named by its number, e.g. 05 or lab05; got {number!r}")
    return f"lab{int(s):02d}"


def _nbgrader(course: Path, *args: str, timeout: float | None = None, env: dict | None = None):
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"]
    # nbgrader runs `alembic` (its database migrations) from PATH: the interpreter's own bin folder first
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    proc = subprocess.run(cmd, cwd=course, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PATH": path, **(env or {})})
    return proc


def _checked(proc, what: str):
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise ColorlabError(f"nbgrader {what} failed (exit {proc.returncode}):\n{tail}")
    return proc


def build_course(course: str | Path, src: str | Path = "notebooks", labs=None, timeout: int = CELL_TIMEOUT) -> list[Path]:
    """Write ``course/nbgrader_config.py`` and ``course/source/labNN/`` from the solution notebooks.

    ``labs``: numbers (``["01", "02"]``); default every lab with a graded cell. Returns the source notebooks.
    """
    import nbformat  # noqa: PLC0415 - loads jsonschema: only when a course folder is written

    course, src = Path(course).resolve(), Path(src)
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(_CONFIG.format(
        root=str(course), db=f"sqlite:///{course / 'gradebook.db'}", stub=STUB, timeout=int(timeout)))
    wanted = {lab_name(n) for n in labs} if labs else None
    written = []
    for path in list_notebooks(src):
        lab = lab_name(path.name[:2])
        if wanted is not None and lab not in wanted:
            continue
        nb = student_text(nbformat.read(path, as_version=4))
        if not any(c.metadata.get("nbgrader", {}).get("grade") for c in nb.cells):
            if wanted is not None:
                raise ColorlabError(f"{path.name} has no graded cell: run scripts/make_exercises.py to stamp it")
            continue
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        out = course / "source" / lab / path.name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(notebook_text(nb))
        written.append(out)
    if wanted is not None and len({p.parent.name for p in written}) != len(wanted):
        missing = wanted - {p.parent.name for p in written}
        raise ColorlabError(f"no solution notebook in {src} for {sorted(missing)}")
    return written


def release(course: str | Path, labs=None, src: str | Path = "notebooks", timeout: int = CELL_TIMEOUT) -> list[Path]:
    """Build the course folder and run ``nbgrader generate_assignment``: ``course/release/labNN/…`` for students.

    ``timeout``: seconds a cell may run when the submissions are autograded.
    """
    course = Path(course).resolve()
    sources = build_course(course, src=src, labs=labs, timeout=timeout)
    for lab in sorted({p.parent.name for p in sources}):
        _checked(_nbgrader(course, "generate_assignment", lab, "--force"), f"generate_assignment {lab}")
    return sorted((course / "release").glob("lab*/*.ipynb"))


def _gather(lab: str, submissions: Path, course: Path) -> list[str]:
    """Copy ``submissions/<student>/[labNN/]*.ipynb`` into nbgrader's ``submitted/<student>/labNN/``."""
    expected = {p.name for p in (course / "source" / lab).glob("*.ipynb")}
    students = []
    for folder in sorted(p for p in Path(submissions).iterdir() if p.is_dir()):
        files = [p for p in [*folder.glob("*.ipynb"), *(folder / lab).glob("*.ipynb")] if p.name in expected]
        if not files:
            continue
        dst = course / "submitted" / folder.name / lab
        shutil.rmtree(dst, ignore_errors=True)
        dst.mkdir(parents=True)
        for f in files:
            shutil.copyfile(f, dst / f.name)
        students.append(folder.name)
    if not students:
        raise ColorlabError(f"{submissions}: no student folder holds {sorted(expected)}")
    return students


def autograde(course: str | Path, lab, submissions: str | Path, timeout_per_student: float = 3600) -> list[dict]:
    """Autograde every student's submission of ``lab``; then the gradebook CSV and the feedback pages.

    ``submissions``: a folder of ``<student>/<NN_name>.ipynb`` (or ``<student>/labNN/…``). Returns one row
    per student: ``student``, ``score``, ``max_score`` and ``status`` (``graded`` or what went wrong).
    """
    course, lab = Path(course).resolve(), lab_name(lab)
    if not (course / "release" / lab).is_dir():
        raise ColorlabError(f"{course}: {lab} was never released: run `colorlab course release {course} --labs {lab}`")
    students = _gather(lab, Path(submissions), course)
    try:
        proc = _nbgrader(course, "autograde", lab, "--create", "--force",
                         timeout=timeout_per_student * len(students), env={QUICK_ENV: "1"})
        log = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        log = f"the grader was stopped after {e.timeout:.0f} s"
    rows = []
    for student in students:
        failed = f"for student '{student}'" in log and "error processing" in log.lower()
        graded = (course / "autograded" / student / lab).is_dir() and not failed
        rows.append({"student": student, "status": "graded" if graded else "not graded: see the grader's log"})
    _checked(_nbgrader(course, "generate_feedback", lab, "--force"), f"generate_feedback {lab}")
    scores = gradebook(course)
    for row in rows:
        got = scores.get((lab, row["student"]), {})
        row.update(score=got.get("score", 0.0), max_score=got.get("max_score"))
    return rows


def gradebook(course: str | Path, out: str | Path | None = None) -> dict:
    """Export the gradebook to ``out`` (default ``course/grades.csv``); returns ``{(lab, student): row}``."""
    course = Path(course).resolve()
    out = Path(out) if out else course / "grades.csv"
    _checked(_nbgrader(course, "export", f"--to={out}"), "export")
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    return {(r["assignment"], r["student_id"]): {**r, "score": float(r["score"] or 0),
                                                  "max_score": float(r["max_score"] or 0)} for r in rows}


def feedback_pages(course: str | Path, lab) -> list[Path]:
    """The feedback HTML pages nbgrader wrote for ``lab``, one per student."""
    return sorted(Path(course).resolve().glob(f"feedback/*/{lab_name(lab)}/*.html"))

