"""The fastest way to train on *this* machine: precision, memory format and ``torch.compile``, chosen by measurement.

CPUs differ: with AMX a bf16 convolution is several times faster than fp32; on an AVX-512 CPU
without it bf16 is *slower* than fp32, and fp16 convolutions on a CPU can take a minute a step.
So the kit never hard-codes a precision. On first use on a device it

1. applies a rule from what the device is (CPU capability, GPU generation) to list the candidates
   worth trying — fp32 / bf16 (/ fp16 where the device has fast kernels) × NCHW / channels_last;
2. times a few training steps of a representative model (the kit's default U-Net, 16 images of
   64×64) for each candidate, every candidate under a time limit (:func:`probe`, a few seconds);
3. picks the fastest (reduced precision and channels_last only when they win by a margin), and
   caches the decision in ``$COLORLAB_HOME/speed.json`` keyed by the device, the CPU capability
   and the torch version, so the probe runs once per machine.

``torch.compile`` is decided per run (:func:`compile_pays`): it costs tens of seconds up front
and pays for itself only when the run is long enough.

Overrides, strongest first: the explicit argument (``train_colorizer(precision="bf16")``, the
CLI's ``--precision``), then the ``COLORLAB_PRECISION`` / ``COLORLAB_COMPILE`` environment
variables (the test suite pins ``fp32``), then the measured choice. Evaluation and metrics never
use this: they stay fp32 so that numbers do not depend on the machine. Measuring a plan at full size
is :mod:`colorlab.training.benchmark`.

    >>> plan = speed_plan("cpu")          # doctest: +SKIP
    colorlab: training in bf16 + channels_last on cpu (AVX512, …): measured 207 img/s vs fp32 NCHW 72 …
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from colorlab.core.config import home
from colorlab.core.checkpoint import atomic_write
from colorlab.core.device import get_device, sync
from colorlab.core.errors import ColorlabError
from colorlab.models import create

__all__ = ["SpeedPlan", "speed_plan", "autocast_dtype", "probe", "candidates", "compile_pays", "record_compile",
           "cache_key", "cpu_capability", "cpu_model", "PRECISIONS", "DTYPES"]

PRECISIONS = ("fp32", "bf16", "fp16")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
#: A reduced precision / channels_last must be this much faster than the plain choice to be picked.
MARGIN = 1.05
#: Without a measurement in the cache: (speed-up of a compiled step, seconds to compile) per device type.
COMPILE_GUESS = {"cpu": (1.10, 45.0), "cuda": (1.30, 60.0)}
_SAID: set[str] = set()  # lines already printed by this process (say it once, not at every Learner)


@dataclass
class SpeedPlan:
    """How to run a model on a device: autocast precision, memory format, compilation, and why."""

    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    reason: str = ""
    source: str = "rule"  # "forced", "rule", "probe" or "cache"
    timings: dict = field(default_factory=dict)  # candidate name → img/s measured by the probe

    @property
    def dtype(self) -> torch.dtype:
        return DTYPES[self.precision]

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
        return {"precision": self.precision, "channels_last": self.channels_last, "compile": self.compile,
                "source": self.source, "reason": self.reason}


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


def cache_key(device) -> str:
    """What a cached decision depends on: the device (CPU model / GPU name), CPU capability, torch version."""
    dev = get_device(device)
    if dev.type == "cuda":
        idx = dev.index if dev.index is not None else torch.cuda.current_device()
        what = f"cuda:{torch.cuda.get_device_name(idx)}"
    else:  # "cpu:<model>" or "mps:<model>"
        what = f"{dev.type}:{cpu_model()}"
    return f"{what}|{cpu_capability()}|torch {torch.__version__}"


def candidates(device) -> tuple[list[tuple[str, bool]], str]:
    """The (precision, channels_last) pairs worth timing on ``device``, and the rule that chose them."""
    dev = get_device(device)
    both = (False, True)
    if dev.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return [("bf16", True)], "CUDA GPU with bf16 (Ampere or newer): bf16"
        return [("fp16", True)], "CUDA GPU without bf16: fp16 with a gradient scaler"
    if dev.type == "mps":
        return [(p, cl) for p in ("fp32", "fp16") for cl in both], "Apple GPU: fp32 and fp16 measured"
    cap = cpu_capability()
    if cap.startswith("AMX") or cap.startswith("AVX512"):
        # AVX512 is also what torch reports for CPUs whose oneDNN uses AMX: only a measurement tells
        return [(p, cl) for p in ("fp32", "bf16") for cl in both], f"CPU {cap}: fp32 and bf16 measured"
    return [("fp32", cl) for cl in both], f"CPU {cap}: no native bf16, fp32"


def _probe_model(in_channels: int = 1) -> torch.nn.Module:
    return create("unet", in_channels=in_channels)  # the kit's default model: 4 levels of conv-BN-ReLU


def _step_seconds(model, x, y, opt, precision: str, device) -> float:
    t = time.perf_counter()
    with SpeedPlan(precision).autocast(device):
        out = model(x)
    loss = torch.nn.functional.mse_loss(out.float(), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    sync(device)
    return time.perf_counter() - t


def _tiny_conv_seconds(dtype: torch.dtype, device) -> float:
    """A tiny conv forward+backward in ``dtype``: the guard that keeps a pathologically slow dtype out."""
    conv = torch.nn.Conv2d(16, 16, 3, padding=1).to(device)
    x = torch.randn(2, 16, 16, 16, device=device, requires_grad=True)
    best = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
            conv(x).float().sum().backward()
        best = min(best, time.perf_counter() - t)
    return best


def probe(device, cands: list[tuple[str, bool]], bs: int = 16, size: int = 64, rounds: int = 3,
          limit_s: float = 3.0, warmup_limit_s: float = 6.0, budget_s: float = 20.0) -> dict[str, float]:
    """Training throughput (img/s) of each candidate on a representative model; 0 for one that was too slow.

    A reduced precision whose tiny conv is 10× slower than fp32's never runs a real step. The
    first step of each candidate is a warm-up (kernel selection); one that takes longer than
    ``warmup_limit_s``, or a timed step longer than ``limit_s``, drops the candidate, and the
    whole probe stops after ``budget_s``. The candidates take turns for ``rounds`` timed steps
    and keep their best, so a burst of load from other programs hits all of them rather than one.
    On a CPU the probe runs on one thread: the candidates rank alike, and a busy machine cannot
    stall it (two OpenMP threads that share their cores with other programs wait for each other).
    ``timings["noisy"]`` is 1 when a candidate dropped out or its two best steps differ by more
    than 40 % (the result is then not cached).
    """
    dev = get_device(device)
    threads = torch.get_num_threads()
    if dev.type == "cpu":
        torch.set_num_threads(1)
    try:
        return _probe_steps(dev, cands, bs, size, rounds, limit_s, warmup_limit_s, time.perf_counter() + budget_s)
    finally:
        torch.set_num_threads(threads)


@torch.enable_grad()  # it times training steps, also when asked from inside no_grad (the painter)
def _probe_steps(dev, cands, bs, size, rounds, limit_s, warmup_limit_s, deadline) -> dict[str, float]:
    torch.manual_seed(0)
    x = torch.randn(bs, 1, size, size, device=dev)
    y = torch.randn(bs, 2, size, size, device=dev)
    fp32_tiny = _tiny_conv_seconds(torch.float32, dev)
    out, runs, noisy = {}, {}, False
    for precision, cl in cands:
        name = _name(precision, cl)
        out[name] = 0.0
        if time.perf_counter() > deadline:
            noisy = True
            continue
        if precision != "fp32" and _tiny_conv_seconds(DTYPES[precision], dev) > 10 * fp32_tiny + 1e-3:
            continue
        model = _probe_model().to(dev)
        xb = x
        if cl:
            model = model.to(memory_format=torch.channels_last)
            xb = x.contiguous(memory_format=torch.channels_last)
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        if _step_seconds(model, xb, y, opt, precision, dev) <= warmup_limit_s:
            runs[name] = (model, xb, opt, precision)
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, (model, xb, opt, precision) in list(runs.items()):
            times[name].append(_step_seconds(model, xb, y, opt, precision, dev))
            if times[name][-1] > limit_s:
                del runs[name], times[name]
                noisy = True  # fast enough to warm up, too slow to time: something else is using the machine
        if time.perf_counter() > deadline:
            noisy = True
            break
    for name, ts in times.items():
        ts.sort()
        out[name] = round(bs / ts[0], 1)
        noisy |= len(ts) > 1 and ts[1] > 1.4 * ts[0]
    return {**out, "noisy": int(noisy)} if noisy else out


def _name(precision: str, channels_last: bool) -> str:
    """A candidate's key in the timings: ``fp32``, ``fp32+cl``, ``bf16``, ``bf16+cl``, …"""
    return precision + ("+cl" if channels_last else "")


