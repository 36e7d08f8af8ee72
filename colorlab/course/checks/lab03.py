"""Checks of lab 03's exercises (colour profiles): the assignment step of k-means, the whole loop, and the
choice of K from the objective curve.

The first two are held against :func:`colorlab.profiles.kmeans.lloyd_kmeans`, the kit's plain Lloyd k-means
(the one its fast batched k-means is tested against). The third is a design decision: the student's rule
is judged by the grouping its K gives on point sets whose true grouping is known (adjusted Rand index),
never by equality with the kit's rule.

Every check takes ``seed``: its inputs (sizes, dimensions, values) are drawn from it.
"""
from __future__ import annotations

import numpy as np
import torch

from colorlab.profiles.kmeans import lloyd_kmeans
from colorlab.course.checks import as_numpy, assert_close, call_student, not_the_kit, passed, rng

__all__ = ["assign_to_nearest", "choose_k", "kmeans", "not_the_kit"]


def _shapes(*xs) -> str:
    return ", ".join(f"{type(x).__name__} {str(x.dtype).replace('torch.', '')} {tuple(x.shape)}" for x in xs)


def _labels(got, n: int, k: int, what: str = "your labels") -> np.ndarray:
    if isinstance(got, torch.Tensor):
        assert not got.is_floating_point(), f"{what}: return integer centre indices (int64), not {got.dtype} values"
    a = as_numpy(got, what)
    assert a.shape == (n,), (f"{what} have shape {a.shape}, expected ({n},): one centre index per point "
                             f"(with {k} centres, shape ({k},) means the arg-min ran over the points, not the centres)")
    assert np.all(a == np.round(a)), f"{what} should be whole numbers (centre indices), got e.g. {a[:3]}"
    return a.astype(np.int64)


# --------------------------------------------------------------------------- exercise 1
def assign_to_nearest(fn, seed: int = 1) -> None:
    """``fn(x (N, D) float32, centres (K, D) float32) → (N,) int64``: the index of every point's nearest centre."""
    r = rng(seed)
    n, d, k = int(r.integers(150, 260)), int(r.integers(2, 5)), int(r.integers(5, 8))
    x = torch.tensor(r.normal(size=(n, d)), dtype=torch.float32)
    c = torch.tensor(r.normal(size=(k, d)), dtype=torch.float32)
    got = call_student(fn, x.clone(), c.clone(), what=f"assign_to_nearest({_shapes(x, c)})",
                       hint="x is (N, D) and centres (K, D): compare every point with every centre, (N, K) distances")
    labels = _labels(got, n, k)
    diff = x[:, None, :] - c[None]                                       # (N, K, D)
    d2 = (diff ** 2).sum(-1).numpy()                                     # (N, K)
    variants = {
        "you send every point to its farthest centre (an arg-max): the nearest one is the arg-min":
            d2.argmax(1),
        "your distances sum over the centres' axis, not the coordinates': the labels are coordinate indices "
        f"0 … {d - 1}, not centre indices": (diff ** 2).sum(1).argmin(1).numpy(),
        "you measure city-block (L1) distance, the sum of absolute differences: k-means uses the squared "
        "Euclidean distance (the sum of squared differences)": diff.abs().sum(-1).argmin(1).numpy(),
    }
    ref = lloyd_kmeans(x[None], c[None], iters=0).labels[0].numpy()    # iters=0: the assignment alone
    for why, v in variants.items():
        if np.array_equal(labels, v) and not np.array_equal(v, ref):
            raise AssertionError(why)
    assert labels.min() >= 0 and labels.max() < k, \
        f"your labels should lie in 0 … {k - 1} (one per centre), got {int(labels.min())} … {int(labels.max())}"
    mine, best = d2[np.arange(n), labels], d2[np.arange(n), ref]
    wrong = np.flatnonzero(mine > best + 1e-5)
    assert not len(wrong), (f"{len(wrong)} of {n} points are not given their nearest centre; e.g. point {wrong[0]} "
                            f"goes to centre {labels[wrong[0]]} (squared distance {mine[wrong[0]]:.3f}) but centre "
                            f"{ref[wrong[0]]} is nearer ({best[wrong[0]]:.3f})")
    passed(f"every one of {n} points goes to the nearest of {k} centres")


# --------------------------------------------------------------------------- exercise 2
def _case(seed: int):
    """Four blobs of 2-D colour points (ab-like units) and a bad start: three centres in one blob, one far away."""
    r = rng(seed)
    means = np.array([[-35.0, -20.0], [30.0, 35.0], [25.0, -30.0], [-20.0, 30.0]]) + r.normal(0, 4, (4, 2))
    sizes = r.integers(20, 65, 4)
    x = np.concatenate([m + r.normal(0, 6, (n, 2)) for m, n in zip(means, sizes)])
    x = x[r.permutation(len(x))]
    start = np.concatenate([x[np.argsort(np.linalg.norm(x - means[0], axis=1))[:3]], [[150.0, 150.0]]])
    return torch.tensor(x, dtype=torch.float32), torch.tensor(start, dtype=torch.float32)


