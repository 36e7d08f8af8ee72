"""Bias from the training data: train the same colorizer on sets that differ only in how often one kind of
pixel appears, and measure every group with the kit's per-group metrics.

A colorizer learns the colours its training set shows it. A colour that is rare there — a red car among gray
ones, a flower in a few scenes, a skin tone under-represented in a photo collection — is painted like the
majority, and the people or things it belongs to get worse colorizations. :func:`representation_sweep`
measures that: one training set per *share* of the under-represented kind (the rest of each set drawn from the
same pool, the same size every time), one evaluation on the same held-out set with
:func:`colorlab.evaluation.evaluate.evaluate`'s per-group columns, one table.

* :func:`images_with` — which images hold pixels of a class (and colour mode): the attribute to vary;
* :func:`with_share` — a training subset of ``n`` images of which a given share hold it;
* :func:`mode_groups` — evaluation groups for the colour modes of one class (``scenes``: gray vs red cars);
* :func:`representation_sweep` — the sweep; :func:`gap` — the difference between two groups' columns.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from colorlab.core.errors import ColorlabError
from colorlab.evaluation.evaluate import evaluate
from colorlab.training.routing import DataSubset
from colorlab.training.train import train_colorizer

__all__ = ["images_with", "with_share", "one_or_other", "mode_groups", "representation_sweep", "gap"]


def images_with(data, cls: int, mode: int | None = None, min_pixels: int = 1) -> np.ndarray:
    """bool ``(N,)``: which images of a prepared ``scenes`` cache hold at least ``min_pixels`` pixels of pixel class
    ``cls`` (and, with ``mode``, of that colour mode: ``scenes`` cars 1 = gray, 2 = red)."""
    class_map = getattr(data, "class_map", None)
    if class_map is None:
        raise ColorlabError("images_with needs per-pixel classes: a prepared 'scenes' cache (colorlab.data.prepare)")
    cm = np.asarray(class_map)
    hit = cm == cls
    if mode is not None:
        hit &= np.asarray(data.mode_map) == mode
    return hit.reshape(len(cm), -1).sum(1) >= min_pixels


def with_share(data, has, share: float, n: int, seed: int = 0) -> DataSubset:
    """``n`` images of ``data``, ``round(share · n)`` of them where ``has`` is 1 (True) and the rest where it is 0
    (False); images where ``has`` is −1 are never drawn (e.g. images holding both colours of a class). Drawn at
    random (``seed``) without replacement; keeps the exact Lab and pixel maps (:class:`DataSubset`)."""
    has = np.asarray(has).astype(np.int64)
    if len(has) != len(getattr(data, "images", data)):
        raise ColorlabError(f"{len(has)} flags for {len(getattr(data, 'images', data))} images")
    if not 0.0 <= share <= 1.0:
        raise ColorlabError(f"share must be in [0, 1], got {share}")
    k = int(round(share * n))
    yes, no = np.flatnonzero(has == 1), np.flatnonzero(has == 0)
    if k > len(yes) or n - k > len(no):
        raise ColorlabError(f"share {share:g} of {n} images needs {k} images with the attribute and {n - k} without; "
                            f"the pool has {len(yes)} and {len(no)}: prepare a larger pool")
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(yes, k, replace=False), rng.choice(no, n - k, replace=False)])
    return DataSubset(data, np.sort(idx))


def one_or_other(data, cls: int, modes: tuple[int, int], min_pixels: int = 1) -> np.ndarray:
    """int ``(N,)`` for :func:`with_share`: 1 where an image holds class ``cls`` only in colour mode ``modes[0]``,
    0 where only in ``modes[1]``, −1 otherwise (both modes, or neither)."""
    a = images_with(data, cls, modes[0], min_pixels)
    b = images_with(data, cls, modes[1], min_pixels)
    return np.where(a & ~b, 1, np.where(b & ~a, 0, -1))


def mode_groups(cls: int, names: dict[int, str]) -> dict:
    """Evaluation groups for the colour modes of pixel class ``cls``: ``{name: fn(class_map, mode_map) → mask}``,
    e.g. ``mode_groups(CAR, {1: "gray cars", 2: "red cars"})``."""
    def group(mode):
        return lambda cm, mm: (cm == cls) & (mm == mode)
    return {name: group(mode) for mode, name in names.items()}


def representation_sweep(pool, valid, has, shares, n: int, groups: dict, *, seed: int = 0, device="auto",
                         out_dir: str | Path | None = None, **train_options) -> pd.DataFrame:
    """Train one colorizer per share of under-represented images and evaluate each on ``valid``.

    Args:
        pool: a prepared ``scenes`` cache to draw the training sets from; ``has``: bool ``(N,)`` over it
            (:func:`images_with`).
        shares: the shares of images with the attribute, one training set of ``n`` images each
            (:func:`with_share`, the same ``seed`` for every share).
        groups: evaluation groups (class ids or mask functions, see :func:`evaluate`).
        out_dir: each run's checkpoint under ``out_dir/share-<share>``; None keeps nothing on disk.
        **train_options: :func:`colorlab.training.train.train_colorizer`'s options (model, epochs, bs, lr, ...),
            the same for every run.
    Returns:
        a DataFrame indexed by share: ``seconds`` (training time), ``"pixels [<group>]"`` (the share of the
        training set's pixels in each group) and the per-group columns ``"<metric> [<group>]"`` of :func:`evaluate`.
    """
    rows = {}
    for share in shares:
        train = with_share(pool, has, share, n, seed=seed)
        folder = None if out_dir is None else Path(out_dir) / f"share-{share:g}"
        t0 = time.perf_counter()
        result = train_colorizer(train, None, out_dir=folder, device=device, seed=seed, **train_options)
        seconds = time.perf_counter() - t0
        model = result.learn.model
        table = evaluate({"model": model}, valid, device=device, groups=groups, progress=False)
        row = table.loc["model", [c for c in table.columns if "[" in c]].to_dict()
        pixels = {f"pixels [{g}]": float(_group_mask(train, m).mean()) for g, m in groups.items()}
        rows[share] = {"seconds": seconds, **pixels, **row}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "share"
    return out


def _group_mask(data, group) -> np.ndarray:
    """A group's pixels in ``data`` as a bool array ``(N, H, W)`` (class ids or a mask function)."""
    cm = torch.from_numpy(np.asarray(data.class_map))
    if callable(group):
        mm = torch.from_numpy(np.asarray(data.mode_map))
        return group(cm, mm).numpy()
    return np.isin(cm.numpy(), list(group))


def gap(table: pd.DataFrame, metric: str, better: str, worse: str) -> pd.Series:
    """``metric [better] − metric [worse]`` per row: how much worse one group is served than another."""
    return table[f"{metric} [{better}]"] - table[f"{metric} [{worse}]"]
