"""`make demo` end to end, in its quick form: every file written, the table printed, the CLI default model."""
import json

import numpy as np
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

    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((20, 30, 3), 128, np.uint8)).save(photo)
    assert main(["colorize", str(photo), "--out", str(tmp_path / "colored"), "--device", "cpu"]) == 0
    said = capsys.readouterr().out
    assert "using the demo model" in said
    assert "model: unet" in said and "trained on sample (" in said and "epochs" in said  # what it learned from
    assert Image.open(tmp_path / "colored" / "photo_color.png").size == (30, 20)
