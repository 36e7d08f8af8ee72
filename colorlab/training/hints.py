"""Training a hint model: a U-Net that sees L plus the hint channels, fed synthetic hints while it learns."""
from __future__ import annotations

from colorlab.core.errors import ColorlabError
from colorlab.hints.encoding import HINT_CHANNELS
from colorlab.hints.sampling import HintSampler
from colorlab.training.callbacks import HintCallback
from colorlab.training.train import train_colorizer

__all__ = ["train_hint_model"]


def train_hint_model(train, valid=None, sampler: HintSampler | None = None, model_kwargs: dict | None = None,
                     **kwargs):
    """Train a hint U-Net (``in_channels=4``) with synthetic hints through :func:`colorlab.training.train.train_colorizer`.

    ``model_kwargs`` go to ``colorlab.models.create("unet", in_channels=4, ...)``; every other
    keyword (``epochs``, ``bs``, ``lr``, ``loss``, ``out_dir``, …) to ``train_colorizer``. The hints
    come from ``sampler`` (default :class:`~colorlab.hints.sampling.HintSampler`) through
    :class:`~colorlab.training.callbacks.HintCallback`.
    Returns its :class:`~colorlab.training.train.TrainResult`.
    """
    if kwargs.get("gallery_every"):
        raise ColorlabError("gallery_every is not supported for hint models (the gallery feeds the model L only)")
    mk = dict(model_kwargs or {})
    mk["in_channels"] = 1 + HINT_CHANNELS
    extra = list(kwargs.pop("extra_cbs", None) or []) + [HintCallback(sampler)]
    return train_colorizer(train, valid, model="unet", model_kwargs=mk, extra_cbs=extra, **kwargs)
