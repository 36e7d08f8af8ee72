"""Profile explorer: choose K and see each colour profile's palette and member photos (seed 000).

The per-image descriptors are computed once; changing K only re-runs the (cheap) profile
K-means over them (:func:`colorlab.profiles.build_profiles` with ``descriptors=``).
"""
from __future__ import annotations

import numpy as np

from ..errors import ColorlabError
from ..profiles import build_profiles, describe_images
from ._common import figure_png

__all__ = ["ProfileExplorer"]


class ProfileExplorer:
    """K → the K colour profiles of a set of photos.

    Args:
        data: a prepared cache or uint8 array ``(N, H, W, 3)``.
        k: the first number of profiles; ``k_max`` bounds the slider.
        n_examples: member photos shown per profile.

    State: ``k``, ``profiles`` (:class:`~colorlab.profiles.ColorProfiles`), :meth:`members`,
    ``palettes`` (``(K, 5, 3)`` Lab swatches).
    """

    def __init__(self, data, k: int = 4, k_max: int = 8, n_examples: int = 6, seed: int = 0, device="auto"):
        self.images = np.asarray(getattr(data, "images", data))
        if self.images.ndim != 4 or self.images.shape[-1] != 3:
            raise ColorlabError(f"profile explorer needs photos (N, H, W, 3), got shape {self.images.shape}")
        self.k_max = max(2, min(int(k_max), len(self.images)))
        self.n_examples, self.seed = int(n_examples), int(seed)
        self.descriptors = describe_images(self.images, seed=seed, device=device, progress=False)
        self._view = None
        self.set_k(k)

    def set_k(self, k: int) -> None:
        """Re-cluster into ``k`` profiles (1 ≤ k ≤ number of photos)."""
        k = int(k)
        if not 1 <= k <= len(self.images):
            raise ColorlabError(f"K must be between 1 and the number of photos ({len(self.images)}), got {k}")
        self.k = k
        self.profiles = build_profiles(self.images, k=k, descriptors=self.descriptors, n_examples=self.n_examples,
                                       seed=self.seed, n_init=4, progress=False)
        self._refresh()

    @property
    def palettes(self) -> np.ndarray:
        return self.profiles.groups.palettes

    def members(self, profile: int) -> np.ndarray:
        """Indices of the photos in ``profile``."""
        return np.flatnonzero(self.profiles.groups.labels == profile)

    def figures(self):
        """``(palettes figure, member photos figure)``."""
        from ..viz.profiles import plot_group_examples, plot_palettes

        g = self.profiles.groups
        return plot_palettes(g), plot_group_examples(g, self.images, n=self.n_examples)

    @property
    def widget(self):
        """A K slider above the palettes and the member photos of each profile."""
        if self._view is None:
            import ipywidgets as W

            slider = W.IntSlider(value=self.k, min=1, max=self.k_max, description="K", continuous_update=False)
            slider.observe(lambda ch: self.set_k(ch["new"]), names="value")
            self._view = dict(slider=slider, palettes=W.Image(format="png"), members=W.Image(format="png"))
            self._view["box"] = W.VBox([slider, W.HBox([self._view["palettes"], self._view["members"]])])
            self._refresh()
        return self._view["box"]

    def _refresh(self) -> None:
        if self._view is not None:
            pal, mem = self.figures()
            self._view["palettes"].value = figure_png(pal)
            self._view["members"].value = figure_png(mem)

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
