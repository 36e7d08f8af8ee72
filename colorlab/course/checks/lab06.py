"""Checks of lab 06 (fusion colorizers): replicating the global vector, and the whole fusion layer.

The reference is the kit's own :class:`~colorlab.models.FusionColorizer`, built small around a
tiny global branch: hooks read what its encoder and global branch give, what enters its fusion
conv (the concatenation) and what comes out of it.
"""
from __future__ import annotations

import contextlib
import io

import torch
import torch.nn as nn

from colorlab.course.checks import assert_close, assert_shape, call_student, passed
from colorlab.models.fusion import FusionColorizer

__all__ = ["fuse", "fusion_layer"]

C, D, F = 3, 6, 4   # local channels, global vector size, fusion channels: all different, so mix-ups show


def _kit_fusion(h: int, w: int, n: int = 2, seed: int = 0) -> dict:
    """One forward pass of a small kit FusionColorizer on an (n, 1, 8h, 8w) input: local (n, C, h, w),
    g (n, D), the fusion conv's input (n, C + D, h, w) and output (n, F, h, w), its weight and bias."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        branch = nn.Sequential(nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(12, D))
        with contextlib.redirect_stderr(io.StringIO()):   # the model announces its global branch
            model = FusionColorizer(backbone=branch, backbone_size=8, encoder_out=C, fusion_channels=F, width=2,
                                    freeze_backbone=True).eval()
        x = torch.randn(n, 1, 8 * h, 8 * w)
    seen = {}
    hooks = [model.encoder.register_forward_hook(lambda m, i, o: seen.__setitem__("local", o.detach().clone())),
             model.global_features.register_forward_hook(lambda m, i, o: seen.__setitem__("g", o.detach().clone())),
             model.fusion.register_forward_pre_hook(lambda m, i: seen.__setitem__("fused", i[0].detach().clone())),
             model.fusion.register_forward_hook(lambda m, i, o: seen.__setitem__("out", o.detach().clone()))]
    with torch.no_grad():
        model(x)
    for hk in hooks:
        hk.remove()
    conv = model.fusion[0]
    seen["weight"], seen["bias"] = conv.weight[:, :, 0, 0].detach().clone(), conv.bias.detach().clone()
    return seen


_TILE_HINT = "g[:, :, None, None] has shape (N, D, 1, 1); expand it to (N, D, H, W), then concatenate along dim 1"
_CONV_HINT = (_TILE_HINT + "; weight is (F, C + D): output channel f at a position is Σ_c weight[f, c]·x[c] + bias[f], "
              "e.g. torch.einsum('fc,nchw->nfhw', weight, x)")


def _same_everywhere(glob: torch.Tensor, g: torch.Tensor, what: str) -> None:
    """``glob (N, D, H, W)`` must hold ``g[n]`` at every position of image n."""
    N, _, H, W = glob.shape
    for n in range(N):
        for y in range(H):
            for x in range(W):
                if not torch.allclose(glob[n, :, y, x], g[n]):
                    other = next((m for m in range(N) if m != n and torch.allclose(glob[n, :, y, x], g[m])), None)
                    why = (f"it is image {other}'s vector: the batch axis got mixed up" if other is not None else
                           "the vector's entries are shuffled across positions: tile along the H and W axes "
                           "(expand or repeat the (N, D, 1, 1) view) rather than repeating along D and reshaping")
                    raise AssertionError(f"{what}: position (row {y}, column {x}) of image {n} does not carry "
                                         f"that image's global vector g[{n}]; {why}")


def fuse(fn) -> None:
    """``fn(local (N, C, H, W), g (N, D))`` → the ``(N, C + D, H, W)`` volume the kit's fusion conv receives."""
    for h, w, n in ((3, 5, 2), (4, 2, 3)):
        ref = _kit_fusion(h, w, n)
        local, g = ref["local"], ref["g"]
        what = f"fuse(local {tuple(local.shape)}, g {tuple(g.shape)})"
        out = call_student(fn, local.clone(), g.clone(), what=what, hint=_TILE_HINT)
        assert_shape(out, (n, C + D, h, w), what)
        out = torch.as_tensor(out)
        assert torch.allclose(out[:, :C], local), \
            f"{what}: channels 0…{C - 1} should be the local features, unchanged (local first, then g)"
        _same_everywhere(out[:, C:], g, what)
        assert_close(out, ref["fused"], f"{what} against the kit's fusion input")
    passed("fuse: the local features, then the same global vector at every position — as the kit builds it")


def fusion_layer(fn) -> None:
    """``fn(local, g, weight (F, C + D), bias (F,))`` → ``(N, F, H, W)``, the kit's fusion conv + ReLU."""
    for h, w, n in ((3, 5, 2), (4, 2, 3)):
        ref = _kit_fusion(h, w, n, seed=1)
        local, g = ref["local"], ref["g"]
        what = f"fusion_layer(local {tuple(local.shape)}, g {tuple(g.shape)}, weight {tuple(ref['weight'].shape)}, bias)"
        out = call_student(fn, local.clone(), g.clone(), ref["weight"].clone(), ref["bias"].clone(), what=what, hint=_CONV_HINT)
        assert_shape(out, (n, F, h, w), what)
        out = torch.as_tensor(out).float()
        assert (out >= 0).all(), f"{what}: negative outputs — the layer ends with a ReLU (after the 1×1 convolution and its bias)"
        # the global vector is the same everywhere: where the local features are the same too, so is the output
        flat = local[:, :, :1, :1].expand_as(local).contiguous()
        same = torch.as_tensor(call_student(fn, flat, g.clone(), ref["weight"].clone(), ref["bias"].clone(), what=what, hint=_CONV_HINT)).float()
        spread = (same - same[:, :, :1, :1]).abs().max()
        assert spread < 1e-5, (f"{what}: with the same local features at every position, the output still differs "
                               f"between positions (by up to {spread:.3g}): the global vector is not the same at every "
                               f"position — tile along H and W, not by repeating along D and reshaping")
        assert_close(out, ref["out"], f"{what} against the kit's fusion layer (conv 1×1 + ReLU)")
    passed("fusion_layer: g tiled over H × W, concatenated, 1×1 conv + ReLU — the kit's fusion layer, number for number")
