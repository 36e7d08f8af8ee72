"""Figures of user hints (lab 09): synthetic hints on a few photos, and what the hint sampler draws."""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.color import AB_SCALE, gray_rgb, lab_to_rgb

__all__ = ["plot_sampled_hints", "plot_hint_sampler"]


def _hwc(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def plot_sampled_hints(L: torch.Tensor, ab: torch.Tensor, hints: torch.Tensor, title: str | None = None):
    """Hints on a few photos, one column per photo, rows: gray input / hints / mask / truth.

    Args:
        L: normalised L ``(B, 1, H, W)`` (``L / 50 − 1``, as :func:`colorlab.data.loaders.lab_batch` gives it).
        ab: normalised true ab ``(B, 2, H, W)`` (ab / 110).
        hints: hint channels ``(B, 3, H, W)`` (hint ab / 110 and the 0/1 mask), e.g. from
            :class:`colorlab.hints.encoding.HintSampler`.
    The "hints" row shows each hint pixel in the hint's colour at the pixel's own lightness (what the
    hint asks the model to paint there) on the gray photo; the mask row is black where a hint was given.
    """
    import matplotlib.pyplot as plt

    L_lab = (L.float() + 1) * 50
    gray = gray_rgb(L_lab)
    hinted = lab_to_rgb(torch.cat([L_lab, hints[:, :2].float() * AB_SCALE], 1))
    mask = hints[:, 2:3].float() > 0
    hinted = torch.where(mask, hinted, gray)
    truth = lab_to_rgb(torch.cat([L_lab, ab.float() * AB_SCALE], 1))
    rows = [("gray input", gray), ("hints on it", hinted), ("hint mask", None), ("truth", truth)]
    B = L.shape[0]
    fig, axes = plt.subplots(len(rows), B, figsize=(1.5 * B, 1.55 * len(rows)), squeeze=False)
    for r, (name, images) in enumerate(rows):
        for i in range(B):
            ax = axes[r, i]
            if images is None:
                ax.imshow(mask[i, 0].cpu().numpy(), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            else:
                ax.imshow(_hwc(images[i]), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(name)
    for i in range(B):
        axes[2, i].set_xlabel(f"{int(mask[i].sum())} px", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


@torch.no_grad()
def plot_hint_sampler(sampler, size: int = 32, n: int = 4096, seed: int = 0, max_count: int = 30):
    """What a :class:`colorlab.hints.encoding.HintSampler` draws, over ``n`` images of ``size × size``.

    Left: the number of hints per image against the geometric law ``P(k) = p (1 − p)^k``.
    Right: how often each pixel lies under a hint (the patches gather around the centre).
    """
    import matplotlib.pyplot as plt

    gen = torch.Generator().manual_seed(int(seed))
    counts = sampler.sample_counts(n, generator=gen).numpy()
    hints = sampler(torch.zeros(n, 2, size, size), generator=gen)
    coverage = hints[:, 2].float().mean(0).numpy()
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.2), gridspec_kw={"width_ratios": [1.5, 1]})
    k = np.arange(max_count + 1)
    seen = np.bincount(np.minimum(counts, max_count + 1), minlength=max_count + 2)[:max_count + 1] / n
    left.bar(k, seen, color="0.7", label=f"sampled ({n} images)")
    left.plot(k, sampler.p * (1 - sampler.p) ** k, "o-", ms=3, color="C3", label=f"$p(1-p)^k$, p = {sampler.p:.3g}")
    left.axvline(counts.mean(), color="C0", ls="--", lw=1, label=f"mean {counts.mean():.1f} (theory {(1 - sampler.p) / sampler.p:.1f})")
    left.set_xlabel("hints per image k")
    left.set_ylabel("share of images")
    left.set_title("how many hints")
    left.legend(fontsize=8)
    im = right.imshow(coverage, cmap="magma", interpolation="nearest")
    fig.colorbar(im, ax=right, fraction=0.046, pad=0.04)
    right.set_title(f"share of images with a hint\nat each pixel ({size}×{size})", fontsize=10)
    right.set_xticks([])
    right.set_yticks([])
    fig.tight_layout()
    return fig
