"""Checks of lab 09 (user hints): one hint's channels, the hint input of several patches, and the design
decision of the lab: which hint patch side gains the most PSNR on a fruit.

The first two compare with the kit's own encoding, :func:`colorlab.hints.encoding.paint_patches` (and, for the
patch colours, the mean over the patch the hint sampler uses, :func:`colorlab.hints.sampling.patch_colours`);
each known mistake is recognised by what it would have produced, and named. The third judges the side the
student's rule picks by the PSNR gain it reaches in a small simulation (:func:`patch_gains`), not by equality.
Every check draws its inputs from ``seed``: the hidden tests run them on a seed of their own.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from colorlab.course.checks import as_numpy, assert_close, assert_shape, call_student, not_the_kit, passed, rng
from colorlab.hints.encoding import paint_patches
from colorlab.hints.sampling import patch_colours

__all__ = ["hint_channels", "encode_patch_hints", "hint_patch_size", "patch_gains", "not_the_kit"]

_SHAPE_HINT = "a hint image is a torch tensor (3, height, width), rows (top) first, then columns (left)"


def _reference(tops, lefts, sizes, colours, height: int, width: int) -> torch.Tensor:
    """The kit's encoding of hints with the given normalised colours ``(K, 2)``: ``(3, height, width)``."""
    k = len(tops)
    as_long = lambda v: torch.tensor([list(v)], dtype=torch.long)  # noqa: E731
    return paint_patches(as_long(tops), as_long(lefts), as_long(sizes), torch.as_tensor(colours, dtype=torch.float32)
                         .view(1, k, 2), torch.ones(1, k, dtype=torch.bool), height, width)[0]


def _as_hint_image(out, shape: tuple, what: str) -> np.ndarray:
    """The student's result as a float64 array, after checking it is a torch tensor of ``shape``."""
    assert isinstance(out, torch.Tensor), (f"{what} returned a {type(out).__name__}; the contract asks for a torch "
                                           f"tensor (3, height, width) (the model input is a torch tensor)")
    mine = as_numpy(out, what)
    assert_shape(mine, shape, f"{what} (channels a/110, b/110, mask; then rows, then columns)")
    return mine


def _first_mistake(mine: np.ndarray, ref, mistakes) -> str | None:
    """The message of the first known mistake whose output ``mine`` equals (skipping those that equal ``ref``)."""
    same = lambda x, y: x.shape == y.shape and np.allclose(x, y, atol=1e-5, rtol=1e-4, equal_nan=True)  # noqa: E731
    ref = as_numpy(ref)
    for alt, message in mistakes:
        alt = np.asarray(alt, dtype=np.float64)
        if same(mine, alt) and not same(alt, ref):
            return message
    return None


def _compare(mine: np.ndarray, ref: torch.Tensor, what: str, colour_hint: str = "") -> None:
    """Mask first (where), then the colours (what): the message says which of the two is wrong."""
    ref = ref.double().numpy()
    rows, cols = np.nonzero(ref[2] != mine[2])
    if len(rows):
        want = np.argwhere(ref[2] > 0)
        where = (f"expected the patch at rows {want[:, 0].min()}–{want[:, 0].max()}, columns "
                 f"{want[:, 1].min()}–{want[:, 1].max()}" if len(want) else "expected no hint pixel")
        raise AssertionError(f"{what}: the mask (channel 2) differs at {len(rows)} pixels, e.g. (row {rows[0]}, "
                             f"column {cols[0]}): yours {mine[2, rows[0], cols[0]]:g}, expected {ref[2, rows[0], cols[0]]:g}; "
                             f"{where} (the mask is 1 inside every patch, 0 elsewhere)")
    try:
        assert_close(mine[:2], ref[:2], f"{what}: the mask is right, but the hint ab (channels 0, 1)", atol=1e-5,
                     rtol=1e-4)
    except AssertionError as e:
        raise AssertionError(f"{e}. {colour_hint}".rstrip(". ")) from None


# --- exercise 1: one hint's channels ------------------------------------------------------------------

def _one_hint(height, width, top, left, size, values) -> np.ndarray:
    """(3, height, width) with ``values`` (three numbers) inside the clipped patch, 0 elsewhere."""
    out = np.zeros((3, height, width))
    for c, v in enumerate(values):
        out[c, top:top + size, left:left + size] = v
    return out


