"""The capstone (#24): every starter config in configs/capstone/ runs at its ``smoke`` size (offline, on
``scenes`` or the embedded sample set, seconds each) and writes its table with finite numbers; every config's
header says what a project needs; ``docs/capstone.md`` links every config, and nothing it links is missing.
The ``cpu`` and ``full`` sizes only resolve here (they need downloads and an hour, or a GPU)."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from colorlab.core.errors import ColorlabError
from colorlab.evaluation.experiments import _load, run_experiment
from colorlab.evaluation.sweep import run_sweep
from colorlab.training.sweep_config import expand_runs

ROOT = Path(__file__).resolve().parents[1]
CAPSTONE = ROOT / "configs" / "capstone"
BRIEF = ROOT / "docs" / "capstone.md"
CONFIGS = sorted(CAPSTONE.glob("*.yaml"))
HEADER = ("# Question:", "# Baseline:", "# Vary:", "# Measure:", "# Full-size data:")
DOWNLOADED = {"tiny-imagenet", "flowers102", "tf-flowers", "places365", "folder"}


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _is_experiment(path: Path) -> bool:
    return "runner" in yaml.safe_load(path.read_text())


def _datasets(path: Path, size: str) -> set[str]:
    if _is_experiment(path):
        return {_load(path, size)["settings"]["data"]["dataset"]}
    return {s["data"]["dataset"] for _, s in expand_runs(path, size)}


def _numbers(frame: pd.DataFrame) -> list[float]:
    """Every number of a table (NaN included: a missing value is not finite)."""
    return [float(v) for v in frame.select_dtypes("number").to_numpy().ravel()]


def test_there_are_six_to_eight_projects():
    assert 6 <= len(CONFIGS) <= 8, [p.name for p in CONFIGS]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_header_states_the_project_and_sizes_resolve(path):
    text = path.read_text()
    missing = [h for h in HEADER if h not in text]
    assert not missing, f"{path.name}: its header lacks {missing}"
    header = text.split("\nname:")[0]
    command = "colorlab experiment" if _is_experiment(path) else "colorlab sweep"
    assert f"{command} configs/capstone/{path.name}" in header, f"{path.name}: the header's command is not {command}"
    assert _datasets(path, "smoke") <= {"scenes", "sample"}          # offline, no download
    assert _datasets(path, "full") & DOWNLOADED or _datasets(path, "full") == {"scenes"}
    assert _datasets(path, "cpu")                                    # a CPU-sized preset exists


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_smoke_size_runs_and_writes_a_finite_table(path, tmp_path):
    if _is_experiment(path):
        tables = run_experiment(path, size="smoke", out_dir=tmp_path, device="cpu")
        assert tables, path.name
        for name, table in tables.items():
            written = pd.read_csv(tmp_path / f"{name}.csv", index_col=0)
            numbers = _numbers(written)
            assert numbers and all(math.isfinite(v) for v in numbers), f"{path.name}: {name}.csv {written}"
            assert (tmp_path / f"{name}.md").is_file()
        return
    table = run_sweep(path, out_dir=tmp_path, size="smoke", device="cpu", progress=False, verbose=False,
                      plot=False)
    written = pd.read_csv(tmp_path / "results.csv", index_col=0)
    runs = [name for name, _ in expand_runs(path, "smoke")]
    assert list(written.index[:len(runs)]) == runs and len(written) == len(runs) + 2   # + gray and mean ab
    metrics = ["PSNR (dB)", "AuC"] + [m for m in yaml.safe_load(path.read_text()).get("metrics", []) if m in table]
    values = written.loc[runs, metrics].to_numpy(dtype=float)
    assert values.size and all(math.isfinite(v) for v in values.ravel()), f"{path.name}:\n{written[metrics]}"
    assert (tmp_path / "results.md").is_file()


def _brief_links() -> set[str]:
    return set(re.findall(r"\]\((?:\.\./)?(configs/capstone/[\w.-]+\.yaml)\)", BRIEF.read_text()))


def test_the_brief_links_every_config_and_only_existing_ones():
    linked = _brief_links()
    present = {f"configs/capstone/{p.name}" for p in CONFIGS}
    assert linked == present, f"not linked: {sorted(present - linked)}; linked but missing: {sorted(linked - present)}"


def test_the_brief_has_its_parts_and_the_readme_links_it():
    text = BRIEF.read_text()
    for part in ("## Suggested projects", "## Milestones", "## The report", "## Rubric", "## Practical notes"):
        assert part in text, part
    for command in ("colorlab sweep", "colorlab experiment", "colorlab train", "make reproduce"):
        assert command in text, command
    for path in CONFIGS:   # each project's command uses the runner its config needs
        wrong = "colorlab sweep" if _is_experiment(path) else "colorlab experiment"
        assert f"{wrong} configs/capstone/{path.name}" not in text, path.name
    assert "(docs/capstone.md)" in (ROOT / "README.md").read_text()


def test_a_size_can_replace_the_grid():
    """The package change the data-scale project needs: a size preset's ``grid`` replaces the config's lists."""
    cfg = {"base": {"epochs": 1}, "grid": {"data.n": [10, 20], "lr": [0.1]},
           "sizes": {"smoke": {"grid": {"data.n": [1, 2, 3]}}, "full": {}}}
    smoke = expand_runs(cfg, "smoke")
    assert [s["data"]["n"] for _, s in smoke] == [1, 2, 3] and {s["lr"] for _, s in smoke} == {0.1}
    assert [s["data"]["n"] for _, s in expand_runs(cfg, "full")] == [10, 20]
    with pytest.raises(ColorlabError, match="non-empty list"):
        expand_runs({"sizes": {"smoke": {"grid": {"data.n": []}}}}, "smoke")


def test_a_run_with_another_model_takes_only_its_own_options():
    """The package change the global-context project needs: a U-Net baseline in a sweep of fusion nets."""
    cfg = {"base": {"model": "fusion", "model_kwargs": {"backbone": "resnet18", "width": 8}},
           "runs": [{"name": "unet", "model": "unet", "model_kwargs.base": 8}, {"name": "fusion", "model_kwargs.width": 4}],
           "sizes": {"smoke": {"model_kwargs": {"encoder_out": 16}}}}
    runs = dict(expand_runs(cfg, "smoke"))
    assert runs["unet"]["model_kwargs"] == {"base": 8}
    assert runs["fusion"]["model_kwargs"] == {"backbone": "resnet18", "width": 4, "encoder_out": 16}
