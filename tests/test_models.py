"""Colorizer models: shapes, gradients, configs that rebuild them, heads, offline backbones."""
import json
import warnings

import pytest
import torch
import torch.nn as nn

from colorlab.core.errors import ColorlabError
from colorlab.models import MODELS, count_parameters, create, predict_ab
from colorlab.models.backbones import build_backbone, pretrained_weights_file
from colorlab.models.fpn import tap_points
from colorlab.models.heads import annealed_mean

# Small, random-init configurations of every model (and both heads), fast on a CPU.
CONFIGS = {
    "plain_cnn": dict(name="plain_cnn", base=8),
    "plain_cnn_bn_hints": dict(name="plain_cnn", base=8, batchnorm=True, in_channels=4),
    "unet": dict(name="unet", base=8, depth=3),
    "unet_stride_upper_dropout": dict(name="unet", base=8, depth=4, skips="upper", down="stride", dropout=0.25),
    "unet_hints_cls": dict(name="unet", base=8, depth=3, in_channels=4, head="classification", n_bins=17),
    "fusion": dict(name="fusion", backbone="resnet18", pretrained=False, backbone_size=32, encoder_out=32,
                   fusion_channels=16),
    "fusion_cls": dict(name="fusion", backbone="mobilenet_v3_small", pretrained=False, backbone_size=32,
                       encoder_out=32, head="classification", n_bins=9),
    "fpn": dict(name="fpn", backbone="efficientnet_b0", pretrained=False, width=16),
    "fpn_cls": dict(name="fpn", backbone="mobilenet_v3_small", pretrained=False, width=16,
                    head="classification", n_bins=9),
}


@pytest.fixture(scope="module")
def built():
    torch.manual_seed(0)
    return {key: create(**cfg) for key, cfg in CONFIGS.items()}


def test_registry_lists_the_four_models():
    assert set(MODELS) == {"plain_cnn", "unet", "fusion", "fpn"}


@pytest.mark.parametrize("key", list(CONFIGS))
def test_forward_backward_shapes_and_range(built, key):
    model = built[key].train()
    x = torch.rand(2, model.in_channels, 32, 32) * 2 - 1
    y = model(x)
    expected_c = 2 if model.head == "regression" else model.n_bins
    assert y.shape == (2, expected_c, 32, 32)
    if model.head == "regression":
        assert y.abs().max() <= 1.0  # tanh
    y.square().mean().backward()
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None for p in trainable)
    assert all(torch.isfinite(p.grad).all() for p in trainable)
    model.zero_grad(set_to_none=True)


@pytest.mark.parametrize("key", list(CONFIGS))
def test_config_is_json_and_rebuilds_same_model(built, key):
    model = built[key].eval()
    cfg = json.loads(json.dumps(model.config))
    clone = create(**cfg).eval()
    assert clone.config == model.config
    clone.load_state_dict(model.state_dict())
    x = torch.rand(1, model.in_channels, 32, 32) * 2 - 1
    torch.testing.assert_close(clone(x), model(x))


def test_plain_cnn_matches_the_paper_layer_table():
    # Siswanto & Karnati, Fig. 3: total params 3,892,194.
    assert count_parameters(create("plain_cnn")) == 3_892_194


def test_unet_default_size_and_skip_options():
    assert 1.8e6 < count_parameters(create("unet")) < 2.0e6  # design.md's 1.9M-parameter U-Net
    counts = {s: count_parameters(create("unet", base=8, depth=4, skips=s))
              for s in ("none", "upper", "upper_middle", "all")}
    # every extra skip widens one decoder merge: strictly more parameters
    assert counts["none"] < counts["upper"] < counts["upper_middle"] < counts["all"]
    assert create("unet", depth=5).stride == 16


@pytest.mark.parametrize("skips, levels", [("all", {0, 1, 2}), ("upper", {0}), ("upper_middle", {0, 1}), ("none", set())])
def test_unet_skip_levels_are_wired(skips, levels):
    # depth 4: full, 1/2 and 1/4 resolution have decoder counterparts (1/8 is the bottleneck)
    m = create("unet", base=4, depth=4, skips=skips)
    assert m.skip_levels == levels
    merge_in = {lvl: blk[0][0].in_channels for lvl, blk in zip((2, 1, 0), m.merge)}
    assert merge_in == {lvl: 4 * 2 ** lvl * (2 if lvl in levels else 1) for lvl in (0, 1, 2)}
    assert m(torch.zeros(1, 1, 16, 16)).shape == (1, 2, 16, 16)


