"""Training throughput on whatever device runs it: img/s and achieved FLOP/s vs the device's peak.

    python bench/bench_gpu.py [--device auto] [--steps 20] [--bs 64] [--size 64] [--compile]

Times the kit's training step (fastai Learner, autocast — bf16 where supported, fp16 + grad
scaler otherwise — channels_last, pinned memory and non-blocking copies on CUDA) for a few
configurations, and compares the achieved FLOP/s (counted by ``torch.utils.flop_counter``)
with the measured matmul peak in the same dtype. Writes ``bench/results/gpu-<device type>.json``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train import train_flops  # noqa: E402
from common import machine, matmul_peak, sync, write  # noqa: E402

from colorlab.core.device import describe_device, get_device  # noqa: E402
from colorlab.data.loaders import make_dataloaders  # noqa: E402
from colorlab.rarity.losses import make_loss  # noqa: E402
from colorlab.models import count_parameters, create  # noqa: E402
from colorlab.training.builders import make_learner  # noqa: E402
from colorlab.training.speed import autocast_dtype  # noqa: E402


def time_training(model, images, bs, steps, device, mixed_precision=True, channels_last=True,
                  compile=False) -> float:
    """img/s of ``steps`` optimizer steps through the kit's Learner (after one warm-up epoch)."""
    dls = make_dataloaders(images, images[:bs], bs=bs, device=device)
    if compile:
        model.compile()
    learn = make_learner(dls, model, make_loss("mse"), mixed_precision=mixed_precision,
                         channels_last=channels_last)
    learn.remove_cbs([c for c in learn.cbs if type(c).__name__ == "ProgressCallback"])
    learn.logger = lambda *a, **k: None
    learn.fit(1)  # warm-up: kernels picked, compile done, loader primed
    epochs = max(1, steps // len(dls.train))
    sync(device)
    t = time.perf_counter()
    learn.fit(epochs)
    sync(device)
    return epochs * len(dls.train) * bs / (time.perf_counter() - t)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--model", default="unet")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile")
    ap.add_argument("--name", default=None, help="result file name (default gpu-<device type>)")
    args = ap.parse_args(argv)
    dev = get_device(args.device)
    amp = autocast_dtype(dev) or torch.float32
    images = np.random.default_rng(0).integers(0, 256, (args.bs * 8, args.size, args.size, 3), dtype=np.uint8)
    torch.manual_seed(0)
    probe = create(args.model).to(dev)
    flops_per_image = train_flops(probe, args.bs, args.size, dev) / args.bs
    peak = matmul_peak(dev, dtype=amp)
    peak_fp32 = matmul_peak(dev, dtype=torch.float32)
    configs = {"fp32": dict(mixed_precision=False, channels_last=False),
               f"{str(amp).split('.')[-1]}+channels_last": dict(mixed_precision=True, channels_last=True)}
    if args.compile:
        configs["amp+channels_last+compile"] = dict(mixed_precision=True, channels_last=True, compile=True)
    runs = {}
    for name, kw in configs.items():
        ips = time_training(create(args.model), images, args.bs, args.steps, dev, **kw)
        achieved = ips * flops_per_image
        ref = peak_fp32 if name == "fp32" else peak
        runs[name] = {"img_per_s": round(ips, 1), "achieved_tflops": round(achieved / 1e12, 4),
                      "fraction_of_peak": round(achieved / ref, 3)}
        print(name, runs[name], flush=True)
    result = {
        "device": describe_device(dev), **machine(), "model": args.model, "parameters": count_parameters(probe),
        "batch": args.bs, "size": args.size, "autocast_dtype": str(amp), "grad_scaler": amp == torch.float16,
        "pinned_memory": dev.type == "cuda", "train_flops_per_image": flops_per_image,
        "matmul_peak_tflops": {"fp32": round(peak_fp32 / 1e12, 3), str(amp).split(".")[-1]: round(peak / 1e12, 3)},
        "runs": runs,
    }
    write(args.name or f"gpu-{dev.type}", result)


if __name__ == "__main__":
    main()
