"""Every lab notebook, executed with papermill in smoke mode: it runs, every code cell ran, and
its metrics.json holds up against the stored baselines (tests/notebooks/baselines.json).

The runs themselves are the session fixture ``notebook_runs`` (tests/conftest.py), shared with the tests that
build the course website from the same executed copies."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from colorlab.core.errors import ColorlabError
from colorlab.course.notebooks import list_notebooks
from colorlab.course.runner import compare_to_baselines, format_table, run_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = list_notebooks(ROOT / "notebooks")
BASELINES = json.loads((ROOT / "tests" / "notebooks" / "baselines.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_matches_baseline(notebook_runs, path):
    r = notebook_runs[path.stem]
    assert r["status"] == "ok", f"{path.name}: {r['error']} (executed copy: {r['output']})"
    assert r["unexecuted"] == []
    assert path.stem in BASELINES, f"{path.stem} has no entry in tests/notebooks/baselines.json; metrics: {r['metrics']}"
    problems = compare_to_baselines(r["metrics"], BASELINES[path.stem])
    assert not problems, f"{path.name} regressed:\n" + "\n".join(problems)


def test_baselines_cover_only_existing_notebooks():
    stems = {p.stem for p in NOTEBOOKS}
    assert set(BASELINES) <= stems, f"baselines for missing notebooks: {set(BASELINES) - stems}"
    for nb, metrics in BASELINES.items():
        assert metrics, nb
        for name, spec in metrics.items():
            if name == "relations":
                assert isinstance(spec, list) and all(isinstance(r, str) for r in spec), (nb, spec)
                continue
            assert isinstance(spec["value"], (int, float)) and spec["tol"] >= 0, (nb, name, spec)
            assert spec["better"] in ("higher", "lower", "same"), (nb, name, spec)


def test_compare_to_baselines_catches_regressions():
    base = {"psnr": {"value": 20.0, "tol": 0.5, "better": "higher"},
            "err": {"value": 1.0, "tol": 0.1, "better": "lower"},
            "n": {"value": 64, "tol": 0, "better": "same"}}
    assert compare_to_baselines({"psnr": 19.6, "err": 1.05, "n": 64}, base) == []
    assert compare_to_baselines({"psnr": 25.0, "err": 0.2, "n": 64}, base) == []  # better is fine
    problems = compare_to_baselines({"psnr": 19.4, "err": 1.2, "n": 63}, base)
    assert [p.split(":")[0] for p in problems] == ["err", "n", "psnr"]
    assert compare_to_baselines({"err": 1.0, "n": 64, "psnr": None}, base) == ["psnr: missing or not a number (None)"]


def test_relations_between_metrics_fail_when_the_effect_disappears():
    base = {"relations": ["rare_recall_rarity >= 2 * rare_recall_mse", "psnr > psnr_gray + 2",
                          "cf_T01 > cf_T038", "cf_T038 > cf_T1"]}
    good = {"rare_recall_rarity": 0.42, "rare_recall_mse": 0.1, "psnr": 23.0, "psnr_gray": 17.0,
            "cf_T01": 70.0, "cf_T038": 60.0, "cf_T1": 50.0}
    assert compare_to_baselines(good, base) == []
    no_effect = {**good, "rare_recall_rarity": 0.11, "cf_T038": 45.0}
    problems = compare_to_baselines(no_effect, base)
    assert len(problems) == 2 and "does not hold" in problems[0] and "0.11" in problems[0]
    assert "missing" in compare_to_baselines({k: v for k, v in good.items() if k != "psnr"}, base)[0]
    with pytest.raises(ColorlabError):
        compare_to_baselines(good, {"relations": ["__import__('os') > 1"]})


def _one_cell_notebook(tmp_path, name: str, code: str) -> Path:
    """A folder holding one notebook: a parameters cell, ``code``, then a last cell that must not run."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    folder = tmp_path / "nbs"
    folder.mkdir()
    nb = new_notebook(cells=[new_code_cell("smoke = False", metadata={"tags": ["parameters"]}),
                             new_code_cell(code), new_code_cell("x = 1")])
    nb.metadata.kernelspec = {"name": "colorlab", "display_name": "colorlab", "language": "python"}
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def test_run_notebook_reports_a_failing_cell(tmp_path):
    """A broken notebook comes back as one "failed" row naming the cell, not as a crash."""
    folder = _one_cell_notebook(tmp_path, "00_broken", "raise ValueError('broken on purpose')")
    (r,) = run_notebooks(list_notebooks(folder), tmp_path / "runs", {"smoke": True}, workers=1)
    assert r["status"] == "failed" and "ValueError: broken on purpose" in r["error"]
    assert "00_broken" in format_table([r]) and "failed" in format_table([r])