def test_unet_channels_last_and_bf16_autocast():
    """bf16 + channels_last computes what fp32 NCHW computes (to bf16's precision), really in bf16 and in the
    channels_last layout, with gradients close to fp32's."""
    torch.manual_seed(0)
    ref = create("unet", base=8, depth=3)
    m = create("unet", base=8, depth=3)
    m.load_state_dict(ref.state_dict())
    m = m.to(memory_format=torch.channels_last)
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    dtypes, layouts = set(), []

    def spy(mod, inp, out):
        dtypes.add(out.dtype)
        layouts.append(out.is_contiguous(memory_format=torch.channels_last))
    for conv in (c for c in m.modules() if isinstance(c, torch.nn.Conv2d)):
        conv.register_forward_hook(spy)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = m(x.contiguous(memory_format=torch.channels_last))
    want = ref(x)
    assert y.shape == want.shape == (2, 2, 16, 16)
    assert dtypes == {torch.bfloat16}, "the convolutions did not run in bf16"
    assert all(layouts), "a convolution's output left the channels_last layout"
    assert (y.float() - want).abs().max() < 0.05 and (y.float() - want).abs().mean() < 0.01
    y.float().square().mean().backward()
    want.square().mean().backward()
    for (name, p), q in zip(m.named_parameters(), ref.parameters()):
        assert p.grad is not None and p.grad.dtype == torch.float32, name  # fp32 master gradients
        cos = torch.nn.functional.cosine_similarity(p.grad.flatten(), q.grad.flatten(), dim=0)
        assert cos > 0.9, f"{name}: bf16 gradient points elsewhere (cosine {cos:.3f})"


@pytest.mark.parametrize("bad", [torch.zeros(1, 1, 18, 18), torch.zeros(1, 3, 16, 16), torch.zeros(1, 16, 16)])
def test_bad_input_is_a_clear_error(bad):
    with pytest.raises(ColorlabError, match="unet"):
        create("unet", base=4, depth=3)(bad)


def test_bad_names_and_options():
    with pytest.raises(ColorlabError, match="unknown model"):
        create("resnet")
    with pytest.raises(ColorlabError, match="bad option"):
        create("unet", widht=3)
    with pytest.raises(ColorlabError, match="skips"):
        create("unet", skips="some")
    with pytest.raises(ColorlabError, match="head"):
        create("plain_cnn", head="softmax")
    with pytest.raises(ColorlabError, match="backbone"):
        create("fpn", backbone="not_a_model", pretrained=False)


def test_fusion_backbone_frozen_only_with_weights(built):
    # no ImageNet weights + freeze_backbone="auto": the global branch trains with the rest
    model = built["fusion"].train()
    assert model.config["freeze_backbone"] == "auto" and model.config["pretrained_loaded"] is False
    assert model.global_features.backbone.training
    assert all(p.requires_grad for p in model.global_features.parameters())
    assert model.global_features.dim == 1000  # resnet18's class scores, "just before the softmax"
    assert model.fusion[0].in_channels == 32 + 1000
    # explicitly frozen: no gradients, always in eval mode
    frozen = create(**{**CONFIGS["fusion"], "freeze_backbone": True}).train()
    assert not frozen.global_features.backbone.training
    assert all(not p.requires_grad for p in frozen.global_features.parameters())


def test_fusion_and_fpn_accept_a_module_backbone():
    torch.manual_seed(0)
    tiny_classifier = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))
    fusion = create("fusion", backbone=tiny_classifier, backbone_size=16, encoder_out=16, fusion_channels=8)
    assert fusion.global_features.dim == 5
    assert fusion(torch.zeros(1, 1, 16, 16)).shape == (1, 2, 16, 16)
    with pytest.raises(ColorlabError, match="custom backbone"):
        create(**fusion.config)
    assert create(**{**fusion.config, "backbone": tiny_classifier}).config == fusion.config

    features = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.Conv2d(4, 6, 3, 2, 1), nn.Conv2d(6, 8, 3, 2, 1))
    fpn = create("fpn", backbone=features, width=8)
    assert fpn.stride == 8 and fpn(torch.zeros(1, 1, 16, 16)).shape == (1, 2, 16, 16)


