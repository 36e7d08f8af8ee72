"""FusionColorizer — Deep Koalarization (Baldassarre et al.; seeds 001 and 003).

Four parts:

* encoder: 8 3×3 conv + ReLU, stride 2 at layers 1, 3 and 5 → ``(N, encoder_out, H/8, W/8)``;
* global features: a classifier (Inception-ResNet-v2 in the paper; here any torchvision
  classifier, or the kit's own trained classifier passed as ``backbone=``) sees the gray photo
  stacked to 3 channels and resized to its input size; its output vector (the 1000 class
  scores "just before the softmax") is the embedding. With ImageNet weights it is FROZEN, as
  in the paper; without them (``pretrained="none"``, or none could be had) a frozen random
  projection would teach nothing, so ``freeze_backbone="auto"`` trains it with the rest;
* fusion: the embedding is repeated over the H/8 × W/8 grid, concatenated to the encoder
  output, and a 1×1 conv + ReLU maps it to 256 channels;
* decoder: conv 128, up, conv 64, conv 64, up, conv 32, conv 2 + tanh, up → ``(N, 2, H, W)``.

The issue asks for a 512-channel encoder output; the paper's own table ends at 256
(its fusion volume has 256 + 1001 = 1257 channels): ``encoder_out=256`` reproduces it.
``width`` scales every encoder and decoder layer (64: the paper's widths; 16 trains a 64×64
model on a laptop CPU in about a minute).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from colorlab.core.errors import ColorlabError
from colorlab.models.backbone_weights import BackboneWeights
from colorlab.models.backbones import announce, backbone_input_size, gray_to_imagenet, resolve_freeze
from colorlab.models.base import Colorizer, output_head

__all__ = ["FusionColorizer", "FrozenFeatureExtractor", "fusion_layer", "receptive_field"]


def _conv(in_ch: int, out_ch: int, stride: int = 1, kernel_size: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=kernel_size // 2),
                         nn.ReLU(inplace=True))


def fusion_layer(local: torch.Tensor, g: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The fusion layer as a function: ``ReLU(W·[local; g] + b)`` at every position.

    ``local (N, C, H, W)``, ``g (N, D)``, ``weight (F, C + D)``, ``bias (F,)`` → ``(N, F, H, W)``: ``g`` tiled
    over H × W after the local channels, then a 1×1 convolution and a ReLU (what :class:`FusionColorizer` does).
    """
    grid = g[:, :, None, None].expand(-1, -1, *local.shape[-2:])
    return torch.relu(nn.functional.conv2d(torch.cat([local, grid], dim=1), weight[:, :, None, None], bias))


class FrozenFeatureExtractor(nn.Module):
    """A classifier used as the global-feature function: normalised L → ``(N, D)`` embedding.

    Frozen (the default): its parameters never receive gradients and it always runs in eval
    mode (BatchNorm statistics and dropout stay as trained), whatever mode the parent is in.
    ``frozen=False``: an ordinary trainable sub-network.
    """

    def __init__(self, backbone: nn.Module, input_size: int, frozen: bool = True):
        super().__init__()
        self.frozen = bool(frozen)
        self.backbone = backbone.eval().requires_grad_(not self.frozen)
        self.input_size = int(input_size)
        with torch.no_grad():
            dummy = torch.zeros(2, 1, self.input_size, self.input_size)
            self.dim = int(self(dummy).shape[1])

    def train(self, mode: bool = True) -> "FrozenFeatureExtractor":
        self.training = mode
        self.backbone.train(mode and not self.frozen)
        return self

    def forward(self, L_norm: torch.Tensor) -> torch.Tensor:
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            out = self.backbone(gray_to_imagenet(L_norm, self.input_size))
        if isinstance(out, (tuple, list)):  # e.g. Inception's (logits, aux) namedtuple
            out = out[0]
        return out.flatten(1)


