"""A stand-in copy of Oxford Flowers 102 where the real dataset cannot be downloaded.

The copy has the published layout — ``flowers-102/jpg/image_NNNNN.jpg``, ``imagelabels.mat`` and ``setid.mat``
(the official split sizes in proportion) — made from random crops of the photos bundled with the kit's
dependencies (:func:`colorlab.data.sample_photos`). Decoding and training cost what they cost on real photos of
the same size, which is what it is for: timing lab 12 (``scripts/lab12_stand_in.py``, 8,189 photos of 500 × 667)
and letting its quick run work offline (a few hundred small photos). What a model learns from it means nothing,
and :func:`colorlab.evaluation.real_photos.check_copy` says so (its metadata files are not the published ones).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from colorlab.core.io import load_image
from colorlab.data.sample import sample_photos

__all__ = ["flowers_stand_in", "PUBLISHED_SPLITS"]

#: the published Flowers 102 split sizes (train, val, test) and photo count
PUBLISHED_SPLITS, PUBLISHED_N = (1020, 1020, 6149), 8189


def flowers_stand_in(root, n: int = PUBLISHED_N, shape: tuple[int, int] = (667, 500), seed: int = 0) -> Path:
    """Write ``n`` photos (``shape`` = (height, width), every third one turned to landscape) and the two metadata
    files into ``root/flowers-102``; returns that folder. Written again when it holds a different number of photos."""
    base = Path(root) / "flowers-102"
    jpg = base / "jpg"
    if jpg.is_dir() and len(list(jpg.glob("image_*.jpg"))) == n and (base / "setid.mat").is_file():
        return base
    from scipy.io import savemat  # only to write the two .mat files

    jpg.mkdir(parents=True, exist_ok=True)
    sources = [load_image(path) for _, path in sample_photos("all")]
    rng = np.random.default_rng(seed)
    for i in range(1, n + 1):
        src = sources[i % len(sources)]
        h, w = src.shape[:2]
        ch, cw = int(h * rng.uniform(0.5, 1.0)), int(w * rng.uniform(0.5, 1.0))
        y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        out = (shape[1], shape[0]) if i % 3 else (shape[0], shape[1])  # PIL sizes are (width, height)
        Image.fromarray(src[y:y + ch, x:x + cw]).resize(out, Image.Resampling.BILINEAR).save(
            jpg / f"image_{i:05d}.jpg", quality=90)
    savemat(base / "imagelabels.mat", {"labels": rng.integers(1, 103, size=(1, n))})
    ids = rng.permutation(np.arange(1, n + 1))
    a, b = (round(n * s / PUBLISHED_N) for s in PUBLISHED_SPLITS[:2])
    savemat(base / "setid.mat", {"trnid": ids[None, :a], "valid": ids[None, a:a + b], "tstid": ids[None, a + b:]})
    return base
