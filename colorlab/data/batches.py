"""Reading a data set a batch at a time, on any device: the one batch iterator of the kit.

:func:`iter_batches` reads a prepared cache, an image array or tensor, or an iterable of batches
(a DataLoader) and yields ``(B, 3, H, W)`` batches on a device — uint8 RGB as stored, or, with
``exact_lab=True``, the exact float Lab of a cache that carries it (``scenes``). The ab prior, the
colour descriptors, the predictors, the evaluation and the hint evaluation all read through it.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np
import torch

from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.core.logs import progress_bar

__all__ = ["iter_batches", "image_array", "count_images"]


def image_array(data, exact_lab: bool = False):
    """The array or tensor behind ``data``: its exact float Lab ``.lab`` (with ``exact_lab``, when it has
    one), else its ``.images``, else ``data`` itself (None for an iterable of batches)."""
    lab = getattr(data, "lab", None) if exact_lab else None
    arr = lab if lab is not None else getattr(data, "images", data)
    return arr if isinstance(arr, (np.ndarray, torch.Tensor)) else None


def count_images(data, max_images: int | None = None) -> int | None:
    """How many images :func:`iter_batches` yields from ``data`` (None for an iterable of batches)."""
    arr = image_array(data)
    if arr is None:
        return None
    n = 1 if arr.ndim == 3 else len(arr)
    return n if max_images is None else min(n, max_images)


def _check_rgb(batch: torch.Tensor, exact_lab: bool) -> torch.Tensor:
    if exact_lab and batch.dtype != torch.uint8:
        raise ColorlabError(f"expected uint8 RGB images (N, H, W, 3) or (N, 3, H, W), got {batch.dtype} "
                            f"{tuple(batch.shape)}: float batches here mean exact Lab (a cache's .lab)")
    return batch


def _as_batch(b, exact_lab: bool) -> torch.Tensor:
    """One item of an iterable of batches (or of ``(batch, labels)`` pairs) → ``(B, 3, H, W)``."""
    if isinstance(b, (tuple, list)):
        b = b[0]
    b = torch.as_tensor(b)
    if b.dim() == 3:
        b = b[None]
    if b.dim() != 4 or b.shape[1] != 3:
        raise ColorlabError(f"each batch must have shape (B, 3, H, W), got {tuple(b.shape)}")
    return _check_rgb(b, exact_lab)


def iter_batches(data, batch_size: int = 256, device="auto", max_images: int | None = None, exact_lab: bool = False,
                 progress: bool = False, desc: str = "images") -> Iterator[torch.Tensor]:
    """Yield image batches ``(B, 3, H, W)`` on ``device``, in the order of ``data``.

    Args:
        data: a prepared cache (anything with ``.images`` ``(N, H, W, 3)``), an array or tensor
            ``(N, H, W, 3)`` / ``(N, 3, H, W)`` (read a batch at a time, so memmaps never have to fit
            in memory), or an iterable of batches ``(B, 3, H, W)`` (or of ``(batch, labels)`` pairs,
            as a DataLoader gives).
        max_images: stop after the first ``max_images`` images of an array.
        exact_lab: yield the exact float Lab of a cache that has it (``.lab``, the ``scenes`` cache);
            RGB must then be uint8, so that a float batch always means Lab
            (:func:`colorlab.evaluation.evaluate.batch_lab` tells them apart by dtype).
        progress, desc: a tqdm bar.
    Returns:
        uint8 RGB (or float as given), or float Lab with ``exact_lab``; an empty array is an error.
    """

    dev = get_device(device)
    arr = image_array(data, exact_lab)
    if arr is None:
        if not isinstance(data, Iterable):
            raise ColorlabError(f"cannot read images from a {type(data).__name__}: pass a prepared cache, "
                                "an array (N, H, W, 3) or an iterable of (B, 3, H, W) batches")
        for b in progress_bar(data, desc=desc, disable=not progress):
            yield _as_batch(b, exact_lab).to(dev, non_blocking=True)
        return
    is_lab = exact_lab and getattr(data, "lab", None) is not None
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or 3 not in (arr.shape[1], arr.shape[-1]):
        raise ColorlabError(f"images must have shape (N, H, W, 3) or (N, 3, H, W), got {tuple(arr.shape)}")
    channels_last = arr.shape[-1] == 3
    n = arr.shape[0] if max_images is None else min(arr.shape[0], max_images)
    if n == 0:
        raise ColorlabError("the data set is empty: no images to read")
    starts = range(0, n, batch_size)
    for s in progress_bar(starts, desc=desc, disable=not progress, total=len(starts)):
        chunk = arr[s:min(s + batch_size, n)]
        t = chunk if isinstance(chunk, torch.Tensor) else torch.from_numpy(np.array(chunk))  # copy: memmaps are read-only
        t = (t if is_lab else _check_rgb(t, exact_lab)).to(dev, non_blocking=True)
        yield t.permute(0, 3, 1, 2) if channels_last else t
