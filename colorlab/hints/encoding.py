"""User-guided colour hints (Zhang et al. 2017; Benabla et al.): encoding, synthetic hints, evaluation.

A hint model sees ``L + 2 hint-ab channels + 1 mask channel`` ``(N, 4, H, W)``: the hint ab
(normalised, ab / 110) inside each hint's square patch and 0 elsewhere, and a mask that is
1 where a hint was given. A hint is a square patch ``(top, left, size)`` with one ab colour;
a point is a patch of size 1.

Training hints are sampled on the batch's device, all hints of all images at once
(:class:`HintSampler`, following Zhang et al. 2017 with Benabla et al.'s variants as options):

* number of hints per image ~ Geometric(p) on {0, 1, 2, …} (p = 1/8; Benabla et al.: 0.10),
  capped at ``max_hints``;
* patch size ~ Uniform{1 … 9};
* location ~ Normal(image centre, image size / 4), clipped so the patch lies in the image;
* colour = the mean true ab of the patch (``colour="mean"``), or Benabla et al.'s Gaussian-weighted
  average around the patch centre (``colour="gaussian"``, σ = 2 pixels);
* with probability ``reveal_p`` (1 %; Benabla et al.: 5 %) the whole image is given as a hint.

:class:`HintCallback` plugs the sampler into :func:`colorlab.training.train.train_colorizer` through
its ``extra_cbs`` hook; :func:`train_hint_model` does that for you.
:func:`hints_vs_psnr` measures PSNR against the number of random true-colour hints.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from fastai.callback.core import Callback

from colorlab.core.color import AB_SCALE, join_l_ab, normalize_l, rgb_to_lab
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError

__all__ = [
    "HINT_CHANNELS", "Hint", "paint_patches", "encode_hints", "HintSampler", "HintCallback", "random_hints",
    "train_hint_model", "hints_vs_psnr", "plot_hints_vs_psnr", "hint_gallery", "HINT_COUNTS",
]

#: Extra input channels of a hint model: ab (2) + mask (1).
HINT_CHANNELS = 3

#: The numbers of hints the evaluation reveals (Zhang et al. 2017's curve, cut at 100).
HINT_COUNTS = (0, 1, 2, 5, 10, 20, 50, 100)


# --------------------------------------------------------------------------- encoding
def paint_patches(top: torch.Tensor, left: torch.Tensor, size: torch.Tensor, ab: torch.Tensor,
                  valid: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Paint square hint patches into hint channels, all images at once.

    Args:
        top, left, size: ``(B, K)`` integer patch corners and side lengths (pixels); patches
            are clipped to the image.
        ab: ``(B, K, 2)`` hint colours, normalised ab (ab / 110).
        valid: ``(B, K)`` bool, which of the K slots hold a hint.
        height, width: image size.
    Returns:
        ``(B, 3, H, W)``: hint ab (0 outside hints) and the 0/1 mask. Where patches overlap,
        the later hint (larger k) wins, so the result does not depend on scatter order.
    """
    B, K = top.shape
    dev = ab.device
    out = torch.zeros(B, HINT_CHANNELS, height, width, device=dev, dtype=ab.dtype)
    if K == 0:
        return out
    smax = int(size.max().clamp_min(1)) if size.numel() else 1
    off = torch.arange(smax, device=dev)
    dy, dx = off.view(1, 1, smax, 1), off.view(1, 1, 1, smax)
    s = size.view(B, K, 1, 1)
    y = top.view(B, K, 1, 1) + dy
    x = left.view(B, K, 1, 1) + dx
    inside = (dy < s) & (dx < s) & (y >= 0) & (y < height) & (x >= 0) & (x < width) & valid.view(B, K, 1, 1)
    n_pix = height * width
    flat = torch.where(inside, y * width + x, torch.full_like(y, n_pix)).reshape(B, -1)  # n_pix = dump slot
    k_id = torch.arange(1, K + 1, device=dev).view(1, K, 1, 1).expand_as(flat.view(B, K, smax, smax)).reshape(B, -1)
    owner = torch.zeros(B, n_pix + 1, dtype=torch.long, device=dev)
    owner.scatter_reduce_(1, flat, k_id, reduce="amax")             # 0 = no hint, else 1 + hint index
    owner = owner[:, :n_pix]
    has = owner > 0
    colours = torch.cat([torch.zeros(B, 1, 2, device=dev, dtype=ab.dtype), ab], 1)  # slot 0: no hint
    pix_ab = colours.gather(1, owner[..., None].expand(-1, -1, 2))  # (B, HW, 2)
    out[:, :2] = pix_ab.transpose(1, 2).reshape(B, 2, height, width)
    out[:, 2] = has.view(B, height, width).to(ab.dtype)
    return out


