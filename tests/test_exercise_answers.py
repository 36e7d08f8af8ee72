"""Every exercise's check cell — its visible tests and its hidden tests (nbgrader) — accepts the correct
variants stored in tests/exercise_answers/ and rejects the plausible wrong answers stored beside them
(with AssertionError, not a crash), and the solution notebook's own answer passes it.

Fast: no kernel is started; the notebook's setup cell, the answer and the check cell run in a plain
namespace (setup cell + answer only: so a check cell that leans on an earlier cell fails here too).
"""
from __future__ import annotations

import ast
import importlib
import re
import importlib.util
from functools import lru_cache
from pathlib import Path

import nbformat
import pytest

from colorlab.course.exercises import BEGIN, END, has_solution, split_hidden
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


def _run(path: Path, exercise: str, check_source: str, source: str, part: str = "visible",
         module_name: str = "__main__"):
    """Run ``source`` (an answer) and then the check cell's ``part`` ("visible" or "hidden") on it."""
    visible, hidden = split_hidden(check_source, exercise)
    _, args = _check_call(exercise, visible)
    ns = dict(_setup_namespace(path))
    ns["__name__"] = module_name  # what the answer's functions and classes take as their __module__
    exec(source, ns)
    missing = [a for a in args if a not in ns]
    assert not missing, f"the answer does not define {missing}"
    exec(visible if part == "visible" else hidden, ns)


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
    _run(path, exercise, check, _solution(source), "hidden")


@pytest.mark.parametrize("path, exercise, source, check", EXERCISES, ids=IDS)
def test_hidden_tests_use_their_own_inputs_and_refuse_the_kits_own(path, exercise, source, check):
    """The hidden block checks on a seed that the student's copy never shows, and gives no points to
    a re-export of the kit's function (tested: the solution defined as if it lived in the kit)."""
    visible, hidden = split_hidden(check, exercise)
    name = exercise.split(".", 1)[1]
    assert f"check.{name}(" in hidden and "seed=" in hidden, \
        f"{exercise}: the hidden tests should call check.{name}(..., seed=N) on inputs of their own"
    for seed in (n.split(")")[0].split(",")[0] for n in hidden.split("seed=")[1:]):
        assert f"seed={seed}" not in visible, f"{exercise}: the hidden seed {seed} is shown to students"
    assert "check.not_the_kit(" in hidden, f"{exercise}: the hidden tests should call check.not_the_kit(...)"
    with pytest.raises(AssertionError, match="kit's own"):
        _run(path, exercise, check, _solution(source), "hidden", module_name="colorlab.reexported")


@pytest.mark.parametrize("path, exercise, source, check", EXERCISES, ids=IDS)
def test_the_check_accepts_correct_variants(path, exercise, source, check):
    right = _answers(exercise)["right"]
    assert len(right) >= 2, f"{exercise}: store at least two correct variants"
    for n, variant in enumerate(right):
        assert variant.strip() != _solution(source).strip(), f"{exercise}: right[{n}] is the solution itself"
        _run(path, exercise, check, variant)
        _run(path, exercise, check, variant, "hidden")


@pytest.mark.parametrize("path, exercise, source, check", EXERCISES, ids=IDS)
def test_the_check_rejects_wrong_answers(path, exercise, source, check):
    wrong = _answers(exercise)["wrong"]
    assert len(wrong) >= 2, f"{exercise}: store at least two plausible wrong answers"
    for why, variant in wrong:
        for part in ("visible", "hidden"):
            with pytest.raises(AssertionError) as caught:
                _run(path, exercise, check, variant, part)
                print(f"{exercise}: the {part} tests accepted a wrong answer ({why})")
            if part == "visible":
                assert _names_the_mistake(str(caught.value)), \
                    f"{exercise}: the message for '{why}' does not say what is wrong:\n{caught.value}"


_GENERIC = re.compile(r"differs from the reference in \d+ of \d+ values; e\.g\. at index \([^)]*\): yours \S+, expected \S+")


def _names_the_mistake(message: str) -> bool:
    """More than the bare "differs from the reference in n of m values" of assert_close: a sentence that
    says what the student did (at least eight words of it)."""
    rest = _GENERIC.sub("", message)
    return len(re.findall(r"[A-Za-zλσ]+", rest)) >= 8


def test_the_named_message_rule_can_fail():
    assert not _names_the_mistake("your p differs from the reference in 3 of 9 values; e.g. at index (1,): yours 0.1, "
                                  "expected 0.2")
    assert _names_the_mistake("your hue is in radians: convert to degrees with torch.rad2deg (or × 180/π)")
