"""Opening a dataset by name: :func:`get_dataset`, which downloads a missing split first when asked."""
from __future__ import annotations

import inspect

from colorlab.core.errors import ColorlabError
from colorlab.data.registry import dataset_class
import colorlab.data.remote as remote  # the module: download_dataset is looked up when called (tests replace it)

__all__ = ["get_dataset"]


def get_dataset(name: str, root=None, split: str = "train", size: int | None = 64, download: bool = False, **kw):
    """A dataset by name: ``(uint8 tensor (3, size, size), int label)`` items.

    Args:
        name: one of :data:`colorlab.data.registry.DATASETS`.
        root: the data folder (or its parent); default ``data_root() / <folder>``.
        split: ``train`` / ``val`` for all; also ``test`` (tiny-imagenet, flowers102) and
            ``all`` (sample, tf-flowers, folder).
        size: side of the square items (shorter side resized, centre crop).
        download: fetch the split first if it is missing (:func:`colorlab.data.remote.download_dataset`;
            nothing else touches the network).
        **kw: dataset options: ``transform``; sample: ``n``, ``seed``, ``zooms``;
            tf-flowers / folder: ``val_fraction``, ``split_seed``.
    """
    cls = dataset_class(name)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "root", "split", "size", "download"}
    unknown = sorted(set(kw) - accepted)
    if unknown:
        raise ColorlabError(f"{cls.name}: unknown option(s) {', '.join(unknown)}; it accepts {', '.join(sorted(accepted))}")
    downloadable = download and cls.name in remote.RECIPES and split in cls.splits
    if downloadable and not cls.split_present(cls.locate(root), split):
        root = remote.download_dataset(cls.name, root=root, split=cls.download_split(split))
    return cls(root=root, split=split, size=size, download=download, **kw)
