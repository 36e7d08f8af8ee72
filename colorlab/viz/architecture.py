"""Schematic figures of what a colorizer is and what it looks at: a U-Net, a fusion model, a feature
pyramid, the window a network sees (its receptive field) and the per-pixel weights of a rarity loss.

The diagrams read their numbers (channels, resolutions, skip connections, vector sizes) from a
built model, so they stay true when a lab changes a setting. Every function returns the figure.
"""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.errors import ColorlabError
from colorlab.core.figures import pyplot, to_hwc
from colorlab.models.unet import skip_levels
from colorlab.viz.palettes import DIAGRAM, WINDOWS, WRONG

__all__ = ["unet_diagram", "fusion_diagram", "fpn_diagram", "receptive_field_figure", "pixel_weight_figure"]

_ENC, _DEC, _IO, _GLOBAL, _MIDDLE = DIAGRAM  # CVD-safe tints (colorlab.viz.palettes)


def _box(ax, x, y, text, colour, w=0.9, h=0.8, fontsize=7.5):
    """A labelled rectangle centred on (x, y)."""
    from matplotlib.patches import FancyBboxPatch
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.06",
                                facecolor=colour, edgecolor="0.3", linewidth=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, text=None, dashed=False, colour="0.25", offset=(0.0, 0.0), fontsize=6.5, rad=0.0):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.0, shrinkA=0, shrinkB=0,
                                                          linestyle="--" if dashed else "-",
                                                          connectionstyle=f"arc3,rad={rad}"))
    if text:
        ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1], text, ha="center",
                va="center", fontsize=fontsize, color=colour)


def _canvas(ax, size):
    plt = pyplot()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=size)
    ax.set_axis_off()
    return fig, ax


def _config(model, name: str) -> dict:
    cfg = model if isinstance(model, dict) else getattr(model, "config", None)
    if not isinstance(cfg, dict) or cfg.get("name", name) != name:
        raise ColorlabError(f"expected a {name} model (or its config dict), got {type(model).__name__}")
    return cfg


def unet_diagram(model, size: int, ax=None):
    """The U shape of a :class:`~colorlab.models.UNet` (or its config) for ``size × size`` inputs.

    One box per resolution level on the way down (encoder, blue) and on the way up (decoder,
    orange), each labelled with its channels and resolution; horizontal arrows are the skip
    connections (dashed gray where the model has none at that level).
    """
    cfg = _config(model, "unet")
    depth, base, in_ch = int(cfg.get("depth", 4)), int(cfg.get("base", 32)), int(cfg.get("in_channels", 1))
    if size % 2 ** (depth - 1):
        raise ColorlabError(f"a U-Net of depth {depth} needs a size that is a multiple of {2 ** (depth - 1)}, got {size}")
    skips = skip_levels(cfg.get("skips", "all"), depth)
    down = "max-pool" if cfg.get("down", "maxpool") == "maxpool" else "stride-2 conv"
    fig, ax = _canvas(ax, (1.55 * (2 * depth + 1), 1.25 * depth + 1.2))
    dy, dx, right = 1.25, 1.05, 2 * (depth - 1) * 1.05

    def label(level):
        s = size // 2 ** level
        return f"{base * 2 ** level} ch\n{s}×{s}"
    for level in range(depth):
        y = -level * dy
        _box(ax, level * dx, y, label(level), _ENC if level < depth - 1 else _MIDDLE)
        if level < depth - 1:
            _box(ax, right - level * dx, y, label(level), _DEC)
            _arrow(ax, (level * dx + 0.2, y - 0.42), ((level + 1) * dx - 0.2, y - dy + 0.42),
                   f"{down}\n+ 2 conv", offset=(-0.47, -0.08))
            _arrow(ax, (right - (level + 1) * dx + 0.2, y - dy + 0.42), (right - level * dx - 0.2, y - 0.42),
                   "up-conv 2×2\n(transposed)", offset=(0.55, -0.08))
            has = level in skips
            _arrow(ax, (level * dx + 0.47, y + 0.1), (right - level * dx - 0.47, y + 0.1),
                   "copy + concatenate" if has else "no skip", dashed=not has, colour="0.2" if has else "0.6",
                   offset=(0, 0.14))
    _box(ax, -1.25, 0, f"L input\n{in_ch}×{size}×{size}", _IO, w=0.95)
    _arrow(ax, (-0.77, 0), (-0.46, 0))
    _box(ax, right + 1.25, 0, f"ab output\n2×{size}×{size}", _IO, w=0.95)
    _arrow(ax, (right + 0.46, -0.12), (right + 0.77, -0.12), "1×1 conv\n+ tanh", offset=(0, -0.42))
    ax.set_xlim(-1.8, right + 1.8)
    ax.set_ylim(-(depth - 1) * dy - 0.6, 0.8)
    ax.set_title(f"U-Net: depth {depth}, base {base} (every box = two 3×3 conv + BN + ReLU)", fontsize=9)
    return fig


