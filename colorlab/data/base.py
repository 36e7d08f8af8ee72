"""What every dataset shares: the torchvision-style constructor, square fitting, clear errors.

A dataset here is a list of ``(path, label)`` photo files plus ``classes``. Items are
``(uint8 tensor (3, size, size), int label)``: the photo resized so its shorter side is
``size`` and centre-cropped (``size=None`` keeps the full photo). Lab is *not* computed
here — that happens on the batch's device, in batches (:func:`colorlab.core.color.split_lab`).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from colorlab.core.config import data_root
from colorlab.core.errors import ColorlabError
from colorlab.core.io import is_image_file, open_rgb

__all__ = ["PhotoDataset", "fit_square", "to_tensor", "hash_split", "list_images", "missing"]


def fit_square(im: Image.Image, size: int | None) -> Image.Image:
    """Resize so the shorter side is ``size``, then centre-crop to ``size x size``."""
    if size is None or im.size == (size, size):
        return im
    w, h = im.size
    side = min(w, h)
    left, top = (w - side) / 2, (h - side) / 2
    return im.resize((size, size), Image.Resampling.BICUBIC, box=(left, top, left + side, top + side),
                     reducing_gap=3.0)


def to_tensor(rgb: np.ndarray | Image.Image) -> torch.Tensor:
    """``(H, W, 3)`` uint8 array or RGB image → ``uint8`` tensor ``(3, H, W)``."""
    a = np.array(rgb, dtype=np.uint8, copy=True)
    return torch.from_numpy(a).permute(2, 0, 1).contiguous()


def hash_split(key: str, seed: int = 0, val_fraction: float = 0.1) -> str:
    """Deterministic ``"train"``/``"val"`` assignment of one photo from its relative path.

    A hash, not a shuffled list, so a photo keeps its split when others are added or removed.
    """
    h = int.from_bytes(hashlib.md5(f"{seed}:{key}".encode()).digest()[:8], "big") / 2**64
    return "val" if h < val_fraction else "train"


def list_images(folder: Path) -> list[Path]:
    """Image files under ``folder``, recursively, sorted, hidden files and folders skipped."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out.extend(Path(dirpath) / f for f in sorted(filenames) if is_image_file(f))
    return out


def missing(title: str, what: Path | str, layout: str, how: str) -> ColorlabError:
    """The one-line error for absent or incomplete data: what is missing, the layout, how to get it."""
    return ColorlabError(f"{title}: missing {what} — expected layout: {layout}; to get it: {how}")


class PhotoDataset(Dataset):
    """Base class: photo files with integer labels (``-1`` when unlabeled).

    Subclasses set the class attributes and implement :meth:`_scan` (and :meth:`download_split`
    when a download of one split need not fetch them all).

    Args:
        root: the dataset folder, or a folder that contains it under its usual name
            (:attr:`folder`). Default: ``colorlab.core.config.data_root() / folder``.
        split: one of :attr:`splits`.
        size: items are ``size x size`` (shorter side resized, centre crop); None: full photos.
        download: accepted for the common interface: :func:`colorlab.data.datasets.get_dataset` fetches
            missing data (:mod:`colorlab.data.remote`) before it opens the dataset.
        transform: applied to the ``uint8 (3, H, W)`` tensor of each item.
    """

    name: str = ""           # the name get_dataset() knows it by
    title: str = ""          # human name for messages
    folder: str = ""         # usual folder name under data_root()
    splits: Sequence[str] = ("train", "val")
    layout: str = ""         # one-line description of the on-disk layout
    how_to_get: str = ""     # one line: how to get the data

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train", size: int | None = 64,
                 download: bool = False, transform: Callable | None = None):
        if split not in self.splits:
            raise ColorlabError(f"{self.title}: unknown split {split!r}; choose one of {', '.join(self.splits)}")
        if size is not None and (not isinstance(size, (int, np.integer)) or size < 1):
            raise ColorlabError(f"size must be a positive integer or None, got {size!r}")
        self.root = self.locate(root)
        self.split = split
        self.size = None if size is None else int(size)
        self.transform = transform
        self.samples: list[tuple[Path, int]]
        self.classes: list[str]
        self.samples, self.classes = self._scan()
        if not self.samples:
            raise missing(self.title, f"images for split {split!r} under {self.root}", self.layout, self.how_to_get)

    # -- layout ------------------------------------------------------------------------
    @classmethod
    def default_root(cls) -> Path:
        return data_root() / cls.folder

    @classmethod
    def locate(cls, root: str | os.PathLike | None) -> Path:
        """The dataset folder: ``root`` itself, or ``root/<folder>`` when that exists."""
        if root is None:
            return cls.default_root()
        root = Path(root).expanduser()
        return root / cls.folder if (root / cls.folder).is_dir() else root

    @classmethod
    def is_present(cls, root: Path) -> bool:
        """Cheap check that the data is there (used by ``download`` and :func:`dataset_status`)."""
        return root.is_dir()

    @classmethod
    def split_present(cls, root: Path, split: str) -> bool:
        """Whether ``split``'s files are under ``root`` (``"all"``: every split's)."""
        return cls.is_present(root)

    def _scan(self) -> tuple[list[tuple[Path, int]], list[str]]:
        raise NotImplementedError

    @classmethod
    def download_split(cls, split: str) -> str:
        """The split a download for ``split`` fetches (``"all"``: the published archives hold every split)."""
        return "all"

    def _require(self, *paths: Path) -> None:
        for p in paths:
            if not p.exists():
                raise missing(self.title, p, self.layout, self.how_to_get)

    def _require_listed(self, samples: list[tuple[Path, int]]) -> None:
        """Catch a partly extracted dataset: the first, middle and last listed files must exist."""
        for k in {0, len(samples) // 2, len(samples) - 1} if samples else ():
            if not samples[k][0].exists():
                raise missing(self.title, f"{samples[k][0]} (listed but not on disk: incomplete copy?)",
                              self.layout, self.how_to_get)

    # -- items -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.samples)

    def read(self, index: int) -> np.ndarray:
        """Item ``index`` as a fitted ``uint8 (size, size, 3)`` array (raises ColorlabError if unreadable)."""
        path, _ = self.samples[index]
        return np.asarray(fit_square(open_rgb(path, draft=self.size), self.size), dtype=np.uint8)

    def label(self, index: int) -> int:
        return self.samples[index][1]

    def source(self, index: int) -> str:
        """Where item ``index`` comes from (a path relative to the dataset root when possible)."""
        path = self.samples[index][0]
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        x = to_tensor(self.read(index % len(self)))
        if self.transform is not None:
            x = self.transform(x)
        return x, self.label(index % len(self))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(root={str(self.root)!r}, split={self.split!r}, size={self.size}, "
                f"items={len(self)}, classes={len(self.classes)})")
