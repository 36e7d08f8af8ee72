"""The reports' experiments as configs (#22): each config resolves at every size; the tiny smokes run and write
their tables (Siswanto & Karnati's Fig. 6 and Table I, routed colorizers on folder classes from the command
line); the full-size models are the reports' (built on the meta device: no memory, no weights, no download);
a missing pretrained file gives a message, not a crash. The real smokes are ``make reproduce``."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorlab.cli import main
from colorlab.core.checkpoint import read_checkpoint
from colorlab.evaluation.experiments import _load
from colorlab.evaluation.metrics import keras_accuracy, within_accuracy
from colorlab.evaluation.sweep import run_sweep
from colorlab.models import create
from colorlab.training.sweep_config import expand_runs

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
NEW = ("epoch_progression", "lin_ferreira", "pandey_fusion", "siswanto_table1", "robles_budach_routing",
       "unet_skip_connections", "unet_regularisation")
BENABLA = ("unet_skip_connections", "unet_regularisation")


@pytest.mark.parametrize("name", NEW)
def test_every_new_config_resolves_at_every_size(name):
    path = CONFIGS / f"{name}.yaml" if (CONFIGS / f"{name}.yaml").is_file() else CONFIGS / "experiments" / f"{name}.yaml"
    assert "Differences" in path.read_text()                 # each header lists what differs from the report
    for size in ("tiny", "smoke", "full"):
        if "runner:" in path.read_text():
            assert _load(path, size)["settings"]
        else:
            assert expand_runs(path, size)


def test_fig6_is_the_plain_cnn_with_adam_at_a_constant_rate_25_steps_500_epochs():
    (_, s), = expand_runs(CONFIGS / "epoch_progression.yaml", "full")
    assert (s["model"], s["schedule"], s["steps_per_epoch"], s["epochs"], s["bs"]) == ("plain_cnn", "constant", 25, 500, 25)
    assert sum(p.numel() for p in create("plain_cnn", **s["model_kwargs"]).parameters()) == 3_892_194
    assert {10, 50, 100, 200, 350, 400} <= set(s["snapshots"])


def test_full_size_backbones_are_the_reports(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))          # no weights on disk: a warning, never a crash
    runs = dict(expand_runs(CONFIGS / "lin_ferreira.yaml", "full"))
    kw = {**runs["rarity-weighted MSE (v)"]["model_kwargs"], "pretrained": "disk"}
    assert runs["rarity-weighted MSE (v)"]["loss"] == "lin_ferreira"
    with torch.device("meta"), pytest.warns(UserWarning, match="not found"):
        fpn = create("fpn", **kw)
    assert fpn.config["backbone"] == "efficientnet_b7" and fpn.lateral[-1].out_channels == 1344
    assert fpn.config["pretrained_loaded"] is False
    (_, s), = expand_runs(CONFIGS / "pandey_fusion.yaml", "full")
    with torch.device("meta"):
        fusion = create("fusion", **{**s["model_kwargs"], "pretrained": "none"})
    assert fusion.config["backbone"] == "inception_v3" and fusion.config["fusion_channels"] == 256


def test_fig6_tiny_smoke_trains_and_writes_its_table_and_figure(tmp_path):
    table = run_sweep(CONFIGS / "epoch_progression.yaml", out_dir=tmp_path, size="tiny", device="cpu",
                      progress=False, verbose=False, plot=False)
    assert "category colorizer @ epoch 1" in table.index
    assert (tmp_path / "results.md").is_file() and (tmp_path / "runs" / "category_colorizer" / "progression.png").is_file()


def _folder(root: Path, small_photos) -> Path:
    for k, cls in enumerate(("beach", "forest")):
        (root / cls).mkdir(parents=True)
        for i, photo in enumerate(small_photos[k * 12:(k + 1) * 12]):
            Image.fromarray(np.ascontiguousarray(photo[:, :40] if k else photo[:, 8:])).save(root / cls / f"{i}.png")
    return root


def test_routed_colorizers_on_folder_classes_from_the_cli(tmp_path, small_photos):
    root = _folder(tmp_path / "photos", small_photos)
    out = tmp_path / "route"
    assert main(["route", "folder", "--root", str(root), "--by", "classes", "--size", "16", "--epochs", "1",
                 "--bs", "8", "--model-arg", "base=8", "--model-arg", "depth=2", "--device", "cpu",
                 "--out", str(out)]) == 0
    cross = (out / "cross.csv").read_text().splitlines()
    assert cross[0] == ",model beach,model forest"                # a colorizer per folder class
    assert cross[1:] and all(row.startswith("photos ") for row in cross[1:])   # held-out photos, per class
    assert "auc_routed" in (out / "summary.csv").read_text() and (out / "routing.md").is_file()


def test_table_i_runner_from_the_cli(tmp_path):
    out = tmp_path / "t1"
    assert main(["experiment", str(CONFIGS / "experiments" / "siswanto_table1.yaml"), "--size", "tiny", "--device", "cpu",
                 "--out", str(out)]) == 0
    text = (out / "table_i.csv").read_text()
    assert text.splitlines()[0] == "category,small" and text.splitlines()[-1].startswith("all,")


def test_flowers102_has_benabla_et_als_90_10_split(tmp_path, make_flowers102):
    from colorlab.data import get_dataset
    from colorlab.data.base import hash_split
    make_flowers102(tmp_path)
    train = [p.name for p, _ in get_dataset("flowers102", root=tmp_path, split="train90", size=32).samples]
    test = [p.name for p, _ in get_dataset("flowers102", root=tmp_path, split="test10", size=32).samples]
    assert sorted(train + test) == [f"image_{i:05d}.jpg" for i in range(1, 13)] and not set(train) & set(test)
    assert all(hash_split(n, 0, 0.1) == "val" for n in test)   # every photo of the set, split by its name
    (_, s), *_ = expand_runs(CONFIGS / "unet_skip_connections.yaml", "full")
    assert s["data"]["dataset"] == "flowers102" and s["data"]["splits"] == ["train90", "test10"]


def test_benabla_tables_run_their_hint_unet_in_cbcr_with_their_sampler():
    for name in BENABLA:
        runs = dict(expand_runs(CONFIGS / f"{name}.yaml", "full"))
        assert len(runs) == 4
        for s in runs.values():
            assert (s["model"], s["colorspace"], s["loss"], s["epochs"]) == ("unet", "ycbcr", "mse", 20)
            assert s["hints"] == {"p": 0.1, "colour": "gaussian", "sigma": 2.0, "reveal_p": 0.05, "spread": 0.25}
            assert s["data"]["dataset"] == "flowers102" and s["data"]["size"] == 224
            assert {"acc_keras", "acc_within", "chroma_mse"} <= set(s["epoch_metrics"])
    table1 = dict(expand_runs(CONFIGS / "unet_skip_connections.yaml", "full"))
    assert [s["model_kwargs"]["skips"] for s in table1.values()] == ["upper", "upper_middle", "all", "none"]
    table2 = dict(expand_runs(CONFIGS / "unet_regularisation.yaml", "full"))
    assert {s["model_kwargs"]["skips"] for s in table2.values()} == {"none"}       # their baseline = Table 1's no-skip row
    assert table2["non regularizer"]["model_kwargs"] == {**table1["non connection"]["model_kwargs"], "dropout": 0.0}
    assert table2["max-pooling"]["model_kwargs"]["down"] == "maxpool" and table2["dropout 0.5"]["model_kwargs"]["dropout"] == 0.5


def test_benabla_tiny_smokes_train_hint_unets_and_tabulate_their_acc_column(tmp_path):
    cols = ["best acc (Keras)", "best acc (within 0.05)", "best loss (chroma MSE)"]
    tables = {}
    for name in BENABLA:
        out = tmp_path / name
        table = tables[name] = run_sweep(CONFIGS / f"{name}.yaml", out_dir=out, size="tiny", device="cpu",
                                         progress=False, verbose=False, plot=False)
        runs = [r for r, _ in expand_runs(CONFIGS / f"{name}.yaml", "tiny")]
        assert list(table.index[:4]) == runs
        got = table.loc[runs, cols].astype(float)
        assert ((got >= 0) & (got <= 1)).all().all()
        # one epoch: the chroma MSE in [0, 1] units is the training loss on 2(CbCr - 1/2), divided by 4
        assert np.allclose(got["best loss (chroma MSE)"], table.loc[runs, "best valid loss"].astype(float) / 4, rtol=1e-4)
        assert "best acc (Keras)" in (out / "results.md").read_text()
        cfg = read_checkpoint(out / "runs" / runs[0].replace(" ", "_") / "checkpoint.pt")["config"]
        assert cfg["model"]["in_channels"] == 4 and cfg["colorspace"] == "ycbcr"
    # as in the report, Table 2's baseline is Table 1's no-skip run: the same numbers to the digit
    t1, t2 = tables["unet_skip_connections"], tables["unet_regularisation"]
    assert t2.loc["non regularizer", cols].tolist() == t1.loc["non connection", cols].tolist()


def test_the_two_readings_of_benabla_et_als_acc():
    truth = torch.zeros(1, 2, 4, 4)
    truth[:, 1, :2] = 0.6                                       # Cr > Cb in the top half, Cb = Cr (a tie) below
    assert keras_accuracy(truth, truth).item() == 1.0
    assert keras_accuracy(truth.flip(1), truth).item() == 0.5   # channels swapped: the top half wrong, the ties right
    assert keras_accuracy(truth + 0.3, truth).item() == 1.0     # an offset of both channels changes nothing
    near, far = truth.clone(), truth.clone()
    near[:, 0] += 0.04
    far[:, 0, 0, 0] += 0.06
    assert within_accuracy(near, truth).item() == 1.0 and within_accuracy(far, truth).item() == 15 / 16