_UPDATE_HINT = ("the update averages each cluster's points, x[labels == k] of shape (n_k, D), over its first axis "
                "(the points), giving one (D,) centre")


def kmeans(fn, seed: int = 3) -> None:
    """``fn(x (N, D), centres (K, D)) → (centres (K, D), labels (N,), inertia)``: Lloyd's k-means to convergence."""
    first = _case(seed + 1)[0]
    cases = [("four blobs, three starting centres in one of them and one far from every point", *_case(seed)),
             ("four blobs, started from the first four points", first, first[:4].clone())]
    for name, x, start in cases:
        got = call_student(fn, x.clone(), start.clone(), what=f"kmeans({_shapes(x, start)})", hint=_UPDATE_HINT)
        assert isinstance(got, (tuple, list)) and len(got) == 3, \
            f"return three things, (centres, labels, inertia); got {type(got).__name__}"
        centres, labels, inertia = got
        ref = lloyd_kmeans(x[None], start[None], iters=200)
        c = as_numpy(centres, "your centres")
        assert c.shape == tuple(start.shape), f"your centres have shape {c.shape}, expected {tuple(start.shape)} (K, D)"
        assert np.isfinite(c).all(), (f"{name}: your centres hold NaN or inf — a centre that gets no points has no mean "
                                      "(0 / 0): keep it where it was")
        once = lloyd_kmeans(x[None], start[None], iters=1).centers[0].numpy()
        if np.allclose(c, once, atol=1e-3) and not np.allclose(once, ref.centers[0].numpy(), atol=1e-3):
            raise AssertionError(f"{name}: your centres are where one assignment and one update put them: "
                                 "repeat the two steps until no label changes")
        if not np.allclose(c, ref.centers[0].numpy(), atol=1e-3, rtol=1e-4):
            assert_close(c, ref.centers[0], f"{name}: your final centres (not yet converged, or a different update "
                         "than the mean of each cluster's points)", atol=1e-3, rtol=1e-4)
        lab = _labels(labels, len(x), len(start))
        same = lab == ref.labels[0].numpy()
        assert same.all(), (f"{name}: {int((~same).sum())} of {len(x)} labels differ from the assignment to your final "
                            "centres — return the labels of the points to the *final* centres, not to an earlier set")
        J = as_numpy(inertia, "your inertia")
        assert J.size == 1, f"inertia should be one number (the objective of the whole set), got shape {J.shape}"
        J, ref_J = float(J.reshape(-1)[0]), float(ref.inertia[0])
        d = torch.cdist(x, torch.as_tensor(c, dtype=torch.float32)).min(1).values
        if abs(J - ref_J / len(x)) <= 1e-3 * ref_J / len(x):
            raise AssertionError(f"{name}: your inertia {J:.6g} is the *mean* squared distance; J is the *sum* over "
                                 f"the points ({ref_J:.6g} here)")
        if abs(J - float(d.sum())) <= 1e-3 * float(d.sum()):
            raise AssertionError(f"{name}: your inertia {J:.6g} sums the distances themselves; J sums their *squares* "
                                 f"({ref_J:.6g} here)")
        assert abs(J - ref_J) <= 1e-3 * ref_J, (f"{name}: your inertia {J:.6g}, expected {ref_J:.6g}: the sum over points "
                                                "of the squared distance to their final centre")
    passed("your k-means converges to the same centres, labels and inertia as the kit's Lloyd k-means, "
           "and an empty cluster keeps its centre")


# --------------------------------------------------------------------------- exercise 3 (a design decision)
K_MAX = 8
ARI_MIN = 0.99


def _blobs(r: np.random.Generator, k: int):
    """``k`` Gaussian blobs of unequal size and spread in 3–6 dimensions: points (N, D) and true groups (N,)."""
    d = int(r.integers(3, 7))
    while True:
        means = r.uniform(-12, 12, (k, d))
        gaps = np.linalg.norm(means[:, None] - means[None], axis=-1) + 1e9 * np.eye(k)
        if gaps.min() > 7.5:
            break
    sizes = r.integers(25, 80, k)
    x = np.concatenate([m + r.normal(0, r.uniform(0.6, 1.1), (n, d)) for m, n in zip(means, sizes)])
    return x, np.repeat(np.arange(k), sizes)


