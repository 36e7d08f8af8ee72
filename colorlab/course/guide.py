"""The instructor's guide, generated from the solution notebooks (never part of what students get).

Per lab: the header (prerequisites, measured times), the points of each exercise, its statement, the
solution, the hidden tests, the common mistakes (the plausible wrong answers stored for the checks,
with what each one gets wrong), the model answers to the Think questions, and the instructor's notes
(cells tagged ``instructor``: expected numbers, what to watch for, timing). The quick-run numbers the
regression runs compare are appended when a baselines file is given.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from colorlab.course.exercises import BEGIN, END, has_solution, split_hidden
from colorlab.course.nbgrader_cells import exercise_points, think_points
from colorlab.course.notebooks import list_notebooks

__all__ = ["instructor_guide", "write_guide"]

TITLE = "# colorlab — instructor's guide"


def _answers(folder: Path | None, lab: str) -> dict:
    path = folder / f"{lab}.py" if folder else None
    if not path or not path.is_file():
        return {}
    spec = importlib.util.spec_from_file_location(f"_guide_answers_{lab}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, "ANSWERS", {})


def _code(source: str) -> str:
    return "```python\n" + source.strip("\n") + "\n```"


def _solution(source: str) -> str:
    return "\n".join(l for l in source.splitlines() if l.strip() not in (BEGIN, END))


def _lab_section(path: Path, answers_folder: Path | None, baselines: dict) -> list[str]:
    import nbformat  # noqa: PLC0415 - jsonschema is slow to import

    nb = nbformat.read(path, as_version=4)
    lab = f"lab{path.name[:2]}"
    title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip() if nb.cells else path.stem
    header = "\n".join(nb.cells[0].source.splitlines()[1:]).strip() if nb.cells else ""
    stored = _answers(answers_folder, lab)
    out = [f"## {title}", "", f"`{path.name}`. {header}", ""]
    rows, parts = [], []
    for i, cell in enumerate(nb.cells):
        if not has_solution(cell):
            continue
        name = cell.metadata.get("colorlab", {}).get("exercise", f"{lab}.?").split(".", 1)[1]
        points = exercise_points(nb, i)
        statement = next(nb.cells[j].source for j in range(i - 1, -1, -1) if nb.cells[j].cell_type == "markdown")
        check = next((c.source for c in nb.cells[i + 1:] if c.cell_type == "code"), "")
        visible, hidden = split_hidden(check, f"{path.name} cell {i}")
        rows.append(f"| `{name}` | {'★' * points} | {points} |")
        parts += [f"### Exercise `{name}` ({points} point{'s' * (points > 1)})", "", statement.strip(), "",
                  "**Solution**", "", _code(_solution(cell.source)), "", "**Check (visible)**", "", _code(visible), ""]
        if hidden.strip():
            parts += ["**Hidden tests** (only in the instructor's source; nbgrader runs them when autograding)", "",
                      _code(hidden), ""]
        wrong = stored.get(name, {}).get("wrong", [])
        if wrong:
            parts += ["**Common mistakes** (each is rejected by the check, with a message naming it)", ""]
            parts += [f"- {why}" for why, _ in wrong] + [""]
    if rows:
        out += ["| exercise | difficulty | points |", "|---|---|---|", *rows,
                f"| Think answers (graded by hand) | | {think_points(nb)} |", ""]
    out += parts
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "answers" in tags:
            out += ["### Model answers to the Think questions", "", cell.source.strip(), ""]
    notes = [c.source.strip() for c in nb.cells if "instructor" in c.metadata.get("tags", [])]
    if notes:
        out += ["### Notes for the instructor", "", *[n + "\n" for n in notes]]
    if path.stem in baselines:
        out += ["### Quick-run numbers (what the regression runs compare)", "", "| metric | value | tolerance |",
                "|---|---|---|"]
        for key, spec in sorted(baselines[path.stem].items()):
            if isinstance(spec, dict):
                out.append(f"| {key} | {spec['value']:.4g} | {spec['tol']:.3g} ({spec['better']}) |")
            else:
                out += [f"| relations | {'; '.join(spec)} | |"]
        out.append("")
    return out


def instructor_guide(src: str | Path = "notebooks", answers: str | Path | None = "tests/exercise_answers",
                     baselines: str | Path | None = "tests/notebooks/baselines.json") -> str:
    """The guide as Markdown. ``answers`` / ``baselines``: the stored answers and quick-run baselines of a
    checkout (skipped when missing)."""
    answers_folder = Path(answers) if answers and Path(answers).is_dir() else None
    base = json.loads(Path(baselines).read_text()) if baselines and Path(baselines).is_file() else {}
    out = [TITLE, "", "For course staff only: solutions, hidden tests, model answers and expected numbers. Generated "
           "from the solution notebooks by `colorlab course guide`; never part of the student bundle.", "",
           "Points: ★ = 1, ★★ = 2, ★★★ = 3 per exercise (autograded by nbgrader, visible and hidden tests); the "
           "Think answers one point per question, graded by hand.", ""]
    for path in list_notebooks(src):
        out += _lab_section(path, answers_folder, base)
    return "\n".join(out).rstrip() + "\n"


def write_guide(out: str | Path, src: str | Path = "notebooks", answers: str | Path | None = "tests/exercise_answers",
                baselines: str | Path | None = "tests/notebooks/baselines.json") -> Path:
    """Write :func:`instructor_guide` to ``out`` (a Markdown file); returns its path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(instructor_guide(src, answers, baselines))
    return out
