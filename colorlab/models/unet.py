"""UNet — Robles & Budach's colorizer and the trunk of the user-hint model (Benabla et al.).

``depth`` resolution levels with widths ``base, 2·base, …, 2^(depth-1)·base``; each level is
two 3×3 conv + BN + ReLU. Going down halves H and W ``depth - 1`` times (so H, W must be
multiples of ``2^(depth-1)``); going up is a 2×2 transposed conv, then (optionally) the skip
connection from the encoder at that level is concatenated.

Benabla et al.'s ablations map to two switches:

* ``skips``: ``"all"`` levels, ``"upper"`` (only the highest-resolution one),
  ``"upper_middle"`` (the two highest), or ``"none"`` (a plain encoder–decoder).
* ``down``: ``"maxpool"`` or a 3×3 ``"stride"``-2 conv; ``dropout`` (``Dropout2d``) after every
  encoder level below the top is the regulariser Benabla et al. compares against max-pooling.

Default (``base=32, depth=4``): about 1.9M parameters.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from colorlab.core.errors import ColorlabError
from colorlab.models.base import Colorizer, conv_bn_relu, output_head

__all__ = ["UNet", "SKIPS", "DOWNS"]

SKIPS = ("all", "upper", "upper_middle", "none")
DOWNS = ("maxpool", "stride")


def _double_conv(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(conv_bn_relu(in_ch, out_ch), conv_bn_relu(out_ch, out_ch))


def skip_levels(skips: str, depth: int) -> set[int]:
    """Encoder levels (0 = full resolution) whose features are concatenated in the decoder."""
    n = depth - 1  # levels that have a decoder counterpart
    return {"all": set(range(n)), "upper": set(range(min(1, n))),
            "upper_middle": set(range(min(2, n))), "none": set()}[skips]


class UNet(Colorizer):
    """Configurable U-Net. See the module docstring for the options.

    Args:
        in_channels: 1 (L) or 4 (L + hint ab + hint mask).
        out_channels: 2 (ab); ignored by the classification head, which outputs ``n_bins``.
        base: width of the top level.
        depth: number of resolution levels (>= 2); input stride ``2^(depth-1)``.
        skips: ``"all" | "upper" | "upper_middle" | "none"``.
        down: ``"maxpool" | "stride"``.
        dropout: ``Dropout2d`` probability after each downsampled encoder level (0 = off).
        head: ``"regression" | "classification"``.
        n_bins: number of ab bins for the classification head.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 2, base: int = 32, depth: int = 4,
                 skips: str = "all", down: str = "maxpool", dropout: float = 0.0,
                 head: str = "regression", n_bins: int = 313):
        super().__init__(dict(name="unet", in_channels=in_channels, out_channels=out_channels, base=base,
                              depth=depth, skips=skips, down=down, dropout=dropout, head=head, n_bins=n_bins),
                         stride=2 ** (depth - 1))
        if skips not in SKIPS:
            raise ColorlabError(f"skips must be one of {SKIPS}, got {skips!r}")
        if down not in DOWNS:
            raise ColorlabError(f"down must be one of {DOWNS}, got {down!r}")
        if depth < 2:
            raise ColorlabError(f"depth must be >= 2, got {depth}")
        if self.head == "regression":
            self.out_channels = out_channels
        widths = [base * 2 ** i for i in range(depth)]
        self.skip_levels = skip_levels(skips, depth)

        self.stem = _double_conv(in_channels, widths[0])
        self.down = nn.ModuleList()
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            pool = nn.MaxPool2d(2) if down == "maxpool" else conv_bn_relu(w_in, w_in, stride=2)
            self.down.append(nn.Sequential(pool, _double_conv(w_in, w_out), nn.Dropout2d(dropout)))
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for level in reversed(range(depth - 1)):
            w = widths[level]
            self.up.append(nn.ConvTranspose2d(widths[level + 1], w, 2, stride=2))
            self.merge.append(_double_conv(2 * w if level in self.skip_levels else w, w))
        self.out = output_head(widths[0], self.head, self.n_bins, kernel_size=1)
        if self.head == "regression" and out_channels != 2:
            self.out[0] = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, H, W)`` → ``(N, out_channels, H, W)``."""
        self.check_input(x)
        feats = [self.stem(x)]
        for block in self.down:
            feats.append(block(feats[-1]))
        y = feats.pop()
        for level, up, merge in zip(reversed(range(len(feats))), self.up, self.merge):
            y = up(y)
            if level in self.skip_levels:
                y = torch.cat([y, feats[level]], dim=1)
            y = merge(y)
        return self.out(y)