def _fit(x: np.ndarray, k: int, r: np.random.Generator, n_init: int = 3) -> tuple[float, np.ndarray]:
    """``(inertia, labels)``: the best of ``n_init`` k-means++ starts of Lloyd's k-means (NumPy, small sets)."""
    best = (np.inf, None)
    sq = (x ** 2).sum(1)
    for _ in range(n_init):
        c = x[[r.integers(len(x))]]
        for _ in range(1, k):                               # k-means++: far points are likelier starts
            d2 = ((x[:, None] - c[None]) ** 2).sum(-1).min(1)
            c = np.vstack([c, x[r.choice(len(x), p=d2 / d2.sum())]])
        for _ in range(100):
            d2 = sq[:, None] - 2 * x @ c.T + (c ** 2).sum(1)
            labels = d2.argmin(1)
            new = np.array([x[labels == j].mean(0) if (labels == j).any() else c[j] for j in range(k)])
            if np.allclose(new, c):
                break
            c = new
        J = float(((x - c[labels]) ** 2).sum())
        if J < best[0]:
            best = (J, labels)
    return best


def adjusted_rand_score(a: np.ndarray, b: np.ndarray) -> float:
    """The adjusted Rand index of two groupings (Hubert & Arabie 1985; scikit-learn's, without its import time)."""
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)
    pairs = lambda v: (v * (v - 1) / 2).sum()
    both, rows, cols, total = pairs(table), pairs(table.sum(1)), pairs(table.sum(0)), len(a) * (len(a) - 1) / 2
    expected = rows * cols / total
    top = (rows + cols) / 2 - expected
    return 1.0 if top == 0 else float((both - expected) / top)


def _curves(seed: int):
    """Point sets with 3 to 6 true groups: ``[(inertias (K_MAX,) for K = 1 … K_MAX, ARI of each K's grouping)]``."""
    r = rng(seed)
    out = []
    for k in r.permutation([3, 4, 5, 6]):
        x, truth = _blobs(r, int(k))
        fits = [_fit(x, j, r) for j in range(1, K_MAX + 1)]
        out.append((np.array([f[0] for f in fits]), np.array([adjusted_rand_score(truth, f[1]) for f in fits])))
    return out


def _as_k(got, where: str) -> int:
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer, float, np.floating)):
        raise AssertionError(f"{where}: return one whole number K, got {type(got).__name__}")
    assert float(got) == int(got), f"{where}: K is a whole number of profiles, got {got}"
    return int(got)


def choose_k(fn, seed: int = 0) -> None:
    """``fn(inertias (K_MAX,) float64) → K``: a K whose k-means grouping matches the true one (ARI ≥ 0.99)
    on four point sets with 3 to 6 groups, from nothing but their objective curves."""
    curves, chosen = _curves(seed), []
    for n, (J, ari) in enumerate(curves, 1):
        got = call_student(fn, J.copy(), what=f"choose_k(an objective curve: np.ndarray float64 {J.shape})",
                           hint="inertias[i] is J for K = i + 1")
        k = _as_k(got, f"curve {n}")
        assert 1 <= k <= K_MAX, f"curve {n}: K = {k} is outside 1 … {K_MAX}, the Ks the curve covers"
        chosen.append(k)
    failing = [n for n, (k, (J, ari)) in enumerate(zip(chosen, curves)) if ari[k - 1] < ARI_MIN]
    if not failing:
        passed(f"your K gives the true grouping on all four curves (you chose {chosen}; ARI ≥ {ARI_MIN})")
        return
    n = failing[0]
    k, (J, ari) = chosen[n], curves[n]
    where = (f"curve {n + 1} of 4: you chose K = {k}, and k-means with {k} centres groups these points with ARI "
             f"{ari[k - 1]:.2f} < {ARI_MIN} against their true groups")
    rules = [
        ([K_MAX] * 4, "You pick the K with the lowest J: J always falls as K grows (it reaches 0 when every point is "
                      "its own centre), so the lowest J is always the largest K"),
        ([int(np.argmax(-np.diff(J))) + 2 for J, _ in curves],
         "You take the K with the biggest drop in J: the first centres always buy the most; ask instead what "
         "*fraction* of the J that is left each new centre removes"),
        ([int(np.argmax(J[:-1] / J[1:])) + 2 for J, _ in curves],
         "You take the K whose centre cut J by the largest fraction: that finds the most striking gap (often two "
         "groups far from the rest), not the last one. The elbow is the *last* K whose centre still removes a large "
         "fraction of J; after it every new centre only splits a group"),
        ([int(np.flatnonzero(a >= ARI_MIN)[0]) for _, a in curves],
         "Every K you return is one less than a K that works: inertias[0] is J at K = 1, so index i holds K = i + 1"),
        ([k] * 4, f"You return K = {k} whatever the curve: read K off the curve you are given"),
    ]
    for pattern, why in rules:
        if chosen == pattern:
            raise AssertionError(f"{where}. {why}")
    if k < int(np.argmax(ari)) + 1:
        raise AssertionError(f"{where}: too few profiles — the next centre still cut J by {1 - J[k] / J[k - 1]:.0%}, "
                             "a sign that two real groups share one centre")
    raise AssertionError(f"{where}: too many profiles — from K = {k - 1} to {k} J fell by only "
                         f"{1 - J[k - 1] / J[k - 2]:.0%}, which splitting one group also gives: the elbow is where the "
                         "falls become that small")
