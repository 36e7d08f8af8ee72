"""PlainCNN — the colorizer of Siswanto & Karnati (Siswanto & Karnati), after Baldassarre et al.

Stride-2 convolutions instead of pooling on the way down (H → H/8), nearest-neighbour
upsampling on the way up. At ``base=64`` it is exactly the paper's layer table (Fig. 3):
3,892,194 parameters — note the count is independent of the input size.

======================  ===========  ==========
layer                   output       stride
======================  ===========  ==========
conv 64, conv 64 /2     64           2
conv 128, conv 128 /2   128          4
conv 256, conv 256 /2   256          8
conv 512, 256, 128      128          8
up, conv 64             64           4
up, conv 32, conv 2     2 (tanh)     2
up                      2            1
======================  ===========  ==========
"""
from __future__ import annotations

import torch
import torch.nn as nn

from colorlab.models.base import Colorizer, output_head

__all__ = ["PlainCNN", "plain_block"]


def _conv(in_ch: int, out_ch: int, stride: int = 1, batchnorm: bool = False) -> list[nn.Module]:
    layers = [nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1)]
    if batchnorm:
        layers.append(nn.BatchNorm2d(out_ch))
    return layers + [nn.ReLU(inplace=True)]


def plain_block(in_ch: int, out_ch: int, stride: int = 1) -> nn.Sequential:
    """One 3×3 conv (padding 1, ``stride``) → BatchNorm → ReLU of :class:`PlainCNN` (``batchnorm=True``):
    lab 04's ``conv_block`` exercise, the kit's answer, and what ``PlainCNN(block=...)`` replaces."""
    return nn.Sequential(*_conv(in_ch, out_ch, stride, batchnorm=True))


class PlainCNN(Colorizer):
    """Plain encoder–decoder CNN (Siswanto & Karnati). Input H, W must be multiples of 8.

    Args:
        in_channels: 1 (L) or more (e.g. 4 with hints).
        base: width of the first layer; the others scale with it (64 = the paper).
        batchnorm: add BatchNorm after every conv (the paper has none).
        head: ``"regression"`` (2 channels, tanh) or ``"classification"`` (``n_bins`` logits).
        n_bins: number of ab bins for the classification head.
        block: None, or a function ``block(in_ch, out_ch, stride) → nn.Module`` (3×3 conv → BatchNorm → ReLU,
            like :func:`plain_block`) that builds every convolution but the head (lab 04: the student's
            ``conv_block``); ``batchnorm`` is then ignored. Not part of ``config``: for experiments, not checkpoints.
    """

    def __init__(self, in_channels: int = 1, base: int = 64, batchnorm: bool = False,
                 head: str = "regression", n_bins: int = 313, block=None):
        super().__init__(dict(name="plain_cnn", in_channels=in_channels, base=base, batchnorm=batchnorm,
                              head=head, n_bins=n_bins), stride=8)
        b, bn = base, batchnorm
        conv = (lambda i, o, s: _conv(i, o, s, bn)) if block is None else (lambda i, o, s: [block(i, o, s)])
        self.body = nn.Sequential(
            *conv(in_channels, b, 1), *conv(b, b, 2),
            *conv(b, 2 * b, 1), *conv(2 * b, 2 * b, 2),
            *conv(2 * b, 4 * b, 1), *conv(4 * b, 4 * b, 2),
            *conv(4 * b, 8 * b, 1), *conv(8 * b, 4 * b, 1), *conv(4 * b, 2 * b, 1),
            nn.Upsample(scale_factor=2), *conv(2 * b, b, 1),
            nn.Upsample(scale_factor=2), *conv(b, b // 2, 1),
            output_head(b // 2, self.head, self.n_bins),
            nn.Upsample(scale_factor=2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, H, W)`` → ``(N, out_channels, H, W)``."""
        self.check_input(x)
        return self.body(x)
