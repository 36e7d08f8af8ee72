"""The dataset registry: every dataset class by name (:data:`DATASETS`, :func:`dataset_class`).

:func:`colorlab.data.datasets.get_dataset` opens one by name.
"""
from __future__ import annotations

from colorlab.core.errors import ColorlabError
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
    if not isinstance(name, str):
        raise ColorlabError(f"dataset name must be a string, got {type(name).__name__}")
    wanted = name.lower().replace("_", "").replace("-", "").replace(" ", "")
    for key, cls in DATASETS.items():
        if key.replace("-", "") == wanted:
            return cls
    raise ColorlabError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
