"""What every lab notebook calls, and where the notebooks are.

* :func:`start` and :func:`write_metrics` are what every notebook calls (seed + output folder,
  then ``metrics.json`` with its key numbers); :func:`read_metrics` reads them back.
* :func:`list_notebooks` lists the ``NN_name.ipynb`` notebooks of a folder.

Exercises made from the notebooks: :mod:`colorlab.course.exercises`; papermill runs, the staff
table and baselines: :mod:`colorlab.course.runner`.
"""
from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import numpy as np
import torch

from colorlab.core.checkpoint import plain
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.viz.palettes import CATEGORICAL

__all__ = ["list_notebooks", "quick_mode", "reveal", "start", "write_metrics", "read_metrics", "QUICK_ENV"]

#: Set to 1 to run every lab at its quick size without editing the notebook (nbgrader does not
#: inject notebook parameters, so grading runs use this).
QUICK_ENV = "COLORLAB_QUICK"

_NAME = re.compile(r"^\d\d_[\w-]+\.ipynb$")


def list_notebooks(folder: str | Path = "notebooks", only=None) -> list[Path]:
    """The ordered ``NN_name.ipynb`` notebooks of ``folder``; ``only``: numbers or names to keep (``["04", "07"]``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ColorlabError(f"{folder}: no such notebook folder")
    paths = sorted(p for p in folder.iterdir() if _NAME.match(p.name))
    if only:
        wanted = [str(o) for o in only]
        paths = [p for p in paths if any(p.name.startswith(w) or p.stem == w for w in wanted)]
        if not paths:
            raise ColorlabError(f"no notebook in {folder} matches {', '.join(wanted)}")
    return paths


# --- what the notebooks call -------------------------------------------------------------------

def quick_mode() -> bool:
    """Whether the labs run at their quick size: ``$COLORLAB_QUICK`` is 1 / true / yes.

    A lab's parameters cell says ``quick = quick_mode()``; papermill (``quick=True``) or a student
    (``quick = True``) can still set it by hand.
    """
    return os.environ.get(QUICK_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def start(seed: int = 0, device="auto", out_dir: str | Path = "runs/notebooks") -> tuple:
    """Seed Python, NumPy and torch, create ``out_dir``; returns ``(torch.device, Path)``.

    Also makes the lab's own plots (``plt.plot``, ``ax.bar`` without a colour) draw their series in the kit's
    colour-vision-deficiency-safe order (:data:`colorlab.viz.palettes.CATEGORICAL`) instead of matplotlib's
    default, whose red and green collapse under deuteranopia.
    """
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(CATEGORICAL))
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return get_device(device), out


def reveal(prediction, actual, what: str = "the result", unit: str = "") -> str:
    """"Predict, then run": print the student's prediction beside what the run gave; returns the line.

    ``prediction``: the number the student wrote before running (``None`` when they wrote none).
    """
    got = f"{float(actual):.3g}{unit}"
    if prediction is None:
        line = f"{what}: {got}. (You wrote no prediction: next time, commit to a number first.)"
    else:
        try:
            p = float(prediction)
        except (TypeError, ValueError):
            line = f"{what}: {got}; your prediction {prediction!r} is not a number."
        else:
            off = "" if p == 0 else f" ({(float(actual) - p) / abs(p):+.0%} from yours)"
            line = f"{what}: you predicted {p:.3g}{unit}, the run gave {got}{off}."
    print(line)
    return line


def write_metrics(out_dir: str | Path, metrics: dict) -> Path:
    """Write the notebook's key numbers to ``out_dir/metrics.json`` (flat ``name → number``) and return the path."""
    if not isinstance(metrics, dict) or not metrics:
        raise ColorlabError("write_metrics needs a non-empty dict {name: number}")
    path = Path(out_dir) / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plain(metrics, for_json=True), indent=2, sort_keys=True) + "\n")
    return path


def read_metrics(out_dir: str | Path) -> dict:
    path = Path(out_dir) / "metrics.json"
    if not path.is_file():
        raise ColorlabError(f"{path}: the notebook wrote no metrics.json")
    return json.loads(path.read_text())
