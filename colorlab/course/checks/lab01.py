"""Checks of lab 01 (the Lab colour space): chroma and hue, sRGB → Lab, a batch split into network input and target."""
from __future__ import annotations

import math

import numpy as np
import torch

from colorlab.core import color
from colorlab.course.checks import as_numpy, assert_close, assert_shape, call_student, passed, rng

__all__ = ["chroma_hue", "rgb_to_lab", "split_batch"]


def _pair(out, what: str, names: str):
    assert isinstance(out, (tuple, list)) and len(out) == 2, \
        f"{what} should return two things, ({names}); got {type(out).__name__}"
    return out


def chroma_hue(fn) -> None:
    """``fn(ab) -> (C, h)``: ab ``(..., 2, H, W)``; chroma ``sqrt(a² + b²)`` and hue ``atan2(b, a)`` in degrees
    in [0, 360), each ``(..., H, W)`` — against :func:`colorlab.core.color.chroma_hue`."""
    r = rng(1)
    ab = torch.tensor(r.normal(0, 45, (2, 2, 5, 6)), dtype=torch.float32)
    ab[0, :, 0, :4] = torch.tensor([[30.0, 0.0, -30.0, 0.5], [0.0, 30.0, -40.0, -60.0]])  # red, yellow, blue-green, blue
    for x, shape in ((ab, (2, 5, 6)), (ab[1], (5, 6))):
        what = f"my_chroma_hue(ab of shape {tuple(x.shape)})"
        out = _pair(call_student(fn, x.clone(), what=what, hint="a is ab[..., 0, :, :], b is ab[..., 1, :, :]"), what, "C, h")
        C_ref, h_ref = color.chroma_hue(x)
        for mine, name in zip(out, ("C", "h")):
            assert_shape(as_numpy(mine, f"your {name}"), shape,
                         f"your {name} for ab {tuple(x.shape)} (hint: colour is the third axis from the end, "
                         f"so take a and b with ab[..., 0, :, :] or ab.unbind(-3), not ab[:, 0])")
        C, h = as_numpy(out[0]), as_numpy(out[1])
        if np.allclose(C, C_ref.numpy() ** 2, rtol=1e-3, atol=1e-2):
            raise AssertionError("your C is a² + b²: chroma is the length of (a, b), take the square root")
        assert_close(C, C_ref, "your chroma C", atol=1e-3, rtol=1e-4)
        hr = h_ref.double().numpy()
        if not np.allclose(h, hr, atol=1e-2):
            a, b = as_numpy(x[..., 0, :, :]), as_numpy(x[..., 1, :, :])
            rad, swapped = np.arctan2(b, a), np.rad2deg(np.arctan2(a, b))
            radians = "your hue is in radians: convert to degrees with torch.rad2deg (or × 180/π)"
            swap = "atan2 takes (y, x): the hue is atan2(b, a), b first"
            for wrong, hint in ((rad, radians), (rad % (2 * math.pi), radians),
                                (np.rad2deg(rad), "your hue runs from −180° to 180°: wrap it into [0, 360) with % 360"),
                                (swapped, swap), (swapped % 360, swap)):
                if np.allclose(h, wrong, atol=1e-3):
                    raise AssertionError(hint)
            assert_close(h, hr, "your hue h (degrees in [0, 360))", atol=1e-2, rtol=0)
    passed("chroma and hue are right (0° along +a, red; 90° along +b, yellow; 180° green; 270° blue)")


