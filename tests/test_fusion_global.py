"""The fusion model's global branch can train from scratch; receptive fields are measured."""
from __future__ import annotations

import torch

from colorlab.models import create
from colorlab.models.fusion import receptive_field


def _fusion(**kw):
    return create("fusion", backbone="resnet18", pretrained=False, backbone_size=32, width=8, encoder_out=16,
                  fusion_channels=8, **kw)


def test_trainable_global_branch_gets_gradients_and_round_trips_its_config():
    model = _fusion(freeze_backbone=False).train()
    assert model.global_features.backbone.training
    model(torch.randn(2, 1, 32, 32)).pow(2).mean().backward()
    grads = [p.grad for p in model.global_features.parameters()]
    assert all(p.requires_grad for p in model.global_features.parameters())
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    again = create(**model.config)
    assert again.config == model.config and again.config["freeze_backbone"] is False and again.config["width"] == 8
    assert sum(p.numel() for p in again.parameters()) == sum(p.numel() for p in model.parameters())


def test_frozen_global_branch_stays_frozen_and_in_eval_mode():
    model = _fusion(freeze_backbone=True).train()
    assert model.config["freeze_backbone"] is True
    assert not model.global_features.backbone.training
    assert all(not p.requires_grad for p in model.global_features.parameters())


def test_receptive_field_local_unet_vs_global_fusion():
    assert receptive_field(create("unet", base=4, depth=2), 48) == 19   # two 3x3 convs, pool, two, up, two
    assert receptive_field(create("unet", base=4, depth=3), 64) > 19
    assert receptive_field(_fusion(freeze_backbone=False), 32) == 32    # the global branch sees everything


def test_without_weights_auto_trains_the_global_branch():
    """freeze_backbone="auto" (the default) freezes only loaded weights: a random branch trains."""
    model = _fusion()
    assert model.config["freeze_backbone"] == "auto" and model.config["pretrained_loaded"] is False
    assert all(p.requires_grad for p in model.global_features.parameters())
