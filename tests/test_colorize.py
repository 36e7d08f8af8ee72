"""colorize() and the `colorlab colorize` CLI: full-size output, bad files reported, exit status."""
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from colorlab import ColorlabError
from colorlab.core.checkpoint import save_checkpoint
from colorlab.cli import main
from colorlab.core.color import rgb_to_lab
from colorlab.inference.colorize import colorize
from colorlab.models import create


@pytest.fixture
def ckpt(tmp_path):
    torch.manual_seed(0)
    model = create("unet", base=8, depth=2)
    return save_checkpoint(tmp_path / "tiny.pt", model, {"model": model.config, "size": 32})


def _photo(h=75, w=101, seed=0):
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, w, dtype=np.float32)[None, :, None].repeat(h, 0).repeat(3, 2)
    return np.clip(base + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)


def test_output_has_input_size_and_keeps_its_lightness(ckpt):
    rgb = _photo()
    out = colorize(rgb, ckpt, device="cpu")
    assert out.shape == rgb.shape and out.dtype == np.uint8
    L_in = rgb_to_lab(torch.from_numpy(rgb).permute(2, 0, 1))[0]
    L_out = rgb_to_lab(torch.from_numpy(out).permute(2, 0, 1))[0]
    # all the detail comes from the input's own L (up to gamut clipping and 8-bit rounding)
    assert (L_in - L_out).abs().median() < 1.0


def test_gray_input_accepted(ckpt):
    gray = _photo()[..., 0]
    assert colorize(gray, ckpt, device="cpu").shape == gray.shape + (3,)


def test_cli_good_and_bad_files(ckpt, tmp_path, capsys):
    good = tmp_path / "in" / "good.png"
    good.parent.mkdir()
    Image.fromarray(_photo(40, 60)).save(good)
    (tmp_path / "in" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    nested = tmp_path / "in" / "sub" / "other.jpg"
    nested.parent.mkdir()
    Image.fromarray(_photo(30, 20)).save(nested)
    out = tmp_path / "out"
    status = main(["colorize", str(tmp_path / "in"), "--out", str(out), "--model", str(ckpt), "--device", "cpu"])
    captured = capsys.readouterr()
    assert status == 1
    assert "broken.jpg" in captured.err and "Traceback" not in captured.err
    assert "colorized 2 file(s), 1 failed" in captured.out
    assert Image.open(out / "good_color.png").size == (60, 40)
    assert Image.open(out / "other_color.png").size == (20, 30)
    assert main(["colorize", str(good), "--out", str(out), "--model", str(ckpt), "--device", "cpu"]) == 0


def test_cli_without_model_explains_how_to_get_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COLORLAB_HOME", str(tmp_path / "home"))
    img = tmp_path / "x.png"
    Image.fromarray(_photo(16, 16)).save(img)
    assert main(["colorize", str(img), "--out", str(tmp_path / "o")]) == 2
    assert "make demo" in capsys.readouterr().err


def test_console_script_help():
    r = subprocess.run([sys.executable, "-m", "colorlab", "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0
    for cmd in ("datasets", "prepare", "demo", "train", "evaluate", "colorize"):
        assert cmd in r.stdout


def test_bad_array_rejected(ckpt):
    with pytest.raises(ColorlabError, match="uint8"):
        colorize(np.zeros((8, 8, 4), np.float32), ckpt, device="cpu")
