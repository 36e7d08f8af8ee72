"""fastai DataLoaders over prepared uint8 caches, with the Lab split done on the batch's device.

A batch leaves the cache as uint8 ``(B, H, W, 3)`` — a quarter of the bytes of float32 — and
becomes ``(L/50 - 1, ab/110)`` only after it has been moved to the device, so the Lab maths
runs on the GPU when there is one.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from fastai.data.core import DataLoaders, ItemTransform
from fastai.data.load import DataLoader

from .color import split_lab
from .device import get_device
from .errors import ColorlabError

__all__ = ["LabBatch", "CacheLoader", "make_dataloaders", "uint8_to_rgb"]


def uint8_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """uint8 ``(B, H, W, 3)`` → float RGB ``(B, 3, H, W)`` in [0, 1]."""
    return x.permute(0, 3, 1, 2).contiguous().float().div_(255.0)


class LabBatch(ItemTransform):
    """Batch transform: ``(uint8 images, labels)`` → ``(normalised L, target)``.

    ``target="ab"`` gives normalised ab (colorizers), ``"label"`` the class labels
    (profile/category predictors). ``augment`` (optional) is applied to RGB in [0, 1]
    *before* the split, so L and ab stay aligned.
    """

    order = 10

    def __init__(self, target: str = "ab", augment: Callable | None = None):
        if target not in ("ab", "label"):
            raise ColorlabError(f"target must be 'ab' or 'label', got {target!r}")
        self.target, self.augment = target, augment

    def encodes(self, b):
        x, y = b
        rgb = uint8_to_rgb(x)
        if self.augment is not None:
            rgb = self.augment(rgb)
        L, ab = split_lab(rgb)
        return (L, ab) if self.target == "ab" else (L, y)


class CacheLoader(DataLoader):
    """A fastai DataLoader that reads whole batches from a uint8 memmap with one fancy index.

    Reading ``images[sorted_indices]`` is one sequential-ish copy per batch instead of ``bs``
    small ones through a Dataset, which keeps the loader well ahead of training.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray | None = None, **kwargs):
        self.images = images
        self.labels = labels if labels is not None else np.full(len(images), -1, dtype=np.int64)
        super().__init__(n=len(images), indexed=True, **kwargs)

    def create_item(self, s):
        return s

    def create_batch(self, b):
        idx = np.sort(np.asarray(b, dtype=np.int64))
        return torch.from_numpy(np.ascontiguousarray(self.images[idx])), torch.from_numpy(self.labels[idx].astype(np.int64))

    def new(self, dataset=None, cls=None, **kwargs):
        """fastai's ``new`` (used by ``get_preds``, ``lr_find``) rebuilds from a dataset; we carry the arrays."""
        kw = dict(bs=self.bs, shuffle=self.shuffle, drop_last=self.drop_last, device=self.device,
                  after_batch=self.after_batch, num_workers=self.fake_l.num_workers)
        kw.update(kwargs)
        kw.pop("dataset", None)
        return CacheLoader(self.images, self.labels, **kw)


def _arrays(data) -> tuple[np.ndarray, np.ndarray | None]:
    """Accept a Prepared cache, a uint8 array (N, H, W, 3), or a (images, labels) pair."""
    if hasattr(data, "images"):
        return data.images, getattr(data, "labels", None)
    if isinstance(data, tuple) and len(data) == 2:
        return np.asarray(data[0]), np.asarray(data[1])
    arr = np.asarray(data)
    return arr, None


def make_dataloaders(train, valid=None, bs: int = 64, target: str = "ab", device="auto",
                     num_workers: int = 0, seed: int = 0, valid_pct: float = 0.1,
                     augment: Callable | None = None, drop_last: bool = True) -> DataLoaders:
    """fastai ``DataLoaders`` that yield ``(L/50-1 (B,1,H,W), target)`` on ``device``.

    Args:
        train, valid: a prepared cache (``colorlab.data.prepare``), a uint8 array ``(N, H, W, 3)``
            or an ``(images, labels)`` pair. Without ``valid``, ``valid_pct`` of train (by a seeded
            permutation) is held out.
        target: ``"ab"`` (normalised ab ``(B,2,H,W)``) or ``"label"`` (class index ``(B,)``).
        augment: optional batch transform on RGB ``(B,3,H,W)`` in [0, 1], training batches only.
    """
    dev = get_device(device)
    x_tr, y_tr = _arrays(train)
    if x_tr.ndim != 4 or x_tr.shape[-1] != 3 or x_tr.dtype != np.uint8:
        raise ColorlabError(f"training images must be uint8 (N, H, W, 3), got {x_tr.dtype} {x_tr.shape}")
    if valid is None:
        n_val = max(1, int(round(len(x_tr) * valid_pct)))
        if len(x_tr) - n_val < 1:
            raise ColorlabError(f"need at least 2 images to split off a validation set, got {len(x_tr)}")
        perm = np.random.default_rng(seed).permutation(len(x_tr))
        tr_idx, va_idx = np.sort(perm[n_val:]), np.sort(perm[:n_val])
        y = y_tr if y_tr is not None else np.full(len(x_tr), -1, dtype=np.int64)
        x_va, y_va = x_tr[va_idx], y[va_idx]
        x_tr, y_tr = x_tr[tr_idx], y[tr_idx]
    else:
        x_va, y_va = _arrays(valid)
    bs_tr = min(bs, len(x_tr))
    train_dl = CacheLoader(x_tr, y_tr, bs=bs_tr, shuffle=True, drop_last=drop_last and len(x_tr) >= bs_tr,
                           device=dev, num_workers=num_workers, after_batch=LabBatch(target, augment))
    valid_dl = CacheLoader(x_va, y_va, bs=min(bs, len(x_va)) or 1, shuffle=False, drop_last=False,
                           device=dev, num_workers=num_workers, after_batch=LabBatch(target))
    return DataLoaders(train_dl, valid_dl, device=dev)
