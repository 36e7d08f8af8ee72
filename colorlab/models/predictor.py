"""The profile / category predictor: a classifier that sees only the L channel.

Robles & Budach routes a gray photo to the colorizer of its predicted colour profile with "a
convolution network with some flattened and dense layers" (:class:`SmallCNN`); Siswanto & Karnati
compares ImageNet backbones (VGG19, ResNet50, Inception) with the top replaced by batch
norm, dropout and a dense layer (:class:`BackboneClassifier`). Both train with a fastai
``Learner`` and categorical cross-entropy, and are judged by accuracy, the confusion matrix
and the per-class top-3 error (Siswanto & Karnati, Table I) — :func:`evaluate_predictor`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from colorlab.core.color import split_lab
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.rarity.stats import iter_rgb_batches

__all__ = ["SmallCNN", "BackboneClassifier", "make_predictor", "train_predictor", "predict_proba",
           "evaluate_predictor", "PredictorReport", "top3_accuracy", "ARCHS"]

#: Short names of the backbones Siswanto & Karnati compared (any torchvision classification model name works too).
ARCHS = {"small": None, "vgg19": "vgg19", "resnet50": "resnet50", "inception": "inception_v3",
         "resnet18": "resnet18"}


class SmallCNN(nn.Module):
    """A small CNN trained from scratch: ``L (N, 1, H, W)`` in [-1, 1] → logits ``(N, K)``.

    ``depth`` stages of two 3×3 conv-BN-ReLU and a 2× max-pool (width doubling), global
    average pooling, then a dense layer, dropout and the classifier.
    """

    def __init__(self, n_classes: int, width: int = 32, depth: int = 3, dropout: float = 0.25):
        super().__init__()
        layers, c_in = [], 1
        for i in range(depth):
            c = width * 2 ** i
            layers += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                       nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, 2 * c_in),
                                  nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(2 * c_in, n_classes))
        self.config = {"arch": "small", "n_classes": n_classes, "width": width, "depth": depth, "dropout": dropout}

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(L))


def _strip_top(model: nn.Module) -> int:
    """Replace a torchvision classifier's top by ``Identity``; return the feature width."""
    if isinstance(getattr(model, "fc", None), nn.Linear):
        dim = model.fc.in_features
        model.fc = nn.Identity()
        return dim
    cls = getattr(model, "classifier", None)
    if isinstance(cls, nn.Module):
        linears = [m for m in cls.modules() if isinstance(m, nn.Linear)]
        if linears:
            model.classifier = nn.Identity()
            return linears[0].in_features
    raise ColorlabError(f"don't know how to replace the top of {type(model).__name__}: "
                        "use 'small', 'vgg19', 'resnet50', 'inception' or a ResNet/VGG/EfficientNet")


class BackboneClassifier(nn.Module):
    """A torchvision backbone on the gray image replicated to 3 channels, with a new top.

    The top is Siswanto & Karnati's: batch norm, dropout, one dense layer. ImageNet weights as
    ``pretrained`` says (``"download"``/``True``, ``"disk"``, ``"none"``/``False``;
    :func:`colorlab.models.backbones.load_backbone`: one warning line and random init when
    they cannot be had).

    Args:
        arch: ``"vgg19"``, ``"resnet50"``, ``"inception"`` or a torchvision model name.
        input_size: side the gray image is resized to; default: the image's own size, raised
            to the architecture's minimum (75 for Inception, 32 otherwise).
    """

    def __init__(self, n_classes: int, arch: str = "resnet50", pretrained: bool = True,
                 input_size: int | None = None, dropout: float = 0.5):
        super().__init__()
        from colorlab.models.backbones import build_backbone

        name = ARCHS.get(arch, arch)
        if name is None:
            raise ColorlabError("arch 'small' is the SmallCNN, not a backbone")
        body = build_backbone(name, pretrained=pretrained)
        self.loaded_weights = bool(body.pretrained_info["pretrained_loaded"])
        if name.startswith("inception"):
            body.aux_logits, body.AuxLogits = False, None
            body.transform_input = self.loaded_weights  # torchvision's Inception weights expect its own scaling
        dim = _strip_top(body)
        self.body = body
        self.head = nn.Sequential(nn.BatchNorm1d(dim), nn.Dropout(dropout), nn.Linear(dim, n_classes))
        self.min_size = 75 if name.startswith("inception") else 32
        self.input_size = input_size
        self.config = {"arch": arch, "n_classes": n_classes, "pretrained": pretrained,
                       "pretrained_loaded": self.loaded_weights, "input_size": input_size,
                       "dropout": dropout}

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        from colorlab.models.backbones import gray_to_imagenet

        size = self.input_size or max(self.min_size, *L.shape[-2:])
        return self.head(self.body(gray_to_imagenet(L, size)))


def make_predictor(arch: str = "small", n_classes: int = 4, pretrained: bool = True, **kwargs) -> nn.Module:
    """``"small"`` → :class:`SmallCNN` (``width``, ``depth``, ``dropout``); anything else →
    :class:`BackboneClassifier` (``input_size``, ``dropout``)."""
    if n_classes < 2:
        raise ColorlabError(f"a predictor needs at least 2 classes, got {n_classes}")
    if arch == "small":
        return SmallCNN(n_classes, **kwargs)
    return BackboneClassifier(n_classes, arch=arch, pretrained=pretrained, **kwargs)


