"""The experiment runner: config expansion, a tiny two-run sweep, skipping and resuming."""
import json
from pathlib import Path

import numpy as np
import pytest

from colorlab.cli import build_parser
from colorlab.core.errors import ColorlabError
from colorlab.evaluation.sweep import markdown_table, run_sweep
from colorlab.training.sweep_config import expand_runs, load_config

CONFIGS = sorted((Path(__file__).parents[1] / "configs").glob("*.yaml"))

TINY = {
    "name": "tiny",
    "base": {"model": "unet", "model_kwargs": {"base": 8, "depth": 2}, "epochs": 1, "bs": 16, "gallery": 2},
    "runs": [{"name": "skips all", "model_kwargs.skips": "all", "snapshots": [1]},
             {"name": "skips none", "model_kwargs.skips": "none"}],
}


def test_expand_runs_grid_times_runs_with_dotted_keys_and_sizes():
    cfg = {"base": {"model_kwargs": {"base": 8}, "epochs": 2},
           "runs": [{"name": "a"}, {"name": "b", "lr": 0.01}],
           "grid": {"model_kwargs.skips": ["all", "none"]},
           "sizes": {"smoke": {"epochs": 1}, "full": {"data": {"dataset": "flowers102"}}}}
    runs = dict(expand_runs(cfg))
    assert list(runs) == ["a skips=all", "a skips=none", "b skips=all", "b skips=none"]
    assert runs["b skips=none"]["model_kwargs"] == {"base": 8, "skips": "none"} and runs["b skips=none"]["lr"] == 0.01
    assert runs["a skips=all"]["epochs"] == 1  # smoke is the default size
    full = dict(expand_runs(cfg, "full"))
    assert full["a skips=all"]["epochs"] == 2 and full["a skips=all"]["data"]["dataset"] == "flowers102"
    assert full["a skips=all"]["data"]["size"] == 32  # untouched defaults stay


@pytest.mark.parametrize("bad, message", [
    ({"base": {"epoch": 3}}, "unknown settings"),
    ({"bogus": 1}, "unknown sweep config keys"),
    ({"grid": {"lr": []}}, "non-empty list"),
    ({"base": {"loss": "hinge"}}, "unknown loss"),
    ({"base": {"epochs": 2, "snapshots": [3]}}, "snapshots"),
    ({"runs": [{"name": "x"}, {"name": "x"}]}, "two runs are called"),
    ({"sizes": {"smoke": {}}}, "no size 'huge'"),
])
def test_bad_configs_fail_with_one_clear_line(bad, message):
    with pytest.raises(ColorlabError, match=message):
        expand_runs(bad, "huge" if "sizes" in bad else None)


def test_load_config_from_yaml_and_json(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(TINY))
    assert load_config(tmp_path / "a.json")["runs"] == TINY["runs"]
    (tmp_path / "b.yaml").write_text("base: {epochs: 2}\n")
    assert load_config(tmp_path / "b.yaml")["name"] == "b"
    (tmp_path / "c.yaml").write_text("base: [unclosed\n")
    with pytest.raises(ColorlabError, match="not a valid yaml"):
        load_config(tmp_path / "c.yaml")
    with pytest.raises(ColorlabError, match="no such sweep config"):
        load_config(tmp_path / "missing.yaml")


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_configs_expand_in_both_sizes(path):
    smoke, full = expand_runs(path, "smoke"), expand_runs(path, "full")
    assert len(smoke) == len(full) >= 1
    assert all(s["data"]["dataset"] == "sample" for _, s in smoke)
    assert all(s["data"]["dataset"] != "sample" for _, s in full)


def test_two_run_sweep_tabulates_then_skips_then_resumes(prepared_sample, prepared_sample_val, tmp_path, capsys):
    train, valid = np.array(prepared_sample.images[:32]), np.array(prepared_sample_val.images[:8])
    table = run_sweep(TINY, tmp_path, train=train, valid=valid, device="cpu", progress=False)
    assert list(table.index) == ["skips all", "skips all @ epoch 1", "skips none", "gray (ab=0)", "mean ab"]
    assert table.loc["skips none", "model_kwargs.skips"] == "none"
    assert np.isfinite(table.loc["skips all", ["PSNR (dB)", "AuC", "best valid loss"]].astype(float)).all()
    for f in ("results.csv", "results.md", "sweep.png"):
        assert (tmp_path / f).stat().st_size > 0
    for run in ("skips_all", "skips_none"):
        assert (tmp_path / "runs" / run / "gallery.png").exists() and (tmp_path / "runs" / run / "checkpoint.pt").exists()
    assert (tmp_path / "runs" / "skips_all" / "progression.png").exists()
    assert "| skips none | none |" in (tmp_path / "results.md").read_text()
    assert {name: (Path(folder) / "checkpoint.pt").exists() for name, folder in table.attrs["runs"].items()} == \
        {"skips all": True, "skips none": True}
    ckpt = tmp_path / "runs" / "skips_none" / "checkpoint.pt"
    stamp = ckpt.stat().st_mtime_ns
    capsys.readouterr()

    again = run_sweep(TINY, tmp_path, train=train, valid=valid, device="cpu", progress=False, plot=False)
    assert capsys.readouterr().out.count("skipped") == 2
    assert again.drop(columns="train s").equals(table.drop(columns="train s"))
    assert ckpt.stat().st_mtime_ns == stamp

    (tmp_path / "runs" / "skips_none" / "result.json").unlink()  # as if killed after training
    resumed = run_sweep(TINY, tmp_path, train=train, valid=valid, device="cpu", progress=False, plot=False)
    out = capsys.readouterr().out
    assert "skips none: training (resuming its checkpoint)" in out and out.count("skipped") == 1
    assert ckpt.stat().st_mtime_ns == stamp  # it was complete: nothing retrained
    assert np.allclose(resumed.loc["skips none", "PSNR (dB)"], table.loc["skips none", "PSNR (dB)"])

    changed = {**TINY, "base": {**TINY["base"], "lr": 0.1}}
    with pytest.raises(ColorlabError, match="holds a run with other settings"):
        run_sweep(changed, tmp_path, train=train, valid=valid, device="cpu", progress=False)


def test_markdown_table_formats_numbers_and_blanks():
    import pandas as pd
    t = pd.DataFrame({"AuC": [0.812345, float("nan")]}, index=pd.Index(["a", "b"], name="run"))
    assert markdown_table(t) == "| run | AuC |\n|---|---|\n| a | 0.8123 |\n| b |  |\n"


def test_cli_has_a_sweep_command():
    args = build_parser().parse_args(["sweep", "configs/losses.yaml", "--size", "full", "--out", "x"])
    assert args.handler == "colorlab.course.commands:cmd_sweep" and args.size == "full" and args.out == "x"
