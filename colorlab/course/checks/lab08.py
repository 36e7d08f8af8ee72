"""Checks of lab 08's exercises (classify, then colorize): splitting a dataset by group and the routed
forward pass, against the kit's own :mod:`colorlab.training.routing` and :mod:`colorlab.models.routed`."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from colorlab.course.checks import as_numpy, assert_shape, call_student, not_the_kit, passed, rng
from colorlab.models.routed import RoutedColorizer
from colorlab.training.routing import group_subset

__all__ = ["split_by_group", "routed_forward", "not_the_kit"]


def _split_cases(seed: int):
    """(labels, k): a small example, one with an empty group, a long shuffled one (drawn from ``seed``)."""
    r = rng(seed)
    k = int(r.integers(3, 6))
    empty = int(r.integers(0, k))
    labels = r.choice([g for g in range(k) if g != empty], size=int(r.integers(6, 10)))
    return [(np.array([2, 0, 1, 2, 2, 0]), 3), (labels.astype(np.int64), k), (r.integers(0, 5, size=60), 5)]


def split_by_group(split_by_group, *, seed: int = 8) -> None:
    """``split_by_group(labels (N,), k) → k index arrays`` against the indices of
    :func:`colorlab.training.routing.group_subset`, with an empty group and a longer shuffled example."""
    for labels, k in _split_cases(seed):
        shown = labels.tolist() if len(labels) <= 12 else f"{len(labels)} labels"
        what = f"split_by_group({shown}, k={k})"
        parts = call_student(split_by_group, labels.copy(), k, what=what,
                             hint="labels is an int array (N,) with values 0..k-1; return a list of k index arrays.")
        try:
            parts = list(parts)
        except TypeError:
            raise AssertionError(f"{what}: return a list of {k} index arrays, got {type(parts).__name__}") from None
        present = len(np.unique(labels))
        if len(parts) == present < k:
            raise AssertionError(f"{what} returned {len(parts)} arrays, one per group that occurs: return all k = {k}, "
                                 f"an empty array for a group with no photo, so that part g is always group g")
        assert len(parts) == k, f"{what} returned {len(parts)} arrays: one per group 0..k-1, k = {k}"
        images = np.zeros((len(labels), 1, 1, 3), np.uint8)
        want = [group_subset(images, labels, g).indices for g in range(k)]
        got = [as_numpy(part, f"group {g}'s indices").reshape(-1) for g, part in enumerate(parts)]
        same = lambda a, b: a.shape == b.shape and np.array_equal(a, b)  # noqa: E731
        if all(same(a, b) for a, b in zip(got, want)):
            continue
        if all(same(got[g], np.flatnonzero(labels == g + 1)) for g in range(k)):
            raise AssertionError(f"{what}: your part 0 holds group 1's photos: the groups are numbered 0..k-1")
        if all(same(np.sort(a), b) for a, b in zip(got, want)):
            raise AssertionError(f"{what}: each part holds the right photos in the wrong order: list each group's "
                                 f"indices in increasing order")
        if all(same(a, labels[labels == g].astype(float)) for g, a in enumerate(got)):
            raise AssertionError(f"{what}: you returned each group's labels (all equal to g); return the positions i of "
                                 f"its photos")
        g = next(g for g in range(k) if not same(got[g], want[g]))
        raise AssertionError(f"{what}: group {g}: expected indices {want[g].tolist()[:10]}, got "
                             f"{got[g].astype(int).tolist()[:10]} (the positions i where labels[i] == {g}, in "
                             f"increasing order)")
    passed("split by group matches colorlab.training.routing.group_subset")


class _FakeClassifier(nn.Module):
    """Logits ``(N, K)`` peaking at the group written in the image: group g ≈ mean L of g."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k

    def forward(self, L):
        m = L.float().mean(dim=(1, 2, 3))
        return -(m[:, None] - torch.arange(self.k, dtype=torch.float32, device=L.device)) ** 2


class _FakeColorizer(nn.Module):
    """Colorizer ``j``: a = j + 1 everywhere (which colorizer), b = the input L (which image); records what it got."""

    def __init__(self, j: int):
        super().__init__()
        self.j = j
        self.received: list[torch.Tensor] = []

    def forward(self, L):
        self.received.append(L.detach().clone())
        return torch.cat([torch.full_like(L[:, :1], float(self.j + 1)), L[:, :1]], dim=1)


