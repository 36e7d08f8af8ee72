"""How the exercises are written (issue #25): an exact contract that the check keeps, hints held back,
"predict, then run" before training, student text free of the build's vocabulary, nbgrader metadata
stamped from the notebooks' own marks.

The contract test runs every check with the solution as the student's answer, records each call the
check makes to it and holds the arguments and return values against the table in the exercise text.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from colorlab.course.exercises import BEGIN, END, has_solution, make_exercise, split_hidden
from colorlab.course.nbgrader_cells import stamp_nbgrader
from colorlab.course.notebooks import list_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = list_notebooks(ROOT / "notebooks")
LABS = [p for p in NOTEBOOKS if 1 <= int(p.name[:2]) <= 10]


def _exercises():
    out = []
    for path in LABS:
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if has_solution(cell):
                text = next(nb.cells[j].source for j in range(i - 1, -1, -1) if nb.cells[j].cell_type == "markdown")
                check = next(c.source for c in nb.cells[i + 1:] if c.cell_type == "code")
                out.append((path, cell.metadata.get("colorlab", {}).get("exercise"), text, cell.source, check))
    return out


EXERCISES = _exercises()
IDS = [e for _, e, _, _, _ in EXERCISES]

# --- the contract table --------------------------------------------------------------------------

TYPES = {"torch.Tensor": torch.Tensor, "np.ndarray": np.ndarray, "int": (int, np.integer), "bool": (bool, np.bool_),
         "float": (float, int, np.floating), "str": str, "tuple": tuple, "list": list, "dict": dict,
         "nn.Module": torch.nn.Module, "torch.optim.Optimizer": torch.optim.Optimizer, "callable": object}
_ROW = re.compile(r"^\|\s*(`[^`]+`|→[^|]*)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|")


def contract(text: str) -> tuple[list[tuple], list[tuple]]:
    """``(arguments, returns)`` of the first table whose header starts with "argument": (name, type, shape, dtype)."""
    args, rets, inside = [], [], False
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.strip().startswith("|") and cells and cells[0].lower() == "argument":
            inside = True
            continue
        if inside:
            if not line.strip().startswith("|"):
                if args or rets:
                    break
                continue
            m = _ROW.match(line.strip())
            if not m:
                continue
            name, typ, shape, dtype = (g.strip() for g in m.groups())
            (rets if name.startswith("→") else args).append((name.strip("`→ ").strip(), typ, shape, dtype))
    return args, rets


def _dims(shape: str):
    if shape in ("—", "-", ""):
        return None
    inner = shape.strip().strip("()")
    return [d.strip() for d in inner.split(",") if d.strip()]


def _holds(value, row, where: str) -> list[str]:
    name, typ, shape, dtype = row
    problems = []
    want = TYPES.get(typ)
    if want is None:
        return [f"{where} {name}: unknown type {typ!r} in the contract (use one of {sorted(TYPES)})"]
    if not isinstance(value, want):
        return [f"{where} {name}: the contract says {typ}, the check passes/gets {type(value).__name__}"]
    if dtype not in ("—", "-", "") and hasattr(value, "dtype"):
        got = str(value.dtype).replace("torch.", "")
        if got != dtype:
            problems.append(f"{where} {name}: dtype {got}, the contract says {dtype}")
    dims = _dims(shape)
    if dims is not None and hasattr(value, "shape"):
        got = tuple(value.shape)
        if not dims:  # "()": a scalar tensor
            if got != ():
                problems.append(f"{where} {name}: shape {got}, the contract says a scalar ()")
        elif dims[-1] != "..." and dims[0] != "...":
            if len(got) != len(dims):
                problems.append(f"{where} {name}: shape {got}, the contract says {shape}")
            else:
                for d, g in zip(dims, got):
                    if d.isdigit() and int(d) != g:
                        problems.append(f"{where} {name}: shape {got}, the contract says {shape}")
                        break
    return problems


def _record(obj, calls: list):
    """A stand-in for the student's function (or class: its forward) that records every call."""
    if isinstance(obj, type):
        original = obj.forward

        def forward(self, *a, **k):
            out = original(self, *a, **k)
            calls.append((a, k, out))
            return out

        return type(obj.__name__, (obj,), {"forward": forward, "__module__": "__main__"})

    @functools.wraps(obj)
    def wrapper(*a, **k):
        out = obj(*a, **k)
        calls.append((a, k, out))
        return out

    wrapper.__module__ = "__main__"
    return wrapper


def _solution(source: str) -> str:
    return "\n".join(l for l in source.splitlines() if l.strip() not in (BEGIN, END))


