"""Training throughput: every precision / memory format / compile candidate, the kit's default and a plain loop.

    python bench/bench_train.py [--device auto] [--bs 64] [--size 64] [--rounds 3] [--no-compile]

In one run, on the machine that runs it:

* the matmul peak in every dtype the device has (fp32, bf16, fp16); the *highest* is the ceiling;
* a plain fp32 eager PyTorch loop (contiguous NCHW, Adam, MSE) — the baseline;
* every candidate the kit could train with, through the kit's own path (fastai Learner + callbacks),
  timed by :func:`colorlab.training.benchmark.benchmark_training` — the benchmark notebook 11 runs too:
  fp32 / bf16 (/ fp16 where the device has fast kernels) × NCHW / channels_last, and the best
  eager precision with ``torch.compile`` (whose one-off cost and speed-up are recorded in the
  kit's speed cache, so the kit's ``compile="auto"`` decides with this machine's numbers);
* the kit's default (:func:`colorlab.training.speed.speed_plan`: the probe's choice, and compile when it pays
  for itself over a ``--run-images`` run), its ratio to the plain loop and to the best candidate,
  and its fraction of the ceiling.

Each configuration is timed in steady state: ``--rounds`` epochs of 8 batches after a warm-up
epoch (compilation, kernel choice), the best epoch counts — the machine is shared, and a burst
of other work should slow one epoch, not the result. ``--threads 1`` keeps a busy machine from
stalling two-thread runs (everything, the peaks included, then runs on one core). The plain loop
and the peaks are measured again at the end of the run and the best of the two counts; both are
in the JSON, and ``"steady": false`` (with a warning) says they differed by more than 15 % — a busy
machine, figures not to be trusted. The memory bandwidth (a large copy) is the limit of the
memory-bound passes (batch norm, ReLU); the step breakdown says how much of a step they and the
convolutions take, and how fast the convolution kernels alone run. Writes
bench/results/train.json (``--out`` elsewhere).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, matmul_peaks, sync, write  # noqa: E402

from colorlab.core.color import LAB  # noqa: E402
from colorlab.core.device import describe_device, get_device  # noqa: E402
from colorlab.data.loaders import make_dataloaders  # noqa: E402
from colorlab.inference.colorize import colorize  # noqa: E402
from colorlab.models import count_parameters, create  # noqa: E402
from colorlab.training.benchmark import benchmark_training, train_flops, training_speed  # noqa: E402
from colorlab.training.speed import SpeedPlan, candidates, cpu_capability, record_compile, speed_plan  # noqa: E402

__all__ = ["main", "plain_loop", "train_flops"]  # train_flops: bench_gpu.py imports it from here


def plain_loop(model, images, bs, rounds, device, steps_per_round=8) -> float:
    """The baseline: eager fp32 PyTorch, contiguous NCHW, Adam, MSE — img/s (best round)."""
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    model.train()
    n = len(images)

    def step(i):
        idx = np.sort(np.random.default_rng(i).choice(n, bs, replace=False))
        rgb = torch.from_numpy(images[idx]).to(device).permute(0, 3, 1, 2).float() / 255
        L, ab = LAB.split(rgb)
        loss = torch.nn.functional.mse_loss(model(L), ab)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for i in range(3):
        step(i)
    best = 0.0
    for r in range(rounds):
        sync(device)
        t = time.perf_counter()
        for i in range(steps_per_round):
            step(r * steps_per_round + i)
        sync(device)
        best = max(best, steps_per_round * bs / (time.perf_counter() - t))
    return best


def loader_speed(dls, device) -> float:
    t = time.perf_counter()
    k = 0
    for _ in range(2):
        for xb, yb in dls.train:
            k += len(xb)
    sync(device)
    return k / (time.perf_counter() - t)


def colorize_latency(device, size=64) -> float:
    model = create("unet")
    rgb = np.random.default_rng(0).integers(0, 256, (768, 1024, 3), dtype=np.uint8)
    model.work_size = size
    colorize(rgb, model, size=size, device=device)
    t = time.perf_counter()
    for _ in range(3):
        colorize(rgb, model, size=size, device=device)
    return (time.perf_counter() - t) / 3


def _name(plan: SpeedPlan) -> str:
    return plan.name.replace(" + ", "+").replace("channels_last", "cl")


def memory_bandwidth(device, mib: int = 256) -> float:
    """Bytes per second of a large tensor copy (read + write): the roof of the memory-bound passes (batch norm, ReLU)."""
    src = torch.empty(mib * 2**20 // 4, device=device)
    dst = torch.empty_like(src)
    best = 0.0
    for _ in range(5):
        sync(device)
        t = time.perf_counter()
        dst.copy_(src)
        sync(device)
        best = max(best, 2 * src.numel() * 4 / (time.perf_counter() - t))
    return best


CONV_OPS = ("aten::mkldnn_convolution", "aten::convolution_backward", "aten::_convolution",
            "aten::convolution", "aten::conv2d", "aten::conv_transpose2d")
NORM_RELU_OPS = ("aten::native_batch_norm", "aten::native_batch_norm_backward", "aten::threshold_backward",
                 "aten::clamp_min_", "aten::relu_", "aten::relu")


def step_breakdown(plan: SpeedPlan, flops_per_image: float, bs: int, size: int, device, steps: int = 3) -> dict:
    """Where one eager training step of the default U-Net spends its time, by ``torch.profiler`` (self time).

    Splits the step into the convolutions (forward and backward), the batch-norm and ReLU passes
    (memory-bound: a few flops per byte) and the rest, and divides the step's FLOPs (which are all
    in the convolutions) by the convolutions' own time: how close the convolution kernels
    themselves come to the matmul peak. Eager, so each op is one kernel; compiling fuses the
    batch-norm and ReLU passes but leaves the convolution kernels as they are.
    """
    torch.manual_seed(0)
    fmt = torch.channels_last if plan.channels_last else torch.contiguous_format
    model = create("unet").to(device, memory_format=fmt).train()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.randn(bs, 1, size, size, device=device).to(memory_format=fmt)
    y = torch.randn(bs, 2, size, size, device=device)

    def step():
        with plan.autocast(device):
            out = model(x)
        loss = torch.nn.functional.mse_loss(out.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
        sync(device)
    totals = {"conv": 0.0, "norm_relu": 0.0, "other": 0.0}
    for event in prof.key_averages():
        group = "conv" if event.key in CONV_OPS else "norm_relu" if event.key in NORM_RELU_OPS else "other"
        totals[group] += event.self_cpu_time_total / 1e6  # seconds
    step_s = sum(totals.values()) / steps
    conv_s = totals["conv"] / steps
    return {"plan": plan.name + " (eager)", "step_ms": round(step_s * 1e3, 1),
            "share": {k: round(v / steps / step_s, 3) for k, v in totals.items()},
            "conv_tflops": round(flops_per_image * bs / conv_s / 1e12, 3)}


def _steady(first: float, second: float) -> bool:
    """Two measurements of the same thing, at the start and at the end of the run, within 15 % of each other."""
    return min(first, second) >= 0.85 * max(first, second)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--rounds", type=int, default=3, help="timed epochs of 8 batches per configuration (best counts)")
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile candidates")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads for everything, peaks included (0: torch's default; 1 is steadier on a busy "
                         "shared machine, where threads that share cores with other programs wait for each other)")
    ap.add_argument("--run-images", type=int, default=200_000,
                    help="length of the run the kit's default is chosen for (images × epochs; default: 20 epochs "
                         "of 10,000 images)")
    ap.add_argument("--out", default=None, help="where to write the JSON (default: bench/results/train.json)")
    args = ap.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    dev = get_device(args.device)
    load_start = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    images = np.random.default_rng(0).integers(0, 256, (args.bs * 8, args.size, args.size, 3), dtype=np.uint8)
    torch.manual_seed(0)
    model = create("unet").to(dev)

    plain = plain_loop(create("unet").to(dev), images, args.bs, args.rounds, dev)
    plain_first = plain
    print(f"plain fp32 eager loop: {plain:.1f} img/s", flush=True)

    # the kit's own choice first (its probe, or the cached decision), so the probe runs on a quiet process
    t = time.perf_counter()
    eager_default = speed_plan(dev, precision="auto", compile="off")
    probe_s = time.perf_counter() - t

    # every eager candidate through the kit's path: the benchmark notebook 11 runs too
    cands, rule = candidates(dev)
    plans = {_name(SpeedPlan(p, cl)): SpeedPlan(p, cl) for p, cl in cands}
    bench = benchmark_training(images, plans, valid=images[:args.bs], bs=args.bs, rounds=args.rounds, device=dev)
    print(bench.table(), flush=True)
    flops, peaks = bench.flops_per_image, bench.peaks
    ceiling_dtype, ceiling = bench.ceiling_dtype, bench.ceiling
    runs, warmups = dict(bench.img_per_s), dict(bench.warmup_s)
    if not args.no_compile:
        best_eager = max(runs, key=runs.get)
        for precision in dict.fromkeys([best_eager.split("+")[0], "fp32"]):
            plan = SpeedPlan(precision, True, compile=True)
            eager = runs[_name(SpeedPlan(precision, True))]
            try:
                runs[_name(plan)], warmups[_name(plan)] = training_speed(plan, images, images[:args.bs], args.bs,
                                                                         args.rounds, dev)
            except Exception as e:  # noqa: BLE001 - no compiler, unsupported op: the candidate just drops out
                print(f"{plan.name}: failed ({type(e).__name__}: {e})", flush=True)
                continue
            print(f"{plan.name}: {runs[_name(plan)]:.1f} img/s, warm-up {warmups[_name(plan)]:.0f} s", flush=True)
            if precision == eager_default.precision:
                cost = max(0.0, warmups[_name(plan)] - warmups[_name(SpeedPlan(precision, True))])
                record_compile(dev, runs[_name(plan)] / eager, cost)

    # the baseline and the ceiling once more at the end: on a shared machine a burst of other work during
    # either first measurement would flatter every ratio; the best of the two counts, and both are reported
    plain_again = plain_loop(create("unet").to(dev), images, args.bs, args.rounds, dev)
    peaks_again = matmul_peaks(dev)
    print(f"plain fp32 eager loop again: {plain_again:.1f} img/s", flush=True)
    steady = _steady(plain, plain_again) and all(_steady(peaks[k], peaks_again.get(k, 0.0)) for k in peaks)
    if not steady:
        print("WARNING: the baseline or the peaks changed by more than 15 % during the run: the machine was busy, "
              "these figures are not reliable; run again on a quiet machine (or with --threads 1)", flush=True)
    plain = max(plain, plain_again)
    peaks = {k: max(v, peaks_again.get(k, 0.0)) for k, v in peaks.items()}
    ceiling_dtype = max(peaks, key=peaks.get)
    ceiling = peaks[ceiling_dtype]
    bandwidth = memory_bandwidth(dev)
    breakdown = step_breakdown(SpeedPlan(eager_default.precision, eager_default.channels_last), flops, args.bs,
                               args.size, dev) if dev.type == "cpu" else None
    if breakdown:
        print(f"one {breakdown['plan']} step: {breakdown['step_ms']} ms; shares {breakdown['share']}; "
              f"the convolutions alone run at {breakdown['conv_tflops']} TFLOP/s", flush=True)

    default = speed_plan(dev, precision="auto", compile="auto", run_images=args.run_images, size=args.size)
    short = speed_plan(dev, precision="auto", compile="auto", run_images=20 * 2_000, size=args.size)
    kit = runs[_name(default)] if _name(default) in runs else \
        training_speed(default, images, images[:args.bs], args.bs, args.rounds, dev)[0]
    best_name = max(runs, key=runs.get)
    achieved = kit * flops
    loader = loader_speed(make_dataloaders(images, images[:args.bs], bs=args.bs, device=dev), dev)
    result = {
        "device": describe_device(dev), **machine(), "cpu_capability": cpu_capability(),
        "load_average_start": load_start,
        "load_average": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "steady": steady,
        "model": "unet (default)", "parameters": count_parameters(model), "batch": args.bs, "size": args.size,
        "train_flops_per_image": flops,
        "matmul_peak_tflops": {k: round(v / 1e12, 3) for k, v in peaks.items()},
        "matmul_peak_tflops_runs": [{k: round(v / 1e12, 3) for k, v in bench.peaks.items()},
                                    {k: round(v / 1e12, 3) for k, v in peaks_again.items()}],
        "ceiling_dtype": ceiling_dtype,
        "memory_bandwidth_gb_s": round(bandwidth / 1e9, 1),
        "plain_fp32_img_per_s": round(plain, 1),
        "plain_fp32_img_per_s_runs": [round(plain_first, 1), round(plain_again, 1)],
        "candidates_img_per_s": {k: round(v, 1) for k, v in runs.items()},
        "candidates_warmup_s": {k: round(v, 1) for k, v in warmups.items()},
        "rule": rule,
        "kit_default": {"plan": default.name, "for_run_images": args.run_images, "probe_s": round(probe_s, 1),
                        "reason": default.reason, "source": eager_default.source},
        "kit_default_short_run": {"plan": short.name, "for_run_images": 20 * 2_000},
        "kit_img_per_s": round(kit, 1),
        "best_candidate": best_name,
        "best_candidate_img_per_s": round(runs[best_name], 1),
        "speedup": round(kit / plain, 2),
        "ratio_to_best_candidate": round(kit / runs[best_name], 3),
        "kit_achieved_tflops": round(achieved / 1e12, 3),
        "fraction_of_peak": round(achieved / ceiling, 3),
        "step_breakdown": breakdown,
        "conv_fraction_of_peak": round(breakdown["conv_tflops"] * 1e12 / ceiling, 3) if breakdown else None,
        "loader_img_per_s": round(loader, 1),
        "loader_over_training": round(loader / kit, 1),
        "colorize_1024x768_s": round(colorize_latency(dev), 3),
        "timing": f"steady state: best of {args.rounds} epochs of 8 batches after a warm-up epoch",
    }
    speedup_target = 1.35 if cpu_capability() == "AVX512" and dev.type == "cpu" else 1.0
    if peaks.get("bf16", 0) >= 4 * peaks.get("fp32", float("inf")):
        speedup_target = 3.0
    result["targets"] = {
        "ratio_to_best_candidate": {"target": 0.9, "met": kit >= 0.9 * runs[best_name]},
        "speedup": {"target": speedup_target, "met": kit / plain >= speedup_target},
        "fraction_of_peak": {"target": 0.5, "met": achieved / ceiling >= 0.5},
        "colorize_1024x768_s": {"target": 1.0, "met": result["colorize_1024x768_s"] <= 1.0},
        "loader_over_training": {"target": 4.0, "met": loader / kit >= 4.0},
    }
    write("train", result, args.out)


if __name__ == "__main__":
    main()