def _labels_of(data, labels) -> tuple[np.ndarray, list[str]]:
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
    from fastai.metrics import top_k_accuracy
    return top_k_accuracy(inp, targ, k=3)


def train_predictor(train, labels=None, valid=None, valid_labels=None, arch: str = "small", epochs: int = 5,
                    lr: float = 3e-3, bs: int = 64, device="auto", pretrained: bool = True, seed: int = 0,
                    mixed_precision: bool = True, progress: bool = True, model_kwargs: dict | None = None):
    """Train a profile/category predictor with fastai (``fit_one_cycle``, cross-entropy).

    Args:
        train: a prepared cache or a uint8 array ``(N, H, W, 3)``.
        labels: a :class:`colorlab.profiles.groups.Groups`, an int array ``(N,)``, or None for the
            dataset's categories.
        valid, valid_labels: the same for validation; without ``valid`` 10 % of train is held out.
    Returns:
        the fastai ``Learner`` (``learn.model`` is the predictor; ``learn.names`` the class names).
    """
    from fastai.losses import CrossEntropyLossFlat
    from fastai.metrics import accuracy
    from fastai.torch_core import set_seed

    from colorlab.data.loaders import make_dataloaders
    from colorlab.training.train import make_learner

    set_seed(seed)
    y, names = _labels_of(train, labels)
    images = getattr(train, "images", train)
    valid_pair = None
    if valid is not None:
        vy, _ = _labels_of(valid, valid_labels)
        valid_pair = (getattr(valid, "images", valid), vy)
    dls = make_dataloaders((images, y), valid_pair, bs=bs, target="label", device=device, seed=seed)
    model = make_predictor(arch, len(names), pretrained=pretrained, **(model_kwargs or {}))
    metrics = [accuracy] + ([top3_accuracy] if len(names) > 3 else [])
    learn = make_learner(dls, model, CrossEntropyLossFlat(), mixed_precision=mixed_precision, lr=lr, metrics=metrics)
    learn.names = names
    if not progress:
        learn.remove_cbs([cb for cb in learn.cbs if type(cb).__name__ == "ProgressCallback"])
        learn.logger = lambda *a, **k: None  # the recorder's per-epoch lines too
    learn.fit_one_cycle(epochs, lr)
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
        for rgb in iter_rgb_batches(data, batch_size, dev, progress=progress, desc="predict"):
            L, _ = split_lab(rgb)
            out.append(torch.softmax(model(L.contiguous()).float(), 1).cpu())
    finally:
        model.train(was_training)
    return torch.cat(out)


@dataclass
class PredictorReport:
    """Accuracy, confusion matrix (rows: true, columns: predicted) and per-class top-1/top-3 error."""

    names: list
    accuracy: float
    top3_accuracy: float
    confusion: np.ndarray
    top1_error: np.ndarray
    top3_error: np.ndarray
    support: np.ndarray

    def table(self):
        """Siswanto & Karnati's Table I layout: one row per class (and "all"), errors in %."""
        import pandas as pd

        df = pd.DataFrame({"class": self.names, "images": self.support,
                           "top-1 error %": 100 * self.top1_error, "top-3 error %": 100 * self.top3_error})
        total = pd.DataFrame({"class": ["all"], "images": [int(self.support.sum())],
                              "top-1 error %": [100 * (1 - self.accuracy)],
                              "top-3 error %": [100 * (1 - self.top3_accuracy)]})
        return pd.concat([df, total], ignore_index=True).round(2)


def evaluate_predictor(model, data, labels=None, device="auto", batch_size: int = 128,
                       names: list | None = None) -> PredictorReport:
    """Score a predictor (or its fastai Learner) on ``data`` with true ``labels`` (as in :func:`train_predictor`)."""
    y, default_names = _labels_of(data, labels)
    probs = predict_proba(model, data, device=device, batch_size=batch_size)
    K = probs.shape[1]
    names = list(names or getattr(model, "names", None) or default_names)
    names = (names + [f"class {i}" for i in range(len(names), K)])[:K]
    if y.max() >= K:
        raise ColorlabError(f"labels go up to {int(y.max())} but the model predicts {K} classes")
    yt = torch.from_numpy(y)
    top = probs.topk(min(3, K), dim=1).indices
    hit1 = (top[:, 0] == yt).numpy()
    hit3 = (top == yt[:, None]).any(1).numpy()
    conf = np.zeros((K, K), dtype=np.int64)
    np.add.at(conf, (y, top[:, 0].numpy()), 1)
    support = np.bincount(y, minlength=K)
    with np.errstate(invalid="ignore", divide="ignore"):
        e1 = 1 - np.bincount(y, weights=hit1, minlength=K) / support
        e3 = 1 - np.bincount(y, weights=hit3, minlength=K) / support
    return PredictorReport(names, float(hit1.mean()), float(hit3.mean()), conf, e1, e3, support)