def _split(name: str) -> tuple[str, bool]:
    return name.split("+")[0], name.endswith("+cl")


def _pick(timings: dict[str, float]) -> tuple[str, bool]:
    """The fastest candidate; every departure from fp32 NCHW (reduced precision, channels_last) must win by MARGIN."""
    def handicap(name):
        precision, cl = _split(name)
        return MARGIN ** ((precision != "fp32") + cl)
    return _split(max(timings, key=lambda n: timings[n] / handicap(n)))


def _cache_path():
    return home() / "speed.json"


def _read_cache() -> dict:
    try:
        return json.loads(_cache_path().read_text())
    except (OSError, ValueError):
        return {}


def _write_cache(key: str, entry: dict) -> None:
    data = _read_cache()
    data[key] = {**data.get(key, {}), **entry}
    try:
        atomic_write(_cache_path(), lambda tmp: Path(tmp).write_text(json.dumps(data, indent=2) + "\n"))
    except OSError:  # a read-only home: the decision is just not remembered
        pass


def record_compile(device, speedup: float, seconds: float) -> None:
    """Remember a measured compile speed-up and cost for this device (``bench/bench_train.py`` does).

    Kept per torch thread count: compiling fuses away per-op overhead, which weighs more on one thread.
    """
    key = cache_key(device)
    entry = _read_cache().get(key, {}).get("compile", {})
    entry = entry if isinstance(entry, dict) and "speedup" not in entry else {}
    entry[str(torch.get_num_threads())] = {"speedup": round(float(speedup), 3), "seconds": round(float(seconds), 1)}
    _write_cache(key, {"compile": entry})


