"""Committed notebooks (solutions and exercises) are clean and follow one layout: a title, learning
goals, the one shared setup cell, a `parameters` cell, no outputs or widget state, metrics.json at the end."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from colorlab.course.notebooks import list_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = list_notebooks(ROOT / "notebooks")
ALL = NOTEBOOKS + (list_notebooks(ROOT / "exercises") if (ROOT / "exercises").is_dir() else [])
PARAMETERS = {"dataset", "size", "epochs", "n_images", "device", "seed", "out_dir", "quick"}
ids = [f"{p.parent.name}/{p.stem}" for p in ALL]


def _tagged(nb, tag):
    return [c for c in nb.cells if tag in c.metadata.get("tags", [])]


def test_notebooks_are_numbered_in_order_from_00():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers[:9] == list(range(9)), numbers
    assert numbers == sorted(set(numbers)) and 10 in numbers


@pytest.mark.parametrize("path", ALL, ids=ids)
def test_no_outputs_or_widget_state(path):
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata, f"{path.name}: strip metadata.widgets"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is None, f"{path.name} cell {i}: clear the execution count"
        assert cell.outputs == [], f"{path.name} cell {i} holds outputs: clear them before committing"


@pytest.mark.parametrize("path", ALL, ids=ids)
def test_layout(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "colorlab"
    first, second = nb.cells[0], nb.cells[1]
    assert first.cell_type == "markdown" and first.source.startswith(f"# Lab {path.name[:2]}"), first.source[:60]
    assert second.cell_type == "markdown" and "what you will learn" in second.source.lower()
    params = _tagged(nb, "parameters")
    assert len(params) == 1, f"{path.name}: exactly one cell tagged 'parameters'"
    names = {t.id for node in ast.parse(params[0].source).body if isinstance(node, ast.Assign) for t in node.targets}
    assert PARAMETERS <= names, f"{path.name}: parameters cell lacks {sorted(PARAMETERS - names)}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    if path.parent.name == "notebooks":
        assert "write_metrics(" in code[-1].source, f"{path.name}: the last code cell must write metrics.json"
        assert "metrics" in code[-1].metadata.get("tags", []), f"{path.name}: tag the write_metrics cell 'metrics'"
    else:  # a student copy: the staff's metrics cell is dropped
        assert not any("write_metrics(" in c.source for c in code), f"{path.name}: a student copy writes metrics"
    assert not re.search(r"\.cuda\(", "\n".join(c.source for c in code)), f"{path.name}: use colorlab.core.device, not .cuda()"


def test_one_identical_setup_cell_everywhere():
    setups = {}
    for path in ALL:
        cells = _tagged(nbformat.read(path, as_version=4), "setup")
        assert len(cells) == 1, f"{path.name}: exactly one cell tagged 'setup'"
        setups[f"{path.parent.name}/{path.name}"] = cells[0].source
    reference = setups[f"notebooks/{NOTEBOOKS[0].name}"]
    different = [name for name, src in setups.items() if src != reference]
    assert not different, f"the setup cell differs in {different}"
