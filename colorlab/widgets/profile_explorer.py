"""Profile explorer: choose K and see each colour profile's palette and member photos (Robles & Budach).

The per-image descriptors are computed once; changing K only re-runs the (cheap) profile
K-means over them (:func:`colorlab.profiles.groups.build_profiles` with ``descriptors=``). Where the true
grouping is known (``truth=``, e.g. the ``scenes`` profiles) the explorer also scores each K against it.
"""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.errors import ColorlabError
from colorlab.profiles.descriptors import describe_images
from colorlab.profiles.groups import build_profiles
from colorlab.viz.profiles import plot_group_examples, plot_palettes
from colorlab.widgets._common import figure_png

__all__ = ["ProfileExplorer"]


class ProfileExplorer:
    """K → the K colour profiles of a set of photos.

    Args:
        data: a prepared cache or uint8 array ``(N, H, W, 3)``.
        k: the first number of profiles; ``k_max`` bounds the slider.
        n_examples: member photos shown per profile.
        truth: optional true group of each photo ``(N,)``: then :attr:`agreement` scores the profiles.
        hist_bins: side of the ab histogram in the descriptors (:func:`~colorlab.profiles.descriptors.describe_images`).

    State: ``k``, ``profiles`` (:class:`~colorlab.profiles.groups.ColorProfiles`), :meth:`members`,
    ``palettes`` (``(K, 5, 3)`` Lab swatches), :attr:`inertia`, :attr:`agreement`.
    """

    def __init__(self, data, k: int = 4, k_max: int = 8, n_examples: int = 6, seed: int = 0, device="auto",
                 truth=None, hist_bins: int = 8):
        self.images = np.asarray(getattr(data, "images", data))
        if self.images.ndim != 4 or self.images.shape[-1] != 3:
            raise ColorlabError(f"profile explorer needs photos (N, H, W, 3), got shape {self.images.shape}")
        self.truth = None if truth is None else np.asarray(truth).reshape(-1)
        if self.truth is not None and len(self.truth) != len(self.images):
            raise ColorlabError(f"truth has {len(self.truth)} labels for {len(self.images)} photos")
        self.k_max = max(2, min(int(k_max), len(self.images)))
        self.n_examples, self.seed = int(n_examples), int(seed)
        self.descriptors = describe_images(self.images, hist_bins=hist_bins, seed=seed, device=device, progress=False)
        self._view = None
        self.set_k(k)

    def _build(self, k: int):
        return build_profiles(self.images, k=k, descriptors=self.descriptors, n_examples=self.n_examples,
                              seed=self.seed, n_init=4, progress=False)

    def set_k(self, k: int) -> None:
        """Re-cluster into ``k`` profiles (1 ≤ k ≤ number of photos)."""
        k = int(k)
        if not 1 <= k <= len(self.images):
            raise ColorlabError(f"K must be between 1 and the number of photos ({len(self.images)}), got {k}")
        self.k = k
        self.profiles = self._build(k)
        self._refresh()

    @staticmethod
    def _inertia(profiles, descriptors) -> float:
        z = profiles._embed(descriptors)
        return float((z - profiles.centers[torch.from_numpy(profiles.groups.labels)]).square().sum())

    def _agreement(self, labels) -> float | None:
        if self.truth is None:
            return None
        from sklearn.metrics import adjusted_rand_score
        return float(adjusted_rand_score(self.truth, labels))

    @property
    def inertia(self) -> float:
        """The profile K-means objective: sum of squared distances of the photos to their profile's centre."""
        return self._inertia(self.profiles, self.descriptors)

    @property
    def agreement(self) -> float | None:
        """Adjusted Rand index between the profiles and ``truth`` (1: the same grouping, 0: chance); None without truth."""
        return self._agreement(self.profiles.groups.labels)

    def sweep(self, ks=None):
        """A table, one row per K (default 1 … k_max): the objective, the smallest profile's share of the
        photos and, with ``truth``, the adjusted Rand index. The explorer's own K stays as it is."""
        import pandas as pd

        rows = []
        for k in ks if ks is not None else range(1, self.k_max + 1):
            p = self._build(int(k))
            counts = p.groups.counts
            row = {"K": int(k), "objective J": self._inertia(p, self.descriptors),
                   "smallest profile share": float(counts.min() / counts.sum())}
            if self.truth is not None:
                row["adjusted Rand index"] = self._agreement(p.groups.labels)
            rows.append(row)
        return pd.DataFrame(rows).set_index("K")

    def caption(self) -> str:
        """One line about the current K: its objective, profile sizes and (with truth) its agreement."""
        text = f"K = {self.k}: objective J = {self.inertia:.1f}, profile sizes {self.profiles.groups.counts.tolist()}"
        if self.truth is not None:
            text += f", adjusted Rand index vs the truth {self.agreement:.2f}"
        return text

    @property
    def palettes(self) -> np.ndarray:
        return self.profiles.groups.palettes

    def members(self, profile: int) -> np.ndarray:
        """Indices of the photos in ``profile``."""
        return np.flatnonzero(self.profiles.groups.labels == profile)

    def figures(self):
        """``(palettes figure, member photos figure)``."""
        g = self.profiles.groups
        return plot_palettes(g), plot_group_examples(g, self.images, n=self.n_examples)

    @property
    def widget(self):
        """A K slider above the palettes and the member photos of each profile."""
        if self._view is None:
            import ipywidgets as W

            slider = W.IntSlider(value=self.k, min=1, max=self.k_max, description="K", continuous_update=False)
            slider.observe(lambda ch: self.set_k(ch["new"]), names="value")
            self._view = dict(slider=slider, palettes=W.Image(format="png"), members=W.Image(format="png"),
                              caption=W.HTML())
            self._view["box"] = W.VBox([slider, self._view["caption"],
                                        W.HBox([self._view["palettes"], self._view["members"]])])
            self._refresh()
        return self._view["box"]

    def _refresh(self) -> None:
        if self._view is not None:
            pal, mem = self.figures()
            self._view["caption"].value = self.caption()
            self._view["palettes"].value = figure_png(pal)
            self._view["members"].value = figure_png(mem)

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