def _hint_cases(seed: int):
    r = rng(seed)
    ab = lambda: (float(r.integers(-80, 81)), float(r.integers(-80, 81)))  # noqa: E731
    h = int(r.integers(12, 19))
    s = int(r.integers(3, 6))
    w = h + s + int(r.integers(3, 7))                                        # not square: rows and columns differ
    return [(h, h, int(r.integers(1, h - s)), int(r.integers(1, h - s)), s, ab()),           # inside a square image
            (h, w, int(r.integers(0, 3)), int(r.integers(h, w - s)), s, ab()),               # a column no row can be
            (h - 2, h - 2, h - 2 - s + 2, h - 2 - s + 1, s + 1, ab())]                       # over the bottom-right edge


def hint_channels(fn, seed: int = 0) -> None:
    """``fn(height, width, top, left, size, ab)`` → torch ``(3, height, width)``: a/110, b/110 and 1 inside the patch."""
    for height, width, top, left, size, ab in _hint_cases(seed):
        what = f"hint_channels({height}, {width}, top={top}, left={left}, size={size}, ab={ab})"
        out = call_student(fn, height, width, top, left, size, ab, what=what,
                           hint="height, width, top, left, size are ints and ab is a tuple (a, b) of two floats")
        mine = _as_hint_image(out, (3, height, width), what)
        a, b = ab[0] / 110, ab[1] / 110
        ref = _reference([top], [left], [size], [[a, b]], height, width)
        message = _first_mistake(mine, ref, [
            (_one_hint(height, width, top, left, size, (ab[0], ab[1], 1)),
             "the patch holds (a, b) itself; the network sees a / 110 and b / 110 (the scale of its tanh output)"),
            (_one_hint(height, width, top, left, size, (b, a, 1)),
             "a and b are in each other's channels: channel 0 is a / 110, channel 1 is b / 110"),
            (_one_hint(height, width, left, top, size, (a, b, 1)),
             "top and left are swapped: top is the first ROW of the patch (the second axis of the (3, H, W) "
             "result), left its first COLUMN (the third axis)"),
            (np.concatenate([_one_hint(height, width, top, left, size, (a, b, 0))[:2], np.ones((1, height, width))]),
             "the mask (channel 2) is 1 everywhere; it is 1 only inside the patch, so the network can tell "
             "'no hint' from 'a gray hint'"),
        ])
        if message:
            raise AssertionError(f"{what}: {message}")
        _compare(mine, ref, what,
                 "Channel 0 is a / 110 and channel 1 is b / 110 inside the patch, 0 outside")
    passed("hint_channels encodes a hint like colorlab.hints.encoding.paint_patches (also when it runs over the edge)")


# --- exercise 2: the hint input of several patches ----------------------------------------------------

def _paint_np(ab: np.ndarray, tops, lefts, sizes, colour: str = "mean", order: str = "later",
              swap: bool = False) -> np.ndarray:
    """A plain NumPy painter with known mistakes switched on: what a wrong answer would return."""
    _, H, W = ab.shape
    out = np.zeros((3, H, W))
    hints = list(zip(tops, lefts, sizes))
    for t, l, s in (reversed(hints) if order == "earlier" else hints):
        rows, cols = (slice(l, l + s), slice(t, t + s)) if swap else (slice(t, t + s), slice(l, l + s))
        patch = ab[:, rows, cols]
        if patch.size == 0:
            continue
        value = {"mean": patch.mean((1, 2)).reshape(2, 1, 1), "pixels": patch,
                 "image": ab.mean((1, 2)).reshape(2, 1, 1), "channels": patch.mean(0, keepdims=True)}[colour]
        out[:2, rows, cols] = value
        out[2, rows, cols] = 1
    return out