@dataclass
class Hint:
    """One user hint in pixel coordinates of the photo it was given on.

    Attributes:
        x, y: the patch centre (column, row).
        size: side of the square patch in pixels (1 = a point).
        ab: the hint colour in Lab units ``(a, b)``.
    """

    x: int
    y: int
    size: int
    ab: tuple[float, float]

    def contains(self, x: float, y: float) -> bool:
        """Whether pixel ``(x, y)`` lies in this hint's patch (with a one-pixel margin for easy clicking)."""
        r = self.size / 2 + 1
        return abs(x - self.x) <= r and abs(y - self.y) <= r


def encode_hints(hints: list[Hint], height: int, width: int, photo_size: tuple[int, int] | None = None,
                 device="cpu") -> torch.Tensor:
    """User hints → the 3 hint channels ``(3, height, width)`` of the model input.

    Args:
        hints: :class:`Hint` objects in the coordinates of a photo of ``photo_size = (H, W)``
            (default: the target size); they are rescaled to ``height × width``.
    """
    dev = get_device(device) if isinstance(device, str) else device
    ph, pw = photo_size or (height, width)
    sy, sx = height / ph, width / pw
    if not hints:
        return torch.zeros(HINT_CHANNELS, height, width, device=dev)
    size = torch.tensor([[max(1, round(h.size * min(sy, sx))) for h in hints]], device=dev)
    cy = torch.tensor([[h.y * sy for h in hints]], device=dev)
    cx = torch.tensor([[h.x * sx for h in hints]], device=dev)
    top = (cy - (size - 1) / 2).round().long().clamp(0, height - 1)
    left = (cx - (size - 1) / 2).round().long().clamp(0, width - 1)
    ab = torch.tensor([[h.ab for h in hints]], device=dev, dtype=torch.float32) / AB_SCALE
    valid = torch.ones_like(size, dtype=torch.bool)
    return paint_patches(top, left, size, ab, valid, height, width)[0]


# --------------------------------------------------------------------------- synthetic hints
def _gaussian_kernel(sigma: float, device) -> torch.Tensor:
    r = max(1, int(3 * sigma + 0.5))
    t = torch.arange(-r, r + 1, device=device, dtype=torch.float32)
    g = torch.exp(-t ** 2 / (2 * sigma ** 2))
    return g / g.sum()


