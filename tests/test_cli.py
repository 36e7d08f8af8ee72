"""The command line answers at once (#23 item 6, #26 item 2): help, version, bad option values and bad files or
folders are answered before torch is imported; one list of model, loss and dataset names, equal to the registries."""
from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys

from colorlab.cli import build_parser, version
from colorlab.core.names import DATASET_NAMES, DOWNLOADABLE, LOSS_NAMES, MODEL_NAMES

# Runs in a fresh interpreter: each case is main(argv); after each, is torch (or fastai) loaded?
_SCRIPT = r"""
import contextlib, io, json, sys
from colorlab.cli import main
out = []
for argv in json.loads(sys.argv[1]):
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code
    out.append({"argv": argv, "code": code, "out": so.getvalue(), "err": se.getvalue(),
                "heavy": sorted(m for m in ("torch", "fastai", "numpy", "PIL") if m in sys.modules)})
print(json.dumps(out))
"""


def test_help_version_and_mistakes_are_answered_before_torch_loads(tmp_path):
    photo, fake_ckpt = tmp_path / "photo.png", tmp_path / "model.pt"
    photo.write_bytes(b"not read before the checks pass")
    fake_ckpt.write_bytes(b"x")
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    cases = [  # argv, exit status, text expected in stdout + stderr
        (["--help"], 0, "colorize"),
        (["train", "--help"], 0, "(default: unet)"),
        (["colorize", "--help"], 0, "--model MODEL"),
        (["--version"], 0, f"colorlab {version()}"),
        ([], 2, "usage: colorlab"),
        (["train", "--model", "unett"], 2, "invalid choice: 'unett'"),
        (["train", "--loss", "rarityy"], 2, "invalid choice: 'rarityy'"),
        (["prepare", "tiny_imagenett"], 2, "unknown dataset 'tiny_imagenett'"),
        (["download", "sample"], 2, "sample is not downloaded"),
        (["colorize", str(photo), "--out", str(tmp_path / "o")], 2, "no --model given and no demo model"),
        (["colorize", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), "--model", str(fake_ckpt)], 2,
         "missing: no such file"),
        (["colorize", str(photo), "--out", str(blocker / "sub"), "--model", str(fake_ckpt)], 2,
         "output folder (--out)"),
        (["colorize", str(photo), "--out", str(tmp_path / "o"), "--model", str(tmp_path / "nope.pt")], 2,
         "nope.pt: no such file"),
        (["evaluate", str(tmp_path / "nope.pt")], 2, "checkpoint"),
        (["train", "--root", str(tmp_path / "no_data")], 2, "dataset folder (--root)"),
        (["sweep", str(tmp_path / "no.yaml")], 2, "sweep config"),
        (["course", "export", str(tmp_path / "bundle"), "--src", str(tmp_path / "no_notebooks")], 2, "--src"),
    ]
    # an empty home of its own: a demo model another test trained must not answer "no demo model" for it
    env = {**os.environ, "COLORLAB_HOME": str(tmp_path / "home")}
    r = subprocess.run([sys.executable, "-c", _SCRIPT, json.dumps([c[0] for c in cases])], capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    for (argv, code, text), got in zip(cases, json.loads(r.stdout)):
        said = got["out"] + got["err"]
        assert got["code"] == code and text in said, (argv, got)
        assert "Traceback" not in said, (argv, said)
        assert not {"torch", "fastai"} & set(got["heavy"]), (argv, got["heavy"])


def test_version_is_the_distributions():
    assert version() == importlib.metadata.version("colorlab-kit")


def test_one_list_of_names_shared_with_the_registries():
    from colorlab.data.registry import DATASETS
    from colorlab.data.remote import RECIPES
    from colorlab.models import MODELS
    from colorlab.rarity.losses import LOSSES
    assert tuple(MODELS) == MODEL_NAMES and tuple(LOSSES) == LOSS_NAMES and tuple(DATASETS) == DATASET_NAMES
    assert tuple(RECIPES) == DOWNLOADABLE
    actions = {a.dest: a for a in build_parser()._subparsers._group_actions[0].choices["train"]._actions}
    assert tuple(actions["model"].choices) == MODEL_NAMES and tuple(actions["loss"].choices) == LOSS_NAMES


def test_dataset_names_are_normalised_by_the_parser():
    args = build_parser().parse_args(["prepare", "Tiny_ImageNet"])
    assert args.dataset == "tiny-imagenet" and args.handler == "colorlab.data.commands:cmd_prepare"


def test_colorize_uses_only_the_idle_cores(monkeypatch):
    from colorlab.inference import commands
    monkeypatch.setattr(commands.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(commands.os, "getloadavg", lambda: (0.1, 0.1, 0.1))
    assert commands.idle_threads(limit=2) == 2
    monkeypatch.setattr(commands.os, "getloadavg", lambda: (12.0, 12.0, 12.0))  # a busy shared machine
    assert commands.idle_threads(limit=2) == 1


def test_colorize_command_imports_neither_fastai_nor_training(tmp_path):
    """#26 item 1: the colorize path is torch, the model and the inference stage — nothing of training."""
    import numpy as np
    import torch
    from PIL import Image

    from colorlab.core.checkpoint import save_checkpoint
    from colorlab.models import create
    torch.manual_seed(0)
    model = create("unet", base=4, depth=2)
    ckpt = save_checkpoint(tmp_path / "tiny.pt", model, {"model": model.config, "size": 16})
    Image.fromarray(np.full((12, 20, 3), 90, np.uint8)).save(tmp_path / "in.png")
    argv = ["colorize", str(tmp_path / "in.png"), "--out", str(tmp_path / "out"), "--model", str(ckpt)]
    r = subprocess.run([sys.executable, "-c", _SCRIPT.replace('("torch", "fastai", "numpy", "PIL")',
                                                              '("torch", "fastai", "torchvision", "colorlab.training")'),
                        json.dumps([argv])], capture_output=True, text=True, timeout=300)
    got = json.loads(r.stdout)[0]
    assert got["code"] == 0 and (tmp_path / "out" / "in_color.png").is_file(), got
    assert got["heavy"] == ["torch"], got["heavy"]
