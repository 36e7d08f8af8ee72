"""nbgrader's cell metadata, derived from what the solution notebooks already say.

The solution notebooks mark their parts for the kit (an exercise cell has ``colorlab.exercise`` and a
``### BEGIN SOLUTION`` block, the next code cell is its check, a markdown cell tagged ``answers``
holds the model answers to the lab's Think questions). :func:`stamp_nbgrader` turns that into the
metadata nbgrader reads, so the two can never disagree:

* exercise cell → a solution cell (``solution: true``), ``grade_id`` ``labNN-name``;
* its check cell → an autograded test cell (``grade: true``, ``locked: true``) worth the exercise's
  stars (★ = 1 point, ★★ = 2, ★★★ = 3), ``grade_id`` ``labNN-name-test``;
* the ``answers`` cell → a manually graded answer (``solution`` and ``grade``), one point per Think
  question, ``grade_id`` ``labNN-think``.

``scripts/make_exercises.py`` stamps the notebooks; a test checks they are stamped.
"""
from __future__ import annotations

import copy
import re

from colorlab.core.errors import ColorlabError
from colorlab.course.exercises import has_solution

__all__ = ["SCHEMA_VERSION", "exercise_points", "stamp_nbgrader", "think_points", "total_points"]

SCHEMA_VERSION = 3
_STARS = re.compile(r"★{1,3}")
_QUESTION = re.compile(r"^\s*\d+\.\s", re.M)


def exercise_points(nb, index: int) -> int:
    """The points of the exercise in cell ``index``: the stars in the nearest markdown cell above it."""
    for j in range(index - 1, -1, -1):
        cell = nb.cells[j]
        if cell.cell_type == "markdown":
            found = _STARS.findall(cell.source)
            if found:
                return len(found[0])
    raise ColorlabError(f"cell {index}: no ★ rating in the markdown above the exercise")


def think_points(nb) -> int:
    """One point per numbered question in the cell tagged ``questions``."""
    for cell in nb.cells:
        if "questions" in cell.metadata.get("tags", []):
            return max(1, len(_QUESTION.findall(cell.source)))
    return 0


def _next_code(nb, index: int) -> int:
    for j in range(index + 1, len(nb.cells)):
        if nb.cells[j].cell_type == "code":
            return j
    raise ColorlabError(f"cell {index}: an exercise with no check cell after it")


def stamp_nbgrader(nb, lab: str):
    """A copy of the solution notebook ``nb`` with nbgrader metadata on its exercise, check and answer cells.

    ``lab``: ``"lab05"``; every other cell loses any stale nbgrader metadata.
    """
    out = copy.deepcopy(nb)
    meta: dict[int, dict] = {}
    for i, cell in enumerate(out.cells):
        if has_solution(cell):
            name = cell.metadata.get("colorlab", {}).get("exercise", "")
            if not name.startswith(lab + "."):
                raise ColorlabError(f"cell {i}: an exercise needs metadata colorlab.exercise = '{lab}.<name>'")
            gid = name.replace(".", "-")
            meta[i] = {"grade": False, "solution": True, "locked": False, "grade_id": gid}
            j = _next_code(out, i)
            meta[j] = {"grade": True, "solution": False, "locked": True, "points": exercise_points(out, i),
                       "grade_id": gid + "-test"}
        elif cell.cell_type == "markdown" and "answers" in cell.metadata.get("tags", []):
            meta[i] = {"grade": True, "solution": True, "locked": False, "points": think_points(out),
                       "grade_id": f"{lab}-think"}
    for i, cell in enumerate(out.cells):
        cell.metadata.pop("nbgrader", None)
        if i in meta:
            cell.metadata["nbgrader"] = {**meta[i], "schema_version": SCHEMA_VERSION}
    return out


def total_points(nb) -> tuple[int, int]:
    """``(autograded, manually graded)`` points of a stamped notebook."""
    auto = manual = 0
    for cell in nb.cells:
        m = cell.metadata.get("nbgrader", {})
        if m.get("grade"):
            if m.get("solution"):
                manual += m.get("points", 0)
            else:
                auto += m.get("points", 0)
    return auto, manual
