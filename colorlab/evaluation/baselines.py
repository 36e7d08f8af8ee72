"""Lab 01's measurements of the colour space itself: how exact the Lab round trip is, and the gray guess.

Both take the piece they measure as an argument, so that lab 01 can run them on the student's own
conversion and batch split (``colorlab.course.student.use_student``); by default the kit's.

Shapes: photos are uint8 ``(N, H, W, 3)`` as a prepared cache stores them (a tensor or an array).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from colorlab.core.color import denormalize_ab, denormalize_l, lab_to_rgb, rgb_to_lab, split_lab
from colorlab.evaluation.metrics import psnr

__all__ = ["GrayGuess", "gray_guess", "lab_roundtrip", "split_images"]


def _images(images) -> torch.Tensor:
    x = images if isinstance(images, torch.Tensor) else torch.from_numpy(np.array(images))
    if x.dtype != torch.uint8 or x.dim() != 4 or x.shape[-1] != 3:
        raise ValueError(f"photos must be uint8 (N, H, W, 3), got {x.dtype} {tuple(x.shape)}")
    return x


def split_images(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 photos ``(N, H, W, 3)`` → the network's input ``L/50 − 1`` ``(N, 1, H, W)`` and target ``ab/110``
    ``(N, 2, H, W)``, float32: what lab 01's ``my_split_batch`` writes."""
    return split_lab(_images(images).permute(0, 3, 1, 2))


def lab_roundtrip(images, to_lab=rgb_to_lab) -> dict:
    """RGB → Lab with ``to_lab`` (``(N, 3, H, W)`` in [0, 1] → Lab), back with the kit's :func:`lab_to_rgb`.

    Returns ``max_error``, the largest RGB difference after the round trip (of 1), and ``max_lab_difference``,
    the largest difference between ``to_lab`` and the kit's conversion (Lab units).
    """
    rgb = _images(images).permute(0, 3, 1, 2).float() / 255.0
    lab = torch.as_tensor(to_lab(rgb.clone())).float()
    return {"max_error": float((lab_to_rgb(lab) - rgb).abs().max()),
            "max_lab_difference": float((lab - rgb_to_lab(rgb)).abs().max())}


@dataclass
class GrayGuess:
    """The gray guess of a set of photos: ``rgb`` ``(N, 3, H, W)`` (keep L, ab = 0), its mean ``psnr`` (dB)
    against the photos, and ``ab_std``, the spread of the target ab over all pixels (Lab units)."""

    rgb: torch.Tensor
    psnr: float
    ab_std: float


def gray_guess(images, split=split_images) -> GrayGuess:
    """The colorizer that has learnt nothing: L from ``split``'s network input, ab = 0.

    ``split``: uint8 ``(N, H, W, 3)`` → ``(L/50 − 1, ab/110)`` like :func:`split_images` (lab 01 passes the
    student's ``my_split_batch``); the guess is built from its L, the ab spread read from its target.
    """
    x = _images(images)
    L_in, ab_target = split(x.clone())
    L = denormalize_l(torch.as_tensor(L_in).float())
    gray = lab_to_rgb(torch.cat([L, torch.zeros_like(L).expand(-1, 2, -1, -1)], 1))
    truth = x.permute(0, 3, 1, 2).float() / 255.0
    ab = denormalize_ab(torch.as_tensor(ab_target).float())
    return GrayGuess(rgb=gray, psnr=float(psnr(gray, truth).mean()), ab_std=float(ab.std()))
