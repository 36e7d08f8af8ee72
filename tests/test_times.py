"""One source for times: every time the course quotes is docs/times.json's.

The lab headers, the README's two lab tables and the note above the first, the syllabus's times table, the
instructor's notes (the guide prints them, and each lab's header), and lab 11's benchmark numbers
(bench/results/train.json) must agree with their one source; every notebook needs an entry. The planted tests
copy the places into a temporary folder, change one number and show that the check names it.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from colorlab.core.errors import ColorlabError
from colorlab.course.times import (check_places, fmt_duration, gpu_estimate, header_span, lab_notebooks, load_times,
                                   missing_entries, record_results, render_header, validate_times)
from colorlab.course.times_check import check_instructor_notes, check_peak_quotes

ROOT = Path(__file__).resolve().parents[1]
TIMES = ROOT / "docs" / "times.json"


@pytest.fixture(scope="module")
def data():
    return load_times(TIMES)


def _copy_places(tmp_path: Path) -> Path:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "bench" / "results").mkdir(parents=True)
    for path in lab_notebooks(ROOT / "notebooks"):
        shutil.copy(path, tmp_path / "notebooks" / path.name)
    for name in ("README.md", "docs/syllabus.md", "docs/times.json", "bench/results/train.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, old: str, new: str, count: int = 1):
    text = path.read_text()
    assert old in text, f"{path.name}: {old!r} not found (the plant needs a real quote to change)"
    path.write_text(text.replace(old, new, count))


def test_times_file_names_its_machines_and_rule(data):
    assert validate_times(data) == []
    for key, m in data["machines"].items():
        assert m["cpu"] and m["capability"] and m["threads"] >= 1 and m["load"], key
    assert "CPU / 5" in data["gpu_rule"] and "10 s" in data["gpu_rule"]
    assert any("gpu_rule" in p for p in validate_times({**data, "gpu_rule": "max(10 s, CPU / 5)"})), \
        "a rule text the estimates do not follow is refused"


def test_every_notebook_has_an_entry(data):
    missing = missing_entries([p.stem for p in lab_notebooks(ROOT / "notebooks")], data)
    assert not missing, (f"no entry in docs/times.json for {missing}: run `colorlab run-notebooks --full --only NN`, "
                         f"then scripts/update_lab_times.py (see its docstring)")


def test_every_quoted_time_agrees_with_the_file():
    problems = check_places(ROOT)
    assert not problems, "\n".join(problems) + "\n(run scripts/update_lab_times.py to render them from docs/times.json)"


@pytest.mark.parametrize("stem", [p.stem for p in lab_notebooks(ROOT / "notebooks")])
def test_instructor_notes_quote_the_files_times(data, stem):
    problems = check_instructor_notes(ROOT, data, stems={stem})
    assert not problems, "\n".join(problems)


def test_guide_quotes_the_header(tmp_path, data):
    """The instructor's guide prints each lab's header as it stands (so the header check covers it)."""
    from colorlab.course.guide import instructor_guide

    src = tmp_path / "nb"
    src.mkdir()
    shutil.copy(ROOT / "notebooks" / "03_colour_profiles.ipynb", src)
    guide = instructor_guide(src, answers=None, baselines=None)
    assert header_span(data, "03_colour_profiles") in guide


def test_lab11_and_readme_quote_the_benchmarks_peaks():
    problems = check_peak_quotes(ROOT)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("plant", ["header", "readme-labs", "readme-effects", "syllabus", "no-entry", "note", "peak"])
def test_a_planted_wrong_time_is_named(tmp_path, plant):
    root = _copy_places(tmp_path)
    data = load_times(root / "docs" / "times.json")
    before = set(check_places(root))  # the copy's own state (a notebook still without an entry shows up here)
    def quoted(stem):  # what the places say for a lab today, from the file: the plants need no fixed numbers
        cpu = data["labs"][stem]["cpu_s"]
        return fmt_duration(cpu), fmt_duration(gpu_estimate(cpu))

    cpu03, _ = quoted("03_colour_profiles")
    wrong03 = fmt_duration(data["labs"]["03_colour_profiles"]["cpu_s"] + 50)
    if plant == "header":
        _edit(root / "notebooks" / "03_colour_profiles.ipynb", f"takes {cpu03} on a 2-core", f"takes {wrong03} on a 2-core")
        problems = set(check_places(root)) - before
        assert any("03_colour_profiles" in p and wrong03 in p for p in problems), problems
    elif plant == "readme-labs":
        cpu, gpu = quoted("00_setup_and_data")
        _edit(root / "README.md", f"| {cpu} | {gpu} |", f"| {cpu} | {cpu}0 |")
        assert any(p.startswith("README.md") and f"{cpu} | {cpu}0" in p for p in set(check_places(root)) - before)
    elif plant == "readme-effects":
        line = next(l for l in (root / "README.md").read_text().splitlines() if l.startswith("| 05 | rarity weighting"))
        _edit(root / "README.md", line, line.rsplit("|", 2)[0] + "| 1234 s |")
        assert any(p.startswith("README.md") and "1234 s" in p for p in set(check_places(root)) - before)
    elif plant == "syllabus":
        cpu, gpu = quoted("05_unet_rarity_loss")
        _edit(root / "docs" / "syllabus.md", f"| {cpu} | {gpu} (estimate) |", f"| 1286 s | {gpu} (estimate) |")
        assert any(p.startswith("docs/syllabus.md") and "1286 s" in p for p in set(check_places(root)) - before)
    elif plant == "no-entry":
        data["labs"].pop("04_baseline_cnn_mse")
        (root / "docs" / "times.json").write_text(json.dumps(data))
        problems = set(check_places(root)) - before
        assert any("04_baseline_cnn_mse: no entry" in p for p in problems), problems
    elif plant == "note":
        _edit(root / "notebooks" / "03_colour_profiles.ipynb", f"Full-size run {cpu03}", f"Full-size run {wrong03}")
        assert any("03_colour_profiles" in p and wrong03 in p for p in check_instructor_notes(root, data))
    else:
        _edit(root / "notebooks" / "11_scaling_up.ipynb", "2.63 TFLOP/s", "1.48 TFLOP/s", -1)
        problems = check_peak_quotes(root)
        assert any("1.48" in p for p in problems) and any("bf16_peak" in p for p in problems), problems


def test_the_gpu_rule_and_formats():
    assert [gpu_estimate(s) for s in (4, 14, 54, 114, 360)] == [4, 10, 10.8, 22.8, 72]
    assert [fmt_duration(s) for s in (4.2, 54, 114, 119.4, 120, 360)] == ["4 s", "54 s", "114 s", "119 s", "2.0 min",
                                                                        "6.0 min"]


def test_a_measured_gpu_time_is_quoted_as_measured(data):
    data = json.loads(json.dumps(data))
    data["labs"]["03_colour_profiles"]["gpu_s"] = 7.0
    head = "**Time:** about 60 min with the exercises; the full-size run takes 14 s on a 2-core CPU (measured) and about 10 s on a GPU (estimate)"
    assert render_header(head, data, "03_colour_profiles").endswith("and 7 s on a GPU (measured)")
    with pytest.raises(ColorlabError, match="time sentence"):
        render_header("# Lab 03 — no time here", data, "03_colour_profiles")


def test_results_update_the_file_for_new_and_old_labs(data):
    machine = {"cpu": "AMD EPYC", "capability": "AVX2", "cores": 2, "threads": 2, "one_notebook_at_a_time": True,
               "load": "shared, load average 3.0", "date": "2026-12-07"}
    record = {"smoke": False, "workers": 1, "cpu": "AMD EPYC", "cores": 2,
              "results": [{"notebook": "03_colour_profiles", "status": "ok", "seconds": 31.26},
                          {"notebook": "14_new_lab", "status": "ok", "seconds": 200.0},
                          {"notebook": "04_baseline_cnn_mse", "status": "failed", "seconds": 3.0}]}
    new, notes = record_results(data, record, "amd", machine)
    assert new["labs"]["03_colour_profiles"] == {**data["labs"]["03_colour_profiles"], "cpu_s": 31.3, "machine": "amd"}
    assert new["labs"]["04_baseline_cnn_mse"] == data["labs"]["04_baseline_cnn_mse"]
    assert any("14_new_lab" in n and "student_min" in n for n in notes) and any("04_baseline" in n for n in notes)
    assert any("14_new_lab" in p and "student_min" in p for p in validate_times(new))
    assert data["labs"]["03_colour_profiles"]["machine"] != "amd", "the caller's data is not changed"
    with pytest.raises(ColorlabError, match="smoke"):
        record_results(data, {**record, "smoke": True}, "amd", machine)


def test_update_script_check_mode_agrees_with_the_test():
    import subprocess
    import sys

    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "update_lab_times.py"), "--check"],
                         capture_output=True, text=True)
    assert (run.returncode == 0) == (check_places(ROOT) == []), run.stdout + run.stderr
    assert re.search(r"agrees|disagrees|no entry", run.stdout), run.stdout
