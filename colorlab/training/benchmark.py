"""Measuring training speed: the kit's real training path under each :class:`SpeedPlan`, against the device's ceiling.

:func:`benchmark_training` trains a fresh model through the kit's path (fastai ``Learner`` and
callbacks) under each plan and reports images per second of the fastest epoch, the FLOPs of a step
(:func:`train_flops`) and the device's matmul ceiling (:func:`matmul_peaks`). One benchmark for the
whole kit: ``bench/bench_train.py`` (every candidate, the JSON in bench/results) and notebook 11 (fp32
against the kit's choice) both call it.

    >>> bench = benchmark_training(images, {"fp32": SpeedPlan("fp32"), "kit": speed_plan()})  # doctest: +SKIP
    >>> print(bench.table())                                                                  # doctest: +SKIP
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
from fastai.callback.core import Callback, CancelValidException
from torch.utils.flop_counter import FlopCounterMode

from colorlab.core.device import get_device, sync
from colorlab.data.batches import image_array
from colorlab.data.loaders import make_dataloaders
from colorlab.models import create
from colorlab.rarity.losses import make_loss
from colorlab.training.builders import make_learner, quiet
from colorlab.core.precision import SpeedPlan

__all__ = ["train_flops", "matmul_peak", "matmul_peaks", "training_speed", "TrainingBenchmark", "benchmark_training"]

def train_flops(model: torch.nn.Module, bs: int, size: int, device="auto", in_channels: int = 1) -> int:
    """Floating-point operations of one training step (forward and backward) of ``model`` on ``bs`` images.

    Counted by ``torch.utils.flop_counter`` on a random batch ``(bs, in_channels, size, size)``:
    the convolutions and matrix products, i.e. the work a GPU's or CPU's matmul units do.
    """
    dev = get_device(device)
    model = model.to(dev)
    x = torch.randn(bs, in_channels, size, size, device=dev)
    with torch.enable_grad(), FlopCounterMode(display=False) as fc:
        model(x).float().pow(2).mean().backward()
    model.zero_grad(set_to_none=True)
    return int(fc.get_total_flops())


def matmul_peak(device="auto", dtype: torch.dtype = torch.float32, n: int = 2048, reps: int = 10) -> float:
    """Measured FLOP/s of an ``n × n`` matmul in ``dtype`` (best of three runs of ``reps``): a ceiling for training."""
    dev = get_device(device)
    a = torch.randn(n, n, device=dev, dtype=dtype)
    b = torch.randn(n, n, device=dev, dtype=dtype)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(3):  # best of three: the ceiling, not an average disturbed by other work
        sync(dev)
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        sync(dev)
        best = max(best, 2 * n**3 * reps / (time.perf_counter() - t))
    return best


def matmul_peaks(device="auto", n: int = 2048, reps: int = 10) -> dict[str, float]:
    """FLOP/s of an ``n × n`` matmul in every dtype ``device`` has (fp32, bf16, fp16), by name.

    A dtype whose small (256²) matmul is 20× slower than fp32's has no fast kernels here: it is
    left out rather than timed at full size.
    """
    dev = get_device(device)

    def small(dtype):
        a = torch.randn(256, 256, device=dev, dtype=dtype)
        a @ a
        sync(dev)
        t = time.perf_counter()
        for _ in range(3):
            a @ a
        sync(dev)
        return time.perf_counter() - t

    out = {"fp32": matmul_peak(dev, torch.float32, n, reps)}
    base = small(torch.float32)
    for name, dtype in (("bf16", torch.bfloat16), ("fp16", torch.float16)):
        try:
            if small(dtype) > 20 * base + 1e-3:
                continue
            out[name] = matmul_peak(dev, dtype, n, reps)
        except RuntimeError:  # no kernel for this dtype on this device
            continue
    return out


class _StepTimer(Callback):
    """Times the training steps of an epoch: from its first batch in hand to its last step done (device synced).

    The loader's start-up comes before the first ``before_batch`` and the validation after ``after_train``, so
    neither is in the time; validation is skipped altogether (a benchmark has no use for it).
    """

    order = 99

    def __init__(self):
        self.seconds, self.images, self.epoch_s, self._t0, self._epoch0 = 0.0, 0, 0.0, None, 0.0

    def before_epoch(self):
        self._epoch0, self._t0, self.images = time.perf_counter(), None, 0

    def before_batch(self):
        if self.training and self._t0 is None:
            sync(self.dls.device)
            self._t0 = time.perf_counter()

    def after_batch(self):
        if self.training:
            self.images += int(self.xb[0].shape[0])

    def after_train(self):
        sync(self.dls.device)
        self.seconds = time.perf_counter() - (self._t0 or time.perf_counter())

    def before_validate(self):
        raise CancelValidException

    def after_epoch(self):
        self.epoch_s = time.perf_counter() - self._epoch0


def training_speed(plan: SpeedPlan, train, valid=None, bs: int = 64, rounds: int = 3, device="auto",
                   model: str | torch.nn.Module = "unet", seed: int = 0) -> tuple[float, float]:
    """How fast the kit's own training path runs with ``plan``: (images per second, warm-up seconds).

    The path is the one :func:`colorlab.training.train.train_colorizer` takes: a fastai ``Learner`` from
    :func:`colorlab.training.builders.make_learner` with the kit's speed callbacks, MSE on ab, a fresh ``model``
    (a name for :func:`colorlab.models.create`, or a model of the registry; compiled if ``plan.compile``). The
    first epoch is the warm-up (kernels chosen, compilation, loader started), timed whole on its own; then ``rounds``
    epochs are run and the fastest counts: on a shared machine a burst of other work slows one epoch, not
    the result. Only the steady-state training steps are timed — from an epoch's first batch in hand to
    its last step finished on the device — not the loader's start-up, and no validation (``valid`` only
    fills the DataLoaders; default: the first ``bs`` training images).
    """
    dev = get_device(device)
    if valid is None:
        valid = image_array(train, exact_lab=True)[:bs]
    torch.manual_seed(seed)
    net = create(model) if isinstance(model, str) else model
    if plan.compile:
        net.compile()
    dls = make_dataloaders(train, valid, bs=bs, device=dev, seed=seed)
    timer = _StepTimer()
    learn = quiet(make_learner(dls, net, make_loss("mse"), plan=plan, cbs=[timer]))
    learn.fit(1)
    warmup = timer.epoch_s
    best = 0.0
    for _ in range(rounds):
        learn.fit(1)
        if timer.seconds > 0:
            best = max(best, timer.images / timer.seconds)
    return best, warmup


@dataclass
class TrainingBenchmark:
    """What :func:`benchmark_training` measured.

    Attributes:
        plans: the plans timed, by name.
        img_per_s: training images per second of each plan (its fastest epoch).
        warmup_s: seconds of each plan's first epoch (kernel choice, compilation).
        flops_per_image: floating-point operations of one training step, per image.
        peaks: matmul FLOP/s in each dtype the device has (empty if not measured).
    """

    plans: dict
    img_per_s: dict
    warmup_s: dict
    flops_per_image: float
    peaks: dict = field(default_factory=dict)

    @property
    def ceiling_dtype(self) -> str | None:
        """The dtype with the highest matmul peak: the ceiling training is compared against."""
        return max(self.peaks, key=self.peaks.get) if self.peaks else None

    @property
    def ceiling(self) -> float:
        """The highest matmul peak (FLOP/s); NaN if the peaks were not measured."""
        return self.peaks[self.ceiling_dtype] if self.peaks else float("nan")

    def achieved_flops(self, name: str) -> float:
        """FLOP/s a plan's training reached: images per second × FLOPs per image."""
        return self.img_per_s[name] * self.flops_per_image

    def fraction_of_peak(self, name: str) -> float:
        """A plan's achieved FLOP/s over the matmul ceiling (1.0 would be the whole machine)."""
        return self.achieved_flops(name) / self.ceiling

    def table(self) -> str:
        """One line per plan: what it is, img/s, speed-up over the first plan, TFLOP/s, share of the ceiling."""
        first = next(iter(self.img_per_s))
        rows = []
        for name, ips in self.img_per_s.items():
            share = f"{self.fraction_of_peak(name):6.1%}" if self.peaks else "   n/a"
            rows.append(f"{name:>12}  {self.plans[name].name:<28} {ips:8.1f} img/s  "
                        f"×{ips / self.img_per_s[first]:5.2f}  {self.achieved_flops(name) / 1e12:7.3f} TFLOP/s  "
                        f"{share} of the {self.ceiling_dtype or '?'} peak")
        peaks = ", ".join(f"{k} {v / 1e12:.2f}" for k, v in self.peaks.items())
        return "\n".join(rows + [f"matmul peaks (TFLOP/s): {peaks or 'not measured'}; "
                                 f"{self.flops_per_image / 1e9:.3f} GFLOP per training image"])


