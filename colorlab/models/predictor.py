"""The profile / category predictor networks: classifiers that see only the L channel.

Robles & Budach routes a gray photo to the colorizer of its predicted colour profile with "a
convolution network with some flattened and dense layers" (:class:`SmallCNN`); Siswanto & Karnati
compares ImageNet backbones (VGG19, ResNet50, Inception) with the top replaced by batch
norm, dropout and a dense layer (:class:`BackboneClassifier`). Both train with a fastai
``Learner`` and categorical cross-entropy (:func:`colorlab.training.predictor.train_predictor`), and are
judged by accuracy, the confusion matrix and the per-class top-3 error (Siswanto & Karnati, Table I) —
:func:`colorlab.evaluation.predictor.evaluate_predictor`.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from colorlab.core.errors import ColorlabError
from colorlab.models.backbones import build_backbone, gray_to_imagenet

__all__ = ["SmallCNN", "BackboneClassifier", "make_predictor", "ARCHS"]

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
