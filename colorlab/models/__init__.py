"""Colorizer models: ``create(name, **config)`` builds any of them by name.

>>> from colorlab.models import create, MODELS
>>> model = create("unet", base=8, depth=3)
>>> create(**model.config).config == model.config
True

Every model maps normalised L (+ optional extra channels) ``(N, in_channels, H, W)`` to
ab through tanh ``(N, 2, H, W)`` or to Q-bin logits ``(N, Q, H, W)`` (``head="classification"``);
:func:`predict_ab` turns either into normalised ab.
"""
from colorlab.core.lazy import lazy_exports

__all__ = ["MODELS", "create", "count_parameters", "predict_ab", "annealed_mean",
           "Colorizer", "PlainCNN", "UNet", "FusionColorizer", "FPNColorizer"]

# where each name lives: imported when first used, so importing the package loads nothing heavy
__getattr__, __dir__ = lazy_exports(__name__, __all__, {
    "registry": "MODELS create count_parameters",
    "base": "Colorizer",
    "fpn": "FPNColorizer",
    "fusion": "FusionColorizer",
    "heads": "annealed_mean predict_ab",
    "plain_cnn": "PlainCNN",
    "unet": "UNet",
})
