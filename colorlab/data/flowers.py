"""Flower photos: Oxford Flowers 102 (official splits) and TensorFlow's ``flower_photos`` (5 classes)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from colorlab.core.errors import ColorlabError
from colorlab.core.io import is_image_file
from colorlab.data.base import PhotoDataset, hash_split

__all__ = ["Flowers102", "TFFlowers"]


class Flowers102(PhotoDataset):
    """Oxford Flowers 102 in its original layout, with the official ``train``/``val``/``test``
    splits (1020 / 1020 / 6149 photos). Labels 0..101 (``imagelabels.mat`` is 1-based).

    ``train90``/``test10``: Benabla et al.'s "90%-10% training-testing split" of all 8,189 photos (about 7,370 /
    819), fixed by a hash of each file name (:func:`~colorlab.data.base.hash_split`, seed 0): their own draw is
    not published.

    ``download=True`` fetches the published files into ``flowers-102/``
    (:func:`colorlab.data.remote.download_dataset`).
    """

    name = "flowers102"
    title = "Oxford Flowers 102"
    folder = "flowers-102"
    splits = ("train", "val", "test", "train90", "test10")
    layout = "flowers-102/{jpg/image_00001.jpg ..., imagelabels.mat, setid.mat}"
    how_to_get = ("colorlab download flowers102 (or get_dataset('flowers102', download=True)) or download "
                  "102flowers.tgz, imagelabels.mat "
                  "and setid.mat from https://www.robots.ox.ac.uk/~vgg/data/flowers/102/")
    _SET_KEYS = {"train": "trnid", "val": "valid", "test": "tstid"}

    @classmethod
    def is_present(cls, root: Path) -> bool:
        return all((root / f).exists() for f in ("jpg", "imagelabels.mat", "setid.mat"))

    def _scan(self):
        from scipy.io import loadmat
        from torchvision.datasets import Flowers102 as TVFlowers102
        labels_file, setid_file = self.root / "imagelabels.mat", self.root / "setid.mat"
        self._require(self.root / "jpg", labels_file, setid_file)
        try:
            labels = np.atleast_1d(loadmat(labels_file, squeeze_me=True)["labels"]).astype(np.int64)
            if self.split in ("train90", "test10"):
                ids = np.arange(1, labels.size + 1, dtype=np.int64)
            else:
                ids = np.atleast_1d(loadmat(setid_file, squeeze_me=True)[self._SET_KEYS[self.split]]).astype(np.int64)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ColorlabError(f"{self.title}: cannot read {labels_file.name} / {setid_file.name} "
                                f"in {self.root} ({e}); {self.how_to_get}") from None
        if ids.size and (ids.min() < 1 or ids.max() > labels.size):
            raise ColorlabError(f"{self.title}: {setid_file} lists image ids outside 1..{labels.size} "
                                f"of {labels_file.name}; the two files do not belong together")
        if self.split in ("train90", "test10"):
            keep = "train" if self.split == "train90" else "val"
            ids = [i for i in ids if hash_split(f"image_{i:05d}.jpg", 0, 0.1) == keep]
        samples = [(self.root / "jpg" / f"image_{i:05d}.jpg", int(labels[i - 1]) - 1) for i in ids]
        self._require_listed(samples)
        return samples, list(TVFlowers102.classes)


class TFFlowers(PhotoDataset):
    """TensorFlow's ``flower_photos``: ``<class>/*.jpg`` for daisy, dandelion, roses, sunflowers, tulips.

    It has no official split: ``train``/``val`` is a fixed 90/10 split of the photos by a hash
    of their path (``split_seed``, ``val_fraction``); ``all`` is every photo.
    """

    name = "tf-flowers"
    title = "TF flowers"
    folder = "flower_photos"
    splits = ("train", "val", "all")
    URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
    layout = "flower_photos/<class>/*.jpg (daisy, dandelion, roses, sunflowers, tulips) + LICENSE.txt"
    how_to_get = (f"colorlab download tf-flowers (or get_dataset('tf-flowers', download=True)) or extract {URL} "
                  f"into the data folder")

    def __init__(self, root=None, split="train", size=64, download=False, transform=None,
                 val_fraction: float = 0.1, split_seed: int = 0):
        self.val_fraction, self.split_seed = float(val_fraction), int(split_seed)
        super().__init__(root, split, size, download, transform)

    @classmethod
    def is_present(cls, root: Path) -> bool:
        return root.is_dir() and any(p.is_dir() and not p.name.startswith(".") for p in root.iterdir())

    def _scan(self):
        self._require(self.root)
        classes = sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not classes:
            raise ColorlabError(f"{self.title}: no class folders in {self.root} — expected layout: "
                                f"{self.layout}; to get it: {self.how_to_get}")
        samples = []
        for label, cls in enumerate(classes):
            for f in sorted(p.name for p in (self.root / cls).iterdir()):
                if is_image_file(f) and (self.split == "all" or
                                         hash_split(f"{cls}/{f}", self.split_seed, self.val_fraction) == self.split):
                    samples.append((self.root / cls / f, label))
        return samples, classes
