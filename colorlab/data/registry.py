"""The dataset registry: every dataset class by name (:data:`DATASETS`, :func:`dataset_class`).

:func:`colorlab.data.datasets.get_dataset` opens one by name.
"""
from __future__ import annotations

from colorlab.core.names import dataset_key
from colorlab.data.flowers import Flowers102, TFFlowers
from colorlab.data.folder import PhotoFolder
from colorlab.data.places import Places365
from colorlab.data.sample import SampleDataset
from colorlab.data.scenes import ScenesDataset
from colorlab.data.tiny_imagenet import TinyImageNet

__all__ = ["DATASETS", "dataset_class"]

#: name → dataset class, in the order notebooks list them.
DATASETS: dict[str, type] = {
    "sample": SampleDataset,
    "tiny-imagenet": TinyImageNet,
    "flowers102": Flowers102,
    "tf-flowers": TFFlowers,
    "places365": Places365,
    "folder": PhotoFolder,
    "scenes": ScenesDataset,
}


def dataset_class(name: str) -> type:
    """The class behind a dataset name (case, ``_`` and ``-`` are ignored: ``Tiny_ImageNet`` works)."""
    return DATASETS[dataset_key(name)]
