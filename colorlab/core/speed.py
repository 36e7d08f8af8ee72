"""The fastest way to run on *this* machine: precision, memory format and ``torch.compile``, chosen by measurement.

CPUs differ: with AMX a bf16 convolution is several times faster than fp32; on an AVX-512 CPU
without it bf16 is *slower* than fp32, and fp16 convolutions on a CPU can take a minute a step.
So the kit never hard-codes a precision. On first use on a device it

1. applies the rule of :mod:`colorlab.core.precision` to list the candidates worth trying —
   fp32 / bf16 (/ fp16 where the device has fast kernels) × NCHW / channels_last;
2. times a few training steps of a representative model (a 4-level conv-BN-ReLU U-Net like the
   kit's default, 16 images of 64×64) for each candidate, every candidate under a time limit
   (:func:`probe`, a few seconds);
3. picks the fastest (reduced precision and channels_last only when they win by a margin), and
   caches the decision in ``$COLORLAB_HOME/speed.json`` keyed by the device, the CPU capability
   and the torch version, so the probe runs once per machine.

``torch.compile`` is decided per run (:func:`compile_pays`) from the probe's throughput: it costs tens
of seconds up front and pays for itself only when the run is long enough. Where the rule leaves a
single candidate (a GPU) that candidate is still timed briefly, so that ``compile="auto"`` can decide.

Overrides, strongest first: the explicit argument (``train_colorizer(precision="bf16")``, the
CLI's ``--precision``), then the ``COLORLAB_PRECISION`` / ``COLORLAB_COMPILE`` environment
variables (the test suite pins ``fp32``), then the measured choice. Evaluation and metrics never
use this: they stay fp32 so that numbers do not depend on the machine.

    >>> plan = speed_plan("cpu")          # doctest: +SKIP
    colorlab: training in bf16 + channels_last on cpu (AVX512, …): measured 207 img/s vs fp32 NCHW 72 …
"""
from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from colorlab.core import precision as rule
from colorlab.core.checkpoint import atomic_write
from colorlab.core.config import home
from colorlab.core.device import get_device, sync
from colorlab.core.errors import ColorlabError
from colorlab.core.precision import DTYPES, PRECISIONS, SpeedPlan, name_of, pick, split_name

__all__ = ["speed_plan", "cached_plan", "autocast_dtype", "probe", "compile_pays", "record_compile", "COMPILE_GUESS"]

#: Without a measurement in the cache: (speed-up of a compiled step, seconds to compile) per device type.
COMPILE_GUESS = {"cpu": (1.10, 45.0), "cuda": (1.30, 60.0)}
_SAID: set[str] = set()  # lines already printed by this process (say it once, not at every Learner)


class _ProbeNet(nn.Module):
    """A small U-Net (conv-BN-ReLU, ``depth`` levels, skips): representative of the kit's colorizers' kernels."""

    def __init__(self, in_channels: int = 1, base: int = 32, depth: int = 4):
        super().__init__()
        chans = [base * 2 ** i for i in range(depth)]

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))
        self.down = nn.ModuleList(block(c0, c1) for c0, c1 in zip([in_channels] + chans[:-1], chans))
        self.up = nn.ModuleList(block(c1 + c0, c0) for c0, c1 in zip(chans[:-1][::-1], chans[1:][::-1]))
        self.out = nn.Conv2d(chans[0], 2, 1)

    def forward(self, x):
        skips = []
        for i, blk in enumerate(self.down):
            x = blk(x if i == 0 else nn.functional.max_pool2d(x, 2))
            skips.append(x)
        for blk, skip in zip(self.up, skips[-2::-1]):
            x = blk(torch.cat([nn.functional.interpolate(x, size=skip.shape[-2:]), skip], 1))
        return torch.tanh(self.out(x))


