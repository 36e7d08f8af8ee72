"""Rebuilding a model from a checkpoint file (:mod:`colorlab.core.checkpoint` reads and writes the file)."""
from __future__ import annotations

from pathlib import Path

import torch

from colorlab.core.checkpoint import read_checkpoint
from colorlab.models import create

__all__ = ["load_checkpoint"]


def load_checkpoint(path: str | Path, device="cpu") -> tuple[torch.nn.Module, dict]:
    """Rebuild the model a checkpoint describes and load its weights. Returns ``(model.eval(), config)``."""
    blob = read_checkpoint(path)
    cfg = blob["config"]
    spec = dict(cfg["model"])
    if "pretrained" in spec:  # the checkpoint carries the backbone's weights: don't look for (or warn about) others
        spec["pretrained"] = "none"
        if spec.get("name") == "fusion" and "freeze_backbone" not in spec:
            spec["freeze_backbone"] = True  # saved before the option existed: the global branch was always frozen
    model = create(**spec)
    model.load_state_dict(blob["model"])
    return model.to(device).eval(), cfg
