"""exercises/ is generated from notebooks/, its stubs fail only with NotImplementedError and every check
cell reaches its stub; model answers never reach the exercise copy. (That each check rejects wrong
answers and accepts right ones is tested without a kernel in test_exercise_answers.py.)"""
from __future__ import annotations

import copy
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from colorlab.core.errors import ColorlabError
from colorlab.course.exercises import ANSWER_PLACEHOLDER, BEGIN, END, STUB, has_solution, make_exercise, sync_exercises
from colorlab.course.notebooks import list_notebooks
from colorlab.course.runner import SMOKE, execute_cells

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = list_notebooks(ROOT / "notebooks")


def _exercises(nb) -> list[tuple[int, int]]:
    """(exercise cell, its check cell) index pairs: the check is the next code cell."""
    pairs = []
    for i, cell in enumerate(nb.cells):
        if has_solution(cell):
            j = next(j for j in range(i + 1, len(nb.cells)) if nb.cells[j].cell_type == "code")
            pairs.append((i, j))
    return pairs


def _with_answer(source: str, answer: str) -> str:
    """Replace the solution block of ``source`` with ``answer`` (indented like the markers)."""
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() == BEGIN:
            indent = line[:len(line) - len(line.lstrip())]
            out += [indent + a for a in answer.splitlines()]
            inside = True
        elif line.strip() == END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def test_exercises_are_in_sync_with_notebooks():
    stale = sync_exercises(ROOT / "notebooks", ROOT / "exercises", check=True)
    assert not stale, f"run `python scripts/make_exercises.py`: out of sync: {[p.name for p in stale]}"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "01" <= p.name[:2] <= "10"], ids=lambda p: p.stem)
def test_every_lab_has_a_checked_exercise(path):
    nb = nbformat.read(path, as_version=4)
    pairs = _exercises(nb)
    assert pairs, f"{path.name} has no ### BEGIN SOLUTION block"
    for ex, check in pairs:
        assert "check" in nb.cells[check].metadata.get("tags", []), f"{path.name}: cell {check} must be the check"
        assert re.search(r"\bcheck\.\w+\(", nb.cells[check].source), f"{path.name}: cell {check} must call check.<name>(...)"
        assert nb.cells[ex].metadata.get("colorlab", {}).get("exercise"), \
            f"{path.name} cell {ex}: name the exercise in metadata.colorlab.exercise ('labNN.<name>')"


def test_make_exercise_turns_solutions_into_stubs():
    nb = new_notebook(cells=[new_markdown_cell("# t"), new_code_cell(
        f"def f(x):\n    '''doc'''\n    {BEGIN}\n    y = x + 1\n    return y\n    {END}\n\nprint(f)",
        metadata={"colorlab": {"exercise": "lab01.f"}}), new_code_cell("assert f(1) == 2"),
        new_markdown_cell("1. the model answer", metadata={"tags": ["answers"]})])
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="x")]
    ex = make_exercise(nb)
    assert ex.cells[1].source == f"def f(x):\n    '''doc'''\n    {STUB}\n\nprint(f)"
    assert ex.cells[1].outputs == [] and "colorlab" not in ex.cells[1].metadata
    assert ex.cells[2].source == nb.cells[2].source  # the check stays
    assert "y = x + 1" in nb.cells[1].source  # the solution notebook is untouched
    assert ex.cells[3].source == ANSWER_PLACEHOLDER and "answers" not in ex.cells[3].metadata.tags
    ns: dict = {}
    exec(ex.cells[1].source, ns)
    with pytest.raises(NotImplementedError):
        ns["f"](1)


@pytest.mark.parametrize("source, message", [(f"{BEGIN}\nx = 1", "never closed"), (f"x = 1\n{END}", "without"),
                                             (f"{BEGIN}\n{BEGIN}\n{END}", "inside another")])
def test_make_exercise_rejects_broken_markers(source, message):
    with pytest.raises(ColorlabError, match=message):
        make_exercise(new_notebook(cells=[new_code_cell(source)]))


def test_sync_exercises_writes_then_reports_in_sync(tmp_path):
    src = tmp_path / "nbs"
    src.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell(f"{BEGIN}\nx = 1\n{END}")]), src / "01_a.ipynb")
    dst = tmp_path / "ex"
    assert [p.name for p in sync_exercises(src, dst)] == ["01_a.ipynb"]
    assert sync_exercises(src, dst, check=True) == []
    nbformat.write(new_notebook(cells=[new_code_cell("x = 2")]), dst / "02_stale.ipynb")
    assert [p.name for p in sync_exercises(src, dst, check=True)] == ["02_stale.ipynb"]


def _quiz_notebook(solution_path: Path):
    """The exercise notebook cut after its last check: (notebook, its cell ids, the (exercise, check) id pairs)."""
    exercise = nbformat.read(ROOT / "exercises" / solution_path.name, as_version=4)
    solution = nbformat.read(solution_path, as_version=4)
    # pairs by cell id: the student copy drops the staff's cells, so positions differ from the solution's
    pairs = [(solution.cells[ex].id, solution.cells[check].id) for ex, check in _exercises(solution)]
    ids = [c.id for c in exercise.cells]
    missing = [cid for pair in pairs for cid in pair if cid not in ids]
    assert not missing, f"{solution_path.name}: cells {missing} are missing from the student copy"
    quiz = copy.deepcopy(exercise)
    quiz.cells = quiz.cells[:ids.index(pairs[-1][1]) + 1]
    return quiz, [c.id for c in quiz.cells], pairs


def _run_quiz(path: Path, out_root: Path):
    quiz, stub_part, pairs = _quiz_notebook(path)
    done = execute_cells(quiz, SMOKE | {"out_dir": str(out_root / path.stem)}, cwd=path.parent, threads=1,
                         timeout=300, start_timeout=180)
    return {c.id: c for c in done.cells}, stub_part, pairs


@pytest.fixture(scope="session")
def quiz_runs(tmp_path_factory):
    """Every exercise notebook up to its last check, stubs unfilled: two kernels at a time."""
    paths = [p for p in NOTEBOOKS if _exercises(nbformat.read(p, as_version=4))]
    out = tmp_path_factory.mktemp("exercise_runs")
    with ProcessPoolExecutor(max_workers=2) as pool:
        return dict(zip([p.stem for p in paths], pool.map(_run_quiz, paths, [out] * len(paths))))


def _errors(cell) -> list[str]:
    return [o["ename"] for o in cell.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "01" <= p.name[:2] <= "10"], ids=lambda p: p.stem)
def test_stubs_fail_only_with_not_implemented_and_every_check_reaches_its_stub(quiz_runs, path):
    assert path.stem in quiz_runs, f"{path.name} has no exercise (### BEGIN SOLUTION block)"
    cells, stub_part, pairs = quiz_runs[path.stem]
    for cid in stub_part:
        errs = _errors(cells[cid])
        assert set(errs) <= {"NotImplementedError"}, f"{path.name} cell {cid}: {errs}\n{cells[cid].source}"
    for ex, check in pairs:
        assert _errors(cells[check]) == ["NotImplementedError"], f"{path.name}: the check of cell {ex} never hit the stub"
