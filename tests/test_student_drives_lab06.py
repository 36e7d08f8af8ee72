"""Lab 06's fusion model runs on the student's fusion layer: the training cell builds the fusion colorizer with
``fusion_layer=<the student's function>`` (FusionColorizer(fusion_layer=...)). A different function changes what
the model computes; the kit's own ``fusion_layer`` gives the default model's output, gradients included."""
from __future__ import annotations

import contextlib
import io

import pytest
import torch
import torch.nn as nn

from colorlab.models import create
from colorlab.models.fusion import FusionColorizer, fusion_layer


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _model(fn=None) -> FusionColorizer:
    torch.manual_seed(0)
    branch = nn.Sequential(nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(12, 6))
    with contextlib.redirect_stderr(io.StringIO()):
        return FusionColorizer(backbone=branch, backbone_size=8, encoder_out=3, fusion_channels=4, width=2,
                               freeze_backbone=False, fusion_layer=fn).eval()


def test_the_student_fusion_layer_is_what_the_fusion_model_computes():
    x = torch.randn(2, 1, 16, 24)
    default, with_kit = _model(), _model(fusion_layer)
    assert torch.allclose(with_kit(x), default(x), atol=1e-6)
    with_kit(x).sum().backward()
    default(x).sum().backward()
    assert torch.allclose(with_kit.fusion[0].weight.grad, default.fusion[0].weight.grad, atol=1e-5)

    def no_global_view(local, g, weight, bias):   # a different student: the global vector dropped
        return fusion_layer(local, torch.zeros_like(g), weight, bias)

    def fused(model):                               # what the fusion step hands the decoder
        seen = {}
        model.decoder.register_forward_pre_hook(lambda m, i: seen.setdefault("x", i[0].detach()))
        model(x)
        return seen["x"]

    assert torch.allclose(fused(_model(fusion_layer)), fused(_model()), atol=1e-6)
    assert not torch.allclose(fused(_model(no_global_view)), fused(_model()), atol=1e-4)


def test_the_registry_passes_the_function_and_the_checkpoint_config_leaves_it_out():
    with contextlib.redirect_stderr(io.StringIO()):
        m = create("fusion", backbone=nn.Sequential(nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(12, 6)),
                   backbone_size=8, width=2, encoder_out=4, fusion_channels=4, fusion_layer=fusion_layer)
    assert m.fusion_fn is fusion_layer and "fusion_layer" not in m.config