def _probe_model(in_channels: int = 1) -> nn.Module:
    return _ProbeNet(in_channels)


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
        sync(device)
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
    stall it. ``timings["noisy"]`` is 1 when a candidate dropped out or its two best steps differ
    by more than 40 % (the result is then not cached).
    """
    dev = get_device(device)
    threads = torch.get_num_threads()
    if dev.type == "cpu":
        torch.set_num_threads(1)
    try:
        return _probe_steps(dev, cands, (bs, size, rounds), (limit_s, warmup_limit_s), time.perf_counter() + budget_s)
    finally:
        torch.set_num_threads(threads)


@torch.enable_grad()  # it times training steps, also when asked from inside no_grad (the painter)
def _probe_steps(dev, cands, shape, limits, deadline) -> dict[str, float]:
    (bs, size, rounds), (limit_s, warmup_limit_s) = shape, limits
    torch.manual_seed(0)
    x = torch.randn(bs, 1, size, size, device=dev)
    y = torch.randn(bs, 2, size, size, device=dev)
    fp32_tiny = _tiny_conv_seconds(torch.float32, dev)
    out, runs, noisy = {}, {}, False
    for prec, cl in cands:
        name = name_of(prec, cl)
        out[name] = 0.0
        if time.perf_counter() > deadline:
            noisy = True
            continue
        if prec != "fp32" and _tiny_conv_seconds(DTYPES[prec], dev) > 10 * fp32_tiny + 1e-3:
            continue
        model = _probe_model().to(dev)
        xb = x
        if cl:
            model = model.to(memory_format=torch.channels_last)
            xb = x.contiguous(memory_format=torch.channels_last)
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        if _step_seconds(model, xb, y, opt, prec, dev) <= warmup_limit_s:
            runs[name] = (model, xb, opt, prec)
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, (model, xb, opt, prec) in list(runs.items()):
            times[name].append(_step_seconds(model, xb, y, opt, prec, dev))
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


def cached_plan(device) -> SpeedPlan | None:
    """The plan measured earlier on this device (``$COLORLAB_HOME/speed.json``), without measuring; None if none.

    For inference: one photo takes less time than the probe, so colorizing uses what training measured, else fp32.
    """
    cached = _read_cache().get(rule.cache_key(get_device(device)), {})
    if "precision" not in cached:
        return None
    return SpeedPlan(cached["precision"], cached["channels_last"], source="cache", timings=cached.get("timings", {}),
                     reason=cached.get("reason", ""))


def record_compile(device, speedup: float, seconds: float) -> None:
    """Remember a measured compile speed-up and cost for this device (``bench/bench_train.py`` does).

    Kept per torch thread count: compiling fuses away per-op overhead, which weighs more on one thread.
    """
    key = rule.cache_key(device)
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
    measured = _read_cache().get(rule.cache_key(dev), {}).get("compile", {}).get(str(torch.get_num_threads()))
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


def _measured_plan(dev, key: str, cands, why: str) -> SpeedPlan:
    """Probe the candidates (or take the rule's only one), cache an undisturbed result, return the plan."""
    if len(cands) == 1:
        (p, cl), timings, noisy, reason, source = cands[0], {}, False, why, "rule"
    else:
        t0 = time.perf_counter()
        timings = probe(dev, cands)
        noisy = bool(timings.pop("noisy", 0)) or not any(timings.values())
        ranked = ", ".join(f"{n} {v:.0f}" for n, v in sorted(timings.items(), key=lambda kv: -kv[1]))
        reason, source = f"{why}; probe ({time.perf_counter() - t0:.1f} s, img/s): {ranked}", "probe"
        if any(timings.values()):
            p, cl = pick(timings)
            if timings.get("fp32"):
                reason += f"; {timings[name_of(p, cl)] / timings['fp32']:.2f}× fp32 NCHW"
        else:  # nothing could be timed within the limits: the kit's long-standing default, fp32 + channels_last
            p, cl = "fp32", True
            reason += "; no candidate finished within its time limit, fp32 + channels_last"
        if noisy:
            reason += " (timings disturbed by other work: not cached, measured again next time)"
    if not noisy:
        _write_cache(key, {"precision": p, "channels_last": cl, "timings": timings, "reason": reason})
    return SpeedPlan(p, cl, source=source, timings=timings, reason=reason)


def _throughput(dev, key: str, plan: SpeedPlan) -> float:
    """img/s of the plan's candidate: measured before, else a short probe of it alone (then remembered)."""
    name = name_of(plan.precision, plan.channels_last)
    if plan.timings.get(name):
        return plan.timings[name]
    timed = probe(dev, [(plan.precision, plan.channels_last)], rounds=2, budget_s=10.0)
    noisy = timed.pop("noisy", 0)
    plan.timings = {**plan.timings, **timed}
    if timed.get(name) and not noisy:
        _write_cache(key, {"timings": {**_read_cache().get(key, {}).get("timings", {}), **timed}})
    return timed.get(name, 0.0)


def speed_plan(device="auto", precision: str | None = None, channels_last: bool | None = None,
               compile: bool | str | None = None, run_images: int | None = None, size: int = 64,
               verbose: bool = True, log=print) -> SpeedPlan:
    """Decide how to run on ``device``; print one line saying what and why.

    Args:
        precision: ``"auto"`` (measure), ``"fp32"``, ``"bf16"`` or ``"fp16"``; None: ``$COLORLAB_PRECISION`` or auto.
        channels_last: force the memory format (None: the measured one; with a forced precision
            and nothing measured yet, channels_last as the rule says).
        compile: ``"auto"`` (when it pays for itself over the run), ``"on"``/True, ``"off"``/False;
            None: ``$COLORLAB_COMPILE`` or auto.
        run_images: images the run will train on (epochs × training set), at ``size`` × ``size``;
            ``compile="auto"`` needs it to estimate the run's length (from the probe's throughput).
    """
    dev = get_device(device)
    precision = precision or _env("COLORLAB_PRECISION") or "auto"
    if precision not in ("auto", *PRECISIONS):
        raise ColorlabError(f"precision must be one of auto, {', '.join(PRECISIONS)}; got {precision!r}")
    compile = _normalise_compile(compile)
    key = rule.cache_key(dev)
    cached = _read_cache().get(key, {})
    cands, why = rule.candidates(dev)

    if precision != "auto":
        layouts = {n: v for n, v in cached.get("timings", {}).items() if split_name(n)[0] == precision and v > 0}
        cl = pick(layouts)[1] if layouts else any(c for _, c in cands)
        plan = SpeedPlan(precision, cl, source="forced", timings=cached.get("timings", {}),
                         reason=f"{precision} asked for")
        if precision == "fp16" and dev.type == "cpu":
            warnings.warn("fp16 on a CPU: convolutions can be very slow (a minute a step); bf16 or fp32 are safer")
    elif "precision" in cached:
        plan = SpeedPlan(cached["precision"], cached["channels_last"], source="cache", timings=cached["timings"],
                         reason=cached["reason"])
    else:
        plan = _measured_plan(dev, key, cands, why)
    if channels_last is not None:
        plan = replace(plan, channels_last=bool(channels_last))
    if dev.type == "cuda":
        plan.tf32 = rule.tf32_policy()

    if compile == "auto":
        best = _throughput(dev, key, plan) if run_images else 0.0
        if dev.type == "cpu":  # the probe ran on one thread: assume training scales with its threads (a short guess)
            best *= torch.get_num_threads()
        secs = run_images * (size / 64) ** 2 / best if (run_images and best) else None
        plan.compile, how = compile_pays(dev, secs)
    else:
        plan.compile, how = compile == "on", f"compile {compile} asked for"
    where = rule.cpu_capability() if dev.type == "cpu" else key.split("|")[0]
    tf32 = f"; TF32 matmul {'on' if plan.tf32['matmul'] else 'off'}" if plan.tf32 else ""
    line = f"colorlab: training in {plan.name} on {dev.type} ({where}), {plan.source}: {plan.reason}{tf32}; {how}"
    if verbose and line not in _SAID:
        _SAID.add(line)
        log(line)
    return plan


def autocast_dtype(device) -> torch.dtype | None:
    """The reduced-precision dtype the kit trains and infers in on ``device`` (None: stay fp32).

    Not a fixed rule: :func:`speed_plan` measures it once per machine (bf16 where it is faster, e.g.
    CPUs whose convolutions use AMX; fp32 on an AVX-512 CPU without it; bf16 on GPUs with native bf16,
    compute capability ≥ 8.0; fp16 before) and caches the answer; ``$COLORLAB_PRECISION`` pins it.
    """
    plan = speed_plan(device, compile="off", verbose=False)
    return None if plan.precision == "fp32" else plan.dtype
