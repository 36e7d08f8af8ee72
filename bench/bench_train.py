"""Training throughput of the kit's default path vs a plain fp32 eager loop, colorize latency, loader speed.

    python bench/bench_train.py [--device auto] [--steps 30] [--bs 64] [--size 64]

Writes bench/results/train.json. Targets on the 2-core CPU: kit ≥ 3× the plain loop, ≥ 40 % of
the bf16 matmul peak; colorize(1024×768) ≤ 1 s; the cache loader ≥ 4× faster than training.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, matmul_peak, sync, write  # noqa: E402

from colorlab.colorize import colorize  # noqa: E402
from colorlab.device import describe_device, get_device  # noqa: E402
from colorlab.loaders import make_dataloaders  # noqa: E402
from colorlab.models import count_parameters, create  # noqa: E402
from colorlab.train import make_learner  # noqa: E402


def train_flops(model, bs, size, device) -> int:
    """FLOPs of one forward+backward step, counted by torch.utils.flop_counter."""
    x = torch.randn(bs, 1, size, size, device=device)
    with FlopCounterMode(display=False) as fc:
        model(x).float().pow(2).mean().backward()
    model.zero_grad(set_to_none=True)
    return fc.get_total_flops()


def plain_loop(model, images, bs, steps, device) -> float:
    """The baseline: eager fp32 PyTorch, contiguous NCHW, Adam, MSE — img/s."""
    from colorlab.color import split_lab
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    model.train()
    n = len(images)

    def step(i):
        idx = np.sort(np.random.default_rng(i).choice(n, bs, replace=False))
        rgb = torch.from_numpy(images[idx]).to(device).permute(0, 3, 1, 2).float() / 255
        L, ab = split_lab(rgb)
        loss = torch.nn.functional.mse_loss(model(L), ab)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for i in range(3):
        step(i)
    sync(device)
    t = time.perf_counter()
    for i in range(steps):
        step(i)
    sync(device)
    return steps * bs / (time.perf_counter() - t)


def kit_path(model, images, bs, steps, device) -> tuple[float, float]:
    """The kit's default: fastai Learner + DeviceMixedPrecision + ChannelsLast — (train img/s, loader img/s)."""
    from colorlab.losses import make_loss
    dls = make_dataloaders(images, images[:bs], bs=bs, device=device)
    learn = make_learner(dls, model, make_loss("mse"))
    learn.remove_cbs([c for c in learn.cbs if type(c).__name__ in ("ProgressCallback",)])
    # one short fit to warm up, then a timed one of `steps` batches
    n_batches = len(dls.train)
    epochs = max(1, steps // n_batches)
    learn.fit(1)
    sync(device)
    t = time.perf_counter()
    learn.fit(epochs)
    sync(device)
    train_ips = epochs * n_batches * bs / (time.perf_counter() - t)
    t = time.perf_counter()
    k = 0
    for _ in range(2):
        for xb, yb in dls.train:
            k += len(xb)
    sync(device)
    loader_ips = k / (time.perf_counter() - t)
    return train_ips, loader_ips


def colorize_latency(device, size=64) -> float:
    model = create("unet")
    rgb = np.random.default_rng(0).integers(0, 256, (768, 1024, 3), dtype=np.uint8)
    model.work_size = size
    colorize(rgb, model, size=size, device=device)
    t = time.perf_counter()
    for _ in range(3):
        colorize(rgb, model, size=size, device=device)
    return (time.perf_counter() - t) / 3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--size", type=int, default=64)
    args = ap.parse_args(argv)
    dev = get_device(args.device)
    images = np.random.default_rng(0).integers(0, 256, (args.bs * 8, args.size, args.size, 3), dtype=np.uint8)
    torch.manual_seed(0)
    model = create("unet").to(dev)
    flops = train_flops(model, args.bs, args.size, dev)
    peak = matmul_peak(dev)
    plain = plain_loop(create("unet").to(dev), images, args.bs, args.steps, dev)
    kit, loader = kit_path(create("unet"), images, args.bs, args.steps, dev)
    achieved = kit * flops / args.bs
    result = {
        "device": describe_device(dev), **machine(),
        "model": "unet (default)", "parameters": count_parameters(model), "batch": args.bs, "size": args.size,
        "train_flops_per_image": flops / args.bs,
        "plain_fp32_img_per_s": round(plain, 1),
        "kit_img_per_s": round(kit, 1),
        "speedup": round(kit / plain, 2),
        "bf16_matmul_peak_tflops": round(peak / 1e12, 3),
        "kit_achieved_tflops": round(achieved / 1e12, 3),
        "fraction_of_peak": round(achieved / peak, 3),
        "loader_img_per_s": round(loader, 1),
        "loader_over_training": round(loader / kit, 1),
        "colorize_1024x768_s": round(colorize_latency(dev), 3),
        "targets": {"speedup": 3.0, "fraction_of_peak": 0.4, "colorize_1024x768_s": 1.0, "loader_over_training": 4.0},
    }
    write("train", result)


if __name__ == "__main__":
    main()
