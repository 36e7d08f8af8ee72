"""FPNColorizer — Lin & Ferreira (Lin & Ferreira): EfficientNet activations, top-down decoder.

The backbone's ``features`` stages are tapped at the last block of each resolution (strides
2, 4, 8, 16, 32 for the EfficientNet and MobileNet families → five activations). Decoder,
from the coarsest level down:

* a 1×1 conv on each tapped activation ("lateral", to ``width`` channels; the paper maps
  the top one with a 1×1 conv and adds it to the raw previous activation — the lateral
  1×1 convs are what makes the addition possible for any channel count);
* upsample ×2 and add the next finer lateral, then a 3×3 conv + BN + ReLU block;
* after the finest level (stride 2): upsample to the input size, a 3×3 conv + BN + ReLU
  block and a 3×3 output conv to 2 channels + tanh (or to ``n_bins`` logits).

The gray input is stacked to 3 channels and ImageNet-normalised; H, W must be multiples of
the backbone's total stride (32 for EfficientNet). In training mode BatchNorm needs more than
one value per channel, so a batch of 1 must be larger than the stride (e.g. 64×64).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from colorlab.core.errors import ColorlabError
from colorlab.models.backbone_weights import BackboneWeights
from colorlab.models.backbones import gray_to_imagenet, resolve_freeze
from colorlab.models.base import Colorizer, conv_bn_relu, output_head

__all__ = ["FPNColorizer", "tap_points"]


def _stages(backbone: nn.Module) -> nn.Sequential:
    stages = getattr(backbone, "features", backbone)
    if not isinstance(stages, nn.Sequential):
        raise ColorlabError(f"FPN backbone {type(backbone).__name__} needs an nn.Sequential `.features` "
                            f"(EfficientNet, MobileNet, ...) or must itself be an nn.Sequential")
    return stages


@torch.no_grad()
def tap_points(stages: nn.Sequential, probe: int = 64) -> tuple[list[int], list[int], list[int]]:
    """Index, channels and stride of the last stage at each resolution, finest first.

    Found with one forward pass of a ``probe``×``probe`` image.
    """
    was_training = stages.training
    stages.eval()
    x = torch.zeros(1, 3, probe, probe)
    last: dict[int, tuple[int, int]] = {}
    for i, stage in enumerate(stages):
        x = stage(x)
        last[probe // x.shape[-1]] = (i, x.shape[1])
    stages.train(was_training)
    strides = sorted(s for s in last if s > 1)
    return [last[s][0] for s in strides], [last[s][1] for s in strides], strides


class FPNColorizer(Colorizer):
    """Feature-pyramid colorizer on a torchvision backbone (Lin & Ferreira).

    Args:
        in_channels: 1 (L) or more; the backbone sees channel 0 (L) as gray RGB.
        backbone: torchvision name (``"efficientnet_b0"`` … ``"efficientnet_b7"``,
            ``"mobilenet_v3_small"``, …) or an ``nn.Module`` with a sequential ``.features``.
        width: channels of the decoder (lateral 1×1 convs and 3×3 blocks).
        levels: how many of the finest-to-coarsest activations to use (5 in the paper).
        freeze_backbone: keep the backbone's weights fixed: ``False`` (fine-tuned, Lin & Ferreira's
            choice, the default), ``True``, or ``"auto"`` (frozen only when ImageNet weights loaded).
        head, n_bins: output head.
        weights: where the backbone's weights come from — ``pretrained`` (``"download"``, ``"disk"``,
            ``"none"``; ``True``/``False`` = download/none), ``weights_path``, and the recorded
            ``pretrained_loaded``, ``pretrained_weights`` (:class:`~colorlab.models.backbone_weights.BackboneWeights`).
    """

    def __init__(self, in_channels: int = 1, backbone: str | nn.Module = "efficientnet_b0", *, width: int = 128,
                 levels: int = 5, freeze_backbone: bool | str = False, head: str = "regression", n_bins: int = 313,
                 **weights):
        source = BackboneWeights.of("FPNColorizer", weights)
        if isinstance(backbone, nn.Module):
            backbone_name, net = f"<module {type(backbone).__name__}>", backbone
            info = {"pretrained_loaded": True, "weights": backbone_name}
        elif isinstance(backbone, str) and not backbone.startswith("<module"):
            backbone_name = backbone
            net, info = source.load(backbone)
        else:
            raise ColorlabError(f"backbone must be a torchvision model name or an nn.Module, got {backbone!r}; "
                                f"to rebuild around a custom module pass backbone=<that nn.Module>")
        loaded, weights_name = source.recorded(info)
        frozen = resolve_freeze(freeze_backbone, loaded)
        stages = _stages(net)
        taps, channels, strides = tap_points(stages)
        taps, channels, strides = taps[:levels], channels[:levels], strides[:levels]
        super().__init__(dict(name="fpn", in_channels=in_channels, backbone=backbone_name, pretrained=source.mode,
                              weights_path=source.path, width=width, levels=levels, freeze_backbone=freeze_backbone,
                              head=head, n_bins=n_bins, pretrained_loaded=loaded, pretrained_weights=weights_name),
                         stride=max(strides))
        self.stages = stages[: taps[-1] + 1]
        self.taps = taps
        if frozen:
            self.stages.requires_grad_(False)
        self.lateral = nn.ModuleList(nn.Conv2d(c, width, 1) for c in channels)
        self.smooth = nn.ModuleList(conv_bn_relu(width, width) for _ in channels[:-1])
        self.first_stride = strides[0]
        self.refine = conv_bn_relu(width, width)
        self.out = output_head(width, self.head, self.n_bins)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, H, W)`` → ``(N, out_channels, H, W)``."""
        self.check_input(x)
        h = gray_to_imagenet(x[:, :1])
        feats = []
        for i, stage in enumerate(self.stages):
            h = stage(h)
            if i in self.taps:
                feats.append(h)
        y = self.lateral[-1](feats[-1])
        for level in reversed(range(len(feats) - 1)):
            y = F.interpolate(y, size=feats[level].shape[-2:], mode="nearest") + self.lateral[level](feats[level])
            y = self.smooth[level](y)
        y = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.out(self.refine(y))