class FusionColorizer(Colorizer):
    """Encoder + global features + fusion + decoder (Deep Koalarization). H, W multiples of 8.

    Args:
        in_channels: 1 (L) or more; the global-feature extractor always sees channel 0 (L).
        backbone: a torchvision classifier name (``"inception_v3"``, ``"resnet18"``, …) or an
            ``nn.Module`` mapping ``(N, 3, S, S)`` ImageNet-normalised images to ``(N, D)``.
        backbone_size: the backbone's input size S (default: that of its ImageNet weights,
            224 for a module; smaller is faster and fine for tests).
        encoder_out: channels of the encoder output (512 per the issue, 256 per the paper).
        fusion_channels: channels after the 1×1 fusion conv (256).
        head, n_bins: output head (see :class:`~colorlab.models.base.Colorizer`).
        freeze_backbone: ``"auto"`` (freeze only loaded weights: the paper, with pretrained weights),
            ``True`` or ``False`` (trains the global branch with the rest, from scratch when there are no
            weights on disk).
        width: width of the first encoder layer; every layer scales with it (64: the paper).
        weights: where the backbone's weights come from — ``pretrained`` (``"download"``, ``"disk"``,
            ``"none"``; ``True``/``False`` = download/none), ``weights_path``, and the recorded
            ``pretrained_loaded``, ``pretrained_weights`` (:class:`~colorlab.models.backbone_weights.BackboneWeights`).
        fusion_layer: the fusion step as a function ``(local, g, weight (F, C + D), bias (F,)) → (N, F, H, W)``
            (the contract of :func:`fusion_layer`; lab 06 passes the student's) applied with this model's
            fusion weights; None: the model's own 1×1 conv + ReLU. Not part of the checkpointed config.
    """

    def __init__(self, in_channels: int = 1, backbone: str | nn.Module = "inception_v3", *,
                 backbone_size: int | None = None, encoder_out: int = 512, fusion_channels: int = 256,
                 head: str = "regression", n_bins: int = 313, freeze_backbone: bool | str = "auto", width: int = 64,
                 **weights):
        fusion_layer = weights.pop("fusion_layer", None)  # a keyword like the rest (10 parameters at most)
        source = BackboneWeights.of("FusionColorizer", weights)
        if isinstance(backbone, nn.Module):
            backbone_name = f"<module {type(backbone).__name__}>"
            size = backbone_size or 224
            info = {"pretrained_loaded": True, "weights": backbone_name}  # a trained module passed in
        elif isinstance(backbone, str):
            if backbone.startswith("<module"):
                raise ColorlabError(f"this FusionColorizer was built around a custom backbone {backbone}; "
                                    f"pass backbone=<that nn.Module> to rebuild it")
            backbone_name, size = backbone, backbone_size or backbone_input_size(backbone)
            backbone, info = source.load(backbone)
        else:
            raise ColorlabError(f"backbone must be a torchvision model name or an nn.Module, got {type(backbone).__name__}")
        loaded, weights_name = source.recorded(info)
        if loaded and hasattr(backbone, "transform_input"):
            backbone.transform_input = True  # Inception/GoogLeNet ImageNet weights expect their own scaling
        frozen = resolve_freeze(freeze_backbone, loaded)
        announce(f"fusion: global branch ({backbone_name}) {'frozen' if frozen else 'trained'}, "
                 f"{'with ImageNet weights' if loaded else 'without pretrained weights'} "
                 f"(freeze_backbone={freeze_backbone!r})")
        super().__init__(dict(name="fusion", in_channels=in_channels, backbone=backbone_name, pretrained=source.mode,
                              weights_path=source.path, backbone_size=size, encoder_out=encoder_out,
                              fusion_channels=fusion_channels, head=head, n_bins=n_bins,
                              freeze_backbone=freeze_backbone, pretrained_loaded=loaded,
                              pretrained_weights=weights_name, width=int(width)), stride=8)
        w0 = int(width)
        widths = (w0, 2 * w0, 2 * w0, 4 * w0, 4 * w0, 8 * w0, 8 * w0, encoder_out)
        strides = (2, 1, 2, 1, 2, 1, 1, 1)
        layers, ch = [], in_channels
        for c, s in zip(widths, strides):
            layers.append(_conv(ch, c, s))
            ch = c
        self.encoder = nn.Sequential(*layers)
        self.global_features = FrozenFeatureExtractor(backbone, size, frozen=frozen)
        self.fusion = _conv(encoder_out + self.global_features.dim, fusion_channels, kernel_size=1)
        self.fusion_fn = fusion_layer
        self.decoder = nn.Sequential(
            _conv(fusion_channels, 2 * w0), nn.Upsample(scale_factor=2),   # the paper (w0 = 64): 128, 64, 64, 32
            _conv(2 * w0, w0), _conv(w0, w0), nn.Upsample(scale_factor=2),
            _conv(w0, w0 // 2), output_head(w0 // 2, self.head, self.n_bins), nn.Upsample(scale_factor=2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, H, W)`` → ``(N, out_channels, H, W)``."""
        self.check_input(x)
        local = self.encoder(x)
        embed = self.global_features(x[:, :1]).to(local.dtype)
        if self.fusion_fn is not None:
            conv = self.fusion[0]
            return self.decoder(self.fusion_fn(local, embed, conv.weight[:, :, 0, 0], conv.bias))
        grid = embed[:, :, None, None].expand(-1, -1, *local.shape[-2:])
        return self.decoder(self.fusion(torch.cat([local, grid], dim=1)))


def receptive_field(model: nn.Module, size: int, in_channels: int | None = None) -> int:
    """How many pixels across the input that the centre output pixel of ``model`` depends on, measured.

    The gradient of the centre pixel's output with respect to a ``size × size`` input: the side of
    the smallest square around the centre holding every input pixel with a non-zero gradient
    (so at most ``size``: a model that sees the whole image returns ``size``). Works for any
    colorizer (BatchNorm in eval mode; the model's mode is restored).
    """
    was_training = model.training
    model.eval()
    try:
        c = in_channels or getattr(model, "in_channels", 1)
        p = next(model.parameters())
        x = torch.zeros(1, c, size, size, device=p.device, dtype=p.dtype).normal_(0, 0.5).requires_grad_(True)
        out = model(x)
        centre = size // 2
        out[0, :, centre, centre].sum().backward()
        hit = x.grad[0].abs().sum(0) > 0
        ys, xs = torch.nonzero(hit, as_tuple=True)
        if len(ys) == 0:
            return 0
        reach = int(max((ys - centre).abs().max(), (xs - centre).abs().max()))
        return min(size, 2 * reach + 1)
    finally:
        model.train(was_training)
