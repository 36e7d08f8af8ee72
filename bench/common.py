"""Shared bits of the bench scripts: the machine's matmul peak, JSON output, timing.

The matmul peaks are the kit's own (:func:`colorlab.training.speed.matmul_peak`, :func:`colorlab.training.speed.matmul_peaks`),
so the bench scripts and notebook 11 measure the same ceiling.
"""
from __future__ import annotations

import json
import platform
from pathlib import Path

import torch

from colorlab.training.speed import matmul_peak, matmul_peaks  # noqa: F401  (re-exported for the bench scripts)

RESULTS = Path(__file__).resolve().parent / "results"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def machine() -> dict:
    return {"python": platform.python_version(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu": _cpu_name()}


def _cpu_name() -> str:
    """The CPU's model name (``lscpu``'s), so that every number says which machine it came from."""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write(name: str, result: dict, path: Path | str | None = None) -> Path:
    """Write ``result`` as ``bench/results/<name>.json`` (or ``path``) and print it."""
    path = Path(path) if path else RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")
    return path
