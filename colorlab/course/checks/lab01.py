"""Checks of lab 01 (the Lab colour space): chroma and hue, sRGB → Lab, a batch split into network input and target.

Every check draws its inputs from ``seed`` (the visible default, or the hidden tests' own) and passes exactly
what the exercise's contract says: torch tensors, float32 (uint8 photos for the batch split).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from colorlab.core import color
from colorlab.course.checks import as_numpy, assert_close, call_student, describe, not_the_kit, passed, rng

__all__ = ["chroma_hue", "rgb_to_lab", "split_batch", "not_the_kit"]

_M = np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]])
_WHITE = np.array([0.95047, 1.0, 1.08883])


def _pair(out, what: str, names: str):
    assert isinstance(out, (tuple, list)) and len(out) == 2, \
        f"{what} should return two things, ({names}); got {describe(out)}"
    return out


def _tensor(x, what: str, dtype: torch.dtype) -> None:
    """The contract's return type: a torch tensor of ``dtype`` (a named message otherwise)."""
    want = str(dtype).replace("torch.", "")
    if not isinstance(x, torch.Tensor):
        raise AssertionError(f"{what} is a {describe(x)}: the contract asks for a torch.Tensor ({want}); "
                             f"if you computed it with NumPy, wrap the result with torch.from_numpy")
    if x.dtype != dtype:
        raise AssertionError(f"{what} is {describe(x)}: the contract asks for {want} (the dtype of the input)")


def chroma_hue(fn, seed: int = 1) -> None:
    """``fn(ab) -> (C, h)``: ab ``(..., 2, H, W)`` float32; chroma ``sqrt(a² + b²)`` and hue ``atan2(b, a)`` in
    degrees in [0, 360), each ``(..., H, W)`` float32 — on a batch and on one image."""
    r = rng(seed)
    N, H = int(r.integers(2, 4)), int(r.integers(3, 7))
    W = H + int(r.integers(1, 3))                                     # W ≥ 4, H ≠ W
    ab = torch.tensor(r.normal(0, 45, (N, 2, H, W)), dtype=torch.float32)
    ab[0, :, 0, :4] = torch.tensor([[30.0, 0.0, -30.0, 0.5], [0.0, 30.0, -40.0, -60.0]])  # red, yellow, blue-green, blue
    for x in (ab, ab[N - 1]):
        shape = tuple(x.shape[:-3]) + tuple(x.shape[-2:])
        what = f"my_chroma_hue(ab: {describe(x)})"
        out = _pair(call_student(fn, x.clone(), what=what,
                                 hint="ab holds a and b on the third axis from the end: (N, 2, H, W) or (2, H, W)"),
                    what, "C, h")
        C_ref, h_ref = color.chroma_hue(x)
        for mine, name in zip(out, ("C", "h")):
            _tensor(mine, f"your {name} for ab {tuple(x.shape)}", torch.float32)
            assert tuple(mine.shape) == shape, (
                f"your {name} for ab {tuple(x.shape)} has shape {tuple(mine.shape)}, expected {shape}: colour is the "
                f"third axis from the end, so take a and b with ab[..., 0, :, :] or ab.unbind(-3), not ab[:, 0] "
                f"(which picks an image's row when there is no batch axis)")
        C, h = as_numpy(out[0]), as_numpy(out[1])
        if np.allclose(C, C_ref.numpy() ** 2, rtol=1e-3, atol=1e-2):
            raise AssertionError("your C is a² + b²: chroma is the length of (a, b), take the square root")
        assert_close(C, C_ref, "your chroma C (the length of (a, b))", atol=1e-3, rtol=1e-4)
        hr = h_ref.double().numpy()
        if not np.allclose(h, hr, atol=1e-2):
            a, b = as_numpy(x[..., 0, :, :]), as_numpy(x[..., 1, :, :])
            rad, swapped = np.arctan2(b, a), np.rad2deg(np.arctan2(a, b))
            radians = "your hue is in radians: the contract asks for degrees (× 180/π)"
            swap = "your hue has a and b swapped: the angle from +a towards +b is atan2(b, a), b first"
            for wrong, hint in ((rad, radians), (rad % (2 * math.pi), radians),
                                (np.rad2deg(rad), "your hue runs from −180° to 180°: wrap the negative angles into "
                                                  "[0, 360) by adding 360°"),
                                (swapped, swap), (swapped % 360, swap)):
                if np.allclose(h, wrong, atol=1e-3):
                    raise AssertionError(hint)
            assert_close(h, hr, "your hue h (degrees in [0, 360), 0° along +a, 90° along +b)", atol=1e-2, rtol=0)
    passed("chroma and hue are right (0° along +a, red; 90° along +b, yellow; 180° green; 270° blue)")


