"""Checks of lab 06 (fusion colorizers): replicating the global vector, the whole fusion layer, the fusion point.

The reference is the kit's own :class:`~colorlab.models.FusionColorizer`, built small around a
tiny global branch: hooks read what its encoder and global branch give, what enters its fusion
conv (the concatenation) and what comes out of it.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np

import torch
import torch.nn as nn

from colorlab.course.checks import assert_close, assert_shape, call_student, not_the_kit, one_thread, passed, rng
from colorlab.models.fusion import FusionColorizer

__all__ = ["fuse", "fusion_layer", "fusion_point", "not_the_kit"]

C, D, F = 3, 6, 4   # local channels, global vector size, fusion channels: all different, so mix-ups show


def _shapes(seed: int) -> list[tuple[int, int, int]]:
    """Two (h, w, n) drawn from ``seed``, h ≠ w (so that H and W mixed up shows)."""
    r = rng(seed)
    out = []
    while len(out) < 2:
        h, w, n = int(r.integers(2, 6)), int(r.integers(2, 6)), int(r.integers(2, 4))
        if h != w:
            out.append((h, w, n))
    return out


def _kit_fusion(h: int, w: int, n: int = 2, seed: int = 0) -> dict:
    """One forward pass of a small kit FusionColorizer on an (n, 1, 8h, 8w) input: local (n, C, h, w),
    g (n, D), the fusion conv's input (n, C + D, h, w) and output (n, F, h, w), its weight and bias."""
    with torch.random.fork_rng(), one_thread():
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
    with torch.no_grad(), one_thread():
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


def fuse(fn, *, seed: int = 0) -> None:
    """``fn(local (N, C, H, W), g (N, D))`` → the ``(N, C + D, H, W)`` volume the kit's fusion conv receives."""
    for h, w, n in _shapes(seed):
        ref = _kit_fusion(h, w, n, seed=seed)
        local, g = ref["local"], ref["g"]
        what = f"fuse(local {tuple(local.shape)}, g {tuple(g.shape)})"
        out = call_student(fn, local.clone(), g.clone(), what=what, hint=_TILE_HINT)
        assert isinstance(out, torch.Tensor), f"{what} should return a torch.Tensor, got {type(out).__name__}"
        assert_shape(out, (n, C + D, h, w), what)
        if torch.allclose(out[:, :D], ref["g"][:, :, None, None].expand(n, D, h, w)):
            raise AssertionError(f"{what}: the global vector comes first; the local features come first (channels "
                                 f"0…{C - 1}), then g")
        assert torch.allclose(out[:, :C], local), \
            f"{what}: channels 0…{C - 1} should be the local features, unchanged (local first, then g)"
        _same_everywhere(out[:, C:], g, what)
        assert_close(out, ref["fused"], f"{what} against the kit's fusion input")
    passed("fuse: the local features, then the same global vector at every position — as the kit builds it")


def fusion_layer(fn, *, seed: int = 0) -> None:
    """``fn(local, g, weight (F, C + D), bias (F,))`` → ``(N, F, H, W)``, the kit's fusion conv + ReLU."""
    for h, w, n in _shapes(seed):
        ref = _kit_fusion(h, w, n, seed=seed + 1)
        local, g, weight, bias = ref["local"], ref["g"], ref["weight"], ref["bias"]
        what = f"fusion_layer(local {tuple(local.shape)}, g {tuple(g.shape)}, weight {tuple(weight.shape)}, bias)"
        out = call_student(fn, local.clone(), g.clone(), weight.clone(), bias.clone(), what=what, hint=_CONV_HINT)
        assert isinstance(out, torch.Tensor), f"{what} should return a torch.Tensor, got {type(out).__name__}"
        assert_shape(out, (n, F, h, w), what)
        out = out.detach().float()
        x = torch.cat([local, g[:, :, None, None].expand(n, D, h, w)], 1)
        linear = torch.einsum("fc,nchw->nfhw", weight, x)
        if torch.allclose(out, linear + bias[None, :, None, None], atol=1e-5):
            raise AssertionError(f"{what}: no ReLU — the fusion layer ends with one, after the 1×1 convolution and its bias")
        if torch.allclose(out, torch.relu(linear) + bias[None, :, None, None], atol=1e-5):
            raise AssertionError(f"{what}: the bias was added after the ReLU; it belongs inside, ReLU(W·[ℓ; g] + b)")
        assert (out >= 0).all(), f"{what}: negative outputs — the layer ends with a ReLU (after the 1×1 convolution and its bias)"
        # the global vector is the same everywhere: where the local features are the same too, so is the output
        flat = local[:, :, :1, :1].expand_as(local).contiguous()
        same = call_student(fn, flat, g.clone(), weight.clone(), bias.clone(), what=what, hint=_CONV_HINT)
        same = torch.as_tensor(same).detach().float()
        spread = (same - same[:, :, :1, :1]).abs().max()
        assert spread < 1e-5, (f"{what}: with the same local features at every position, the output still differs "
                               f"between positions (by up to {spread:.3g}): the global vector is not the same at every "
                               f"position — tile along H and W, not by repeating along D and reshaping")
        assert_close(out, ref["out"], f"{what} against the kit's fusion layer (conv 1×1 + ReLU)")
    passed("fusion_layer: g tiled over H × W, concatenated, 1×1 conv + ReLU — the kit's fusion layer, number for number")


