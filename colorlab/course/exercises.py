"""Solution notebooks → student exercises, and the notebook clean-ups around them.

:func:`make_exercise` / :func:`sync_exercises` turn the solution notebooks of ``notebooks/`` into the
student versions of ``exercises/``: code between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
becomes ``raise NotImplementedError``; the check cell after it stays, without its hidden tests (the
lines between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``, which only the instructor's
source and nbgrader's autograder see). :func:`student_text` is what every student version starts from:
no cell meant for the course staff (tagged ``metrics``: the numbers the regression runs compare;
``instructor``: expected numbers, common mistakes, timing notes, which go to the instructor's guide)
and no test-harness markers. :func:`strip_outputs` is what a committed notebook holds;
:func:`with_expected_outputs` puts the nbval outputs back for a test run.

``nbformat`` is imported where it is used: it loads jsonschema (about a second), and every notebook
imports :mod:`colorlab.course`.
"""
from __future__ import annotations

import copy
from pathlib import Path

from colorlab.core.errors import ColorlabError
from colorlab.course.notebooks import list_notebooks

__all__ = ["BEGIN", "END", "HIDDEN_BEGIN", "HIDDEN_END", "STUB", "ANSWERS_TAG", "ANSWER_PLACEHOLDER", "NBVAL_MARK",
           "STAFF_TAGS", "has_solution", "make_exercise", "notebook_text", "split_hidden", "student_text",
           "sync_exercises", "with_expected_outputs", "strip_outputs"]

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
#: Cells for the course staff only: dropped from every student version (exercises, bundle, release).
STAFF_TAGS = ("metrics", "instructor")
STUB = 'raise NotImplementedError("exercise: replace this line with your code")'
#: Markdown cells tagged ``answers`` hold the model answers to a lab's "Think" questions (the cell
#: tagged ``questions`` just before). The exercise copy replaces them with this placeholder.
ANSWERS_TAG = "answers"
ANSWER_PLACEHOLDER = ("**Your answers.** Double-click this cell and write a few sentences for each question "
                      "above; compare them with a classmate's before you move on.")
#: Cells whose (text) output nbval --nbval-lax compares. Their expected output is kept outside the
#: notebook (tests/notebooks/nbval_expected.json), so committed notebooks hold no outputs at all;
#: :func:`with_expected_outputs` puts it back for the nbval run.
NBVAL_MARK = "# NBVAL_CHECK_OUTPUT"


