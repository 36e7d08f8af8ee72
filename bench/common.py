"""Shared bits of the bench scripts: the machine's matmul peak, JSON output, timing."""
from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def matmul_peak(device: torch.device, dtype=torch.bfloat16, n: int = 2048, reps: int = 10) -> float:
    """Measured FLOP/s of an n×n matmul in ``dtype``: the ceiling we compare training against."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(3):  # best of three: the ceiling, not an average disturbed by other work
        sync(device)
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        sync(device)
        best = max(best, 2 * n**3 * reps / (time.perf_counter() - t))
    return best


def matmul_peaks(device: torch.device, n: int = 2048) -> dict[str, float]:
    """FLOP/s of an n×n matmul in every dtype ``device`` has (fp32, bf16, fp16), by name.

    A dtype whose small (256²) matmul is 20× slower than fp32's has no fast kernels here: it is
    left out rather than timed at full size.
    """
    def small(dtype):
        a = torch.randn(256, 256, device=device, dtype=dtype)
        a @ a
        sync(device)
        t = time.perf_counter()
        for _ in range(3):
            a @ a
        sync(device)
        return time.perf_counter() - t

    out = {"fp32": matmul_peak(device, torch.float32, n)}
    base = small(torch.float32)
    for name, dtype in (("bf16", torch.bfloat16), ("fp16", torch.float16)):
        try:
            if small(dtype) > 20 * base + 1e-3:
                continue
            out[name] = matmul_peak(device, dtype, n)
        except RuntimeError:  # no kernel for this dtype on this device
            continue
    return out


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


def write(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"wrote {path}")
    return path
