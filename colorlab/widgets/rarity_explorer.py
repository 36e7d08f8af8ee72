"""Rarity explorer: pick λ and the weighting scheme, see the weight map and what it does to one photo's loss.

The state (scheme, λ, the per-bin weights, the photo's per-pixel weight map and its plain and
rarity-weighted losses) lives in :class:`RarityExplorer`; :meth:`RarityExplorer.set` recomputes
it. The loss compares a prediction of the photo (by default the all-gray one, ab = 0, which is
what a colorizer that has collapsed to the mean would give) with the photo's true ab.

The weight maps are drawn on one fixed log colour scale per scheme (:meth:`RarityExplorer.weight_range`,
the range over every λ the slider can take), so moving the slider visibly changes the map
instead of rescaling the colour bar to each λ's own extremes.
"""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.color import AB_SCALE, LAB
from colorlab.core.errors import ColorlabError
from colorlab.rarity.prior import ABPrior
from colorlab.rarity.weights import SCHEMES, rarity_weights
from colorlab.viz.stats import SLIDER_LAMS, plot_weight_map, weight_range
from colorlab.widgets._common import figure_png

__all__ = ["RarityExplorer"]


def _ab(rgb: np.ndarray) -> torch.Tensor:
    """uint8 RGB ``(H, W, 3)`` → normalised ab ``(2, H, W)``."""
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ColorlabError(f"photos must be uint8 RGB (H, W, 3), got {arr.dtype} {arr.shape}")
    return LAB.split(torch.from_numpy(arr.copy()).permute(2, 0, 1))[1]


class RarityExplorer:
    """λ and scheme → rarity weights, the weight map of one photo and the loss it gives.

    Args:
        prior: the dataset's :class:`~colorlab.rarity.prior.ABPrior`.
        photo: uint8 RGB ``(H, W, 3)``.
        prediction: a colorization of ``photo`` (uint8 RGB, same size); default: gray (ab = 0).
        scheme, lam: the starting weighting (see :func:`colorlab.rarity.weights.rarity_weights`).

    After :meth:`set`: ``weights (Q,)``, ``pixel_weights (H, W)``, ``loss`` =
    ``{"mse", "weighted_mse", "ratio"}`` on normalised ab.
    """

    def __init__(self, prior: ABPrior, photo: np.ndarray, prediction: np.ndarray | None = None,
                 scheme: str = "zhang", lam: float | None = None):
        self.prior, self.photo = prior, np.asarray(photo)
        self._true = _ab(self.photo)
        self._pred = torch.zeros_like(self._true) if prediction is None else _ab(prediction)
        if self._pred.shape != self._true.shape:
            raise ColorlabError(f"prediction {tuple(self._pred.shape[1:])} and photo {tuple(self._true.shape[1:])} "
                                "must have the same size")
        self._bins = prior.bin_index((self._true * AB_SCALE).to(prior.centers.device)).cpu()
        self._err = (self._pred - self._true).square().mean(0)   # (H, W)
        self._view = None
        self._ranges: dict[str, tuple[float, float]] = {}
        self.set(scheme, lam)

    def set(self, scheme: str | None = None, lam: float | None = None) -> dict:
        """Change the scheme and/or λ (None keeps the scheme; λ None = the scheme's default); returns ``loss``."""
        scheme = scheme or getattr(self, "scheme", "zhang")
        if scheme not in SCHEMES:
            raise ColorlabError(f"unknown rarity scheme {scheme!r}: use one of {', '.join(SCHEMES)}")
        self.scheme = scheme
        self.lam = SCHEMES[scheme] if lam is None else float(lam)
        self.weights = rarity_weights(self.prior, scheme, self.lam).cpu()
        self.pixel_weights = self.weights[self._bins]
        mse = float(self._err.mean())
        weighted = float((self.pixel_weights * self._err).mean())
        self.loss = {"mse": mse, "weighted_mse": weighted, "ratio": weighted / mse if mse > 0 else float("nan")}
        self._refresh()
        return self.loss

    def weight_range(self, scheme: str | None = None) -> tuple[float, float]:
        """The fixed colour range ``(vmin, vmax)`` of ``scheme``'s maps: it holds the weights of every
        slider position λ = 0.05 … 1 (λ = 0's weights of never-seen colours run off its top)."""
        scheme = scheme or self.scheme
        if scheme not in self._ranges:
            self._ranges[scheme] = weight_range(self.prior, scheme, SLIDER_LAMS)
        return self._ranges[scheme]

    def figure(self):
        """Weight map on the ab plane | the photo | its per-pixel weights, both maps on the
        scheme's fixed log colour scale (:meth:`weight_range`)."""
        import matplotlib.pyplot as plt
        from matplotlib.colors import LogNorm

        vmin, vmax = self.weight_range()
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
        plot_weight_map(self.prior, self.scheme, self.lam, ax=axes[0], vmin=vmin, vmax=vmax)
        axes[1].imshow(self.photo)
        axes[1].set_title("photo", fontsize=9)
        pw = self.pixel_weights.numpy()
        im = axes[2].imshow(pw, cmap="magma", norm=LogNorm(vmin=vmin, vmax=vmax))
        fig.colorbar(im, ax=axes[2], fraction=0.046, pad=0.04)
        axes[2].set_title(f"pixel weights · loss ×{self.loss['ratio']:.2f} vs. plain MSE", fontsize=9)
        for ax in axes[1:]:
            ax.axis("off")
        fig.tight_layout()
        return fig

    def _summary(self) -> str:
        l = self.loss
        lam = "" if self.scheme == "sqrt" else f", λ = {self.lam:.2f}"
        return (f"{self.scheme}{lam}: MSE {l['mse']:.4f} · rarity-weighted MSE {l['weighted_mse']:.4f} "
                f"(×{l['ratio']:.2f})")

    @property
    def widget(self):
        """Scheme dropdown, λ slider, the figure and the two losses."""
        if self._view is None:
            import ipywidgets as W

            scheme = W.Dropdown(options=list(SCHEMES), value=self.scheme, description="scheme")
            lam = W.FloatSlider(value=self.lam if self.lam is not None else 0.5, min=SLIDER_LAMS[0],
                                max=SLIDER_LAMS[-1], step=SLIDER_LAMS[1] - SLIDER_LAMS[0],
                                description="λ", continuous_update=False)
            scheme.observe(lambda ch: self.set(ch["new"], None if ch["new"] == "sqrt" else lam.value), names="value")
            lam.observe(lambda ch: self.set(self.scheme, ch["new"]), names="value")
            self._view = dict(scheme=scheme, lam=lam, image=W.Image(format="png"), label=W.Label())
            self._view["box"] = W.VBox([W.HBox([scheme, lam]), self._view["image"], self._view["label"]])
            self._refresh()
        return self._view["box"]

    def _refresh(self) -> None:
        if self._view is not None:
            self._view["image"].value = figure_png(self.figure())
            self._view["label"].value = self._summary()

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