def _lab64(rgb: np.ndarray, compand: bool = True, transpose: bool = False, white: bool = True,
           toe: bool = True) -> np.ndarray:
    """sRGB ``(N, 3, H, W)`` → Lab in float64, optionally with one of the usual mistakes."""
    lin = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92) if compand else rgb
    M = _M.T if transpose else _M
    t = np.einsum("ij,njhw->nihw", M, lin)
    if white:
        t = t / _WHITE.reshape(1, 3, 1, 1)
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116) if toe else np.cbrt(t)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def rgb_to_lab(fn, seed: int = 0) -> float:
    """``fn(rgb) -> lab``: sRGB ``(N, 3, H, W)`` float32 in [0, 1] → Lab ``(N, 3, H, W)`` float32, on random,
    dark and pure colours. Returns the largest difference from the kit's conversion (Lab units)."""
    r = rng(seed)
    N, H, W = int(r.integers(2, 4)), int(r.integers(4, 8)), int(r.integers(6, 10))
    rgb = torch.tensor(r.random((N, 3, H, W)), dtype=torch.float32)
    rgb[-1] *= 0.08                                  # dark colours: the linear segments of both steps
    corners = torch.tensor([[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0.01, 0.01, 0.01]],
                           dtype=torch.float32)
    rgb[-1, :, 0, :6] = corners.T                    # black, white, the primaries, near-black
    ref = color.rgb_to_lab(rgb)
    what = f"my_rgb_to_lab(rgb: {describe(rgb)})"
    mine = call_student(fn, rgb.clone(), what=what,
                        hint="rgb is (N, 3, H, W): R, G and B lie on axis 1, and the result keeps that layout")
    _tensor(mine, "your Lab", torch.float32)
    assert tuple(mine.shape) == tuple(ref.shape), \
        f"your Lab has shape {tuple(mine.shape)}, expected {tuple(ref.shape)}: L, a, b on axis 1, like R, G, B"
    diff = (mine.double() - ref.double()).abs()
    err = float(diff.max())
    if not err < 0.05:
        x, lab = rgb.double().numpy(), mine.double().numpy()
        named = [
            (dict(compand=False), "you applied the matrix to the sRGB values themselves: undo the companding first "
                                  "(step 1: c / 12.92 up to 0.04045, else ((c + 0.055) / 1.055)^2.4)"),
            (dict(toe=False), "black comes out at L = −16, not 0: below t = 0.008856, f(t) is the straight line "
                              "7.787 t + 16/116, not the cube root"),
            (dict(white=False), "L is right but a and b are off: divide X, Y, Z by the D65 white point "
                                "(0.95047, 1, 1.08883) before f"),
            (dict(transpose=True), "your matrix is applied transposed: row i of M gives X, Y, Z in turn "
                                   "(X = 0.412453 R + 0.357580 G + 0.180423 B)"),
        ]
        for kw, hint in named:
            if np.allclose(lab, _lab64(x, **kw), atol=0.05):
                raise AssertionError(f"your Lab differs from the kit's by up to {err:.3f}: {hint}")
        n, c, y, xx = (int(v) for v in np.unravel_index(int(diff.argmax()), diff.shape))
        px = tuple(round(float(v), 3) for v in rgb[n, :, y, xx])
        yours = tuple(round(float(v), 2) for v in mine[n, :, y, xx])
        want = tuple(round(float(v), 2) for v in ref[n, :, y, xx])
        if (mine[:, 0] - ref[:, 0]).abs().max() > 0.05:
            hint = "L is already wrong, and L depends on Y alone: check step 1 and the middle row of the matrix"
        else:
            hint = "L is right but a or b is not: check the order of f(X), f(Y), f(Z) in a and b"
        raise AssertionError(f"your Lab differs from the kit's by up to {err:.3f} (in channel {'Lab'[c]}); "
                             f"e.g. RGB {px}: yours {yours}, expected {want}.\nHint: {hint}")
    passed(f"sRGB → Lab is right (largest difference {err:.1e})")
    return err