def test_list_notebooks_rejects_a_missing_folder(tmp_path):
    with pytest.raises(ColorlabError, match="no such notebook folder"):
        list_notebooks(tmp_path / "nope")


@pytest.mark.slow
def test_nbval_checks_the_marked_outputs(tmp_path):
    """nbval --nbval-lax runs notebook 01 and compares the output marked # NBVAL_CHECK_OUTPUT.

    The expected text lives in tests/notebooks/nbval_expected.json (committed notebooks hold no
    outputs); it is put into a copy of the notebook, which nbval then runs.
    """
    import nbformat

    from colorlab.course.exercises import with_expected_outputs
    expected = json.loads((ROOT / "tests" / "notebooks" / "nbval_expected.json").read_text())
    src = next(p for p in NOTEBOOKS if p.name.startswith("01_"))
    copy = tmp_path / "notebooks" / src.name  # ../runs of the notebook lands in tmp_path
    copy.parent.mkdir()
    nbformat.write(with_expected_outputs(nbformat.read(src, as_version=4), expected[src.stem]), copy)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                           "--nbval-kernel-name", "colorlab", "--nbval-cell-timeout", "300", str(copy)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout or "passed" in proc.stdout


def test_write_metrics_makes_plain_json(tmp_path):
    import numpy as np
    import torch

    from colorlab.course.notebooks import read_metrics, write_metrics
    write_metrics(tmp_path, {"psnr": torch.tensor(21.5), "n": np.int64(3), "nan": float("nan"), "name": "x"})
    assert read_metrics(tmp_path) == {"psnr": 21.5, "n": 3, "nan": None, "name": "x"}
    with pytest.raises(ColorlabError, match="non-empty dict"):
        write_metrics(tmp_path, {})
    with pytest.raises(ColorlabError, match="no metrics.json"):
        read_metrics(tmp_path / "nothing")


def test_parse_parameters():
    from colorlab.course.runner import parse_parameters
    assert parse_parameters(["epochs=3", "dataset=flowers102", "smoke=false", "lr=1e-3", "x=True"]) == \
        {"epochs": 3, "dataset": "flowers102", "smoke": False, "lr": 1e-3, "x": True}
    with pytest.raises(ColorlabError, match="NAME=VALUE"):
        parse_parameters(["epochs"])


def test_a_cell_past_its_time_limit_is_one_failed_row_that_names_the_option(tmp_path):
    """The per-cell limit stops a cell that runs too long, and the row says how to raise it; full size gets an hour."""
    from colorlab.course.runner import CELL_TIMEOUT

    folder = _one_cell_notebook(tmp_path, "00_slow", "import time\ntime.sleep(30)")
    (r,) = run_notebooks(list_notebooks(folder), tmp_path / "runs", {"smoke": True}, workers=1, execution_timeout=2)
    assert r["status"] == "failed" and "--cell-timeout" in r["error"] and r["seconds"] < 25, r
    assert CELL_TIMEOUT["full"] > CELL_TIMEOUT["smoke"]


def test_longest_labs_start_first_by_the_times_file(tmp_path):
    from colorlab.course.runner import longest_first

    times = tmp_path / "times.json"
    times.write_text(json.dumps({"labs": {"01_a": {"cpu_s": 5}, "02_b": {"cpu_s": 300}, "04_d": {"cpu_s": 40}}}))
    paths = [Path(f"{n}.ipynb") for n in ("00_x", "01_a", "02_b", "03_c", "04_d")]
    assert [p.stem for p in longest_first(paths, times)] == ["02_b", "04_d", "01_a", "00_x", "03_c"]
    assert longest_first(paths, tmp_path / "missing.json") == paths