def compile_pays(device, run_seconds: float | None) -> tuple[bool, str]:
    """Whether ``torch.compile`` saves more than it costs over a run of about ``run_seconds`` (eager)."""
    dev = get_device(device)
    if run_seconds is None:
        return False, "run length unknown"
    if dev.type not in COMPILE_GUESS:
        return False, f"no compile on {dev.type}"
    if dev.type == "cpu" and not any(shutil.which(c) for c in ("c++", "g++", "clang++")):
        return False, "no C++ compiler for torch.compile"
    measured = _read_cache().get(cache_key(dev), {}).get("compile", {}).get(str(torch.get_num_threads()))
    speedup, cost = (measured["speedup"], measured["seconds"]) if measured else COMPILE_GUESS[dev.type]
    saving = run_seconds * (1 - 1 / speedup) if speedup > 1 else 0.0
    how = "measured" if measured else "typical"
    return saving > 1.5 * cost, (f"compile ({how} {speedup:.2f}×, ~{cost:.0f} s) would save ~{saving:.0f} s "
                                 f"of a ~{run_seconds:.0f} s run")


def _env(name: str) -> str | None:
    v = os.environ.get(name, "").strip().lower()
    return v or None


def _normalise_compile(compile) -> str:
    if compile is None:
        compile = _env("COLORLAB_COMPILE") or "auto"
    if compile is True or compile in ("on", "true", "1", "yes"):
        return "on"
    if compile is False or compile in ("off", "false", "0", "no"):
        return "off"
    if compile == "auto":
        return "auto"
    raise ColorlabError(f"compile must be 'auto', 'on' or 'off', got {compile!r}")


