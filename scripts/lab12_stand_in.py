"""Build a stand-in copy of Oxford Flowers 102 for timing lab 12 where the real dataset cannot be downloaded.

The copy has the published layout and size — 8,189 JPEGs of 500 x 667 pixels in ``flowers-102/jpg/``,
``imagelabels.mat`` and ``setid.mat`` with the official split sizes (1,020 / 1,020 / 6,149) — made from
random crops of the photos bundled with the kit's dependencies (:func:`colorlab.data.stand_in.flowers_stand_in`).
Decoding and training cost what they cost on the real photos; the lab's results on it mean nothing, and lab 12
says so (its metadata files do not match the published checksums).

    python scripts/lab12_stand_in.py /tmp/standin          # then:
    COLORLAB_DATA=/tmp/standin colorlab run-notebooks --only 12 --full
"""
from __future__ import annotations

import sys

from colorlab.data.stand_in import flowers_stand_in

if __name__ == "__main__":
    print(flowers_stand_in(sys.argv[1] if len(sys.argv) > 1 else "stand-in"))
