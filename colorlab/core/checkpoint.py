"""Checkpoints that can never run code: weights + a JSON config, loaded with ``weights_only=True``.

A checkpoint file holds a plain dict of tensors, numbers and strings:
``{"format": "colorlab-ckpt-1", "config": <JSON text>, "model": state_dict,
"opt": optimizer state (optional), "epoch": int}``. The config names the model and its
arguments (``colorlab.models.create(**config["model"])`` rebuilds it:
:func:`colorlab.models.checkpoint.load_checkpoint`), the working size, the normalisation and the prior
the model was trained with. A copy of the config is written next
to it as ``<name>.json`` so people can read it without Python.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from colorlab.core.errors import ColorlabError
from colorlab.core.files import atomic_write

__all__ = ["save_checkpoint", "read_checkpoint", "atomic_write", "plain"]

FORMAT = "colorlab-ckpt-1"
NORMALIZATION = {"L": "L/50 - 1", "ab": "ab/110"}


def plain(obj, for_json: bool = False):
    """Recursively turn fastcore ``L``s, tuples and numpy scalars into lists, dicts, numbers and tensors.

    ``torch.load(weights_only=True)`` accepts only plain containers, so fastai's optimizer state
    (lists of ``L``) is flattened to these before it is saved. With ``for_json`` the result is
    JSON-ready instead: 0-d tensors become numbers too, NaN and ±inf become None, and anything that
    is not a number or a string raises :class:`ColorlabError`.
    """
    if isinstance(obj, dict):
        return {k if isinstance(k, str) or (isinstance(k, int) and not for_json) else str(k): plain(v, for_json)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) or type(obj).__name__ == "L":
        return [plain(v, for_json) for v in obj]
    if isinstance(obj, torch.Tensor) and not for_json:
        return obj.detach().to("cpu")
    if callable(getattr(obj, "item", None)) and getattr(obj, "ndim", 0) == 0:  # numpy scalars (0-d tensors for JSON)
        obj = obj.item()
    if not for_json or isinstance(obj, (bool, int, str)) or obj is None:
        return obj
    try:
        v = float(obj)
    except (TypeError, ValueError, RuntimeError):
        raise ColorlabError(f"JSON takes numbers and strings, got {type(obj).__name__}") from None
    return v if math.isfinite(v) else None


def save_checkpoint(path: str | Path, model: torch.nn.Module, config: dict, opt_state: dict | None = None,
                    epoch: int | None = None) -> Path:
    """Write weights + config atomically to ``path`` (and the config as ``path.with_suffix('.json')``)."""
    config = dict(config)
    config.setdefault("normalization", NORMALIZATION)
    text = json.dumps(config, indent=2, sort_keys=True, default=str)
    state = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
    blob = {"format": FORMAT, "config": text, "model": state, "epoch": -1 if epoch is None else int(epoch)}
    if opt_state is not None:
        blob["opt"] = plain(opt_state)
    path = atomic_write(path, lambda tmp: torch.save(blob, tmp))
    atomic_write(Path(path).with_suffix(".json"), lambda tmp: Path(tmp).write_text(text + "\n"))
    return path


def read_checkpoint(path: str | Path) -> dict:
    """Load the raw checkpoint dict with ``weights_only=True`` and parse its config."""
    path = Path(path)
    if not path.is_file():
        raise ColorlabError(f"{path}: no such checkpoint (train one with `colorlab train` or `make demo`)")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle errors, truncated files, foreign objects refused by weights_only
        raise ColorlabError(f"{path}: not a readable colorlab checkpoint ({type(e).__name__}: {str(e).splitlines()[0][:120]})") from e
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ColorlabError(f"{path}: not a colorlab checkpoint (format {blob.get('format') if isinstance(blob, dict) else type(blob).__name__!r})")
    blob["config"] = json.loads(blob["config"])
    return blob