def speed_plan(device="auto", precision: str | None = None, channels_last: bool | None = None,
               compile: bool | str | None = None, run_images: int | None = None, size: int = 64,
               verbose: bool = True, log=print) -> SpeedPlan:
    """Decide how to train on ``device``; print one line saying what and why.

    Args:
        precision: ``"auto"`` (measure), ``"fp32"``, ``"bf16"`` or ``"fp16"``; None: ``$COLORLAB_PRECISION`` or auto.
        channels_last: force the memory format (None: the measured one; with a forced precision
            and nothing measured yet, channels_last as the rule says).
        compile: ``"auto"`` (when it pays for itself over the run), ``"on"``/True, ``"off"``/False;
            None: ``$COLORLAB_COMPILE`` or auto.
        run_images: images the run will train on (epochs × training set), at ``size`` × ``size``;
            ``compile="auto"`` needs it to estimate the run's length.
    """
    dev = get_device(device)
    precision = precision or _env("COLORLAB_PRECISION") or "auto"
    if precision not in ("auto", *PRECISIONS):
        raise ColorlabError(f"precision must be one of auto, {', '.join(PRECISIONS)}; got {precision!r}")
    compile = _normalise_compile(compile)
    key = cache_key(dev)
    cached = _read_cache().get(key, {})
    cands, rule = candidates(dev)

    if precision != "auto":
        layouts = {n: v for n, v in cached.get("timings", {}).items() if _split(n)[0] == precision and v > 0}
        cl = _pick(layouts)[1] if layouts else any(c for _, c in cands)
        plan = SpeedPlan(precision, cl, source="forced", timings=cached.get("timings", {}),
                         reason=f"{precision} asked for")
        if precision == "fp16" and dev.type == "cpu":
            warnings.warn("fp16 on a CPU: convolutions can be very slow (a minute a step); bf16 or fp32 are safer")
    elif "precision" in cached:
        plan = SpeedPlan(cached["precision"], cached["channels_last"], source="cache", timings=cached["timings"],
                         reason=cached["reason"])
    else:
        if len(cands) == 1:
            timings, (p, cl), noisy = {}, cands[0], False
            reason = rule
            source = "rule"
        else:
            t0 = time.perf_counter()
            timings = probe(dev, cands)
            noisy = bool(timings.pop("noisy", 0)) or not any(timings.values())
            ranked = ", ".join(f"{n} {v:.0f}" for n, v in sorted(timings.items(), key=lambda kv: -kv[1]))
            reason = f"{rule}; probe ({time.perf_counter() - t0:.1f} s, img/s): {ranked}"
            if any(timings.values()):
                p, cl = _pick(timings)
                if timings.get("fp32"):
                    reason += f"; {timings[_name(p, cl)] / timings['fp32']:.2f}× fp32 NCHW"
            else:  # nothing could be timed within the limits: the kit's long-standing default, fp32 + channels_last
                p, cl = "fp32", True
                reason += "; no candidate finished within its time limit, fp32 + channels_last"
            if noisy:
                reason += " (timings disturbed by other work: not cached, measured again next time)"
            source = "probe"
        if not noisy:
            _write_cache(key, {"precision": p, "channels_last": cl, "timings": timings, "reason": reason})
        plan = SpeedPlan(p, cl, source=source, timings=timings, reason=reason)
    if channels_last is not None:
        plan = replace(plan, channels_last=bool(channels_last))

    if compile == "auto":
        best = plan.timings.get(_name(plan.precision, plan.channels_last), 0.0)
        if dev.type == "cpu":  # the probe ran on one thread: assume training scales with its threads (a short guess)
            best *= torch.get_num_threads()
        secs = run_images * (size / 64) ** 2 / best if (run_images and best) else None
        plan.compile, why = compile_pays(dev, secs)
    else:
        plan.compile, why = compile == "on", f"compile {compile} asked for"
    where = cpu_capability() if dev.type == "cpu" else key.split("|")[0]
    line = f"colorlab: training in {plan.name} on {dev.type} ({where}), {plan.source}: {plan.reason}; {why}"
    if verbose and line not in _SAID:
        _SAID.add(line)
        log(line)
    return plan


def autocast_dtype(device) -> torch.dtype | None:
    """The reduced-precision dtype the kit trains and infers in on ``device`` (None: stay fp32).

    Not a fixed rule: :func:`speed_plan` measures it once per machine (bf16 where it is faster, e.g.
    CPUs whose convolutions use AMX; fp32 on an AVX-512 CPU without it; bf16 on Ampere+ GPUs, fp16
    before) and caches the answer; ``$COLORLAB_PRECISION`` pins it.
    """
    plan = speed_plan(device, compile="off", verbose=False)
    return None if plan.precision == "fp32" else plan.dtype