def _route_cases(seed: int):
    """(groups, K) batches: one group empty, one of size 1, and a batch as long as K (so an arg-max over the batch
    does not crash but routes wrong)."""
    r = rng(seed)
    cases = []
    for n, k in ((int(r.integers(6, 10)), 4), (int(r.integers(4, 7)), 5), (3, 3)):
        while True:
            g = r.integers(0, k, size=n)
            if len(np.unique(g)) >= 2 and (n == k or len(np.unique(g)) < k):
                break
        cases.append((g, k))
    return cases


def routed_forward(routed_forward, *, seed: int = 5) -> None:
    """``routed_forward(L (N, 1, H, W), classifier, colorizers) → (N, 2, H, W)`` against
    :class:`colorlab.models.routed.RoutedColorizer`, with fake modules whose outputs say who coloured which image;
    each colorizer must run once, on its own images only."""
    r = rng(seed)
    for groups, k in _route_cases(seed):
        n = len(groups)
        h, w = int(r.integers(2, 5)), int(r.integers(5, 7))
        L = torch.from_numpy(groups[:, None, None, None] + r.uniform(-0.3, 0.3, size=(n, 1, h, w))).float()
        classifier = _FakeClassifier(k)
        with torch.no_grad():
            want = RoutedColorizer([_FakeColorizer(j) for j in range(k)], router=classifier)(L)
            colorizers = [_FakeColorizer(j) for j in range(k)]
            what = f"routed_forward(L {tuple(L.shape)}, classifier → logits ({n}, {k}), {k} colorizers)"
            got = call_student(routed_forward, L.clone(), classifier, colorizers, what=what,
                               hint="the classifier gives one row of K scores per image: an image's group is the "
                                    "arg-max of its own row (over the groups, not over the batch).")
        if not isinstance(got, torch.Tensor):
            raise AssertionError(f"{what}: return a tensor (N, 2, H, W), got {type(got).__name__}")
        assert_shape(got, want.shape, f"{what}: the routed batch")
        who = as_numpy(got[:, 0]).mean(axis=(1, 2)) - 1                      # which colorizer
        which = as_numpy(got[:, 1])                                          # which image's L
        for i in range(n):
            if not np.allclose(which[i], as_numpy(L[i, 0]), atol=1e-5):
                raise AssertionError(f"{what}: position {i} of your batch holds the output of another image: the "
                                     f"groups' outputs must go back to the positions of their images (the batch order)")
        if not np.allclose(who, groups, atol=1e-5):
            scores = as_numpy(classifier(L))
            if np.allclose(who, scores.argmin(1)):
                raise AssertionError(f"{what}: every image went to its least likely group: take the arg-max")
            if np.allclose(who, who[0]) and len(np.unique(groups)) > 1:
                raise AssertionError(f"{what}: the whole batch went to colorizer {who[0]:.0f} (the group of image 0); "
                                     f"each image goes to its own group's colorizer")
            if n == k and np.allclose(who, scores.argmax(0)):
                raise AssertionError(f"{what}: you took the arg-max over the batch (axis 0); an image's group is the "
                                     f"arg-max over the K groups of its own row (axis 1)")
            i = int(np.flatnonzero(~np.isclose(who, groups))[0])
            raise AssertionError(f"{what}: image {i} (predicted group {groups[i]}) was coloured by colorizer "
                                 f"{who[i]:.3g}; each image goes to the colorizer of its arg-max group")
        for j, model in enumerate(colorizers):
            runs = [x for x in model.received if x.shape[0] > 0]
            own = int((groups == j).sum())
            if len(runs) > 1:
                raise AssertionError(f"{what}: colorizer {j} ran {len(runs)} times (on {[len(x) for x in runs]} images): "
                                     f"run each colorizer once, on all of its images together")
            if own and not runs:
                raise AssertionError(f"{what}: colorizer {j} never ran, though {own} images are routed to it")
            if runs:
                mine = {round(float(x.mean()), 5) for x in runs[0]}
                theirs = {round(float(L[i].mean()), 5) for i in np.flatnonzero(groups == j)}
                if mine != theirs:
                    extra = len(mine - theirs)
                    raise AssertionError(f"{what}: colorizer {j} ran on {len(runs[0])} images, {extra} of them routed "
                                         f"to other colorizers: give each colorizer only its own images (K times less "
                                         f"work, and a colorizer in training mode would learn its BatchNorm statistics "
                                         f"from other groups' photos)")
        if not torch.allclose(got.float(), want, atol=1e-5):
            raise AssertionError(f"{what}: your routed batch differs from colorlab.models.routed.RoutedColorizer's")
    passed("the routed forward pass matches colorlab.models.routed.RoutedColorizer: every image to its group's "
           "colorizer, in batch order, each colorizer once on its own images")
