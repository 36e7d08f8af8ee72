"""Places365-Standard, small (256x256) images: 365 scene categories, 1.8M train / 36.5k val."""
from __future__ import annotations

from pathlib import Path

from colorlab.core.errors import ColorlabError
from colorlab.data.base import PhotoDataset

__all__ = ["Places365"]


class Places365(PhotoDataset):
    """Places365-Standard (small images) in its original layout; splits ``train`` and ``val``.

    Train images live in ``data_256/`` (the official archive) or ``data_256_standard/`` (the
    name torchvision extracts to); both are accepted. ``download=True`` fetches the file lists and this split's archive
    (:func:`colorlab.data.remote.download_dataset`) — the train archive is 26 GB.
    """

    name = "places365"
    title = "Places365-Standard"
    folder = "places365"
    splits = ("train", "val")
    layout = ("places365/{categories_places365.txt, places365_train_standard.txt, places365_val.txt, "
              "data_256/ (or data_256_standard/) <letter>/<category>/*.jpg, val_256/*.jpg}")
    how_to_get = ("colorlab download places365 (or get_dataset('places365', download=True)) or download "
                  "filelist_places365-standard.tar, "
                  "train_256_places365standard.tar and val_256.tar from http://data.csail.mit.edu/places/places365/")
    _LISTS = {"train": "places365_train_standard.txt", "val": "places365_val.txt"}

    @classmethod
    def is_present(cls, root: Path) -> bool:
        return (root / "categories_places365.txt").is_file() and (
            (root / "val_256").is_dir() or cls._train_dir(root) is not None)

    @staticmethod
    def _train_dir(root: Path) -> Path | None:
        for name in ("data_256", "data_256_standard"):
            if (root / name).is_dir():
                return root / name
        return None

    @classmethod
    def split_present(cls, root: Path, split: str) -> bool:
        if split not in cls._LISTS:  # "all"
            return all(cls.split_present(root, s) for s in cls._LISTS)
        images = cls._train_dir(root) if split == "train" else root / "val_256"
        return (images is not None and images.is_dir() and (root / cls._LISTS[split]).is_file()
                and (root / "categories_places365.txt").is_file())

    @classmethod
    def download_split(cls, split: str) -> str:
        return split  # only this split's archive: the train one is 26 GB

    def _scan(self):
        categories = self.root / "categories_places365.txt"
        file_list = self.root / self._LISTS[self.split]
        self._require(categories, file_list)
        classes = []
        for line in categories.read_text().splitlines():
            if line.strip():
                path, idx = line.rsplit(maxsplit=1)
                if int(idx) != len(classes):
                    raise ColorlabError(f"{self.title}: {categories} is out of order at line {len(classes) + 1}")
                classes.append(path.strip("/").split("/", 1)[-1])  # "/a/airfield" -> "airfield"
        if self.split == "train":
            images = self._train_dir(self.root)
            if images is None:
                raise ColorlabError(f"{self.title}: missing {self.root / 'data_256'} (or data_256_standard) — "
                                    f"expected layout: {self.layout}; to get it: {self.how_to_get}")
        else:
            images = self.root / "val_256"
            self._require(images)
        samples = []
        for line in file_list.read_text().splitlines():
            if line.strip():
                rel, idx = line.rsplit(maxsplit=1)
                samples.append((images / rel.lstrip("/"), int(idx)))
        self._require_listed(samples)
        return samples, classes