# --- the design decision: where to fuse --------------------------------------------------------------

class TinyFusion(nn.Module):
    """``n_convs`` 3×3 conv + ReLU layers, then a 1×1 head. At ``fuse_at`` = k (0 … n_convs) the features there
    (k = 0: the gray input itself) are averaged over all positions into a global vector, which is tiled and
    concatenated to them; the layers after k see both."""

    def __init__(self, n_convs: int, fuse_at: int, width: int = 6):
        super().__init__()
        self.k = fuse_at
        chans = [1] + [width] * n_convs
        self.convs = nn.ModuleList(nn.Conv2d(chans[i] * (2 if i == fuse_at else 1), width, 3, padding=1)
                                   for i in range(n_convs))
        self.head = nn.Conv2d(width * (2 if fuse_at == n_convs else 1), 1, 1)

    @staticmethod
    def _fuse(x):
        g = x.mean((2, 3))
        return torch.cat([x, g[:, :, None, None].expand_as(x)], 1), g

    def forward(self, x):
        g = None
        for i, conv in enumerate(self.convs):
            if i == self.k:
                x, g = self._fuse(x)
            x = torch.relu(conv(x))
        if self.k == len(self.convs):
            x, g = self._fuse(x)
        self.global_vector = g
        return self.head(x)


def _cue_scenes(size: int, seed: int) -> torch.Tensor:
    """Four gray scenes (4, 1, size, size): random 2×2 blocks of ±0.5; a 4×4 cue at the top left — a checkerboard
    (scenes 0, 1) or stripes (scenes 2, 3), both averaging 0 —; scenes 1 and 3 have the bottom-right block negated."""
    g = torch.Generator().manual_seed(seed)
    blocks = torch.randint(0, 2, (1, 1, size // 2, size // 2), generator=g).float() - 0.5
    L = blocks.repeat_interleave(2, 2).repeat_interleave(2, 3).repeat(4, 1, 1, 1)
    yy, xx = torch.meshgrid(torch.arange(4), torch.arange(4), indexing="ij")
    L[:2, 0, 1:5, 1:5] = ((yy + xx) % 2).float() - 0.5
    L[2:, 0, 1:5, 1:5] = (yy % 2).float() - 0.5
    L[[1, 3], 0, -4:-2, -4:-2] *= -1
    return L


def fusion_point(fn, *, seed: int = 0) -> None:
    """``fn(n_convs)`` → k: the fusion point of a :class:`TinyFusion`, judged by what the network can then do:
    its global vector must tell the two scene cues apart, and the cue must be able to change how a pixel far
    from it is coloured *depending on that pixel's own gray* (the task: colour = cue's sign × the pixel's sign)."""
    n = 4 if seed == 0 else int(rng(seed).integers(3, 7))
    what = f"my_fusion_point({n})"
    k = call_student(fn, n, what=what)
    assert isinstance(k, (int, np.integer)) and not isinstance(k, bool), f"{what} should return an int, got {type(k).__name__}"
    k = int(k)
    assert 0 <= k <= n, f"{what} returned {k}: the fusion point is 0 (before the first convolution) … {n} (after the last)"
    size = 24
    tells, interaction = 0.0, 0.0
    with torch.random.fork_rng(), one_thread(), torch.no_grad():
        for init in range(5):   # float64, so that "no effect" reads 1e-12, not float32's rounding noise
            torch.manual_seed(1000 * seed + init)
            net = TinyFusion(n, k, width=16).double().eval()
            y = net(_cue_scenes(size, seed + init).double())[:, 0, -6:-1, -6:-1]   # pixels far from the cue
            gv = net.global_vector
            tells = max(tells, float((gv[0] - gv[2]).norm() / (gv[0].norm() + 1e-30)))
            main = (y[0] - y[2]).abs() + (y[1] - y[3]).abs()   # the cue's effect there, for either gray
            interaction = max(interaction, float((((y[0] - y[2]) - (y[1] - y[3])).abs() / (main + 1e-30)).max()))
    if tells < 1e-6:
        raise AssertionError(f"{what} = {k}: the global vector is the average of the features at the fusion point, and at "
                             f"k = 0 that is the gray input itself — whose average is the same for both cues (it changes "
                             f"by {tells:.1e} of its size between a checkerboard and a stripes cue). The network never "
                             f"learns which scene it is: fuse where the features have seen texture")
    if interaction < 1e-6:
        raise AssertionError(f"{what} = {k}: after your fusion point only the 1×1 head is left, a linear map: the global "
                             f"vector can shift every pixel's output by the same amount, but not change how a pixel's own "
                             f"gray is coloured (measured: the cue's effect on a far pixel is the same for either of its "
                             f"grays, to {interaction:.1e}). Leave non-linear layers after the fusion")
    passed(f"fusing after convolution {k} of {n}: the global vector tells the cues apart (relative change {tells:.2f}) "
           f"and the cue changes how each pixel's own gray is coloured (interaction {interaction:.2f})")