def _setup(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    setup = next(c for c in nb.cells if "setup" in c.metadata.get("tags", []))
    ns: dict = {"__name__": "__main__"}
    exec("\n".join(l for l in setup.source.splitlines() if not l.lstrip().startswith("%")), ns)
    return ns


@pytest.mark.parametrize("path, exercise, text, source, check", EXERCISES, ids=IDS)
def test_every_exercise_states_a_contract_that_its_check_keeps(path, exercise, text, source, check):
    args, rets = contract(text)
    assert args and rets, (f"{exercise}: the exercise text needs a contract table (header | argument | type | shape | "
                           f"dtype | values |, one row per argument, → rows for what it returns)")
    ns = _setup(path)
    before = set(ns)
    exec(_solution(source), ns)
    defined = [k for k in ns if k not in before and not k.startswith("_") and callable(ns[k])]
    visible, _ = split_hidden(check, exercise)
    calls: list = []
    for name in defined:
        if re.search(rf"\b{name}\b", visible):
            ns[name] = _record(ns[name], calls)
    exec(visible, ns)
    assert calls, f"{exercise}: the check never called the student's answer"
    problems = []
    for a, k, out in calls:
        if len(a) + len(k) > len(args):
            problems.append(f"the check passes {len(a) + len(k)} arguments, the contract lists {len(args)}")
        for value, row in zip(a, args):
            problems += _holds(value, row, "argument")
        by_name = {r[0]: r for r in args}
        for key, value in k.items():
            problems += _holds(value, by_name[key], "argument") if key in by_name else [f"argument {key} not in the contract"]
        outs = out if len(rets) > 1 else (out,)
        if len(rets) > 1 and (not isinstance(out, (tuple, list)) or len(out) != len(rets)):
            problems.append(f"the solution returns {type(out).__name__}, the contract lists {len(rets)} values")
            continue
        for value, row in zip(outs, rets):
            problems += _holds(value, row, "returned")
    assert not problems, f"{exercise}: the check and the contract disagree:\n" + "\n".join(sorted(set(problems))[:12])


# --- hints held back ------------------------------------------------------------------------------

_DETAILS = re.compile(r"<details>\s*<summary>(.*?)</summary>(.*?)</details>", re.S)
_API = re.compile(r"\b(torch|np|F|nn|numpy)\.[A-Za-z_]+")


@pytest.mark.parametrize("path, exercise, text, source, check", EXERCISES, ids=IDS)
def test_hints_come_in_collapsed_steps_and_the_statement_names_no_api(path, exercise, text, source, check):
    summaries = [s.strip() for s, _ in _DETAILS.findall(text)]
    assert len(summaries) >= 2, f"{exercise}: give the hints as ≥ 2 collapsed <details> blocks (idea, algorithm, calls)"
    for k, s in enumerate(summaries, 1):
        assert s.startswith(f"Hint {k}"), f"{exercise}: hint {k}'s summary is {s!r}: number them Hint 1, Hint 2, …"
    statement = _DETAILS.sub("", text)
    statement = "\n".join(l for l in statement.splitlines() if not l.strip().startswith("|"))  # the contract table
    calls = sorted(set(m.group(0) for m in _API.finditer(statement)))
    assert not calls, f"{exercise}: the statement gives away API calls {calls}: move them into a hint"


# --- predict, then run ----------------------------------------------------------------------------

TRAINING = re.compile(r"\b(train_colorizer|run_sweep|train_hint_model|train_predictor|train_per_group)\(")


@pytest.mark.parametrize("path", [p for p in LABS if 4 <= int(p.name[:2]) <= 9], ids=lambda p: p.stem)
def test_a_prediction_before_every_training_cell(path):
    nb = nbformat.read(path, as_version=4)
    waiting, problems, seen = False, [], 0
    for i, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        if "prediction" in tags:
            assert cell.cell_type == "code" and re.search(r"=\s*None\b", cell.source), \
                f"{path.name} cell {i}: a prediction cell is code like `predicted_psnr = None  # your number`"
            waiting = True
        elif cell.cell_type == "code" and TRAINING.search(cell.source) and "check" not in tags:
            seen += 1
            if not waiting:
                problems.append(f"cell {i} trains with no prediction cell before it")
            waiting = False
    assert seen, f"{path.name}: no training cell found"
    assert not problems, f"{path.name}: " + "; ".join(problems)
    text = "\n".join(c.source for c in nb.cells)
    assert "reveal(" in text, f"{path.name}: show each prediction beside the result with colorlab.course.notebooks.reveal"


# --- student text --------------------------------------------------------------------------------

BUILD_WORDS = re.compile(r"\b(smoke|papermill|NBVAL\w*|nbval|write_metrics|pytest|CI|baselines\.json)\b|pinned by the tests")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_copies_speak_to_students(path):
    ex = make_exercise(nbformat.read(path, as_version=4), path.name)
    found = sorted({m.group(0) for c in ex.cells for m in BUILD_WORDS.finditer(c.source)})
    assert not found, f"{path.name}: the student copy says {found}: build vocabulary belongs in staff cells"


def test_notebooks_carry_their_nbgrader_metadata():
    """scripts/make_exercises.py stamps it; a notebook edited by hand without re-stamping fails here."""
    stale = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        if nbformat.writes(stamp_nbgrader(nb, f"lab{path.name[:2]}")) != nbformat.writes(nb):
            stale.append(path.name)
    assert not stale, f"run scripts/make_exercises.py: nbgrader metadata out of date in {stale}"


def test_contract_parser_reads_the_table():
    text = ("x\n\n| argument | type | shape | dtype | values |\n|---|---|---|---|---|\n"
            "| `ab` | torch.Tensor | (N, 2, H, W) | float32 | Lab |\n| `n` | int | — | — | bins |\n"
            "| → C | torch.Tensor | (N, H, W) | float32 | chroma |\n| → h | np.ndarray | (N, H, W) | float64 | deg |\n")
    args, rets = contract(text)
    assert [a[0] for a in args] == ["ab", "n"] and [r[0] for r in rets] == ["C", "h"]
    assert _holds(torch.zeros(3, 2, 4, 4), args[0], "argument") == []
    assert _holds(torch.zeros(3, 3, 4, 4), args[0], "argument")            # a fixed dim differs
    assert _holds(np.zeros((3, 2, 4, 4), np.float32), args[0], "argument")  # NumPy where torch is promised
    assert _holds(torch.zeros(3, 2, 4, 4, dtype=torch.float64), args[0], "argument")
    scalar = ("loss", "torch.Tensor", "()", "float32")
    assert _holds(torch.tensor(1.0), scalar, "returned") == [] and _holds(torch.zeros(2), scalar, "returned")
