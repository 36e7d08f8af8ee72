"""The names the command line accepts, in one torch-free place: models, losses, datasets.

``colorlab train --model unett`` is refused by the parser, before torch or fastai are imported. The
model registry (:data:`colorlab.models.MODELS`), the loss builder (:func:`colorlab.rarity.losses.make_loss`)
and the dataset registry (:data:`colorlab.data.registry.DATASETS`) use these lists; a test keeps them equal.
"""
from __future__ import annotations

from colorlab.core.errors import ColorlabError

__all__ = ["MODEL_NAMES", "LOSS_NAMES", "SCHEDULES", "DATASET_NAMES", "DOWNLOADABLE", "dataset_key"]

#: Colorizer models, by the name ``colorlab.models.create`` takes.
MODEL_NAMES = ("plain_cnn", "unet", "fusion", "fpn")
#: Losses, by the name ``colorlab.rarity.losses.make_loss`` takes.
LOSS_NAMES = ("mse", "rarity", "blend", "lin_ferreira", "ce")
#: Learning-rate schedules, by the name ``colorlab.training.config.TrainConfig(schedule=...)`` takes.
SCHEDULES = ("one_cycle", "constant", "step")
#: Datasets, by the name ``colorlab.data.get_dataset`` takes, in the order notebooks list them.
DATASET_NAMES = ("sample", "tiny-imagenet", "flowers102", "tf-flowers", "places365", "folder", "scenes")
#: The datasets ``colorlab download`` fetches (the recipes of :data:`colorlab.data.remote.RECIPES`).
DOWNLOADABLE = ("tiny-imagenet", "flowers102", "tf-flowers", "places365")


def dataset_key(name: str) -> str:
    """The registered name of a dataset (case, ``_``, ``-`` and spaces ignored: ``Tiny_ImageNet`` works)."""
    if not isinstance(name, str):
        raise ColorlabError(f"dataset name must be a string, got {type(name).__name__}")
    wanted = name.lower().replace("_", "").replace("-", "").replace(" ", "")
    for key in DATASET_NAMES:
        if key.replace("-", "") == wanted:
            return key
    raise ColorlabError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}")