def _patch_colours(ab: torch.Tensor, top: torch.Tensor, left: torch.Tensor, size: torch.Tensor,
                   colour: str, sigma: float) -> torch.Tensor:
    """The hint colour ``(B, K, 2)`` of every patch: its mean ab, or a Gaussian-weighted mean at its centre."""
    B, _, H, W = ab.shape
    K = top.shape[1]
    rows = torch.arange(B, device=ab.device).view(B, 1)
    if colour == "gaussian":
        g = _gaussian_kernel(sigma, ab.device)
        r = len(g) // 2
        x = ab.reshape(B * 2, 1, H, W)
        x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), g.view(1, 1, 1, -1))
        x = F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), g.view(1, 1, -1, 1)).view(B, 2, H, W)
        cy = (top + (size - 1) // 2).clamp(0, H - 1)
        cx = (left + (size - 1) // 2).clamp(0, W - 1)
        return x[rows, :, cy, cx]                                      # (B, K, 2)
    # mean over the patch from a summed-area table: four look-ups per hint, any patch size
    sat = F.pad(ab.float().cumsum(2).cumsum(3), (1, 0, 1, 0))         # (B, 2, H+1, W+1)
    y0, x0 = top, left
    y1, x1 = (top + size).clamp(max=H), (left + size).clamp(max=W)
    total = sat[rows, :, y1, x1] - sat[rows, :, y0, x1] - sat[rows, :, y1, x0] + sat[rows, :, y0, x0]
    area = ((y1 - y0) * (x1 - x0)).clamp_min(1).unsqueeze(-1)
    return (total / area).to(ab.dtype)


@dataclass
class HintSampler:
    """Synthetic training hints for a batch of true ab images, sampled on their device.

    Args:
        p: parameter of the geometric number of hints (mean ``(1 − p) / p``; 1/8; Benabla et al.: 0.10).
        min_size, max_size: patch side ~ Uniform{min_size … max_size} (1 … 9).
        spread: location std as a fraction of the image side (1/4), around the centre.
        colour: ``"mean"`` (Zhang) or ``"gaussian"`` (Benabla et al., std ``sigma`` pixels around the centre).
        sigma: the Gaussian's std for ``colour="gaussian"`` (2).
        reveal_p: probability of giving the whole image as the hint (0.01; Benabla et al.: 0.05).
        max_hints: cap on the number of hints per image (keeps the batch work bounded).
    Call ``sampler(ab)`` with normalised ab ``(B, 2, H, W)`` → hint channels ``(B, 3, H, W)``.
    """

    p: float = 1 / 8
    min_size: int = 1
    max_size: int = 9
    spread: float = 0.25
    colour: str = "mean"
    sigma: float = 2.0
    reveal_p: float = 0.01
    max_hints: int = 64

    def __post_init__(self):
        if not 0 < self.p <= 1:
            raise ColorlabError(f"hint count parameter p must be in (0, 1], got {self.p}")
        if not 1 <= self.min_size <= self.max_size:
            raise ColorlabError(f"need 1 <= min_size <= max_size, got {self.min_size}, {self.max_size}")
        if self.colour not in ("mean", "gaussian"):
            raise ColorlabError(f"hint colour must be 'mean' or 'gaussian', got {self.colour!r}")
        if not 0 <= self.reveal_p <= 1:
            raise ColorlabError(f"reveal_p must be in [0, 1], got {self.reveal_p}")

    def sample_counts(self, batch: int, generator: torch.Generator | None = None, device="cpu") -> torch.Tensor:
        """Number of hints per image ``(B,)``: Geometric(p) on {0, 1, …}, capped at ``max_hints``."""
        u = torch.rand(batch, generator=generator, device=device).clamp_min(1e-12)
        if self.p >= 1:
            return torch.zeros(batch, dtype=torch.long, device=device)
        n = torch.floor(torch.log(u) / np.log1p(-self.p)).long()     # inverse CDF of the geometric law
        return n.clamp(0, self.max_hints)

    @torch.no_grad()
    def __call__(self, ab: torch.Tensor, generator: torch.Generator | None = None, n: int | None = None) -> torch.Tensor:
        """Hint channels ``(B, 3, H, W)`` for normalised true ab ``(B, 2, H, W)``.

        ``n``: give every image exactly ``n`` hints (sizes, places and colours as in training, no
        whole-image reveal) instead of a geometric number — how the evaluation asks for "10 hints".
        """
        if ab.dim() != 4 or ab.shape[1] != 2:
            raise ColorlabError(f"hints are sampled from normalised ab (B, 2, H, W), got {tuple(ab.shape)}")
        B, _, H, W = ab.shape
        dev = ab.device
        ab = ab.float()
        fixed = n is not None
        if n is None:
            n = self.sample_counts(B, generator, dev)
        else:
            n = torch.full((B,), int(n), dtype=torch.long, device=dev)
        K = int(n.max()) if B else 0
        valid = torch.arange(K, device=dev).view(1, K) < n.view(B, 1)
        max_size = min(self.max_size, H, W)
        min_size = min(self.min_size, max_size)
        size = torch.randint(min_size, max_size + 1, (B, K), generator=generator, device=dev)
        # Zhang: top-left ~ N((H − s + 1)/2, (H − s + 1)·spread), clipped so the patch is inside
        span_y, span_x = (H - size + 1).float(), (W - size + 1).float()
        top = (span_y / 2 + self.spread * span_y * torch.randn(B, K, generator=generator, device=dev))
        left = (span_x / 2 + self.spread * span_x * torch.randn(B, K, generator=generator, device=dev))
        top = torch.minimum(top.round().clamp_min(0), span_y - 1).long()
        left = torch.minimum(left.round().clamp_min(0), span_x - 1).long()
        colours = _patch_colours(ab, top, left, size, self.colour, self.sigma)
        out = paint_patches(top, left, size, colours, valid, H, W)
        if self.reveal_p > 0 and fixed is False:
            reveal = torch.rand(B, generator=generator, device=dev) < self.reveal_p
            if reveal.any():
                out[reveal] = torch.cat([ab[reveal], torch.ones_like(ab[reveal, :1])], 1)
        return out


def random_hints(ab: torch.Tensor, n: int, size: int = 1, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` true-colour hints per image at uniformly random places (the evaluation's hints).

    Args:
        ab: normalised true ab ``(B, 2, H, W)``.
        n: hints per image (patches may overlap).
        size: patch side (1 = single pixels, as in Zhang et al.'s evaluation).
    Returns:
        hint channels ``(B, 3, H, W)``.
    """
    B, _, H, W = ab.shape
    dev = ab.device
    size = max(1, min(int(size), H, W))
    s = torch.full((B, n), size, device=dev, dtype=torch.long)
    top = torch.randint(0, H - size + 1, (B, n), generator=generator, device=dev)
    left = torch.randint(0, W - size + 1, (B, n), generator=generator, device=dev)
    colours = _patch_colours(ab.float(), top, left, s, "mean", 0.0)
    return paint_patches(top, left, s, colours, torch.ones(B, n, dtype=torch.bool, device=dev), H, W)


# --------------------------------------------------------------------------- training
class HintCallback(Callback):
    """fastai callback: turn ``xb`` = normalised L ``(B, 1, H, W)`` into L + hints ``(B, 4, H, W)``.

    Hints are sampled from the batch's own target ``yb`` (normalised ab) by ``sampler``.
    Validation batches get hints from a generator reseeded every epoch, so the validation
    loss of different epochs is measured on the same hints.
    """

    order = 5  # before ChannelsLast (9) and mixed precision (10) see the batch

    def __init__(self, sampler: HintSampler | None = None, valid_seed: int = 0):
        self.sampler = sampler or HintSampler()
        self.valid_seed = valid_seed

    def before_validate(self):
        self._gen = torch.Generator(device=self.dls.device or "cpu").manual_seed(self.valid_seed)

    def before_batch(self):
        (L,), (ab,) = self.xb, self.yb
        gen = None if self.training else getattr(self, "_gen", None)
        hints = self.sampler(ab, generator=gen).to(L.dtype)
        self.learn.xb = (torch.cat([L, hints], 1),)


def train_hint_model(train, valid=None, sampler: HintSampler | None = None, model_kwargs: dict | None = None,
                     **kwargs):
    """Train a hint U-Net (``in_channels=4``) with synthetic hints through :func:`colorlab.training.train.train_colorizer`.

    ``model_kwargs`` go to ``colorlab.models.create("unet", in_channels=4, ...)``; every other
    keyword (``epochs``, ``bs``, ``lr``, ``loss``, ``out_dir``, …) to ``train_colorizer``.
    Returns its :class:`~colorlab.training.train.TrainResult`.
    """
    from colorlab.training.train import train_colorizer

    if kwargs.get("gallery_every"):
        raise ColorlabError("gallery_every is not supported for hint models (the gallery feeds the model L only)")
    mk = dict(model_kwargs or {})
    mk["in_channels"] = 1 + HINT_CHANNELS
    extra = list(kwargs.pop("extra_cbs", None) or []) + [HintCallback(sampler)]
    return train_colorizer(train, valid, model="unet", model_kwargs=mk, extra_cbs=extra, **kwargs)


# --------------------------------------------------------------------------- evaluation
@torch.no_grad()
def hints_vs_psnr(model, data, counts=HINT_COUNTS, size: int = 1, seed: int = 0, batch_size: int = 64,
                  device="auto", progress: bool = True, sampler: HintSampler | None = None,
                  groups: dict | str | None = "auto"):
    """Mean PSNR (RGB, dB) of the hint model's colorizations against the number of true-colour hints.

    Args:
        model: a hint model (``in_channels = 4``).
        data: held-out photos: a prepared cache or uint8 array ``(N, H, W, 3)`` (H, W multiples of
            the model's stride). A cache with exact float Lab (``scenes``) is read as that Lab.
        counts: numbers of hints to reveal per image.
        size: hint patch side in pixels (for the default random point hints).
        seed: the same hint places for every model evaluated with the same seed.
        sampler: draw the hints with this :class:`HintSampler` (``sampler(ab, n=count)``: its patch
            sizes, places and colours) instead of :func:`random_hints` (uniform places, ``size``).
        groups: per-pixel groups as in :func:`colorlab.evaluation.evaluate.evaluate` (``"auto"``: the ``scenes``
            groups when ``data`` has a class map); adds a column ``"psnr [<group>]"`` per group, the
            PSNR pooled over every pixel of the group (e.g. ``"psnr [multimodal]"``: the fruit).
    Returns:
        a pandas DataFrame with columns ``hints``, ``psnr`` (mean over photos), ``psnr_std``, ``n``
        and the group columns.
    """
    import pandas as pd
    from fastprogress.fastprogress import progress_bar

    from colorlab.evaluation.evaluate import _group_masks, batch_lab, iter_batches
    from colorlab.evaluation.metrics import psnr
    from colorlab.models import predict_ab

    if getattr(model, "in_channels", 1 + HINT_CHANNELS) != 1 + HINT_CHANNELS:
        raise ColorlabError(f"hints_vs_psnr needs a hint model (in_channels=4), got in_channels={model.in_channels}")
    dev = get_device(device)
    model = model.to(dev).eval()
    counts = [int(c) for c in counts]
    if isinstance(groups, str):
        if groups != "auto":
            raise ColorlabError(f"groups must be a dict, None or 'auto', got {groups!r}")
        from colorlab.data.scenes import scene_groups
        groups = scene_groups() if getattr(data, "class_map", None) is not None else None
    group_masks = _group_masks(groups, data) if groups else None
    scores: dict[int, list[torch.Tensor]] = {c: [] for c in counts}
    gsq = {(c, g): [0.0, 0] for c in counts for g in (groups or {})}
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    exact = getattr(data, "lab", None) is not None  # scenes: the exact float Lab, no 8-bit round trip
    if exact:
        batches = iter_batches(data, batch_size, dev)
    else:
        from colorlab.rarity.stats import iter_rgb_batches
        batches = iter_rgb_batches(data, batch_size, dev)
    start = 0
    for batch in progress_bar(list(batches), display=progress, leave=False):
        if exact:
            rgb, lab = batch_lab(batch)
        else:
            rgb = batch.float() / 255.0 if batch.dtype == torch.uint8 else batch.float()
            lab = rgb_to_lab(rgb)
        L, ab = lab[:, :1], lab[:, 1:] / AB_SCALE
        gm = group_masks(start, start + len(batch), dev) if group_masks is not None else {}
        start += len(batch)
        for c in counts:
            hints = sampler(ab, generator=gen, n=c) if sampler is not None else random_hints(ab, c, size=size,
                                                                                           generator=gen)
            pred = predict_ab(model, torch.cat([normalize_l(L), hints], 1)).float() * AB_SCALE
            shown = join_l_ab(L, pred).clamp(0, 1)
            scores[c].append(psnr(shown, rgb))
            if gm:
                sq = (shown - rgb).pow(2).mean(1)
                for g, m in gm.items():
                    gsq[c, g][0] += sq[m].double().sum().item()
                    gsq[c, g][1] += int(m.sum())
    rows = []
    for c in counts:
        v = torch.cat(scores[c]).cpu()
        row = {"hints": c, "psnr": float(v.mean()), "psnr_std": float(v.std()) if len(v) > 1 else 0.0, "n": len(v)}
        for g in (groups or {}):
            total, npix = gsq[c, g]
            row[f"psnr [{g}]"] = 10 * np.log10(npix / total) if npix and total > 0 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def plot_hints_vs_psnr(table, ax=None, label: str | None = None):
    """PSNR against the number of hints (log-ish x axis: 0 is drawn at the left edge)."""
    import matplotlib.pyplot as plt

    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5, 3.5))
    x = np.asarray(table["hints"], dtype=float)
    ax.errorbar(np.maximum(x, 0.5), table["psnr"], yerr=table["psnr_std"] / np.sqrt(table["n"]), marker="o",
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
    from colorlab.data.loaders import lab_batch
    from colorlab.models import predict_ab
    from colorlab.viz.scenes import compare_figure, object_crops

    if classes is None:
        from colorlab.data.scenes import MULTIMODAL
        classes = MULTIMODAL
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