def _stub_source(source: str, where: str) -> str:
    lines, out, inside = source.splitlines(), [], False
    for i, line in enumerate(lines, 1):
        s = line.strip()
        if s == BEGIN:
            if inside:
                raise ColorlabError(f"{where}: line {i}: {BEGIN} inside another solution block")
            inside = True
            out.append(line[:len(line) - len(line.lstrip())] + STUB)
        elif s == END:
            if not inside:
                raise ColorlabError(f"{where}: line {i}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ColorlabError(f"{where}: {BEGIN} is never closed")
    return "\n".join(out)


def split_hidden(source: str, where: str = "cell") -> tuple[str, str]:
    """``(visible, hidden)``: a check cell's source without its hidden-test block, and that block's lines."""
    visible, hidden, inside = [], [], False
    for i, line in enumerate(source.splitlines(), 1):
        s = line.strip()
        if s == HIDDEN_BEGIN:
            if inside:
                raise ColorlabError(f"{where}: line {i}: {HIDDEN_BEGIN} inside another hidden block")
            inside = True
        elif s == HIDDEN_END:
            if not inside:
                raise ColorlabError(f"{where}: line {i}: {HIDDEN_END} without {HIDDEN_BEGIN}")
            inside = False
        else:
            (hidden if inside else visible).append(line)
    if inside:
        raise ColorlabError(f"{where}: {HIDDEN_BEGIN} is never closed")
    return "\n".join(visible).rstrip(), "\n".join(hidden)


def student_text(nb):
    """A copy of ``nb`` without the course staff's cells (:data:`STAFF_TAGS`) and harness markers."""
    out = copy.deepcopy(nb)
    out.cells = [c for c in out.cells if not set(c.metadata.get("tags", [])) & set(STAFF_TAGS)]
    for cell in out.cells:
        if cell.cell_type == "code" and NBVAL_MARK in cell.source:
            cell.source = "\n".join(l for l in cell.source.splitlines() if l.strip() != NBVAL_MARK)
            cell.source = cell.source.replace("  " + NBVAL_MARK, "").replace(NBVAL_MARK, "")
    return out


def has_solution(cell) -> bool:
    return cell.get("cell_type") == "code" and any(l.strip() == BEGIN for l in cell["source"].splitlines())


def make_exercise(nb, name: str = "notebook"):
    """The student version of a solution notebook (a new ``nbformat`` notebook, outputs cleared).

    Solution blocks become a stub raising ``NotImplementedError``; markdown cells tagged
    ``answers`` (model answers to the lab's questions) become :data:`ANSWER_PLACEHOLDER`; the cell
    metadata that only the tests use (``colorlab``: which exercise a cell is) is dropped; so are the
    check cells' hidden tests and the staff's cells (:func:`student_text`). nbgrader's cell metadata
    stays, so that a student's copy can be autograded.
    """
    ex = student_text(nb)
    for i, cell in enumerate(ex.cells):
        cell.metadata.pop("colorlab", None)
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown" and ANSWERS_TAG in tags:
            cell.source = ANSWER_PLACEHOLDER
            cell.metadata["tags"] = [t for t in tags if t != ANSWERS_TAG] + ["your-answers"]
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if any(l.strip() in (BEGIN, END) for l in cell.source.splitlines()):
                cell.source = _stub_source(cell.source, f"{name} cell {i}")
            if HIDDEN_BEGIN in cell.source:
                cell.source = split_hidden(cell.source, f"{name} cell {i}")[0]
    ex.metadata.pop("widgets", None)
    return ex


def notebook_text(nb) -> str:
    """The file text of a notebook, as the repository stores it."""
    import nbformat

    return nbformat.writes(nb) + "\n"


def sync_exercises(src: str | Path = "notebooks", dst: str | Path = "exercises", check: bool = False) -> list[Path]:
    """Write ``dst/NN_….ipynb`` for every notebook of ``src`` (and drop stale ones).

    With ``check=True`` nothing is written: returns the exercise files that are missing, stale
    or out of date (empty when ``dst`` is in sync).
    """
    import nbformat

    src, dst = Path(src), Path(dst)
    wanted = {}
    for p in list_notebooks(src):
        wanted[dst / p.name] = notebook_text(make_exercise(nbformat.read(p, as_version=4), p.name))
    stale = [p for p in (list_notebooks(dst) if dst.is_dir() else []) if p not in wanted]
    changed = [p for p, text in wanted.items() if not p.is_file() or p.read_text() != text]
    if check:
        return sorted(changed + stale)
    dst.mkdir(parents=True, exist_ok=True)
    for p in changed:
        p.write_text(wanted[p])
    for p in stale:
        p.unlink()
    return sorted(changed + stale)


def with_expected_outputs(nb, texts: list[str]):
    """A copy of ``nb`` whose ``# NBVAL_CHECK_OUTPUT`` cells carry ``texts`` (in order) as stdout, for nbval."""
    import nbformat

    out = copy.deepcopy(nb)
    marked = [c for c in out.cells if c.cell_type == "code" and NBVAL_MARK in c.source]
    if len(marked) != len(texts):
        raise ColorlabError(f"{len(marked)} cells are marked {NBVAL_MARK!r} but {len(texts)} expected outputs were given")
    for cell, text in zip(marked, texts):
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        cell.execution_count = 1  # nbval ignores outputs of cells that never ran
    return out


def strip_outputs(nb):
    """Clear outputs, execution counts and widget state in place (what a committed notebook holds)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    return nb
