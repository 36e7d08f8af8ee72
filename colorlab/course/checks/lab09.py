"""Checks of lab 09 (user hints): one hint's channels, and the hint input of several patches with their mean colours.

Both compare with the kit's own encoding, :func:`colorlab.hints.encoding.paint_patches` (and, for the patch
colours, the mean over the patch the hint sampler uses, :func:`colorlab.hints.sampling.patch_colours`).
"""
from __future__ import annotations

import numpy as np
import torch

from colorlab.course.checks import as_numpy, assert_close, assert_shape, call_student, passed
from colorlab.hints.encoding import paint_patches
from colorlab.hints.sampling import patch_colours

__all__ = ["hint_channels", "encode_patch_hints"]

_SHAPE_HINT = "a hint image is (3, height, width), rows (top) first, then columns (left)"


def _reference(tops, lefts, sizes, colours, height: int, width: int) -> torch.Tensor:
    """The kit's encoding of hints with the given normalised colours ``(K, 2)``: ``(3, height, width)``."""
    k = len(tops)
    as_long = lambda v: torch.tensor([list(v)], dtype=torch.long)  # noqa: E731
    return paint_patches(as_long(tops), as_long(lefts), as_long(sizes), torch.as_tensor(colours, dtype=torch.float32)
                         .view(1, k, 2), torch.ones(1, k, dtype=torch.bool), height, width)[0]


def _compare(mine, ref, what: str, colour_hint: str = "") -> None:
    """Mask first (where), then the colours (what): the message says which of the two is wrong."""
    mine = as_numpy(mine, what)
    assert_shape(mine, tuple(ref.shape), what)
    ref = ref.double().numpy()
    rows, cols = np.nonzero(ref[2] != mine[2])
    if len(rows):
        want = np.argwhere(ref[2] > 0)
        where = (f"expected the patch at rows {want[:, 0].min()}–{want[:, 0].max()}, columns "
                 f"{want[:, 1].min()}–{want[:, 1].max()}" if len(want) else "expected no hint pixel")
        raise AssertionError(f"{what}: the mask (channel 2) differs at {len(rows)} pixels, e.g. (row {rows[0]}, "
                             f"column {cols[0]}): yours {mine[2, rows[0], cols[0]]:g}, expected {ref[2, rows[0], cols[0]]:g}; "
                             f"{where} (top is a row, left a column; the mask is 1 inside every patch, 0 elsewhere)")
    try:
        assert_close(mine[:2], ref[:2], f"{what}: the mask is right, but the hint ab (channels 0, 1)", atol=1e-5,
                     rtol=1e-4)
    except AssertionError as e:
        raise AssertionError(f"{e}. {colour_hint}".rstrip(". ")) from None


def hint_channels(fn) -> None:
    """``fn(height, width, top, left, size, ab)`` → ``(3, height, width)``: a/110, b/110 and 1 inside the patch."""
    cases = [(16, 16, 3, 5, 4, (30.0, -20.0)),    # the lab's example
             (12, 20, 2, 9, 5, (-45.0, 60.0)),    # not square: rows and columns differ
             (10, 10, 7, 6, 5, (10.0, 25.0))]     # the patch runs over the bottom and right edges: clipped
    for height, width, top, left, size, ab in cases:
        mine = call_student(fn, height, width, top, left, size, ab, what="hint_channels", hint=_SHAPE_HINT)
        ref = _reference([top], [left], [size], [[ab[0] / 110, ab[1] / 110]], height, width)
        what = f"hint_channels({height}, {width}, top={top}, left={left}, size={size}, ab={ab})"
        try:
            _compare(mine, ref, what, "Channel 0 is a / 110 and channel 1 is b / 110 inside the patch")
        except AssertionError as e:
            m = as_numpy(mine)
            inside = ref[2].numpy() > 0
            if m.shape == tuple(ref.shape) and np.allclose(m[:2][:, inside].T, ab, atol=1e-3):
                raise AssertionError(f"{what}: the patch holds (a, b) itself; the network sees a / 110 and b / 110 "
                                     f"(the scale of its tanh output)") from e
            raise
    passed("hint_channels encodes a hint like colorlab.hints.encoding.paint_patches")


def _patch_means(ab: torch.Tensor, tops, lefts, sizes) -> torch.Tensor:
    """The kit's hint colours: the mean true ab over each (clipped) patch, ``(K, 2)``."""
    as_long = lambda v: torch.tensor([list(v)], dtype=torch.long)  # noqa: E731
    return patch_colours(ab[None].float(), as_long(tops), as_long(lefts), as_long(sizes), "mean", 2.0)[0]


def encode_patch_hints(fn) -> None:
    """``fn(ab, tops, lefts, sizes)`` → ``(3, H, W)``: every patch painted with its mean true ab, mask 1 there."""
    g = torch.Generator().manual_seed(9)
    H, W = 20, 28
    # smooth-ish colours that change along both axes, so that a wrong axis or a swapped (row, col) shows
    y = torch.linspace(-1, 1, H).view(H, 1)
    x = torch.linspace(-1, 1, W).view(1, W)
    ab = torch.stack([0.5 * y + 0.3 * x ** 2, -0.4 * x + 0.2 * y * x]) + 0.05 * torch.randn(2, H, W, generator=g)
    cases = [("one hint", [4], [15], [5]),
             ("a single-pixel hint", [11], [3], [1]),
             ("hints that overlap and run over the edges (later hints win)",
              [2, 5, 15, 0, 8], [20, 22, 1, 0, 9], [6, 4, 9, 3, 7])]
    for name, tops, lefts, sizes in cases:
        mine = call_student(fn, ab.clone(), list(tops), list(lefts), list(sizes), what="encode_patch_hints", hint=_SHAPE_HINT)
        ref = _reference(tops, lefts, sizes, _patch_means(ab, tops, lefts, sizes), H, W)
        what = f"encode_patch_hints, {name} (tops={tops}, lefts={lefts}, sizes={sizes}, image {H}×{W})"
        try:
            _compare(mine, ref, what, "Each patch holds ONE colour: the mean of the true a over the patch's pixels, "
                                      "and the mean of b (average over rows and columns, not over a and b); "
                                      "where patches overlap, the later hint is on top")
        except AssertionError as e:
            m = as_numpy(mine)
            inside = ref[2].numpy() > 0
            if m.shape == tuple(ref.shape) and np.array_equal(m[2] > 0, inside) and \
                    np.allclose(m[:2][:, inside], ab.numpy()[:, inside], atol=1e-6):
                raise AssertionError(f"{what}: your patches hold the true ab of every pixel; a hint has ONE colour, "
                                     f"the mean of the true ab over its patch (a and b separately)") from e
            raise
    passed("encode_patch_hints builds the hint input as colorlab.hints.encoding does: mean colour per patch, mask, "
           "later hints on top")
