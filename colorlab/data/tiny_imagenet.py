"""Tiny ImageNet (``tiny-imagenet-200``): 200 classes, 64x64 JPEGs, 100k train / 10k val.

Some of its images are single-channel (gray): :func:`colorlab.data.prepare` drops them
from colorization training and reports how many.
"""
from __future__ import annotations

from pathlib import Path

from colorlab.core.io import is_image_file
from colorlab.data.base import PhotoDataset

__all__ = ["TinyImageNet"]

URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"  # size and md5: colorlab.data.remote.RECIPES


class TinyImageNet(PhotoDataset):
    """Tiny ImageNet in its original layout. Splits ``train``, ``val`` (labelled) and ``test`` (label -1).

    Labels are the line number of a class's wnid in ``wnids.txt``; :attr:`classes` holds the
    first name ``words.txt`` gives it, :attr:`wnids` the ids.
    """

    name = "tiny-imagenet"
    title = "Tiny ImageNet"
    folder = "tiny-imagenet-200"
    splits = ("train", "val", "test")
    layout = ("tiny-imagenet-200/{wnids.txt, words.txt, train/<wnid>/images/*.JPEG, "
              "val/images/*.JPEG, val/val_annotations.txt}")
    how_to_get = (f"colorlab download tiny-imagenet (or get_dataset('tiny-imagenet', download=True)) or unzip {URL} "
                  f"into the data folder")

    @classmethod
    def is_present(cls, root: Path) -> bool:
        return (root / "wnids.txt").is_file() and (root / "train").is_dir()

    def _scan(self):
        wnids_file, words_file = self.root / "wnids.txt", self.root / "words.txt"
        self._require(wnids_file, words_file)
        self.wnids = [w.strip() for w in wnids_file.read_text().splitlines() if w.strip()]
        index = {w: i for i, w in enumerate(self.wnids)}
        names = {}
        for line in words_file.read_text(encoding="utf-8", errors="replace").splitlines():
            wnid, _, words = line.partition("\t")
            if wnid in index:
                names[wnid] = words.split(",")[0].strip() or wnid
        classes = [names.get(w, w) for w in self.wnids]

        samples: list[tuple[Path, int]] = []
        if self.split == "train":
            for wnid in self.wnids:
                folder = self.root / "train" / wnid / "images"
                self._require(folder)
                samples += [(folder / f, index[wnid]) for f in sorted(p.name for p in folder.iterdir())
                            if is_image_file(f)]
        elif self.split == "val":
            annotations = self.root / "val" / "val_annotations.txt"
            self._require(annotations, self.root / "val" / "images")
            for line in annotations.read_text().splitlines():
                parts = line.split("\t")
                if len(parts) >= 2 and parts[1] in index:
                    samples.append((self.root / "val" / "images" / parts[0], index[parts[1]]))
            self._require_listed(samples)
        else:
            folder = self.root / "test" / "images"
            self._require(folder)
            samples = [(folder / f, -1) for f in sorted(p.name for p in folder.iterdir()) if is_image_file(f)]
        return samples, classes