def split_batch(fn, seed: int = 2) -> None:
    """``fn(images) -> (L_in, ab_target)``: uint8 torch ``(N, H, W, 3)`` as a prepared cache stores it → float32
    ``(N, 1, H, W)`` with L/50 − 1 and ``(N, 2, H, W)`` with ab/110."""
    r = rng(seed)
    N, H = int(r.integers(2, 5)), int(r.integers(4, 8))
    W = H + 1 + int(r.integers(0, 2))                                  # H ≠ W: a transposed image shows
    images = torch.from_numpy(r.integers(0, 256, (N, H, W, 3), dtype=np.uint8))
    L_ref, ab_ref = color.split_lab(images.permute(0, 3, 1, 2))
    what = f"my_split_batch(images: {describe(images)})"
    out = _pair(call_student(fn, images.clone(), what=what,
                             hint="the photos arrive channels last, (N, H, W, 3) uint8; the kit's conversions want "
                                  "the colour axis at position 1, (N, 3, H, W)"), what, "L_in, ab_target")
    for mine, ref, name in ((out[0], L_ref, "L input"), (out[1], ab_ref, "ab target")):
        _tensor(mine, f"your {name}", torch.float32)
        assert tuple(mine.shape) == tuple(ref.shape), (
            f"your {name} has shape {tuple(mine.shape)}, expected {tuple(ref.shape)} for photos {tuple(images.shape)}: "
            f"the colour axis goes to position 1, (N, C, H, W)")
    L, ab = as_numpy(out[0]), as_numpy(out[1])
    if np.allclose(L, L_ref.numpy(), atol=1e-4) and np.allclose(ab, ab_ref.numpy(), atol=1e-4):
        passed("the batch splits into the kit's network input and target (L/50 − 1, ab/110)")
        return
    scrambled = color.split_lab(images.reshape(N, 3, H, W))
    if np.allclose(L, scrambled[0].numpy(), atol=1e-3):
        raise AssertionError("your shapes are right but the pixels are scrambled: a reshape (or view) to (N, 3, H, W) "
                             "regroups the bytes in memory order; the axes have to be swapped, each pixel keeping its "
                             "three values")
    white = color.rgb_to_lab(images.permute(0, 3, 1, 2).float())
    if np.allclose(L, color.normalize_l(white[:, :1]).numpy(), atol=1e-3):
        raise AssertionError("your L input is white everywhere: as floats, rgb_to_lab expects [0, 1], so after "
                             "converting the bytes to float divide by 255 (or pass the uint8 tensor itself)")
    raw = {"L input": color.denormalize_l(L_ref).numpy(), "ab target": color.denormalize_ab(ab_ref).numpy()}
    rule = {"L input": "L / 50 − 1, so that L = 0 … 100 becomes −1 … 1",
            "ab target": "ab / 110 (colorlab.core.color.AB_SCALE), so that a tanh output can reach it"}
    for mine, ref, name in ((L, L_ref.numpy(), "L input"), (ab, ab_ref.numpy(), "ab target")):
        if np.allclose(mine, ref, atol=1e-4):
            continue
        big = np.abs(raw[name]) > 5
        scale = np.nanmedian(mine[big] / raw[name][big]) if big.any() else np.nan
        if np.allclose(mine, raw[name], rtol=1e-3, atol=1e-2):
            hint = f"it is not normalised: the network gets {rule[name]}"
        elif np.isfinite(scale) and np.allclose(mine, raw[name] * scale, rtol=1e-3, atol=1e-3):
            hint = f"it is {name[:2].strip()} divided by {1 / scale:.4g}: the kit uses {rule[name]}"
        else:
            hint = f"the kit uses {rule[name]}"
        assert_close(mine, ref, f"your {name} (range {mine.min():.3g} … {mine.max():.3g}; expected "
                                f"{ref.min():.3g} … {ref.max():.3g}) — {hint};", atol=1e-4, rtol=1e-4)
