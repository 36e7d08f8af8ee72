"""Training throughput on a GPU (or whatever device runs it): steady-state img/s and the share of the matmul peak.

    python bench/bench_gpu.py [--device auto] [--bs 64] [--size 64] [--images 1024] [--rounds 3] [--compile]
                              [--allow-cpu] [--out PATH]

Every number comes from the kit's own :func:`colorlab.training.benchmark.benchmark_training`
(:func:`~colorlab.training.benchmark.training_speed`): the fastai ``Learner`` of a real run with the
kit's speed callbacks, one warm-up epoch, then the fastest of ``--rounds`` epochs, timing only the
steady-state training steps (no DataLoader start-up, no validation). Plans: fp32 NCHW, and the kit's
own choice for the device (:func:`colorlab.core.speed.speed_plan`: bf16 + channels_last from compute
capability 8.0, fp16 + gradient scaler below), optionally compiled. Each is reported as img/s,
achieved TFLOP/s (``torch.utils.flop_counter`` FLOPs of a step) and the fraction of the device's
*measured* matmul peak (the highest among fp32 / bf16 / fp16). Without CUDA it writes a result saying
so and exits 0, unless ``--allow-cpu`` asks for CPU numbers (small sizes for a smoke test).
Writes ``bench/results/gpu-<device type>.json`` (or ``--out``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, write  # noqa: E402

from colorlab.core.device import describe_device, get_device  # noqa: E402
from colorlab.core.precision import SpeedPlan, cuda_capability, tf32_policy  # noqa: E402
from colorlab.core.speed import speed_plan  # noqa: E402
from colorlab.models import count_parameters, create  # noqa: E402
from colorlab.training.benchmark import benchmark_training  # noqa: E402


def plans_for(device, compile: bool = False) -> dict[str, SpeedPlan]:
    """fp32 NCHW against the kit's own plan for ``device`` (and that plan compiled)."""
    kit = speed_plan(device, compile="off", verbose=False)
    plans = {"fp32": SpeedPlan("fp32"), "kit": kit}
    if compile:
        plans["kit+compile"] = SpeedPlan(kit.precision, kit.channels_last, compile=True, source=kit.source)
    return plans


def run(args) -> dict:
    dev = get_device(args.device)
    if dev.type != "cuda" and not args.allow_cpu:
        return {"status": "no CUDA", "device": describe_device(dev), **machine()}
    images = np.random.default_rng(0).integers(0, 256, (args.images, args.size, args.size, 3), dtype=np.uint8)
    plans = plans_for(dev, args.compile)
    bench = benchmark_training(images, plans, bs=args.bs, rounds=args.rounds, device=dev, peak_n=args.peak_n,
                               model=args.model)
    print(bench.table(), flush=True)
    runs = {name: {"plan": plan.name, "img_per_s": round(bench.img_per_s[name], 1),
                   "warmup_s": round(bench.warmup_s[name], 2),
                   "achieved_tflops": round(bench.achieved_flops(name) / 1e12, 4),
                   "fraction_of_peak": round(bench.fraction_of_peak(name), 4) if bench.peaks else None}
            for name, plan in plans.items()}
    out = {"status": "measured", "device": describe_device(dev), **machine(), "model": args.model,
           "parameters": count_parameters(create(args.model)), "batch": args.bs, "size": args.size,
           "images": args.images, "rounds": args.rounds, "train_flops_per_image": bench.flops_per_image,
           "matmul_peak_tflops": {k: round(v / 1e12, 3) for k, v in bench.peaks.items()},
           "ceiling_dtype": bench.ceiling_dtype, "kit_plan": plans["kit"].as_config(), "runs": runs,
           "timing": "steady-state training steps (kit's training_speed: no loader start-up, no validation)"}
    if dev.type == "cuda":
        out.update(capability=".".join(map(str, cuda_capability(dev))), tf32=tf32_policy())
    return out


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--images", type=int, default=1024, help="training images (epoch = images / bs steps)")
    ap.add_argument("--rounds", type=int, default=3, help="timed epochs after the warm-up (the fastest counts)")
    ap.add_argument("--model", default="unet")
    ap.add_argument("--peak-n", type=int, default=4096, help="matmul side for the peak (0: not measured)")
    ap.add_argument("--compile", action="store_true", help="also time the kit's plan compiled")
    ap.add_argument("--allow-cpu", action="store_true", help="measure even without CUDA")
    ap.add_argument("--out", default=None, help="result path (default bench/results/gpu-<device type>.json)")
    return ap.parse_args(argv)


def main(argv=None) -> dict:
    args = parse(argv)
    torch.manual_seed(0)
    result = run(args)
    write(f"gpu-{get_device(args.device).type}", result, args.out)
    return result


if __name__ == "__main__":
    main()