def _patch_case(seed: int):
    """One image's normalised ab (smooth, changing along both axes) and three sets of hints."""
    r = rng(seed)
    H = int(r.integers(16, 23))
    W = H + int(r.integers(6, 11))
    y = torch.linspace(-1, 1, H).view(H, 1)
    x = torch.linspace(-1, 1, W).view(1, W)
    c = [float(v) for v in r.uniform(0.2, 0.5, 4)]
    ab = torch.stack([c[0] * y + c[1] * x ** 2, -c[2] * x + c[3] * y * x])
    ab = (ab + torch.tensor(r.normal(0, 0.05, (2, H, W)), dtype=torch.float32)).float()
    t1, l1 = int(r.integers(2, H - 8)), int(r.integers(W // 2, W - 8))
    cases = [("one hint", [t1], [l1], [int(r.integers(4, 7))]),
             ("a single-pixel hint", [int(r.integers(0, H))], [int(r.integers(0, W))], [1]),
             ("hints that overlap and run over the edges (later hints win)",
              [t1, t1 + 2, H - 4, 0, int(r.integers(3, H - 6))],
              [l1, l1 + 2, int(r.integers(0, 4)), 0, int(r.integers(3, W // 2))],
              [6, 4, int(r.integers(7, 10)), 3, int(r.integers(5, 8))])]
    return ab, cases


def encode_patch_hints(fn, seed: int = 0) -> None:
    """``fn(ab, tops, lefts, sizes)`` → torch ``(3, H, W)``: every patch painted with its mean true ab, mask 1 there."""
    ab, cases = _patch_case(seed)
    _, H, W = ab.shape
    a = ab.double().numpy()
    for name, tops, lefts, sizes in cases:
        what = f"encode_patch_hints, {name} (tops={tops}, lefts={lefts}, sizes={sizes}, ab of shape (2, {H}, {W}))"
        out = call_student(fn, ab.clone(), list(tops), list(lefts), list(sizes), what=what,
                           hint="ab is a torch tensor (2, H, W); tops, lefts, sizes are lists of ints")
        mine = _as_hint_image(out, (3, H, W), what)
        ref = _reference(tops, lefts, sizes, _patch_means(ab, tops, lefts, sizes), H, W)
        message = _first_mistake(mine, ref, [
            (_paint_np(a, tops, lefts, sizes, "pixels"),
             "your patches hold the true ab of every pixel; a hint has ONE colour, the mean of the true ab over "
             "its patch (a and b separately)"),
            (_paint_np(a, tops, lefts, sizes, "channels"),
             "you averaged over the wrong axis: over a and b (the channel axis), giving one number per pixel; "
             "average over the patch's rows and columns instead, one mean for a and one for b"),
            (_paint_np(a, tops, lefts, sizes, "image"),
             "every patch holds the mean colour of the whole image; take the mean over the patch's own pixels"),
            (_paint_np(a, tops, lefts, sizes, swap=True),
             "tops and lefts are swapped: a top is a ROW (the second axis of ab), a left a COLUMN (the third)"),
            (_paint_np(a, tops, lefts, sizes, order="earlier"),
             "where patches overlap the EARLIER hint wins in yours; the later hint must be on top (paint them in "
             "the order given, each over what is there)"),
        ])
        if message:
            raise AssertionError(f"{what}: {message}")
        _compare(mine, ref, what, "Each patch holds ONE colour: the mean of the true a over the patch's pixels, "
                                  "and the mean of b; where patches overlap, the later hint is on top")
    passed("encode_patch_hints builds the hint input as colorlab.hints.sampling.HintSampler does: mean colour per "
           "patch, mask, later hints on top")


def _patch_means(ab: torch.Tensor, tops, lefts, sizes) -> torch.Tensor:
    """The kit's hint colours: the mean true ab over each (clipped) patch, ``(K, 2)``."""
    as_long = lambda v: torch.tensor([list(v)], dtype=torch.long)  # noqa: E731
    return patch_colours(ab[None].float(), as_long(tops), as_long(lefts), as_long(sizes), "mean", 2.0)[0]


# --- exercise 3 (design): the hint patch side that gains the most --------------------------------------

_RED, _TEAL, _GRASS = (50.0, 34.0), (-42.0, -26.0), (-26.0, 24.0)
_NO_HINT = (4.0, 4.0)   # the average of red and teal: what a squared-error model paints without a hint
_TOLERANCE_DB = 1.0


def patch_gains(diameter: int, click_error: int, seed: int = 0, trials: int = 160, noise: float = 10.0) -> dict:
    """PSNR gain (dB, on the fruit's ab) of one hint of each side ``1 … diameter``, in an idealised hint model.

    A round fruit ``diameter`` pixels across, red or teal (lab 09's colours) with a near-white highlight and
    per-pixel colour noise (``noise``, Lab units), lies on grass. A user clicks ``click_error`` pixels or less
    off its centre (uniform, in each direction); the hint is the square patch of the given side centred on the
    click, its colour the patch's mean true ab (the sampler's rule). The model spreads the hint's colour over
    the whole fruit (what a trained hint model approaches); without a hint it paints the red-teal average.
    Returns ``{side: gain in dB}``, the gain being 10·log10(MSE without hint / MSE with it) over fruit pixels.
    """
    g = torch.Generator().manual_seed(int(seed))
    S = diameter + 2 * click_error + 4                                  # room for the largest patch, off centre
    c = (S - 1) / 2
    yy, xx = torch.meshgrid(torch.arange(S, dtype=torch.float64), torch.arange(S, dtype=torch.float64), indexing="ij")
    dy, dx = (yy - c) / (diameter / 2), (xx - c) / (diameter / 2)
    fruit = dy ** 2 + dx ** 2 <= 1
    keep = 1 - 0.85 * torch.exp(-((dx + 0.35) ** 2 + (dy + 0.4) ** 2) / 0.03)  # the highlight: nearly white
    colour = torch.tensor([_RED, _TEAL], dtype=torch.float64)[torch.randint(0, 2, (trials,), generator=g)]
    ab = torch.where(fruit, colour.view(trials, 2, 1, 1) * keep, torch.tensor(_GRASS, dtype=torch.float64).view(1, 2, 1, 1))
    ab = ab + noise * torch.randn(trials, 2, S, S, generator=g, dtype=torch.float64)
    off = torch.randint(-click_error, click_error + 1, (trials, 2), generator=g)
    truth = ab[:, :, fruit]                                               # (T, 2, P): the fruit's pixels
    mean, var = truth.mean(2), truth.var(2, unbiased=False).sum(1)         # MSE(h) = var + |mean − h|²
    mse0 = (var + (mean - torch.tensor(_NO_HINT, dtype=torch.float64)).square().sum(1)).mean()
    sat = F.pad(ab.cumsum(2).cumsum(3), (1, 0, 1, 0))
    rows, centre = torch.arange(trials), round(c)
    gains = {}
    for s in range(1, diameter + 1):
        top = (centre + off[:, 0] - (s - 1) // 2).clamp(0, S - s)
        left = (centre + off[:, 1] - (s - 1) // 2).clamp(0, S - s)
        y1, x1 = top + s, left + s
        hint = (sat[rows, :, y1, x1] - sat[rows, :, top, x1] - sat[rows, :, y1, left] + sat[rows, :, top, left]) / s ** 2
        mse = (var + (mean - hint).square().sum(1)).mean()
        gains[s] = float(10 * torch.log10(mse0 / mse))
    return gains


def _design_cases(seed: int):
    """(diameter, click_error): a small fruit and a shaky hand, two middling ones, a big fruit, a steady hand."""
    r = rng(seed)
    return [(int(r.integers(10, 13)), 3), (int(r.integers(12, 15)), int(r.integers(1, 3))),
            (int(r.integers(18, 25)), int(r.integers(2, 5))), (int(r.integers(8, 10)), 0)]


def hint_patch_size(fn, seed: int = 0) -> None:
    """``fn(diameter, click_error)`` → int side: judged by the PSNR gain its hint reaches (within 1 dB of the best)."""
    lines = []
    for k, (diameter, click_error) in enumerate(_design_cases(seed)):
        what = f"hint_patch_size(diameter={diameter}, click_error={click_error})"
        side = call_student(fn, diameter, click_error, what=what, hint="diameter and click_error are ints")
        assert isinstance(side, (int, np.integer)) and not isinstance(side, bool), \
            f"{what} returned {side!r} ({type(side).__name__}); the contract asks for an int, the patch side in pixels"
        assert 1 <= side <= diameter, (f"{what} returned {side}: a side must be at least 1 pixel and at most the "
                                       f"fruit's diameter ({diameter})")
        threads = torch.get_num_threads()
        torch.set_num_threads(1)   # small tensors: more threads only wait for each other
        try:
            gains = patch_gains(diameter, click_error, seed=1000 * seed + 17 * k + diameter)
        finally:
            torch.set_num_threads(threads)
        best = max(gains, key=gains.get)
        mine = gains[int(side)]
        lines.append(f"fruit {diameter} px, click within ±{click_error}: side {side} gains {mine:.1f} dB "
                     f"(best side {best}: {gains[best]:.1f} dB)")
        if mine < gains[best] - _TOLERANCE_DB:
            if side < best:
                why = ("too small: a small patch's mean is noisy — one pixel carries its own texture, or the "
                       "highlight; a larger patch averages more of the fruit")
            else:
                why = ("too large: wherever the click lands, the square's corners stick out over the round fruit's "
                       "edge and its mean mixes in the grass; keep the whole square on the fruit, allowing for the "
                       "click error")
            raise AssertionError(f"{what}: side {side} gains {mine:.1f} dB on the fruit, {gains[best] - mine:.1f} dB "
                                 f"less than the best side ({best}: {gains[best]:.1f} dB). Your side is {why}")
    passed("your patch side reaches within 1 dB of the best gain on every fruit:\n  " + "\n  ".join(lines))
