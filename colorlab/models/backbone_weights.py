"""Where a backbone colorizer's ImageNet weights come from: the options the fusion and FPN colorizers share.

:class:`~colorlab.models.fusion.FusionColorizer` and :class:`~colorlab.models.fpn.FPNColorizer` take
these as keyword options (``pretrained=``, ``weights_path=``, ``pretrained_loaded=``,
``pretrained_weights=``) and record them in ``model.config``, so ``create(**model.config)`` rebuilds the
same model.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import torch.nn as nn

from colorlab.core.weights import pretrained_mode
from colorlab.models.backbones import load_backbone, recorded_weights

__all__ = ["BackboneWeights"]


@dataclass(frozen=True)
class BackboneWeights:
    """A backbone's weights: where to get them and what the model's config records of them.

    Attributes:
        pretrained: ``"download"``, ``"disk"`` or ``"none"`` (``True``/``False`` = download/none; see
            :func:`~colorlab.models.backbones.load_backbone`).
        weights_path: an explicit backbone weights file (overrides ``pretrained``).
        pretrained_loaded, pretrained_weights: recorded in the config (what was loaded when the model was
            first built); a model rebuilt from a checkpoint keeps the input transform and freezing of the original.
    """

    pretrained: bool | str = "download"
    weights_path: str | None = None
    pretrained_loaded: bool | None = None
    pretrained_weights: str | None = None

    @classmethod
    def of(cls, owner: str, options: dict) -> "BackboneWeights":
        """The weights options a model's ``**weights`` holds; any other keyword is the ``TypeError`` Python raises
        for an unknown argument of ``owner`` (``colorlab.models.create`` reports it as a bad option)."""
        unknown = [k for k in options if k not in {f.name for f in fields(cls)}]
        if unknown:
            raise TypeError(f"{owner}.__init__() got an unexpected keyword argument {unknown[0]!r}")
        return cls(**options)

    @property
    def mode(self) -> str:
        """``pretrained`` as ``"download"``, ``"disk"`` or ``"none"``."""
        return pretrained_mode(self.pretrained)

    @property
    def path(self) -> str | None:
        """``weights_path`` as the config records it (a string, or None)."""
        return None if self.weights_path is None else str(self.weights_path)

    def load(self, name: str) -> tuple[nn.Module, dict]:
        """The torchvision backbone ``name`` with these weights: ``(model, info)`` as :func:`load_backbone` returns."""
        return load_backbone(name, pretrained=self.mode, weights_path=self.weights_path)

    def recorded(self, info: dict) -> tuple[bool, str | None]:
        """Whether the backbone holds ImageNet weights (loaded now, or recorded in the config), and their name."""
        return recorded_weights(info, self.pretrained_loaded, self.pretrained_weights)
