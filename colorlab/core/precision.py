"""The precision rule: which (precision, memory format) pairs are worth trying on a device, and what a plan is.

Device-agnostic and below every stage that runs a model, so that training, colorizing and the
widgets all ask the same rule (:mod:`colorlab.core.speed` measures among its candidates):

* **CUDA**: native bf16 only on compute capability ≥ 8.0 (Ampere and newer).
  ``torch.cuda.is_bf16_supported()`` also answers True where bf16 is only *emulated* (a T4 is 7.5,
  a V100 7.0), which trains several times slower than fp16 — so the rule asks for native support.
  Below 8.0: fp16 with a gradient scaler (:attr:`SpeedPlan.needs_scaler`).
* **TF32** (Ampere+ matmuls and convolutions on tensor cores with a 10-bit mantissa): the policy is
  explicit — :func:`tf32_policy` says what the process has, a plan records it, and :func:`fp32_matmul`
  turns it off where exact fp32 matters (the batched k-means' packed-key arg-min assumes IEEE fp32).
* **CPU**: fp32 and bf16 measured where the CPU has AVX-512 / AMX, fp32 otherwise; fp16 never unless asked.
"""
from __future__ import annotations

import contextlib
import platform
from dataclasses import dataclass, field

import torch

from colorlab.core.device import get_device

__all__ = ["SpeedPlan", "PRECISIONS", "DTYPES", "MARGIN", "candidates", "native_bf16", "tf32_policy",
           "fp32_matmul", "cpu_capability", "cpu_model", "cache_key", "cuda_capability"]

PRECISIONS = ("fp32", "bf16", "fp16")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
#: A reduced precision / channels_last must be this much faster than the plain choice to be picked.
MARGIN = 1.05


@dataclass
class SpeedPlan:
    """How to run a model on a device: autocast precision, memory format, compilation, and why."""

    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    reason: str = ""
    source: str = "rule"  # "forced", "rule", "probe" or "cache"
    timings: dict = field(default_factory=dict)  # candidate name → img/s measured by the probe
    tf32: dict = field(default_factory=dict)  # the TF32 policy in force when the plan was made (CUDA)

    @property
    def dtype(self) -> torch.dtype:
        return DTYPES[self.precision]

    @property
    def needs_scaler(self) -> bool:
        """fp16 needs a gradient scaler (its range underflows small gradients); bf16 and fp32 do not."""
        return self.precision == "fp16"

    @property
    def name(self) -> str:
        return f"{self.precision} + {'channels_last' if self.channels_last else 'NCHW'}" + \
            (" + compile" if self.compile else "")

    def autocast(self, device) -> contextlib.AbstractContextManager:
        """``torch.autocast`` in the plan's precision on ``device`` (a no-op for fp32)."""
        dev = get_device(device)
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(dev.type, dtype=self.dtype)

    def as_config(self) -> dict:
        """What a checkpoint records of the plan."""
        out = {"precision": self.precision, "channels_last": self.channels_last, "compile": self.compile,
               "source": self.source, "reason": self.reason}
        if self.tf32:
            out["tf32"] = dict(self.tf32)
        return out


def cpu_capability() -> str:
    """``torch.backends.cpu.get_cpu_capability()``: e.g. ``"AVX2"``, ``"AVX512"``, ``"AMX…"``."""
    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except Exception:  # noqa: BLE001 - very old torch or an exotic build: no rule, just measure
        return "unknown"


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``'s), else what ``platform`` says."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cuda_index(dev: torch.device) -> int:
    return dev.index if dev.index is not None else torch.cuda.current_device()


def cuda_capability(device) -> tuple[int, int]:
    """The compute capability ``(major, minor)`` of a CUDA device (e.g. ``(7, 5)`` for a T4, ``(9, 0)`` for an H100)."""
    return tuple(torch.cuda.get_device_capability(_cuda_index(get_device(device))))


def cache_key(device) -> str:
    """What a cached decision depends on: the device (CPU model / GPU name + capability), CPU capability, torch."""
    dev = get_device(device)
    if dev.type == "cuda":
        major, minor = cuda_capability(dev)
        what = f"cuda:{torch.cuda.get_device_name(_cuda_index(dev))} sm{major}{minor}"
    else:  # "cpu:<model>" or "mps:<model>"
        what = f"{dev.type}:{cpu_model()}"
    return f"{what}|{cpu_capability()}|torch {torch.__version__}"


def native_bf16(device) -> bool:
    """Whether ``device`` computes bf16 natively: CUDA compute capability ≥ 8.0 (never emulation)."""
    dev = get_device(device)
    if dev.type != "cuda":
        return False
    return cuda_capability(dev) >= (8, 0)


def tf32_policy() -> dict:
    """The process's TF32 settings: ``{"matmul": bool, "cudnn": bool}`` (what a plan records)."""
    return {"matmul": bool(torch.backends.cuda.matmul.allow_tf32), "cudnn": bool(torch.backends.cudnn.allow_tf32)}


@contextlib.contextmanager
def fp32_matmul():
    """IEEE fp32 matmuls inside (TF32 off for matmuls and cuDNN), the previous policy restored after."""
    before = tf32_policy()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before["matmul"]
        torch.backends.cudnn.allow_tf32 = before["cudnn"]


def candidates(device) -> tuple[list[tuple[str, bool]], str]:
    """The (precision, channels_last) pairs worth timing on ``device``, and the rule that chose them."""
    dev = get_device(device)
    both = (False, True)
    if dev.type == "cuda":
        major, minor = cuda_capability(dev)
        if native_bf16(dev):
            return [("bf16", True)], f"CUDA GPU sm{major}{minor} (≥ 8.0, native bf16): bf16"
        return [("fp16", True)], (f"CUDA GPU sm{major}{minor} (< 8.0, no native bf16): fp16 with a gradient "
                                  "scaler")
    if dev.type == "mps":
        return [(p, cl) for p in ("fp32", "fp16") for cl in both], "Apple GPU: fp32 and fp16 measured"
    cap = cpu_capability()
    if cap.startswith("AMX") or cap.startswith("AVX512"):
        # AVX512 is also what torch reports for CPUs whose oneDNN uses AMX: only a measurement tells
        return [(p, cl) for p in ("fp32", "bf16") for cl in both], f"CPU {cap}: fp32 and bf16 measured"
    return [("fp32", cl) for cl in both], f"CPU {cap}: no native bf16, fp32"


def name_of(precision: str, channels_last: bool) -> str:
    """A candidate's key in the timings: ``fp32``, ``fp32+cl``, ``bf16``, ``bf16+cl``, …"""
    return precision + ("+cl" if channels_last else "")


def split_name(name: str) -> tuple[str, bool]:
    return name.split("+")[0], name.endswith("+cl")


def pick(timings: dict[str, float]) -> tuple[str, bool]:
    """The fastest candidate; every departure from fp32 NCHW (reduced precision, channels_last) must win by MARGIN."""
    def handicap(name):
        precision, cl = split_name(name)
        return MARGIN ** ((precision != "fp32") + cl)
    return split_name(max(timings, key=lambda n: timings[n] / handicap(n)))
