"""The embedded sample set: photos that ship inside the installed dependencies.

Nothing to download, so every notebook and test runs offline. Eleven photos from
scikit-image, scikit-learn and matplotlib (credits and licences in
``datasets/sample/README.md``) are split *by photo*: :data:`SAMPLE_VAL_PHOTOS` are held out
for evaluation and never cut into training patches. Patches are random square crops at
several zooms (a whole-photo view down to a close-up), resized to ``size`` — as many as
asked, the same ones for the same ``seed``.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from colorlab.core.errors import ColorlabError
from colorlab.core.io import open_rgb
from colorlab.data.base import to_tensor

__all__ = ["SamplePhoto", "SAMPLE_PHOTOS", "SAMPLE_VAL_PHOTOS", "sample_photos", "SampleDataset"]


@dataclass(frozen=True)
class SamplePhoto:
    name: str
    package: str       # the installed package that ships it
    relpath: str       # path inside that package
    licence: str
    credit: str

    @property
    def path(self) -> Path | None:
        """Where the photo is on disk, or None when the installed package lacks it."""
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        for base in spec.submodule_search_locations:
            p = Path(base) / self.relpath
            if p.is_file():
                return p
        return None


SAMPLE_PHOTOS: tuple[SamplePhoto, ...] = (
    SamplePhoto("astronaut", "skimage", "data/astronaut.png", "public domain",
                "NASA Great Images database (Eileen Collins)"),
    SamplePhoto("chelsea", "skimage", "data/chelsea.png", "CC0", "Stefan van der Walt"),
    SamplePhoto("coffee", "skimage", "data/coffee.png", "CC0", "Rachel Michetti, courtesy of Pikolo Espresso Bar"),
    SamplePhoto("rocket", "skimage", "data/rocket.jpg", "public domain", "SpaceX (DSCOVR launch on Falcon 9)"),
    SamplePhoto("retina", "skimage", "data/retina.jpg", "CC0 1.0", "Mikael Häggström, Wikimedia Commons"),
    SamplePhoto("hubble_deep_field", "skimage", "data/hubble_deep_field.jpg", "public domain", "NASA, HubbleSite"),
    SamplePhoto("immunohistochemistry", "skimage", "data/ihc.png", "no known copyright restrictions",
                "Center for Microscopy And Molecular Imaging (CMMI)"),
    SamplePhoto("stereo_motorcycle", "skimage", "data/motorcycle_left.png", "no known restrictions",
                "Middlebury 2014 stereo benchmark (Nesic, Westling, Wang, Kitajima, Krathwohl, Scharstein)"),
    SamplePhoto("china", "sklearn", "datasets/images/china.jpg", "CC-BY 2.0", "danielbuechele on Flickr"),
    SamplePhoto("flower", "sklearn", "datasets/images/flower.jpg", "CC-BY 2.0", "vultilion on Flickr"),
    SamplePhoto("grace_hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "public domain",
                "U.S. Navy (Grace Hopper portrait)"),
)

_DECODED: dict[Path, Image.Image] = {}

#: Held-out photos: the ``val`` split. Natural, colourful scenes not seen in training.
SAMPLE_VAL_PHOTOS: tuple[str, ...] = ("chelsea", "coffee", "flower")


def sample_photos(split: str = "all") -> list[tuple[str, Path]]:
    """``(name, path)`` of the sample photos present on disk for ``"train"``, ``"val"`` or ``"all"``."""
    if split not in ("train", "val", "all"):
        raise ColorlabError(f"sample: unknown split {split!r}; choose one of train, val, all")
    out = []
    for photo in SAMPLE_PHOTOS:
        held_out = photo.name in SAMPLE_VAL_PHOTOS
        if split == "all" or held_out == (split == "val"):
            p = photo.path
            if p is not None:
                out.append((photo.name, p))
    return out


class SampleDataset(Dataset):
    """Random square patches of the sample photos (see the module docstring).

    Args:
        root: ignored (the photos come from the installed packages); kept for the common signature.
        split: ``"train"`` (8 photos), ``"val"`` (the held-out :data:`SAMPLE_VAL_PHOTOS`) or ``"all"``.
        size: patch side in pixels.
        download: ignored, nothing to download.
        transform: applied to each ``uint8 (3, size, size)`` tensor.
        n: number of patches (default 512 for train/all, 64 for val).
        seed: patch ``i`` is drawn from ``numpy.random.default_rng([seed, i])``: same seed, same patches.
        zooms: crop side as a fraction of the photo's shorter side, one drawn per patch.

    Labels are the photo index in :attr:`classes` (the photo names).
    """

    name = "sample"
    title = "Sample set"
    splits = ("train", "val", "all")

    def __init__(self, root=None, split: str = "train", size: int = 64, download: bool = False,
                 transform: Callable | None = None, n: int | None = None, seed: int = 0,
                 zooms: Sequence[float] = (1.0, 0.6, 0.35, 0.2)):
        if split not in self.splits:
            raise ColorlabError(f"sample: unknown split {split!r}; choose one of {', '.join(self.splits)}")
        if size is None or int(size) < 1:
            raise ColorlabError(f"sample: size must be a positive integer, got {size!r}")
        if not zooms or any(not 0 < z <= 1 for z in zooms):
            raise ColorlabError(f"sample: zooms must be fractions in (0, 1], got {zooms!r}")
        photos = sample_photos(split)
        if not photos:
            raise ColorlabError(f"sample: none of the {split} photos are installed "
                                "(they ship with scikit-image, scikit-learn and matplotlib)")
        self.root = photos[0][1].parent
        self.split, self.size, self.transform = split, int(size), transform
        self.n = int(n) if n is not None else (64 if split == "val" else 512)
        self.seed, self.zooms = int(seed), tuple(float(z) for z in zooms)
        self.classes = [name for name, _ in photos]
        self.paths = [path for _, path in photos]
        self._photos: list[Image.Image] | None = None

    def photos(self) -> list[Image.Image]:
        """The decoded photos (RGB), read once per process (about 15 MB for all of them)."""
        if self._photos is None:
            for p in self.paths:
                if p not in _DECODED:
                    _DECODED[p] = open_rgb(p)
            self._photos = [_DECODED[p] for p in self.paths]
        return self._photos

    def _crop_box(self, index: int) -> tuple[int, tuple[int, int, int, int]]:
        rng = np.random.default_rng([self.seed, index])
        k = index % len(self.paths)  # every photo equally often
        w, h = self.photos()[k].size
        short = min(w, h)
        side = int(round(rng.choice(self.zooms) * short))
        side = min(short, max(side, self.size))
        x = int(rng.integers(0, w - side + 1))
        y = int(rng.integers(0, h - side + 1))
        return k, (x, y, x + side, y + side)

    def read(self, index: int) -> np.ndarray:
        """Patch ``index`` (any ``index >= 0``, also beyond ``len``) as ``uint8 (size, size, 3)``."""
        k, box = self._crop_box(index)
        patch = self.photos()[k].resize((self.size, self.size), Image.Resampling.BICUBIC, box=box,
                                        reducing_gap=3.0)
        return np.asarray(patch, dtype=np.uint8)

    def label(self, index: int) -> int:
        return index % len(self.paths)

    def source(self, index: int) -> str:
        k, box = self._crop_box(index)
        return f"{self.classes[k]}@{box[0]},{box[1]}+{box[2] - box[0]}"

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if not -self.n <= index < self.n:
            raise IndexError(f"index {index} out of range for {self.n} patches")
        index %= self.n
        x = to_tensor(self.read(index))
        if self.transform is not None:
            x = self.transform(x)
        return x, self.label(index)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_photos"] = None  # workers re-read the photos instead of pickling them
        return state

    def __repr__(self) -> str:
        return f"SampleDataset(split={self.split!r}, size={self.size}, n={self.n}, seed={self.seed}, photos={self.classes})"
