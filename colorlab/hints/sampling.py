"""Synthetic hints for training and evaluating hint models, sampled on the batch's device.

:class:`HintSampler` draws all hints of all images at once, following Zhang et al. 2017 with
Benabla et al.'s variants as options:

* number of hints per image ~ Geometric(p) on {0, 1, 2, …} (p = 1/8; Benabla et al.: 0.10),
  capped at ``max_hints``;
* patch size ~ Uniform{1 … 9};
* location ~ Normal(image centre, image size / 4), clipped so the patch lies in the image;
* colour = the mean true ab of the patch (``colour="mean"``), or Benabla et al.'s Gaussian-weighted
  average around the patch centre (``colour="gaussian"``, σ = 2 pixels);
* with probability ``reveal_p`` (1 %; Benabla et al.: 5 %) the whole image is given as a hint.

:func:`random_hints` gives ``n`` true-colour hints at uniformly random places (the evaluation's).
The hints are painted by :func:`colorlab.hints.encoding.paint_patches`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from colorlab.core.errors import ColorlabError
from colorlab.core.filters import gaussian_kernel
from colorlab.hints.encoding import paint_patches

__all__ = ["HintSampler", "random_hints", "patch_colours", "encode_patch_hints"]


def patch_colours(ab: torch.Tensor, top: torch.Tensor, left: torch.Tensor, size: torch.Tensor,
                  colour: str, sigma: float) -> torch.Tensor:
    """The hint colour ``(B, K, 2)`` of every patch: its mean ab, or a Gaussian-weighted mean at its centre."""
    B, _, H, W = ab.shape
    K = top.shape[1]
    rows = torch.arange(B, device=ab.device).view(B, 1)
    if colour == "gaussian":
        g = gaussian_kernel(sigma, 2 * max(1, int(3 * sigma + 0.5)) + 1, device=ab.device)  # radius: 3σ rounded
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


def encode_patch_hints(ab: torch.Tensor, tops, lefts, sizes) -> torch.Tensor:
    """One image's hint input ``(3, H, W)`` from its true normalised ab ``(2, H, W)`` and its patches.

    ``tops``, ``lefts``, ``sizes``: lists of ints, one per hint. Each patch (clipped to the image) is
    painted with its mean true ab, the mask is 1 on it, later hints on top: the per-image form of what
    :class:`HintSampler` paints (lab 09's exercise; ``HintSampler(encode=...)`` takes a function like it).
    """
    _, H, W = ab.shape
    row = lambda v: torch.as_tensor(list(v), dtype=torch.long, device=ab.device).view(1, -1)  # noqa: E731
    t, l, s = row(tops), row(lefts), row(sizes)
    colours = patch_colours(ab[None].float(), t, l, s, "mean", 0.0)
    return paint_patches(t, l, s, colours, torch.ones_like(t, dtype=torch.bool), H, W)[0]


def _encode_each(encode: Callable, ab: torch.Tensor, top, left, size, n) -> torch.Tensor:
    """``encode(ab[i], tops, lefts, sizes) → (3, H, W)`` image by image (on the CPU), stacked on ab's device."""
    out = []
    for i in range(ab.shape[0]):
        k = int(n[i])
        one = encode(ab[i].cpu(), top[i, :k].tolist(), left[i, :k].tolist(), size[i, :k].tolist())
        out.append(torch.as_tensor(np.asarray(one) if not isinstance(one, torch.Tensor) else one,
                                   dtype=ab.dtype).to(ab.device))
    return torch.stack(out)


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
        encode: paint the hints with this function instead, image by image:
            ``encode(ab (2, H, W), tops, lefts, sizes) → (3, H, W)`` like :func:`encode_patch_hints`
            (a student's, in lab 09; the same draws, only the painting differs; ``colour="mean"`` only).
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
    encode: Callable | None = None

    def __post_init__(self):
        if not 0 < self.p <= 1:
            raise ColorlabError(f"hint count parameter p must be in (0, 1], got {self.p}")
        if not 1 <= self.min_size <= self.max_size:
            raise ColorlabError(f"need 1 <= min_size <= max_size, got {self.min_size}, {self.max_size}")
        if self.colour not in ("mean", "gaussian"):
            raise ColorlabError(f"hint colour must be 'mean' or 'gaussian', got {self.colour!r}")
        if not 0 <= self.reveal_p <= 1:
            raise ColorlabError(f"reveal_p must be in [0, 1], got {self.reveal_p}")
        if self.encode is not None and self.colour != "mean":
            raise ColorlabError("encode= paints patch-mean colours: it needs colour='mean'")

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
        # K slots per image: a bound known on the host (no device-to-host sync to read the largest count)
        K = (int(n) if fixed else self.max_hints) if B else 0
        if n is None:
            n = self.sample_counts(B, generator, dev)
        else:
            n = torch.full((B,), int(n), dtype=torch.long, device=dev)
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
        if self.encode is None or self.encode is encode_patch_hints:   # the kit's own: paint all images at once
            colours = patch_colours(ab, top, left, size, self.colour, self.sigma)
            out = paint_patches(top, left, size, colours, valid, H, W, max_size=max_size)
        else:
            out = _encode_each(self.encode, ab, top, left, size, n)
        if self.reveal_p > 0 and fixed is False:
            reveal = torch.rand(B, generator=generator, device=dev) < self.reveal_p
            whole = torch.cat([ab.to(out.dtype), torch.ones_like(out[:, :1])], 1)
            out = torch.where(reveal.view(B, 1, 1, 1), whole, out)  # no host sync to ask whether any image is revealed
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
    colours = patch_colours(ab.float(), top, left, s, "mean", 0.0)
    return paint_patches(top, left, s, colours, torch.ones(B, n, dtype=torch.bool, device=dev), H, W, max_size=size)