def fusion_diagram(model, size: int, ax=None):
    """Deep Koalarization as built by :class:`~colorlab.models.FusionColorizer` for ``size × size`` inputs:
    a local encoder, a global classifier whose vector is repeated at every position, the 1×1 fusion
    conv and the decoder."""
    cfg = _config(model, "fusion")
    s8 = size // 8
    dim = int(model.global_features.dim) if hasattr(model, "global_features") else "D"
    enc, fus, S = cfg.get("encoder_out", 512), cfg.get("fusion_channels", 256), cfg.get("backbone_size", 224)
    fig, ax = _canvas(ax, (9.5, 3.4))
    _box(ax, 0, 0, f"L input\n1×{size}×{size}", _IO, w=1.1)
    _box(ax, 2.1, 0.55, f"encoder\n8 conv 3×3\n(3 with stride 2)\n{enc}×{s8}×{s8}", _ENC, w=1.5, h=1.0)
    _box(ax, 2.1, -1.35, f"global branch\n{cfg.get('backbone', '?')}\nsees all {S}×{S}\n→ vector g ({dim})",
         _GLOBAL, w=1.5, h=1.0)
    _box(ax, 4.45, -1.35, f"repeat g at\nevery position\n{dim}×{s8}×{s8}", _GLOBAL, w=1.35, h=0.9)
    _box(ax, 6.3, 0.55, f"fusion\nconcatenate,\n1×1 conv + ReLU\n{fus}×{s8}×{s8}", _MIDDLE, w=1.45, h=1.0)
    _box(ax, 8.4, 0.55, f"decoder\nconv + 3× upsample\n→ ab 2×{size}×{size}", _DEC, w=1.6, h=1.0)
    _arrow(ax, (0.55, 0.1), (1.35, 0.5))
    _arrow(ax, (0.55, -0.1), (1.35, -1.3), f"resize to {S}", offset=(-0.45, -0.2))
    _arrow(ax, (2.85, 0.55), (5.58, 0.55), f"local features ({enc} ch)", offset=(0, 0.15))
    _arrow(ax, (2.85, -1.35), (3.78, -1.35))
    _arrow(ax, (5.12, -1.1), (5.9, 0.05), f"+{dim} ch", offset=(0.35, -0.05))
    _arrow(ax, (7.02, 0.55), (7.6, 0.55))
    ax.set_xlim(-0.7, 9.4)
    ax.set_ylim(-2.0, 1.3)
    ax.set_title(f"fusion colorizer: every one of the {s8}×{s8} positions gets the same global vector", fontsize=9)
    return fig


def fpn_diagram(model, size: int, ax=None):
    """The feature pyramid of :class:`~colorlab.models.FPNColorizer` for ``size × size`` inputs: the
    backbone's activations at strides 2, 4, 8, … (left), merged top-down coarse to fine (right)."""
    cfg = _config(model, "fpn")
    if not hasattr(model, "lateral"):
        raise ColorlabError("fpn_diagram needs a built FPNColorizer (it reads the backbone's channels)")
    chans = [int(l.in_channels) for l in model.lateral]
    strides = [int(model.first_stride) * 2 ** i for i in range(len(chans))]
    width = int(cfg.get("width", 128))
    n = len(chans)
    fig, ax = _canvas(ax, (8.5, 1.0 + 0.95 * n))
    for k, (c, s) in enumerate(zip(chans, strides)):
        y, r = k * 1.0, size // s
        _box(ax, 0, y, f"stride {s}: {c} ch, {r}×{r}", _ENC, w=2.2, h=0.6)
        _box(ax, 4.2, y, f"{width} ch, {r}×{r}", _DEC, w=1.7, h=0.6)
        _arrow(ax, (1.1, y), (3.35, y), "1×1 conv (lateral)", offset=(0, 0.14))
        if k < n - 1:
            _arrow(ax, (0, y + 0.3), (0, y + 0.7), "backbone\nstages", offset=(-0.55, 0)) if k == 0 else \
                _arrow(ax, (0, y + 0.3), (0, y + 0.7))
            _arrow(ax, (4.2, y + 0.7), (4.2, y + 0.3), "×2 up, add,\n3×3 conv" if k == n - 2 else None,
                   offset=(0.75, 0))
    _box(ax, 0, -1.05, f"L input, 1×{size}×{size}\n(as gray RGB)", _IO, w=2.2, h=0.6)
    _arrow(ax, (0, -0.75), (0, -0.3))
    _box(ax, 7.1, 0, f"ab output\n2×{size}×{size}", _IO, w=1.3, h=0.6)
    _arrow(ax, (5.05, 0), (6.45, 0), "up to input size,\n3×3 conv, 3×3 conv + tanh", offset=(0, -0.35))
    ax.set_xlim(-1.3, 7.9)
    ax.set_ylim(-1.5, n - 0.4)
    ax.set_title(f"feature pyramid on {cfg.get('backbone', '?')}: coarse, wide-view features flow down to fine ones",
                 fontsize=9)
    return fig