def benchmark_training(train, plans: dict[str, SpeedPlan], valid=None, bs: int = 64, rounds: int = 3, device="auto",
                       peak_n: int = 2048, model="unet", seed: int = 0) -> TrainingBenchmark:
    """Time the kit's training path under each plan, with the FLOPs of a step and the device's matmul ceiling.

    Args:
        train: the training images (anything :func:`colorlab.data.loaders.make_dataloaders` reads);
            every plan trains a fresh ``model`` on them with the same batches.
        plans: name → :class:`SpeedPlan`, e.g. ``{"fp32": SpeedPlan("fp32"), "kit": speed_plan(dev)}``.
        bs, rounds, valid, seed: as :func:`training_speed` (one warm-up epoch, then the fastest of
            ``rounds`` epochs).
        peak_n: side of the matmuls that measure the peaks (:func:`matmul_peaks`); 0 skips them.
        model: a name for :func:`colorlab.models.create`, or a function of no argument returning a fresh
            model (each plan needs its own, untrained).
    Returns:
        a :class:`TrainingBenchmark`: images per second and warm-up time per plan, FLOPs per
        image (:func:`train_flops`), the peaks, and from them the fraction of the ceiling reached.

    ``bench/bench_train.py`` runs it over every candidate the kit could choose; notebook 11 runs it
    on fp32 against the kit's choice.
    """
    dev = get_device(device)
    size = int(image_array(train, exact_lab=True).shape[1])
    torch.manual_seed(seed)
    fresh = (lambda: create(model)) if isinstance(model, str) else model
    flops = train_flops(fresh(), bs, size, dev) / bs
    peaks = matmul_peaks(dev, n=peak_n) if peak_n else {}
    speeds, warmups = {}, {}
    for name, plan in plans.items():
        speeds[name], warmups[name] = training_speed(plan, train, valid, bs, rounds, dev, fresh(), seed)
    return TrainingBenchmark(dict(plans), speeds, warmups, flops, peaks)
