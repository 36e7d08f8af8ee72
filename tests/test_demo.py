"""`make demo` end to end, in its quick form: every file written, the table printed, the CLI default model."""
import json

import numpy as np
from PIL import Image

from colorlab.cli import main
from colorlab.demo import run_demo


def test_quick_demo_writes_everything_and_sets_the_default_model(tmp_path, capsys):
    out = tmp_path / "demo"
    res = run_demo(out_dir=out, quick=True, size=32)
    printed = capsys.readouterr().out
    for name in ("gallery.png", "channels.png", "patches.png", "metrics.json", "report.html"):
        assert (out / name).stat().st_size > 0, name
    assert list(res["table"].index) == ["U-Net MSE", "U-Net blend", "gray (ab=0)", "mean ab"]
    assert "U-Net blend" in printed and "PSNR" in printed and str(out) in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["models"]) == {"U-Net MSE", "U-Net blend", "gray (ab=0)", "mean ab"}
    assert all(np.isfinite(metrics["models"][m]["PSNR (dB)"]) for m in metrics["models"])
    assert "LPIPS" in metrics["notes"]
    assert "<table" in (out / "report.html").read_text()

    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((20, 30, 3), 128, np.uint8)).save(photo)
    assert main(["colorize", str(photo), "--out", str(tmp_path / "colored"), "--device", "cpu"]) == 0
    assert "using the demo model" in capsys.readouterr().out
    assert Image.open(tmp_path / "colored" / "photo_color.png").size == (30, 20)
