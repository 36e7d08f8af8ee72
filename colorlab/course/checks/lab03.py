"""Checks of lab 03's exercises (colour profiles): the assignment step of k-means and the whole loop.

Both are held against :func:`colorlab.profiles.kmeans.lloyd_kmeans`, the kit's plain Lloyd k-means (the one
its fast batched k-means is tested against).
"""
from __future__ import annotations

import numpy as np
import torch

from colorlab.profiles.kmeans import lloyd_kmeans
from colorlab.course.checks import as_numpy, assert_close, call_student, passed, rng

__all__ = ["assign_to_nearest", "kmeans"]

_SHAPE_HINT = "points are (N, D), centres (K, D); broadcasting x[:, None, :] - centres[None, :, :] gives (N, K, D)"


def _labels(got, n: int, k: int, what: str = "your labels") -> np.ndarray:
    a = as_numpy(got, what)
    assert a.shape == (n,), (f"{what} have shape {a.shape}, expected ({n},): one centre index per point "
                             "(did you take the arg-min over the wrong axis?)")
    assert np.all(a == np.round(a)), f"{what} should be whole numbers (centre indices), got e.g. {a[:3]}"
    assert a.min() >= 0 and a.max() < k, f"{what} should lie in 0 … {k - 1}, got {int(a.min())} … {int(a.max())}"
    return a.astype(np.int64)


def assign_to_nearest(fn) -> None:
    """``fn(x (N, D), centres (K, D)) → (N,)``: the index of every point's nearest centre."""
    g = torch.Generator().manual_seed(1)
    x, c = torch.randn(200, 3, generator=g), torch.randn(5, 3, generator=g)
    got = call_student(fn, x.clone(), c.clone(), what="assign_to_nearest(x, centres)", hint=_SHAPE_HINT)
    if isinstance(got, torch.Tensor):
        assert not got.is_floating_point(), f"return integer indices (argmin), not {got.dtype} values"
    labels = _labels(got, 200, 5)
    ref = lloyd_kmeans(x[None], c[None], iters=0).labels[0].numpy()   # iters=0: the assignment alone
    d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1).numpy()            # (N, K) squared distances
    mine, best = d2[np.arange(200), labels], d2[np.arange(200), ref]
    wrong = np.flatnonzero(mine > best + 1e-5)
    assert not len(wrong), (f"{len(wrong)} of 200 points are not given their nearest centre; e.g. point {wrong[0]} "
                            f"goes to centre {labels[wrong[0]]} (squared distance {mine[wrong[0]]:.3f}) but centre "
                            f"{ref[wrong[0]]} is nearer ({best[wrong[0]]:.3f}). Squared Euclidean distance, arg-min over centres")
    passed("every point goes to its nearest centre")


def _case(seed: int):
    """Four blobs of 2-D colour points (ab-like units) and a bad start: three centres in one blob, one far away."""
    r = rng(seed)
    means = np.array([[-35.0, -20.0], [30.0, 35.0], [25.0, -30.0], [-20.0, 30.0]])
    sizes = [60, 35, 50, 25]
    x = np.concatenate([m + r.normal(0, 6, (n, 2)) for m, n in zip(means, sizes)])
    x = x[r.permutation(len(x))]
    start = np.concatenate([x[np.argsort(np.linalg.norm(x - means[0], axis=1))[:3]], [[150.0, 150.0]]])
    return torch.tensor(x, dtype=torch.float32), torch.tensor(start, dtype=torch.float32)


def kmeans(fn) -> None:
    """``fn(x (N, D), centres (K, D)) → (centres (K, D), labels (N,), inertia)``: Lloyd's k-means to convergence."""
    cases = [("four blobs, three starting centres in one of them and one far from every point", *_case(3)),
             ("four blobs, started from the first four points", *(lambda x: (x, x[:4].clone()))(_case(4)[0]))]
    for name, x, start in cases:
        got = call_student(fn, x.clone(), start.clone(), what="kmeans(x, centres)", hint=_SHAPE_HINT)
        assert isinstance(got, (tuple, list)) and len(got) == 3, \
            f"return three things, (centres, labels, inertia); got {type(got).__name__}"
        centres, labels, inertia = got
        ref = lloyd_kmeans(x[None], start[None], iters=200)
        c = as_numpy(centres, "your centres")
        assert c.shape == tuple(start.shape), f"your centres have shape {c.shape}, expected {tuple(start.shape)} (K, D)"
        assert np.isfinite(c).all(), (f"{name}: your centres hold NaN or inf — a centre that gets no points has no mean: "
                                      "keep it where it was")
        assert_close(c, ref.centers[0], f"{name}: the array of your final centres", atol=1e-3, rtol=1e-4)
        lab = _labels(labels, len(x), len(start))
        same = lab == ref.labels[0].numpy()
        assert same.all(), (f"{name}: {int((~same).sum())} of {len(x)} labels differ from the final assignment — "
                            "return the labels of the points to the *final* centres")
        J = as_numpy(inertia, "your inertia")
        assert J.size == 1, f"inertia should be one number (the objective of the whole set), got shape {J.shape}"
        J = float(J.reshape(-1)[0])
        ref_J = float(ref.inertia[0])
        assert abs(J - ref_J) <= 1e-3 * ref_J, (f"{name}: your inertia {J:.6g}, expected {ref_J:.6g}: the *sum* over points "
                                                "of the *squared* distance to their centre")
    passed("your k-means converges to the same centres, labels and inertia as the kit's Lloyd k-means, "
           "and an empty cluster keeps its centre")
