"""Build a stand-in copy of Oxford Flowers 102 for timing lab 12 where the real dataset cannot be downloaded.

The copy has the published layout and size — 8,189 JPEGs of about 500 x 667 pixels in ``flowers-102/jpg/``,
``imagelabels.mat`` and ``setid.mat`` with the official split sizes (1,020 / 1,020 / 6,149) — made from
random crops of the photos bundled with the kit's dependencies (:func:`colorlab.data.sample_photos`). Decoding
and training cost what they cost on the real photos; the lab's results on it mean nothing, and lab 12 says so
(its metadata files do not match the published checksums).

    python scripts/lab12_stand_in.py /tmp/standin          # then:
    COLORLAB_DATA=/tmp/standin colorlab run-notebooks --only 12 --full
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.io import savemat

from colorlab.core.io import load_image
from colorlab.data import sample_photos

N, SPLITS = 8189, (1020, 1020, 6149)


def main(root: str) -> Path:
    base = Path(root) / "flowers-102"
    (base / "jpg").mkdir(parents=True, exist_ok=True)
    sources = [load_image(path) for _, path in sample_photos("all")]
    rng = np.random.default_rng(0)
    for i in range(1, N + 1):
        src = sources[i % len(sources)]
        h, w = src.shape[:2]
        ch, cw = int(h * rng.uniform(0.5, 1.0)), int(w * rng.uniform(0.5, 1.0))
        y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        out = (667, 500) if i % 3 else (500, 667)
        Image.fromarray(src[y:y + ch, x:x + cw]).resize(out, Image.Resampling.BILINEAR).save(
            base / "jpg" / f"image_{i:05d}.jpg", quality=90)
    savemat(base / "imagelabels.mat", {"labels": rng.integers(1, 103, size=(1, N))})
    ids = rng.permutation(np.arange(1, N + 1))
    a, b, _ = SPLITS
    savemat(base / "setid.mat", {"trnid": ids[None, :a], "valid": ids[None, a:a + b], "tstid": ids[None, a + b:]})
    return base


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "stand-in"))
