"""The committed bench results agree with themselves and with the README that quotes them.

A bench re-run that is committed without updating the README (or a README edited by hand) makes
the two disagree; a JSON whose ratios or "met" flags do not follow from its own measurements is
not a measurement. Both happened once; these checks read the files as committed.
"""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def _load(name):
    path = RESULTS / f"{name}.json"
    assert path.is_file(), f"{path} is missing: run bench/bench_{name}.py"
    return json.loads(path.read_text())


def _readme_row(prefix: str) -> str:
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith(prefix)]
    assert rows, f"README.md has no benchmark row starting with {prefix!r}"
    return rows[0]


def test_train_json_ratios_follow_from_its_measurements():
    r = _load("train")
    ceiling = r["matmul_peak_tflops"][r["ceiling_dtype"]]
    assert ceiling == max(r["matmul_peak_tflops"].values())
    assert r["kit_img_per_s"] == r["candidates_img_per_s"][r["best_candidate"]] or \
        r["ratio_to_best_candidate"] < 1.0
    assert r["best_candidate_img_per_s"] == max(r["candidates_img_per_s"].values())
    assert r["speedup"] == pytest.approx(r["kit_img_per_s"] / r["plain_fp32_img_per_s"], abs=0.01)
    achieved = r["kit_img_per_s"] * r["train_flops_per_image"] / 1e12
    assert r["kit_achieved_tflops"] == pytest.approx(achieved, abs=0.002)
    assert r["fraction_of_peak"] == pytest.approx(achieved / ceiling, abs=0.002)
    # the baseline and the ceiling were each measured twice; the best of the two counts
    assert r["plain_fp32_img_per_s"] == max(r["plain_fp32_img_per_s_runs"])
    for dtype, peak in r["matmul_peak_tflops"].items():
        assert peak == max(run[dtype] for run in r["matmul_peak_tflops_runs"])
    assert r["steady"], "the committed training bench was measured on a busy machine: run it again when quiet"
    targets = r["targets"]
    assert targets["fraction_of_peak"]["met"] == (r["fraction_of_peak"] >= targets["fraction_of_peak"]["target"])
    assert targets["speedup"]["met"] == (r["speedup"] >= targets["speedup"]["target"])


def test_readme_quotes_the_committed_training_bench():
    r = _load("train")
    row = _readme_row("| `bench_train.py` |")
    for value in (r["plain_fp32_img_per_s"], r["kit_img_per_s"]):
        assert f"{value:.1f}" in row, f"README's bench_train row does not quote {value} from train.json"
    assert f"{r['speedup']:.1f}×" in row
    share = _readme_row("| | achieved FLOP/s of the default")
    assert f"{round(100 * r['fraction_of_peak'])} %" in share
    assert ("not met" in share) == (not r["targets"]["fraction_of_peak"]["met"])
    candidates = _readme_row("| | every candidate through the kit's path")
    for value in r["candidates_img_per_s"].values():
        assert f"{value:.1f}" in candidates, f"README's candidate row does not quote {value} img/s"


def test_readme_quotes_the_committed_kmeans_bench():
    r = _load("kmeans")
    row = _readme_row("| `bench_kmeans.py` |")
    assert f"{r['speedup']:.1f}×" in row
    assert f"{r['torch_images_per_s']:,.0f} vs {r['sklearn_images_per_s']:.0f} img/s" in row
    assert f"{100 * (r['inertia_ratio'] - 1):+.2f} %" in row


def test_colorize_cli_json_and_readme_agree():
    r = _load("colorize_cli")
    assert r["met"] == (r["colorize"]["median_s"] <= r["target_s"])
    assert r["imported_by_colorize"].count("True") == 1  # torch only: no torchvision, fastai or training stage
    line = _readme_row("`bench_colorize_cli.py`")
    assert f"**{r['colorize']['median_s']:.1f} s** wall" in line and r["machine"]["cpu"] in line
    assert f"`import torch` alone took {r['import_torch']['median_s']:.1f} s" in line
