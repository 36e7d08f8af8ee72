"""The training benchmark in the package (colorlab.training.benchmark.benchmark_training), shared by bench/bench_train.py and lab 11."""
import math
import time

import numpy as np
import pytest
import torch

from colorlab.training.benchmark import TrainingBenchmark, benchmark_training, matmul_peaks, train_flops, training_speed
from colorlab.training.speed import SpeedPlan


def _tiny():
    from colorlab.models import create
    return create("unet", base=4, depth=2)


def _images(n=24, size=16, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_train_flops_of_one_convolution_is_forward_plus_weight_gradient():
    conv = torch.nn.Conv2d(1, 4, 3, padding=1, bias=False)
    bs, size = 2, 8
    forward = 2 * bs * 4 * 1 * 9 * size * size        # multiply-adds of the convolution, ×2
    # the input needs no gradient: backward computes the weight gradient only, as many FLOPs as the forward
    assert train_flops(conv, bs, size, "cpu") == 2 * forward


def test_matmul_peak_is_two_n_cubed_per_product_over_the_time(monkeypatch):
    """On a clock that ticks one second per reading, 10 products of 64 × 64 take 1 s: 2·64³·10 FLOP/s."""
    import colorlab.training.benchmark as bm
    ticks = iter(range(1000))
    monkeypatch.setattr(bm.time, "perf_counter", lambda: float(next(ticks)))
    assert bm.matmul_peak("cpu", n=64, reps=10) == 2 * 64 ** 3 * 10
    peaks = matmul_peaks("cpu", n=64, reps=2)
    assert set(peaks) >= {"fp32"} and set(peaks) <= {"fp32", "bf16", "fp16"}


def test_training_speed_times_steady_steps_not_loader_start_or_validation(monkeypatch):
    """A loader that takes 100 s (of a clock moved on by hand) to start must not be in the img/s; nor validation."""
    import colorlab.training.benchmark as bm
    from colorlab.data.loaders import CacheLoader
    real_iter, real_clock, late = CacheLoader.__iter__, time.perf_counter, [0.0]
    started = []

    def slow_start(self):
        started.append(self.shuffle)
        late[0] += 100.0  # a loader's start-up (worker processes, first read)
        yield from real_iter(self)
    monkeypatch.setattr(CacheLoader, "__iter__", slow_start)
    monkeypatch.setattr(bm.time, "perf_counter", lambda: real_clock() + late[0])
    ips, warmup = training_speed(SpeedPlan("fp32"), _images(), bs=8, rounds=1, device="cpu", model=_tiny())
    assert started and all(started), "validation ran"  # only the shuffled (training) loader was read
    per_epoch = 24 // 8 * 8
    assert per_epoch / ips < 50, f"an epoch's steps took {per_epoch / ips:.2f} s: the 100 s start-up was timed"
    assert warmup >= 100  # the warm-up epoch is timed whole
    # fewer images than a batch: one smaller batch an epoch, still timed
    ips, _ = training_speed(SpeedPlan("fp32"), _images(n=4), valid=_images(n=4), bs=8, rounds=1, device="cpu",
                            model=_tiny())
    assert 0 < 4 / ips < 50


def test_benchmark_training_compares_plans_against_the_ceiling():
    plans = {"fp32": SpeedPlan("fp32"), "fp32+cl": SpeedPlan("fp32", channels_last=True)}
    bench = benchmark_training(_images(), plans, bs=8, rounds=1, device="cpu", peak_n=64, model=_tiny)
    assert isinstance(bench, TrainingBenchmark)
    assert list(bench.img_per_s) == list(plans) == list(bench.warmup_s)
    assert all(v > 0 for v in bench.img_per_s.values())
    assert bench.flops_per_image > 0 and bench.ceiling_dtype in bench.peaks
    share = bench.fraction_of_peak("fp32")
    assert share == pytest.approx(bench.img_per_s["fp32"] * bench.flops_per_image / bench.ceiling)
    assert 0 < share < 10          # a tiny U-Net on a tiny matmul: far from 1, but a number
    table = bench.table()
    assert "fp32+cl" in table and "channels_last" in table and "TFLOP/s" in table and "×" in table


def test_benchmark_training_without_peaks():
    bench = benchmark_training(_images(), {"fp32": SpeedPlan("fp32")}, bs=8, rounds=1, device="cpu", peak_n=0,
                               model=_tiny)
    assert bench.peaks == {} and bench.ceiling_dtype is None and math.isnan(bench.ceiling)
    assert "not measured" in bench.table()
