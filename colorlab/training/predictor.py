"""Training the profile / category predictor (:mod:`colorlab.models.predictor`) and reading its probabilities.

:func:`train_predictor` fits a predictor with fastai (``fit_one_cycle``, categorical cross-entropy) on
the L channel of the images and their group labels; :func:`predict_proba` gives its class
probabilities for new images. :func:`colorlab.evaluation.predictor.evaluate_predictor` scores it.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from fastai.losses import CrossEntropyLossFlat
from fastai.metrics import accuracy, top_k_accuracy
from fastai.torch_core import set_seed

from colorlab.core.color import LAB
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.core.options import with_options
from colorlab.data.batches import iter_batches
from colorlab.data.loaders import make_dataloaders
from colorlab.models.predictor import make_predictor
from colorlab.training.builders import make_learner, quiet
from colorlab.training.progress import plain_progress

__all__ = ["PredictorConfig", "train_predictor", "predict_proba", "labels_of", "top3_accuracy"]


@dataclass(frozen=True)
class PredictorConfig:
    """How :func:`train_predictor` builds and trains the predictor.

    Attributes:
        arch: ``"small"`` (:class:`~colorlab.models.predictor.SmallCNN`) or a backbone name
            (:class:`~colorlab.models.predictor.BackboneClassifier`); ``pretrained``: its ImageNet weights.
        model_kwargs: more arguments of the network (``width``, ``depth``, ``dropout``, ``input_size``).
        epochs, lr, bs, seed: the ``fit_one_cycle`` run.
        device, precision, progress: where and how it runs (``precision``: None / ``"auto"`` measured,
            ``"fp32"``, ``"bf16"``, ``"fp16"``; ``mixed_precision`` is its deprecated old name, False → fp32).
    """

    arch: str = "small"
    epochs: int = 5
    lr: float = 3e-3
    bs: int = 64
    device: str = "auto"
    pretrained: bool = True
    seed: int = 0
    mixed_precision: bool | None = None  # deprecated alias of precision
    progress: bool = True
    model_kwargs: dict | None = None
    precision: str | None = None

    def __post_init__(self):
        if self.mixed_precision is not None:
            warnings.warn("PredictorConfig(mixed_precision=...) is deprecated: use precision='fp32' (or 'auto', "
                          "'bf16', 'fp16')", DeprecationWarning, stacklevel=4)
            if self.precision is None and not self.mixed_precision:
                object.__setattr__(self, "precision", "fp32")
            object.__setattr__(self, "mixed_precision", None)


def labels_of(data, labels) -> tuple[np.ndarray, list[str]]:
    """Labels and names from a Groups, an array, or the dataset's own category labels."""
    names = list(getattr(labels, "names", []) or [])
    if labels is None:
        labels = getattr(data, "labels", None)
        names = list(getattr(data, "classes", []) or [])
        if labels is None:
            raise ColorlabError("no labels: pass labels= (a Groups from colorlab.profiles.groups or an array (N,))")
    y = np.asarray(getattr(labels, "labels", labels), dtype=np.int64)
    images = getattr(data, "images", data)
    if y.ndim != 1 or len(y) != len(images):
        raise ColorlabError(f"{len(y)} labels for {len(images)} images")
    if (y < 0).any():
        raise ColorlabError("some images have no label (-1): this dataset has no categories; use colour profiles")
    n = max(len(names), int(y.max()) + 1)
    return y, names + [f"class {i}" for i in range(len(names), n)]


def top3_accuracy(inp: torch.Tensor, targ: torch.Tensor) -> torch.Tensor:
    """fastai metric: the fraction of images whose class is among the 3 most probable."""
    return top_k_accuracy(inp, targ, k=3)


def train_predictor(train, labels=None, valid=None, valid_labels=None, config: PredictorConfig | None = None,
                    **options):
    """Train a profile/category predictor with fastai (``fit_one_cycle``, cross-entropy).

    Args:
        train: a prepared cache or a uint8 array ``(N, H, W, 3)``.
        labels: a :class:`colorlab.profiles.groups.Groups`, an int array ``(N,)``, or None for the
            dataset's categories.
        valid, valid_labels: the same for validation; without ``valid`` 10 % of train is held out.
        config: a :class:`PredictorConfig`; ``options`` override its fields (``arch="small"``, ``epochs=10``, ...).
    Returns:
        the fastai ``Learner`` (``learn.model`` is the predictor; ``learn.names`` the class names).
    """
    c = with_options(config or PredictorConfig(), options, "predictor training")
    set_seed(c.seed)
    y, names = labels_of(train, labels)
    images = getattr(train, "images", train)
    valid_pair = None
    if valid is not None:
        vy, _ = labels_of(valid, valid_labels)
        valid_pair = (getattr(valid, "images", valid), vy)
    dls = make_dataloaders((images, y), valid_pair, bs=c.bs, target="label", device=c.device, seed=c.seed)
    model = make_predictor(c.arch, len(names), pretrained=c.pretrained, **(c.model_kwargs or {}))
    metrics = [accuracy] + ([top3_accuracy] if len(names) > 3 else [])
    learn = make_learner(dls, model, CrossEntropyLossFlat(), precision=c.precision, lr=c.lr,
                         metrics=metrics)
    learn.names = names
    quiet(learn) if not c.progress else plain_progress(learn)  # in a log file: one line per epoch
    learn.fit_one_cycle(c.epochs, c.lr)
    return learn


@torch.no_grad()
def predict_proba(model, data, device="auto", batch_size: int = 128, progress: bool = False) -> torch.Tensor:
    """Class probabilities ``(N, K)`` (CPU) of every image of ``data`` from its L channel alone."""
    model = getattr(model, "model", model)
    dev = get_device(device)
    was_training = model.training
    model.eval().to(dev)
    out = []
    try:
        for rgb in iter_batches(data, batch_size, dev, progress=progress, desc="predict"):
            L, _ = LAB.split(rgb)
            out.append(torch.softmax(model(L.contiguous()).float(), 1).cpu())
    finally:
        model.train(was_training)
    return torch.cat(out)