def rgb_to_lab(fn) -> float:
    """``fn(rgb) -> lab``: sRGB ``(N, 3, H, W)`` in [0, 1] → Lab ``(N, 3, H, W)``, against
    :func:`colorlab.core.color.rgb_to_lab`. Returns the largest difference (Lab units)."""
    r = rng(0)
    rgb = torch.tensor(r.random((3, 3, 8, 8)), dtype=torch.float32)
    rgb[2] *= 0.08                                   # dark colours: the linear segments of both steps
    corners = torch.tensor([[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0.01, 0.01, 0.01]],
                           dtype=torch.float32)
    rgb[2, :, 0, :6] = corners.T                     # black, white, the primaries, near-black
    ref = color.rgb_to_lab(rgb)
    mine = call_student(fn, rgb.clone(), what="my_rgb_to_lab(rgb (3, 3, 8, 8))", hint="rgb is (N, 3, H, W): the channel axis is 1 (e.g. einsum 'ij,njhw->nihw' or rgb[:, 0])")
    mine = torch.as_tensor(as_numpy(mine, "your Lab"))
    assert_shape(mine, tuple(ref.shape), "your Lab")
    diff = (mine - ref.double()).abs()
    err = float(diff.max())
    if not err < 0.05:
        n, c, y, x = (int(v) for v in np.unravel_index(int(diff.argmax()), diff.shape))
        px = tuple(round(float(v), 3) for v in rgb[n, :, y, x])
        yours = tuple(round(float(v), 2) for v in mine[n, :, y, x])
        want = tuple(round(float(v), 2) for v in ref[n, :, y, x])
        hint = ""
        if mine[2, 0, 0, 0].abs() > 1:
            hint = ("black should be L = 0: below t = 0.008856, f(t) is the straight line 7.787 t + 16/116, "
                    "not the cube root")
        elif (mine[:, 0] - ref[:, 0]).abs().max() > 0.05:
            hint = ("L is already wrong: check step 1 (undo the companding) and step 2 (row i of the matrix gives "
                    "X, Y, Z in turn: einsum 'ij,njhw->nihw')")
        else:
            hint = "L is right but a or b is not: check the white point D65 for X and Z, and the order of f(X), f(Y), f(Z)"
        raise AssertionError(f"your Lab differs from colorlab.core.color.rgb_to_lab by up to {err:.3f} (in channel {'Lab'[c]}); "
                             f"e.g. RGB {px}: yours {yours}, expected {want}.\nHint: {hint}")
    passed(f"sRGB → Lab is right (largest difference {err:.1e})")
    return err


def split_batch(fn) -> None:
    """``fn(images) -> (L_in, ab_target)``: uint8 ``(N, H, W, 3)`` as a prepared cache stores it → float
    ``(N, 1, H, W)`` with L/50 − 1 and ``(N, 2, H, W)`` with ab/110, against :func:`colorlab.core.color.split_lab`."""
    images = rng(2).integers(0, 256, (3, 6, 5, 3), dtype=np.uint8)     # H ≠ W: a transposed image shows
    L_ref, ab_ref = color.split_lab(torch.from_numpy(images.copy()).permute(0, 3, 1, 2))
    what = "my_split_batch(images (3, 6, 5, 3) uint8)"
    out = _pair(call_student(fn, images.copy(), what=what, hint="images are (N, H, W, 3), channels last; the kit's conversions want (N, 3, H, W): "
                           "move the colour axis with .permute(0, 3, 1, 2) first"), what, "L_in, ab_target")
    L, ab = as_numpy(out[0], "your L input"), as_numpy(out[1], "your ab target")
    axis_hint = ("(hint: the kit keeps colour on axis 1, (N, C, H, W); move it with permute(0, 3, 1, 2) — "
                 "a reshape or view would scramble the pixels)")
    assert_shape(L, tuple(L_ref.shape), f"your L input {axis_hint}")
    assert_shape(ab, tuple(ab_ref.shape), f"your ab target {axis_hint}")
    L_raw, ab_raw = color.denormalize_l(L_ref).numpy(), color.denormalize_ab(ab_ref).numpy()
    for mine, raw, name, rule in ((L, L_raw, "L input", "L / 50 − 1, so that L = 0 … 100 becomes −1 … 1"),
                                  (ab, ab_raw, "ab target", "ab / 110 (colorlab.core.color.AB_SCALE), so that a tanh "
                                                            "output can reach it")):
        ref = L_ref.numpy() if name == "L input" else ab_ref.numpy()
        if np.allclose(mine, ref, atol=1e-4):
            continue
        scale = np.nanmedian(mine[np.abs(raw) > 5] / raw[np.abs(raw) > 5]) if (np.abs(raw) > 5).any() else np.nan
        if np.allclose(mine, raw, rtol=1e-3, atol=1e-2):
            hint = f"it is not normalised: the network gets {rule}"
        elif np.isfinite(scale) and np.allclose(mine, raw * scale, rtol=1e-3, atol=1e-3):
            hint = f"it is scaled by 1/{1 / scale:.4g}: the kit uses {rule}"
        else:
            hint = (f"the kit uses {rule}. If the pattern is scrambled, move the colour axis with permute, "
                    f"not reshape; if everything is near white, keep uint8 or divide by 255 yourself")
        assert_close(mine, ref, f"your {name} (range {mine.min():.3g} … {mine.max():.3g}; expected "
                                f"{ref.min():.3g} … {ref.max():.3g}) — {hint};", atol=1e-4, rtol=1e-4)
    passed("the batch splits into the kit's network input and target (L/50 − 1, ab/110)")