def test_fpn_taps_five_levels_of_efficientnet(built):
    fpn = built["fpn"]
    _, channels, strides = tap_points(build_backbone("efficientnet_b0", pretrained=False).features)
    assert strides == [2, 4, 8, 16, 32]
    assert channels == [16, 24, 40, 112, 1280]
    assert len(fpn.lateral) == 5 and fpn.stride == 32
    with pytest.raises(ColorlabError, match="multiples of 32"):
        fpn(torch.zeros(1, 1, 48, 48))


def test_backbone_weights_only_from_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.warns(UserWarning, match="pretrained weights for mobilenet_v3_small not found at .*random init"):
        build_backbone("mobilenet_v3_small", pretrained=True)
    # once the file is where torchvision would have put it, it is loaded (no warning)
    torch.manual_seed(1)
    reference = build_backbone("mobilenet_v3_small", pretrained=False)
    path = pretrained_weights_file("mobilenet_v3_small")
    assert path.parent == tmp_path / "checkpoints"
    path.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = build_backbone("mobilenet_v3_small", pretrained=True)
    torch.testing.assert_close(loaded.state_dict(), reference.state_dict())
    with pytest.raises(ColorlabError, match="does not exist"):
        build_backbone("mobilenet_v3_small", weights_path=tmp_path / "missing.pth")


def test_annealed_mean_limits():
    centers = torch.tensor([[-50.0, 0.0], [0.0, 0.0], [30.0, 60.0]])
    logits = torch.tensor([0.0, 1.0, 2.0]).reshape(1, 3, 1, 1).expand(2, 3, 4, 4)
    mean = annealed_mean(logits, centers, T=1.0)
    p = torch.softmax(torch.tensor([0.0, 1.0, 2.0]), 0)
    torch.testing.assert_close(mean[0, :, 0, 0], p @ centers)
    mode = annealed_mean(logits, centers, T=0.01)
    torch.testing.assert_close(mode[1, :, 3, 3], centers[2], atol=1e-3, rtol=0)


def test_predict_ab_for_both_heads():
    torch.manual_seed(0)
    L = torch.rand(2, 1, 16, 16) * 2 - 1
    reg = create("unet", base=4, depth=3).train()
    out = predict_ab(reg, L)
    assert reg.training  # mode restored
    torch.testing.assert_close(out, reg.eval()(L))

    cls = create("unet", base=4, depth=3, head="classification", n_bins=3)
    with torch.no_grad():  # make the head say "bin 2" everywhere, very confidently
        cls.out.weight.zero_()
        cls.out.bias.copy_(torch.tensor([0.0, 0.0, 50.0]))
    centers = torch.tensor([[0.0, 0.0], [-10.0, 10.0], [55.0, -22.0]])
    ab = predict_ab(cls, L, bin_centers=centers)
    assert ab.shape == (2, 2, 16, 16)
    torch.testing.assert_close(ab[:, :, 5, 7], (centers[2] / 110).expand(2, 2), atol=1e-4, rtol=0)
    with pytest.raises(ColorlabError, match="bin centres"):
        predict_ab(cls, L, bin_centers=centers[:2])


def test_predict_ab_defaults_to_zhangs_313_bins():
    from colorlab.rarity.bins import zhang_bins
    cls = create("plain_cnn", base=4, head="classification")
    assert cls.n_bins == 313
    with torch.no_grad():
        last = cls.body[-2]  # the head conv, before the final upsampling
        last.weight.zero_()
        last.bias.zero_()
        last.bias[200] = 60.0
    ab = predict_ab(cls, torch.zeros(1, 1, 8, 8))
    torch.testing.assert_close(ab[0, :, 3, 3], zhang_bins()[200] / 110, atol=1e-4, rtol=0)


def test_layer_table_lists_output_shapes_and_parameters():
    from colorlab.models.summary import layer_table
    model = create("unet", base=8, depth=3)
    table = layer_table(model, (1, 1, 32, 32), depth=2)
    assert len(table) >= 3 and table["output"].iloc[-1] == "2×32×32"
    assert table.attrs["total parameters"] == sum(p.numel() for p in model.parameters())
    for row in table.itertuples():
        assert row.parameters == sum(p.numel() for p in model.get_submodule(row.layer).parameters())
    assert model.training  # the mode is restored
