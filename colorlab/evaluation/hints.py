"""How much user hints help, and a sweep's hint runs.

:func:`hints_vs_psnr`: PSNR of a hint model's colorizations against the number of true-colour hints.
:func:`sweep_callbacks`: what a sweep run with ``hints:`` (a hint U-Net fed synthetic hints by a
:class:`~colorlab.hints.sampling.HintSampler`, Benabla et al.'s Tables 1–2) and ``epoch_metrics:`` (validation
metrics logged every epoch, :data:`EPOCH_METRICS`, whose best over the epochs the sweep table reports) adds to
training.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from fastai.callback.core import Callback
from fastai.learner import AvgMetric

from colorlab.core.color import get_colorspace

from colorlab.core.color import LAB, rgb_to_lab
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.core.logs import progress_bar
from colorlab.data.batches import count_images, iter_batches
from colorlab.data.scenes import scene_groups
from colorlab.evaluation.evaluate import _group_masks, batch_lab
from colorlab.evaluation.metrics import keras_accuracy, psnr, within_accuracy
from colorlab.hints.encoding import HINT_CHANNELS
from colorlab.hints.sampling import HintSampler, random_hints
from colorlab.models.heads import predict_ab
from colorlab.training.callbacks import HintCallback

__all__ = ["hints_vs_psnr", "HINT_COUNTS", "EPOCH_METRICS", "EpochMetrics", "sweep_callbacks", "best_of"]

#: Validation metrics a sweep run can log every epoch (``epoch_metrics: [acc_keras, ...]``), on the predicted
#: and true chroma in the colour space's own units (YCbCr: CbCr in [0, 1]): name → (function of
#: ``(pred, target) (N, 2, H, W)`` → ``(N,)``, the table's column for its best epoch, ``max`` or ``min``).
EPOCH_METRICS = {
    "acc_keras": (keras_accuracy, "best acc (Keras)", max),
    "acc_within": (within_accuracy, "best acc (within 0.05)", max),
    "chroma_mse": (lambda p, t: (p - t).pow(2).flatten(1).mean(1), "best loss (chroma MSE)", min),
}

#: The numbers of hints the evaluation reveals (Zhang et al. 2017's curve, cut at 100).
HINT_COUNTS = (0, 1, 2, 5, 10, 20, 50, 100)


@torch.no_grad()
def hints_vs_psnr(model, data, counts=HINT_COUNTS, size: int = 1, seed: int = 0, batch_size: int = 64,
                  device="auto", progress: bool = True, sampler: HintSampler | None = None,
                  groups: dict | str | None = "auto"):
    """Mean PSNR (RGB, dB) of the hint model's colorizations against the number of true-colour hints.

    Args:
        model: a hint model (``in_channels = 4``).
        data: held-out photos: a prepared cache or uint8 array ``(N, H, W, 3)`` (H, W multiples of
            the model's stride). A cache with exact float Lab (``scenes``) is read as that Lab.
        counts: numbers of hints to reveal per image.
        size: hint patch side in pixels (for the default random point hints).
        seed: the same hint places for every model evaluated with the same seed.
        sampler: draw the hints with this :class:`~colorlab.hints.sampling.HintSampler` (``sampler(ab, n=count)``:
            its patch sizes, places and colours) instead of :func:`~colorlab.hints.sampling.random_hints`
            (uniform places, ``size``).
        groups: per-pixel groups as in :func:`colorlab.evaluation.evaluate.evaluate` (``"auto"``: the ``scenes``
            groups when ``data`` has a class map); adds a column ``"psnr [<group>]"`` per group, the
            PSNR pooled over every pixel of the group (e.g. ``"psnr [multimodal]"``: the fruit).
    Returns:
        a pandas DataFrame with columns ``hints``, ``psnr`` (mean over photos), ``psnr_std``, ``n``
        and the group columns.
    """
    if getattr(model, "in_channels", 1 + HINT_CHANNELS) != 1 + HINT_CHANNELS:
        raise ColorlabError(f"hints_vs_psnr needs a hint model (in_channels=4), got in_channels={model.in_channels}")
    dev = get_device(device)
    model = model.to(dev).eval()
    counts = [int(c) for c in counts]
    if isinstance(groups, str):
        if groups != "auto":
            raise ColorlabError(f"groups must be a dict, None or 'auto', got {groups!r}")
        groups = scene_groups() if getattr(data, "class_map", None) is not None else None
    group_masks = _group_masks(groups, data) if groups else None
    scores: dict[int, list[torch.Tensor]] = {c: [] for c in counts}
    gsq = {(c, g): [0.0, 0] for c in counts for g in (groups or {})}
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    exact = getattr(data, "lab", None) is not None  # scenes: the exact float Lab, no 8-bit round trip
    start, n_total = 0, count_images(data) or 0  # a batch at a time on the device, never the whole set
    for batch in progress_bar(iter_batches(data, batch_size, dev, exact_lab=exact), total=-(-n_total // batch_size),
                              disable=not progress, leave=False):
        if exact:
            rgb, lab = batch_lab(batch)
        else:
            rgb = batch.float() / 255.0 if batch.dtype == torch.uint8 else batch.float()
            lab = rgb_to_lab(rgb)
        L, ab = LAB.normalise(lab)
        gm = group_masks(start, start + len(batch), dev) if group_masks is not None else {}
        start += len(batch)
        for c in counts:
            hints = sampler(ab, generator=gen, n=c) if sampler is not None else random_hints(ab, c, size=size,
                                                                                           generator=gen)
            shown = LAB.join(L, predict_ab(model, torch.cat([L, hints], 1)).float()).clamp(0, 1)
            scores[c].append(psnr(shown, rgb))
            if gm:
                sq = (shown - rgb).pow(2).mean(1)
                for g, m in gm.items():
                    gsq[c, g][0] = gsq[c, g][0] + torch.where(m, sq.double(), 0.0).sum()  # on the device
                    gsq[c, g][1] = gsq[c, g][1] + m.sum()
    rows = []
    for c in counts:
        v = torch.cat(scores[c]).cpu()
        row = {"hints": c, "psnr": float(v.mean()), "psnr_std": float(v.std()) if len(v) > 1 else 0.0, "n": len(v)}
        for g in (groups or {}):
            total, npix = (float(x) for x in gsq[c, g])
            row[f"psnr [{g}]"] = 10 * np.log10(npix / total) if npix and total > 0 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def _chroma_metric(name: str, colorspace: str):
    """A fastai metric: ``EPOCH_METRICS[name]`` on normalised chroma, read back in the colour space's units."""
    fn = EPOCH_METRICS[name][0]
    space = get_colorspace(colorspace)
    scale, offset = space.scale[1], space.offset[1]

    def metric(pred, target):
        return fn((pred.float() + offset) * scale, (target.float() + offset) * scale).mean()
    metric.__name__ = name
    return AvgMetric(metric)


class EpochMetrics(Callback):
    """Add :data:`EPOCH_METRICS` to the Learner's metrics, so the recorder (and ``history.json``) logs them each epoch."""

    order = 0  # before the Recorder (50) names its columns

    def __init__(self, names, colorspace: str = "lab"):
        unknown = [n for n in names if n not in EPOCH_METRICS]
        if unknown:
            raise ColorlabError(f"unknown epoch_metrics {unknown}: use {', '.join(EPOCH_METRICS)}")
        self.names, self.colorspace = list(names), colorspace

    def before_fit(self):
        have = {getattr(m, "name", None) for m in self.learn.metrics}
        self.learn.metrics = list(self.learn.metrics) + [_chroma_metric(n, self.colorspace) for n in self.names
                                                         if n not in have]


def sweep_callbacks(settings: dict) -> tuple[dict, list]:
    """A sweep run's extra model options and training callbacks for its ``hints`` and ``epoch_metrics`` settings.

    ``hints``: None, or the :class:`~colorlab.hints.sampling.HintSampler` options (``{p: 0.1, colour: gaussian,
    reveal_p: 0.05}``): the U-Net gets ``in_channels=4`` and each training batch synthetic hints drawn from its
    own target chroma (validation: the same hints every epoch).
    """
    model_kwargs, cbs = {}, []
    if settings.get("hints") is not None:
        if not isinstance(settings["hints"], dict):
            raise ColorlabError(f"hints must be a mapping of HintSampler options, got {settings['hints']!r}")
        model_kwargs["in_channels"] = 1 + HINT_CHANNELS
        cbs.append(HintCallback(HintSampler(**settings["hints"])))
    if settings.get("epoch_metrics"):
        cbs.append(EpochMetrics(settings["epoch_metrics"], settings.get("colorspace", "lab")))
    return model_kwargs, cbs


def best_of(history: list[dict], names) -> dict:
    """The best epoch's value of each logged epoch metric, under its table column (:data:`EPOCH_METRICS`)."""
    out = {}
    for n in names:
        _, column, pick = EPOCH_METRICS[n]
        values = [h[n] for h in history if isinstance(h.get(n), float) and np.isfinite(h[n])]
        out[column] = pick(values) if values else None
    return out
