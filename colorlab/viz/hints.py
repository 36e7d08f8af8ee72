"""Figures of user hints (lab 09): synthetic hints on a few photos, what the hint sampler draws,
PSNR against the number of hints, and the ambiguous objects coloured with more and more hints."""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.color import LAB
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.data.loaders import lab_batch
from colorlab.data.scenes import MULTIMODAL
from colorlab.hints.sampling import HintSampler
from colorlab.models.heads import predict_ab
from colorlab.viz.palettes import CATEGORICAL, prop_cycle
from colorlab.viz.scenes import compare_figure, object_crops

__all__ = ["plot_sampled_hints", "plot_hint_sampler", "plot_hints_vs_psnr", "hint_gallery"]


def _hwc(x: torch.Tensor) -> np.ndarray:
    return x.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def plot_sampled_hints(L: torch.Tensor, ab: torch.Tensor, hints: torch.Tensor, title: str | None = None):
    """Hints on a few photos, one column per photo, rows: gray input / hints / mask / truth.

    Args:
        L: normalised L ``(B, 1, H, W)`` (``L / 50 − 1``, as :func:`colorlab.data.loaders.lab_batch` gives it).
        ab: normalised true ab ``(B, 2, H, W)`` (ab / 110).
        hints: hint channels ``(B, 3, H, W)`` (hint ab / 110 and the 0/1 mask), e.g. from
            :class:`colorlab.hints.sampling.HintSampler`.
    The "hints" row shows each hint pixel in the hint's colour at the pixel's own lightness (what the
    hint asks the model to paint there) on the gray photo; the mask row is black where a hint was given.
    """
    import matplotlib.pyplot as plt

    gray = LAB.join(L, torch.zeros_like(ab))
    mask = hints[:, 2:3].float() > 0
    hinted = torch.where(mask, LAB.join(L, hints[:, :2]), gray)
    truth = LAB.join(L, ab)
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
    """What a :class:`colorlab.hints.sampling.HintSampler` draws, over ``n`` images of ``size × size``.

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
    left.plot(k, sampler.p * (1 - sampler.p) ** k, "o-", ms=3, color=CATEGORICAL[1], label=f"$p(1-p)^k$, p = {sampler.p:.3g}")
    left.axvline(counts.mean(), color=CATEGORICAL[0], ls="--", lw=1, label=f"mean {counts.mean():.1f} (theory {(1 - sampler.p) / sampler.p:.1f})")
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


def plot_hints_vs_psnr(table, ax=None, label: str | None = None):
    """PSNR against the number of hints (log-ish x axis: 0 is drawn at the left edge)."""
    import matplotlib.pyplot as plt

    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5, 3.5))
    if len(ax.lines) == 0:  # the first series on these axes: the kit's CVD-safe colours and markers from here on
        ax.set_prop_cycle(prop_cycle())
    x = np.asarray(table["hints"], dtype=float)
    ax.errorbar(np.maximum(x, 0.5), table["psnr"], yerr=table["psnr_std"] / np.sqrt(table["n"]),
                capsize=3, label=label)
    ax.set_xscale("log")
    ax.set_xticks(np.maximum(x, 0.5))
    ax.set_xticklabels([str(int(v)) for v in x])
    ax.set_xlabel("number of random true-colour hints")
    ax.set_ylabel("PSNR (dB)")
    ax.set_title("Colorization quality against user hints")
    ax.grid(alpha=0.3)
    if label:
        ax.legend()
    return fig


@torch.no_grad()
def hint_gallery(model, data, counts=(0, 10), classes=None, n: int = 8, sampler: HintSampler | None = None,
                 seed: int = 0, device="cpu", title: str | None = None):
    """The ambiguous objects up close with more and more hints: rows gray / one per hint count / truth.

    Windows around ``classes`` (default: the ``scenes`` multimodal class, the fruit) of a prepared
    ``scenes`` cache, as :func:`colorlab.viz.scenes.object_gallery`; the model sees the whole
    scene with hints drawn by ``sampler`` (default :class:`HintSampler`; ``sampler(ab, n=count)``),
    the same hints at every count for a given ``seed`` up to the count's own extra hints.
    """
    classes = MULTIMODAL if classes is None else classes
    sampler = sampler or HintSampler()
    idx, corners = object_crops(data, classes, n=n)
    if len(idx) == 0:
        raise ColorlabError(f"no objects of classes {tuple(classes)} in this data")
    dev = get_device(device) if isinstance(device, str) else device
    L, ab = lab_batch(data, idx, dev)
    half = max(8, L.shape[-1] // 4)

    def crop(x):
        return torch.stack([x[k, :, y:y + 2 * half, xx:xx + 2 * half] for k, (y, xx) in enumerate(corners)])
    model = model.to(dev).eval()
    preds = {}
    for c in counts:
        hints = sampler(ab.float(), generator=torch.Generator(device=dev).manual_seed(int(seed)), n=int(c))
        preds[f"{c} hint{'s' if c != 1 else ''}"] = crop(predict_ab(model, torch.cat([L, hints.to(L.dtype)], 1)).float())
    return compare_figure(crop(L), preds, crop(ab), title=title)
