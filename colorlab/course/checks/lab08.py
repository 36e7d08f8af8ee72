"""Checks of lab 08's exercises (classify, then colorize): splitting a dataset by group and the routed
forward pass, against the kit's own :mod:`colorlab.training.routing` and :mod:`colorlab.models.routed`."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from colorlab.course.checks import as_numpy, assert_shape, call_student, passed, rng
from colorlab.models.routed import RoutedColorizer
from colorlab.training.routing import group_subset

__all__ = ["split_by_group", "routed_forward"]


def split_by_group(split_by_group) -> None:
    """``split_by_group(labels (N,), k) → k index arrays`` against the indices of
    :func:`colorlab.training.routing.group_subset`, with an empty group and a longer shuffled example."""
    r = rng(8)
    cases = [(np.array([2, 0, 1, 2, 2, 0]), 3),
             (np.array([0, 3, 3, 0, 1, 3]), 4),                           # group 2 is empty
             (r.integers(0, 5, size=60), 5)]
    for labels, k in cases:
        parts = call_student(split_by_group, labels.copy(), k, hint="labels is an int array (N,); return a list of k arrays.")
        try:
            parts = list(parts)
        except TypeError:
            raise AssertionError(f"return a list of {k} index arrays, got {type(parts).__name__}") from None
        assert len(parts) == k, (f"expected {k} groups, got {len(parts)} (labels {labels.tolist()[:12]}…): "
                                 f"one array per group 0..k-1, also for a group with no photo")
        images = np.zeros((len(labels), 1, 1, 3), np.uint8)
        for g, part in enumerate(parts):
            want = group_subset(images, labels, g).indices
            got = as_numpy(part, f"group {g}'s indices").reshape(-1)
            if got.shape != want.shape or not np.array_equal(got, want):
                shown = labels.tolist() if len(labels) <= 12 else f"{len(labels)} labels"
                raise AssertionError(f"group {g} of {shown}: expected indices {want.tolist()[:10]}, "
                                     f"got {got.astype(int).tolist()[:10]} (the positions i where labels[i] == {g}, "
                                     f"in increasing order)")
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
    """Colorizer ``j``: a = j + 1 everywhere (which colorizer), b = the input L (which image)."""

    def __init__(self, j: int):
        super().__init__()
        self.j = j
        self.calls = 0

    def forward(self, L):
        self.calls += 1
        return torch.cat([torch.full_like(L[:, :1], float(self.j + 1)), L[:, :1]], dim=1)


def routed_forward(routed_forward) -> None:
    """``routed_forward(L (N, 1, H, W), classifier, colorizers) → (N, 2, H, W)`` against
    :class:`colorlab.models.routed.RoutedColorizer`, with fake modules whose outputs say who coloured which image."""
    r = rng(5)
    for groups, k in (([2, 0, 3, 2, 0, 2, 1], 4), ([3, 0, 3, 3, 0], 4), ([1, 0, 1], 3)):
        groups = np.array(groups)
        n = len(groups)
        L = torch.from_numpy(groups[:, None, None, None] + r.uniform(-0.3, 0.3, size=(n, 1, 4, 5))).float()
        classifier = _FakeClassifier(k)
        colorizers = [_FakeColorizer(j) for j in range(k)]
        with torch.no_grad():
            want = RoutedColorizer(colorizers, router=classifier)(L)
            got = call_student(routed_forward, L.clone(), classifier, colorizers, hint="Route with classifier(L).argmax over the groups (dim 1), and give each image's output "
                             "back its place in the batch.")
        if not isinstance(got, torch.Tensor):
            raise AssertionError(f"return a tensor (N, 2, H, W), got {type(got).__name__}")
        assert_shape(got, want.shape, f"the routed batch of {n} images")
        who = as_numpy(got[:, 0]).mean(axis=(1, 2)) - 1                       # which colorizer
        which = as_numpy(got[:, 1])                                          # which image's L
        for i in range(n):
            if not np.allclose(which[i], as_numpy(L[i, 0]), atol=1e-5):
                raise AssertionError(f"position {i} of your batch holds the output of another image: put each "
                                     f"group's outputs back at the positions of its images (the batch order)")
            if not np.isclose(who[i], groups[i], atol=1e-5):
                raise AssertionError(f"image {i} (predicted group {groups[i]}) was coloured by colorizer "
                                     f"{who[i]:.3g}: take the argmax of the classifier's logits over the groups "
                                     f"(dim 1), one per image")
        if not torch.allclose(got.float(), want, atol=1e-5):
            raise AssertionError("your routed batch differs from colorlab.models.routed.RoutedColorizer's")
    passed("the routed forward pass matches colorlab.models.routed.RoutedColorizer (every image to its group's colorizer, "
           "in batch order)")
