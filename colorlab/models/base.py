"""What every colorizer shares: its config, its input check and its output head."""
from __future__ import annotations

import torch
import torch.nn as nn

from colorlab.core.errors import ColorlabError

__all__ = ["Colorizer", "HEADS"]

HEADS = ("regression", "classification")


class Colorizer(nn.Module):
    """Base class: normalised L (+ extra channels) ``(N, in_channels, H, W)`` → ab or Q-bin logits.

    Subclasses call ``super().__init__(config)`` with the keyword arguments that rebuild them,
    so that ``colorlab.models.create(**model.config)`` returns an identical architecture.

    Attributes:
        config: JSON-serialisable dict, ``{"name": <registry name>, **constructor arguments}``.
        in_channels: 1 (L only) or more (e.g. 4 = L + hint ab + hint mask).
        head: ``"regression"`` → ``(N, 2, H, W)`` in [-1, 1] (ab / 110) through tanh;
            ``"classification"`` → ``(N, n_bins, H, W)`` logits over ab bins.
        out_channels: 2 or ``n_bins``.
        stride: H and W must be multiples of it.
    """

    def __init__(self, config: dict, stride: int):
        super().__init__()
        self.config = dict(config)
        self.in_channels = int(config.get("in_channels", 1))
        self.head = config.get("head", "regression")
        self.n_bins = int(config.get("n_bins", 313))
        self.stride = int(stride)
        if self.head not in HEADS:
            raise ColorlabError(f"head must be one of {HEADS}, got {self.head!r}")
        if self.in_channels < 1:
            raise ColorlabError(f"in_channels must be >= 1, got {self.in_channels}")
        self.out_channels = 2 if self.head == "regression" else self.n_bins

    def check_input(self, x: torch.Tensor) -> None:
        """Raise :class:`ColorlabError` unless ``x`` is ``(N, in_channels, H, W)`` with H, W multiples of stride."""
        name = self.config["name"]
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ColorlabError(f"{name} expects input (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        h, w = x.shape[-2:]
        if h % self.stride or w % self.stride:
            raise ColorlabError(f"{name} needs H and W to be multiples of {self.stride}, got {h}x{w}; "
                                f"resize or crop the input")

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.config.items() if k != "name")


def output_head(in_ch: int, head: str, n_bins: int, kernel_size: int = 3) -> nn.Module:
    """The last layer: ``kernel_size`` conv to 2 channels + tanh, or to ``n_bins`` logits."""
    pad = kernel_size // 2
    if head == "regression":
        return nn.Sequential(nn.Conv2d(in_ch, 2, kernel_size, padding=pad), nn.Tanh())
    return nn.Conv2d(in_ch, n_bins, kernel_size, padding=pad)


def conv_bn_relu(in_ch: int, out_ch: int, stride: int = 1, kernel_size: int = 3) -> nn.Sequential:
    """3×3 (by default) conv (no bias) + BatchNorm + ReLU."""
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
                         nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True))
