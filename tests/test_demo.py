"""`make demo` end to end, in its quick form: every file written, the table printed, the CLI default model."""
import json

import numpy as np
import pytest
from PIL import Image

from colorlab.cli import main
from colorlab.course.demo import run_demo


def test_quick_demo_writes_everything_and_sets_the_default_model(tmp_path, capsys):
    out = tmp_path / "demo"
    res = run_demo(out_dir=out, quick=True, size=32)
    captured = capsys.readouterr()
    printed, log = captured.out, captured.out + captured.err
    # not a terminal (a log file, CI): one line per epoch and per evaluation, no bar redraws — a few KB (#26)
    assert "\r" not in log and printed.count("epoch 1/1 ") == 3 and len(log.encode()) < 6000, log[-3000:]
    for name in ("objects.png", "gallery.png", "scenes.png", "channels.png", "patches.png", "metrics.json",
                 "report.html"):
        assert (out / name).stat().st_size > 0, name
    assert list(res["table"].index) == ["U-Net MSE", "U-Net rarity", "gray (ab=0)", "mean ab"]
    assert list(res["photos"].index) == ["U-Net blend (photos)", "gray (ab=0)", "mean ab"]
    assert "chroma ratio [multimodal]" in printed and "recall@20 [rare]" in printed and str(out) in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["scenes"]) == {"U-Net MSE", "U-Net rarity", "gray (ab=0)", "mean ab"}
    assert all(np.isfinite(metrics["scenes"][m]["chroma ratio [multimodal]"]) for m in metrics["scenes"])
    assert all(np.isfinite(metrics["photos"][m]["PSNR (dB)"]) for m in metrics["photos"])
    assert "LPIPS" in metrics["photo_notes"]
    assert "<table" in (out / "report.html").read_text()
    # the files hold what the run measured, not just bytes: pictures with content, the table's own numbers
    for name in ("objects.png", "gallery.png", "scenes.png", "channels.png", "patches.png"):
        img = np.asarray(Image.open(out / name).convert("RGB")).astype(float)
        assert min(img.shape[:2]) >= 100 and img.std() > 5, f"{name} is blank ({img.shape}, std {img.std():.1f})"
        chroma = np.abs(img - img.mean(2, keepdims=True)).max(2)
        assert (chroma > 30).mean() > 0.001, f"{name} shows no colour"
    for model, row in res["table"].iterrows():
        for col in ("PSNR (dB)", "chroma ratio [multimodal]"):
            assert metrics["scenes"][model][col] == pytest.approx(float(row[col]), rel=1e-6, abs=1e-9), (model, col)
    assert metrics["scenes"]["gray (ab=0)"]["chroma ratio [multimodal]"] == pytest.approx(0.0, abs=1e-6)
    assert metrics["scenes"]["mean ab"]["PSNR (dB)"] != metrics["scenes"]["gray (ab=0)"]["PSNR (dB)"]
    for model, row in res["photos"].iterrows():
        assert metrics["photos"][model]["PSNR (dB)"] == pytest.approx(float(row["PSNR (dB)"]), rel=1e-6)
    html = (out / "report.html").read_text()
    assert all(m in html for m in res["table"].index)

    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((20, 30, 3), 128, np.uint8)).save(photo)
    assert main(["colorize", str(photo), "--out", str(tmp_path / "colored"), "--device", "cpu"]) == 0
    said = capsys.readouterr().out
    assert "using the demo model" in said
    assert "model: unet" in said and "trained on sample (" in said and "epochs" in said  # what it learned from
    assert Image.open(tmp_path / "colored" / "photo_color.png").size == (30, 20)
