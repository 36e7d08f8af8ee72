"""Figures and widget additions the course labs 03 and 04 use: k-means step by step on 2-D colour points
(colorlab.viz.kmeans) and the profile explorer's objective, agreement and K sweep."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from colorlab.core.errors import ColorlabError
from colorlab.profiles.kmeans import lloyd_kmeans


def _blobs(seed=0, n=40):
    rng = np.random.default_rng(seed)
    centres = np.array([[-30.0, -20.0], [25.0, 30.0], [30.0, -25.0]])
    return np.concatenate([c + rng.normal(0, 4, (n, 2)) for c in centres]).astype(np.float32)


def _family_images(per_family=4, size=16, seed=0):
    """Photos of two flat blocks from one of four colour families (reds, greens, blues, grays); labels = family."""
    families = [((200, 40, 40), (150, 20, 60)), ((40, 170, 60), (90, 200, 30)),
                ((40, 60, 200), (20, 120, 220)), ((128, 128, 128), (60, 60, 60))]
    rng = np.random.default_rng(seed)
    imgs, labels = [], []
    for f, (c1, c2) in enumerate(families):
        for _ in range(per_family):
            img = np.empty((size, size, 3))
            cut = rng.integers(size // 4, 3 * size // 4)
            img[:, :cut], img[:, cut:] = c1, c2
            imgs.append(np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8))
            labels.append(f)
    return np.stack(imgs), np.array(labels)


def test_kmeans_trace_is_lloyd_step_by_step():
    from colorlab.viz.kmeans import kmeans_trace

    pts = _blobs()
    init = pts[[0, 1, 2]]  # three points of one blob: a bad start
    trace = kmeans_trace(pts, init, iters=6)
    assert len(trace) == 7
    J = [s["inertia"] for s in trace]
    assert all(b <= a + 1e-3 for a, b in zip(J, J[1:])) and J[-1] < 0.2 * J[0]  # the objective never rises
    for s, nxt in zip(trace, trace[1:]):  # the update: every centre moves to the mean of its points
        for j in range(3):
            if (s["labels"] == j).any():
                np.testing.assert_allclose(nxt["centres"][j], pts[s["labels"] == j].mean(0), atol=1e-4)
    ref = lloyd_kmeans(torch.from_numpy(pts)[None], torch.from_numpy(init)[None], iters=6)
    np.testing.assert_allclose(trace[-1]["centres"], ref.centers[0].numpy(), atol=1e-5)
    np.testing.assert_array_equal(trace[-1]["labels"], ref.labels[0].numpy())


def test_plot_kmeans_steps_draws_panels_and_the_objective():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from colorlab.viz.kmeans import plot_kmeans_steps

    pts = _blobs()
    fig = plot_kmeans_steps(pts, pts[[0, 1, 2]], steps=(0, 1, 3))
    assert len(fig.axes) == 4 and len(fig.trace) >= 5
    assert len(fig.axes[-1].lines[0].get_ydata()) == len(fig.trace)
    assert "J =" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="2-D"):
        plot_kmeans_steps(np.zeros((5, 3)), np.zeros((2, 3)))


def test_profile_explorer_scores_k_against_the_truth():
    from colorlab.widgets import ProfileExplorer

    imgs, fam = _family_images(per_family=4)
    ex = ProfileExplorer(imgs, k=4, k_max=5, n_examples=2, device="cpu", truth=fam)
    assert ex.agreement == pytest.approx(1.0)
    assert "adjusted Rand index" in ex.caption() and "K = 4" in ex.caption()
    table = ex.sweep()
    assert list(table.index) == [1, 2, 3, 4, 5] and ex.k == 4
    assert (np.diff(table["objective J"].to_numpy()) <= 1e-6).all()  # more profiles, lower objective
    assert table.loc[4, "adjusted Rand index"] == pytest.approx(1.0) and table.loc[1, "adjusted Rand index"] == 0
    assert ProfileExplorer(imgs, k=2, device="cpu").agreement is None
    with pytest.raises(ColorlabError, match="truth has"):
        ProfileExplorer(imgs, k=2, device="cpu", truth=fam[:3])
