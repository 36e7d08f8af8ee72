"""Every exercise's check accepts the correct variants stored in tests/exercise_answers/ and rejects
the plausible wrong answers stored beside them (with AssertionError, not a crash), and the
solution notebook's own answer passes it.

Fast: no kernel is started; the notebook's setup cell and exercise cell run in a plain namespace.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
from functools import lru_cache
from pathlib import Path

import nbformat
import pytest

from colorlab.course.exercises import BEGIN, END, has_solution
from colorlab.course.notebooks import list_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = list_notebooks(ROOT / "notebooks")


def _exercises():
    """(notebook path, exercise id "labNN.name", solution source, check source) for every exercise."""
    out = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if has_solution(cell):
                check = next(c for c in nb.cells[i + 1:] if c.cell_type == "code")
                out.append((path, cell.metadata.get("colorlab", {}).get("exercise"), cell.source, check.source))
    return out


EXERCISES = _exercises()
IDS = [f"{p.stem[:2]}:{e}" for p, e, _, _ in EXERCISES]


@lru_cache(maxsize=None)
def _setup_namespace(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    setup = next(c for c in nb.cells if "setup" in c.metadata.get("tags", []))
    ns: dict = {}
    exec("\n".join(l for l in setup.source.splitlines() if not l.lstrip().startswith("%")), ns)
    return ns


def _check_call(exercise: str, check_source: str) -> tuple[str, list[str]]:
    """The ``check.<name>(arg, ...)`` call of a check cell: the check's name and its argument names."""
    name = exercise.split(".", 1)[1]
    for node in ast.walk(ast.parse(check_source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "check"):
            assert all(isinstance(a, ast.Name) for a in node.args) and not node.keywords, \
                f"check.{name}(...) should take only the names the exercise defines"
            return name, [a.id for a in node.args]
    raise AssertionError(f"the check cell does not call check.{name}(...):\n{check_source}")


def _run(path: Path, exercise: str, check_source: str, source: str):
    lab, _ = exercise.split(".", 1)
    module = importlib.import_module(f"colorlab.course.checks.{lab}")
    name, args = _check_call(exercise, check_source)
    ns = dict(_setup_namespace(path))
    exec(source, ns)
    missing = [a for a in args if a not in ns]
    assert not missing, f"the answer does not define {missing}"
    return getattr(module, name)(*[ns[a] for a in args])


@lru_cache(maxsize=None)
def _answer_module(lab: str):
    path = ROOT / "tests" / "exercise_answers" / f"{lab}.py"
    assert path.is_file(), f"no {path.relative_to(ROOT)}: store the exercise's right and wrong answers there"
    spec = importlib.util.spec_from_file_location(f"exercise_answers_{lab}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _answers(exercise: str) -> dict:
    lab, name = exercise.split(".", 1)
    answers = _answer_module(lab).ANSWERS
    assert name in answers, f"tests/exercise_answers/{lab}.py has no ANSWERS[{name!r}]"
    return answers[name]


def _solution(source: str) -> str:
    return "\n".join(l for l in source.splitlines() if l.strip() not in (BEGIN, END))


def test_at_least_twenty_exercises_each_named_for_its_lab():
    assert len(EXERCISES) >= 20, f"only {len(EXERCISES)} exercises in notebooks/"
    for path, exercise, _, _ in EXERCISES:
        assert exercise and exercise.startswith(f"lab{path.name[:2]}."), \
            f"{path.name}: an exercise cell needs metadata colorlab.exercise = 'lab{path.name[:2]}.<name>'"
    names = [e for _, e, _, _ in EXERCISES]
    assert len(set(names)) == len(names), "two exercises share a name"


@pytest.mark.parametrize("path, exercise, source, check", EXERCISES, ids=IDS)
def test_the_solution_passes_its_check(path, exercise, source, check, capsys):
    _run(path, exercise, check, _solution(source))
    assert "✓" in capsys.readouterr().out, "a check prints a ✓ line when it passes"


@pytest.mark.parametrize("path, exercise, source, check", EXERCISES, ids=IDS)
def test_the_check_accepts_correct_variants(path, exercise, source, check):
    right = _answers(exercise)["right"]
    assert len(right) >= 2, f"{exercise}: store at least two correct variants"
    for n, variant in enumerate(right):
        assert variant.strip() != _solution(source).strip(), f"{exercise}: right[{n}] is the solution itself"
        _run(path, exercise, check, variant)


@pytest.mark.parametrize("path, exercise, source, check", EXERCISES, ids=IDS)
def test_the_check_rejects_wrong_answers(path, exercise, source, check):
    wrong = _answers(exercise)["wrong"]
    assert len(wrong) >= 2, f"{exercise}: store at least two plausible wrong answers"
    for why, variant in wrong:
        with pytest.raises(AssertionError):
            _run(path, exercise, check, variant)
            print(f"{exercise}: the check accepted a wrong answer ({why})")
