"""The prepared uint8 cache on disk: its layout, and :class:`Prepared`, the dataset that reads it.

A cache folder (written by :func:`colorlab.data.prepare.prepare`) holds::

    images.u8     raw uint8, shape (N, size, size, 3) — opened as a read-only np.memmap
    labels.npy    int64 (N,), -1 when the dataset has no labels
    sources.txt   where item i came from (a relative path, or photo@x,y+side for the sample set)
    index.json    dataset, split, size, n, seed, shape, classes, counts (skipped, gray_dropped)...

and, for datasets with latent labels (``scenes``), the :data:`EXTRAS` beside the images.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from colorlab.core.errors import ColorlabError

__all__ = ["Prepared", "load_prepared", "is_complete", "FORMAT_VERSION", "IMAGES", "LABELS", "SOURCES", "INDEX",
           "EXTRAS"]

#: Bumped whenever the cache layout or the way photos are fitted changes.
FORMAT_VERSION = 1
IMAGES, LABELS, SOURCES, INDEX = "images.u8", "labels.npy", "sources.txt", "index.json"
#: Optional per-pixel data beside the images: attribute → (file, dtype, channels or 0).
EXTRAS = {"lab": ("lab.f32", np.float32, 3), "class_map": ("classes.u8", np.uint8, 0),
          "mode_map": ("modes.u8", np.uint8, 0)}


class Prepared(Dataset):
    """A prepared cache: a torch Dataset of ``(uint8 tensor (3, H, W), int label)``.

    Attributes:
        path: the cache folder (other modules may keep derived files here, e.g. an ab prior).
        images: read-only ``np.memmap`` uint8 ``(N, H, W, 3)``.
        labels: int64 ``(N,)``, -1 when unlabeled.
        classes: class names (``[]`` when the dataset has no labels).
        meta: the contents of ``index.json``.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._open()

    def _open(self) -> None:
        index = self.path / INDEX
        if not index.is_file():
            raise ColorlabError(f"{self.path}: not a prepared cache (no {INDEX}); run colorlab.data.prepare(...)")
        try:
            self.meta = json.loads(index.read_text())
        except (OSError, ValueError) as e:
            raise ColorlabError(f"{index}: unreadable cache index ({e}); prepare again with force=True") from None
        if not self.meta.get("complete") or self.meta.get("format") != FORMAT_VERSION:
            raise ColorlabError(f"{self.path}: incomplete or outdated cache; prepare again with force=True")
        shape = tuple(self.meta["shape"])
        images = self.path / IMAGES
        expected = int(np.prod(shape))
        if not images.is_file() or images.stat().st_size != expected:
            raise ColorlabError(f"{images}: cache data is missing or has the wrong size "
                                f"(expected {expected} bytes for {shape}); prepare again with force=True")
        self.images = np.memmap(images, dtype=np.uint8, mode="r", shape=shape)
        self.labels = np.load(self.path / LABELS)
        self.classes = list(self.meta.get("classes", []))
        # datasets with latent labels (``scenes``): exact float Lab and per-pixel maps beside the images
        self.lab = self.class_map = self.mode_map = None
        extras = self.meta.get("extras", {})
        for attr, (fname, dtype, channels) in EXTRAS.items():
            if fname in extras:
                f = self.path / fname
                ext_shape = tuple(shape[:3]) + ((channels,) if channels else ())
                if not f.is_file() or f.stat().st_size != int(np.prod(ext_shape)) * np.dtype(dtype).itemsize:
                    raise ColorlabError(f"{f}: cache data is missing or has the wrong size; prepare again with force=True")
                setattr(self, attr, np.memmap(f, dtype=dtype, mode="r", shape=ext_shape))

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        x = torch.from_numpy(np.array(self.images[index])).permute(2, 0, 1).contiguous()
        return x, int(self.labels[index])

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        """Many items at once: ``uint8 (B, 3, H, W)`` and int64 labels ``(B,)``, one memmap read."""
        idx = np.asarray(indices, dtype=np.int64)
        x = torch.from_numpy(np.ascontiguousarray(self.images[idx])).permute(0, 3, 1, 2)
        return x, torch.from_numpy(self.labels[idx].copy())

    @property
    def size(self) -> int:
        return int(self.meta["size"])

    @property
    def sources(self) -> list[str]:
        """Where each item came from, one string per item."""
        return (self.path / SOURCES).read_text(encoding="utf-8").splitlines()

    def __getstate__(self):  # DataLoader workers re-open the memmap instead of pickling its data
        return {"path": self.path}

    def __setstate__(self, state):
        self.path = state["path"]
        self._open()

    def __repr__(self) -> str:
        m = self.meta
        return (f"Prepared({m['dataset']!r}, split={m['split']!r}, {len(self)} x {m['size']}px, "
                f"classes={len(self.classes)}, skipped={m['skipped']}, gray_dropped={m['gray_dropped']}, "
                f"path={str(self.path)!r})")


def load_prepared(path: str | os.PathLike) -> Prepared:
    """Open a cache folder written by :func:`colorlab.data.prepare.prepare`."""
    return Prepared(path)


def is_complete(folder: Path) -> bool:
    """Whether ``folder`` holds a finished cache (its index says so)."""
    try:
        return bool(json.loads((folder / INDEX).read_text()).get("complete"))
    except (OSError, ValueError):
        return False
