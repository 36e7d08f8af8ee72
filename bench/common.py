"""Shared bits of the bench scripts: the machine's matmul peak, JSON output, timing.

The matmul peaks (:func:`colorlab.training.benchmark.matmul_peak`, :func:`colorlab.training.benchmark.matmul_peaks`)
and the device sync (:func:`colorlab.core.device.sync`) are the kit's own, so the bench scripts and
notebook 11 measure the same ceiling the same way.
"""
from __future__ import annotations

import json
import platform
from pathlib import Path

import torch

from colorlab.training.benchmark import matmul_peak, matmul_peaks  # noqa: F401  (re-exported for the bench scripts)
from colorlab.core.device import sync  # noqa: F401  (re-exported for the bench scripts)
from colorlab.training.speed import cpu_model

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    return {"python": platform.python_version(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu": cpu_model()}  # so that every number says which machine it came from


def write(name: str, result: dict, path: Path | str | None = None) -> Path:
    """Write ``result`` as ``bench/results/<name>.json`` (or ``path``) and print it."""
    path = Path(path) if path else RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")
    return path