def receptive_field_figure(gray, colour, windows: dict, centre: tuple, titles=None):
    """What a network sees when it colours one pixel: each model's window (its receptive field, a
    square of ``side`` pixels around ``centre``) drawn on the gray inputs (top) and the true colours
    (bottom) of a few images.

    Args:
        gray, colour: ``(n, H, W, 3)`` arrays (or ``(n, 3, H, W)`` tensors) in [0, 1] or uint8.
        windows: ``{model name: side in pixels}``; a side ≥ the image is the whole image.
        centre: ``(row, column)`` of the pixel being coloured.
        titles: one title per image.
    """
    from matplotlib.patches import Rectangle
    plt = pyplot()
    n = len(gray)
    if len(colour) != n:
        raise ColorlabError(f"{n} gray images but {len(colour)} colour images")
    fig, axes = plt.subplots(2, n, figsize=(2.2 * n, 4.6), squeeze=False)
    cy, cx = centre
    styles = ["-", "--", ":", "-."]
    colours = WINDOWS
    for c in range(n):
        for r, img in enumerate((gray[c], colour[c])):
            ax = axes[r, c]
            arr = to_hwc(img)
            H, W = arr.shape[:2]
            ax.imshow(arr, interpolation="nearest")
            for k, (name, side) in enumerate(windows.items()):
                # the window, cut to the image (a window larger than the image sees all of it); edges that
                # fall on the image border are drawn just inside it, where they stay visible
                half, inset = (int(side) / 2 if side < max(H, W) else float(max(H, W) * 2)), 0.3 + 0.35 * k
                x0, x1 = max(cx - half, -0.5 + inset), min(cx + half, W - 0.5 - inset)
                y0, y1 = max(cy - half, -0.5 + inset), min(cy + half, H - 0.5 - inset)
                ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=1.6,
                                       edgecolor=colours[k % 4], linestyle=styles[k % 4],
                                       label=f"{name}: {side} px" if r == 0 and c == 0 else None))
            ax.plot([cx], [cy], marker="+", color=WRONG, markersize=8, mew=1.5)
            ax.set_xlim(-0.5, W - 0.5)
            ax.set_ylim(H - 0.5, -0.5)
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_ylabel("gray input" if r == 0 else "true colours", fontsize=9)
            if r == 0 and titles is not None:
                ax.set_title(titles[c], fontsize=9)
    fig.legend(loc="lower center", ncol=len(windows), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def pixel_weight_figure(rgb, weights: dict, titles=None, vmax: float | None = None):
    """Which pixels a rarity loss up-weights: the images (top row) and, per scheme, the weight of each
    pixel's true colour (one row each, a shared log colour scale: 1 is the average pixel).

    Args:
        rgb: ``(n, H, W, 3)`` array or ``(n, 3, H, W)`` tensor in [0, 1] or uint8.
        weights: ``{row name: (n, H, W) weights}`` (e.g. ``RarityWeightedMSE(...).pixel_weights(ab)``).
        titles: one title per image.
    """
    from matplotlib.colors import LogNorm
    plt = pyplot()
    n = len(rgb)
    maps = {name: (w.detach().float().cpu().numpy() if isinstance(w, torch.Tensor) else np.asarray(w, dtype=float))
            for name, w in weights.items()}
    for name, w in maps.items():
        if w.shape[0] != n or w.ndim != 3:
            raise ColorlabError(f"weights {name!r} should be ({n}, H, W), got {w.shape}")
    lo = min(float(w.min()) for w in maps.values())
    hi = vmax or max(float(w.max()) for w in maps.values())
    norm = LogNorm(vmin=max(min(lo, 1.0), 1e-3), vmax=max(hi, 1.0 + 1e-6))
    rows = 1 + len(maps)
    fig, axes = plt.subplots(rows, n, figsize=(1.6 * n + 0.8, 1.65 * rows), squeeze=False)
    im = None
    for c in range(n):
        axes[0, c].imshow(to_hwc(rgb[c]), interpolation="nearest")
        if titles is not None:
            axes[0, c].set_title(titles[c], fontsize=8)
        for r, (name, w) in enumerate(maps.items(), start=1):
            im = axes[r, c].imshow(w[c], cmap="magma", norm=norm, interpolation="nearest")
            if c == 0:
                axes[r, c].set_ylabel(name, fontsize=8)
    axes[0, 0].set_ylabel("scene", fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout(rect=(0, 0, 0.92, 1))
    cax = fig.add_axes((0.93, 0.1, 0.015, 0.8 * (rows - 1) / rows))
    fig.colorbar(im, cax=cax).set_label("pixel weight (log scale)", fontsize=8)
    return fig
