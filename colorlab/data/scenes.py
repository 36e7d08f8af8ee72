"""``scenes``: a controlled, procedurally drawn dataset where every colorization effect is measurable.

Real photos mix every difficulty at once, and the photos the kit can ship offline are too few
to learn from. ``scenes`` is the kit's *controlled experiment*: seeded, deterministic, photo-like
landscapes drawn directly in CIE Lab, with every pixel's latent labels kept beside it.

What each scene holds (see ``datasets/scenes/README.md`` for a figure):

=========  ===========================================================  ====================
class      what L shows (shape, texture)                                colour (ab)
=========  ===========================================================  ====================
sky        smooth vertical gradient                                     set by the profile
grass      fine vertical streaks                                        green
water      horizontal ripples                                           blue-teal
bark       a trunk with vertical grooves                                brown
fruit      shaded discs with a highlight                                red **or** teal, 50/50,
                                                                        same L: *ambiguous*
car        a box with windows and wheels                                gray 80 %, red 20 %
flower     small star-shaped blossoms, few images, < 1 % of pixels     magenta: *rare*
sun        sun, sunset disc, clouds or moon and stars (the profile cue) set by the profile
=========  ===========================================================  ====================

Every scene belongs to one of four **profiles** (``daylight``, ``sunset``, ``overcast``,
``dusk``): the profile sets the sky's hue and casts every other colour (sunset: warmer,
overcast: duller, dusk: cooler). It shows in L only through the global cue (a small high
sun, a big sun on the horizon, soft clouds, a crescent moon with stars): the sky's own L
gradient is drawn the same way for every profile, so a small window of L cannot tell the
profile, while the whole scene can. The profile is the item's label.

The two fruit modes are **isoluminant**: the same L texture is drawn whichever colour the
fruit has, so nothing in L tells them apart and a regression model must predict their
average (near gray). To keep it so, the dataset's cache stores the exact float Lab of every
pixel (:attr:`ScenesDataset.lab`), never an 8-bit RGB round trip (its rounding would leave a
colour-dependent trace in L that a network can learn); RGB uint8 images are kept beside it for
display and for the parts of the kit that read photos. Every colour is projected into the sRGB
gamut in ab only (chroma reduced at constant L), so the RGB shown is the truth.

Splits come from disjoint random streams (``train``, ``val``, ``test``); every 8th image of
``val``/``test`` is guaranteed to hold a flower so the rare class is always measurable.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from colorlab.core.errors import ColorlabError
from colorlab.core.logs import progress_bar
from colorlab.data.prepared import EXTRAS, IMAGES, INDEX, LABELS, SOURCES
from colorlab.data.scenes_render import Canvas, into_gamut, lab_to_rgb_uint8

__all__ = ["ScenesDataset", "render_scene", "Scene", "CLASSES", "PROFILES", "GENERATOR_VERSION",
           "UNIMODAL", "MULTIMODAL", "RARE", "PROFILE_DEPENDENT", "write_scenes", "scene_groups"]

#: Bumped whenever the drawing changes: it is part of the cache key, so stale caches are never reused.
GENERATOR_VERSION = 3

CLASSES: tuple[str, ...] = ("sky", "grass", "water", "bark", "fruit", "car", "flower", "sun")
PROFILES: tuple[str, ...] = ("daylight", "sunset", "overcast", "dusk")
SKY, GRASS, WATER, BARK, FRUIT, CAR, FLOWER, SUN = range(len(CLASSES))
#: Classes whose colour L determines (given the profile).
UNIMODAL: tuple[int, ...] = (GRASS, WATER, BARK)
#: Classes with two isoluminant colour modes (nothing in L tells them apart).
MULTIMODAL: tuple[int, ...] = (FRUIT,)
#: The rare, saturated class.
RARE: tuple[int, ...] = (FLOWER,)
#: Classes whose colour is set by the scene's profile (only the whole scene tells it).
PROFILE_DEPENDENT: tuple[int, ...] = (SKY,)

# Colours (a, b); every one is later projected into the sRGB gamut at its own L.
_SKY_AB = {"daylight": (-5.0, -26.0), "sunset": (20.0, 26.0), "overcast": (0.0, -3.0), "dusk": (18.0, -22.0)}
_SUN_AB = {"daylight": (-2.0, 16.0), "sunset": (16.0, 46.0), "overcast": (0.0, -2.0), "dusk": (0.0, 6.0)}
#: How each profile casts the colours of objects: ab' = scale * ab + shift.
_CAST = {"daylight": (1.0, 0.0, 0.0), "sunset": (1.0, 10.0, 12.0), "overcast": (0.6, 0.0, 0.0),
         "dusk": (1.0, 6.0, -10.0)}
_GRASS_AB, _WATER_AB, _BARK_AB = (-26.0, 24.0), (-12.0, -16.0), (10.0, 16.0)
#: The fruit's two modes: roughly complementary, so their average is near gray.
FRUIT_MODES = ((50.0, 34.0), (-42.0, -26.0))
#: The car: usually gray, sometimes red (at the same L).
CAR_MODES = ((0.0, 0.0), (46.0, 30.0))
CAR_RED_P = 0.2
_FLOWER_AB = (58.0, -36.0)
#: Share of training scenes with flowers (val/test: at least every 8th image too).
FLOWER_P = 0.06

@dataclass
class Scene:
    """One drawn scene: exact Lab ``(H, W, 3)`` float32, class map and colour-mode map ``(H, W)`` uint8
    (mode 0: the class's usual colour; fruit 1 = red, 2 = teal; car 1 = gray, 2 = red), and its profile."""
    lab: np.ndarray
    classes: np.ndarray
    modes: np.ndarray
    profile: int

    @property
    def rgb(self) -> np.ndarray:
        return lab_to_rgb_uint8(self.lab)


def _cast(ab, profile: str, strength: float = 1.0):
    s, da, db = _CAST[profile]
    s = 1 + (s - 1) * strength
    return ab[0] * s + da * strength, ab[1] * s + db * strength


def render_scene(size: int, rng: np.random.Generator, flower: bool | None = None) -> Scene:
    """Draw one scene at ``size x size`` from ``rng`` (``flower``: force the rare class in or out)."""
    c = Canvas(size, rng)
    S, x, y = size, c.x, c.y
    p = int(rng.integers(len(PROFILES)))
    prof = PROFILES[p]
    horizon = rng.uniform(0.38, 0.58)

    # sky: a smooth gradient drawn the same way for every profile; only its hue depends on the profile
    top, bottom = rng.uniform(50, 62), rng.uniform(68, 80)
    sky_L = top + (bottom - top) * np.clip(y / horizon, 0, 1) + 1.2 * c.noise(0.25, 0.25)
    ones = np.ones_like(x)
    c.paint(ones, sky_L, (_SKY_AB[prof][0] * ones, _SKY_AB[prof][1] * ones), SKY)

    # the profile's global cue
    if prof == "daylight":   # a small, bright sun high in the sky
        cx, cy, r = rng.uniform(0.15, 0.85), rng.uniform(0.06, horizon * 0.45), rng.uniform(0.05, 0.07)
        d = np.hypot(x - cx, y - cy)
        c.paint(c.alpha(d - r), 96 - 3 * d / r, _SUN_AB[prof], SUN)
    elif prof == "sunset":   # a large sun sitting on the horizon, with a bright halo
        cx, r = rng.uniform(0.2, 0.8), rng.uniform(0.12, 0.16)
        d = np.hypot(x - cx, y - horizon)
        halo = np.clip(1 - (d - r) / (2.5 * r), 0, 1) * (y < horizon)
        c.L = c.L + 10 * halo ** 2
        c.paint(c.alpha(d - r), 88 - 4 * d / r, _SUN_AB[prof], SUN)
    elif prof == "overcast":  # soft, bright clouds
        for _ in range(int(rng.integers(3, 6))):
            cx, cy = rng.uniform(0, 1), rng.uniform(0.05, horizon * 0.8)
            rx, ry = rng.uniform(0.12, 0.22), rng.uniform(0.04, 0.07)
            d = np.hypot((x - cx) / rx, (y - cy) / ry) - 1
            c.paint(c.alpha(d * ry), 86 + 2 * c.noise(0.05, 0.1), _SUN_AB[prof], SUN)
    else:                     # dusk: a crescent moon and a few stars
        cx, cy, r = rng.uniform(0.15, 0.85), rng.uniform(0.08, horizon * 0.5), rng.uniform(0.05, 0.07)
        d1, d2 = np.hypot(x - cx, y - cy) - r, np.hypot(x - cx - 0.45 * r, y - cy + 0.2 * r) - r * 0.9
        c.paint(c.alpha(np.maximum(d1, -d2)), 92 * ones, _SUN_AB[prof], SUN)
        for _ in range(int(rng.integers(5, 9))):
            sx, sy = rng.uniform(0, 1), rng.uniform(0, horizon * 0.85)
            d = np.hypot(x - sx, y - sy) - 0.7 / S
            c.paint(c.alpha(d), 95 * ones, _SUN_AB[prof], SUN)

    # ground: grass, or water, or both (a lake in front of a meadow)
    ground = y >= horizon
    kind = rng.choice(["grass", "water", "both"], p=[0.45, 0.3, 0.25])
    shore = horizon + rng.uniform(0.12, 0.3) if kind == "both" else (2.0 if kind == "grass" else horizon)
    streaks = c.noise(0.06, 0.004)                      # fine vertical streaks
    grass_L = 44 + 5 * (y - horizon) / (1 - horizon) + 5 * streaks
    ga, gb = _cast(_GRASS_AB, prof)
    c.paint(c.alpha(horizon - y), grass_L, (ga * ones, gb * ones), GRASS)
    if kind != "grass":
        ripples = np.sin(2 * np.pi * (y * S / rng.uniform(2.5, 4.0)) + 1.5 * c.noise(0.02, 0.2))
        water_L = 52 + 5 * ripples + 1.5 * c.noise(0.005, 0.08)
        wa, wb = _cast(_WATER_AB, prof)
        sd = np.maximum(horizon - y, y - shore) if kind == "both" else horizon - y
        c.paint(c.alpha(sd), water_L, (wa * ones, wb * ones), WATER)

    # objects, back to front: trees (bark), cars, fruit, flowers
    ground_y = lambda lo, hi: horizon + (1 - horizon) * rng.uniform(lo, hi)  # noqa: E731
    for _ in range(int(rng.integers(0, 3))):
        cx, w = rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.09)
        base, h = ground_y(0.1, 0.4), rng.uniform(0.35, 0.6)
        sd = np.maximum(np.abs(x - cx) - w / 2, np.maximum(base - h - y, y - base))
        grooves = c.noise(0.08, 0.006)
        bark_L = 36 + 4 * grooves - 6 * ((x - cx) / w) ** 2
        ba, bb = _cast(_BARK_AB, prof)
        c.paint(c.alpha(sd), bark_L, (ba * ones, bb * ones), BARK)
    if rng.random() < 0.8:
        for _ in range(int(rng.integers(1, 3))):
            cx, w, h = rng.uniform(0.1, 0.9), rng.uniform(0.3, 0.4), rng.uniform(0.12, 0.15)
            base = ground_y(0.35, 0.75)
            body = np.maximum(np.abs(x - cx) - w / 2, np.maximum(base - h - y, y - base + 0.25 * h))
            cabin = np.maximum(np.abs(x - cx) - w / 3.2, np.maximum(base - 1.75 * h - y, y - base + 0.9 * h))
            red = rng.random() < CAR_RED_P
            car_L = 47 + 7 * (base - y) / h - 3 * ((x - cx) / w) ** 2 + 0.8 * c.noise(0.02, 0.05)
            ab = _cast(CAR_MODES[int(red)], prof)
            c.paint(c.alpha(np.minimum(body, cabin)), car_L, (ab[0] * ones, ab[1] * ones), CAR, 1 + int(red))
            win = np.maximum(np.abs(x - cx) - w / 4.2, np.maximum(base - 1.6 * h - y, y - base + 1.05 * h))
            c.paint(c.alpha(win), 24 + 2 * (y - base) / h, (0 * ones, 0 * ones), CAR, 0)
            for wx in (cx - w / 3, cx + w / 3):
                d = np.hypot(x - wx, y - base + 0.2 * h) - 0.32 * h
                c.paint(c.alpha(d), 15 * ones, (0 * ones, 0 * ones), CAR, 0)
    n_fruit = int(rng.integers(1, 5))
    for _ in range(n_fruit):
        cx, r = rng.uniform(0.1, 0.9), rng.uniform(0.09, 0.14)
        cy = ground_y(0.15, 0.85)
        mode = int(rng.integers(2))
        dx, dy = (x - cx) / r, (y - cy) / r
        d = np.hypot(dx, dy)
        nz = np.sqrt(np.clip(1 - d ** 2, 0, 1))
        shade = np.clip(-0.45 * dx - 0.55 * dy + 0.7 * nz, 0, 1)         # light from the upper left
        spec = np.exp(-((dx + 0.35) ** 2 + (dy + 0.4) ** 2) / 0.03)     # highlight
        fruit_L = 36 + 30 * shade + 14 * spec
        ab = _cast(FRUIT_MODES[mode], prof)
        keep = 1 - 0.85 * spec                                           # the highlight is nearly white
        c.paint(c.alpha((d - 1) * r), fruit_L, (ab[0] * keep, ab[1] * keep), FRUIT, 1 + mode)
    if flower if flower is not None else rng.random() < FLOWER_P:
        for _ in range(int(rng.integers(1, 3))):
            cx, cy, r = rng.uniform(0.1, 0.9), ground_y(0.3, 0.9), rng.uniform(0.06, 0.08)
            ang = np.arctan2(y - cy, x - cx)
            d = np.hypot(x - cx, y - cy)
            petal_r = r * (0.55 + 0.45 * np.abs(np.cos(2.5 * ang)))     # a five-petalled star
            flower_L = 62 - 14 * (d / r) + 3 * np.cos(5 * ang)
            ab = _cast(_FLOWER_AB, prof)
            c.paint(c.alpha(d - petal_r), flower_L, (ab[0] * ones, ab[1] * ones), FLOWER)
            c.paint(c.alpha(d - 0.18 * r), 80 * ones, (2 * ones, 40 * ones), FLOWER)

    # sensor noise on L, then every colour into the gamut (ab only: L stays exactly as drawn)
    L = np.clip(c.L + 0.8 * rng.standard_normal(c.L.shape), 1.0, 99.0)
    a, b = into_gamut(L, c.a, c.b)
    lab = np.stack([L, a, b], -1).astype(np.float32)
    return Scene(lab, c.cls, c.mode, p)


_SPLIT_STREAM = {"train": 0, "val": 1, "test": 2}


class ScenesDataset(Dataset):
    """The ``scenes`` dataset: ``n`` scenes of ``size x size``, drawn on demand, deterministic per
    ``(split, seed, index)``. Items are ``(uint8 RGB tensor (3, size, size), profile index)``.

    Args:
        root, download: accepted for the common interface; nothing is read or fetched.
        split: ``train``, ``val`` or ``test`` (disjoint random streams).
        size: 32 to 256 pixels.
        n: number of scenes (default: 2048 train, 256 val/test).
        seed: the dataset seed (another seed gives other scenes).
        transform: applied to each uint8 ``(3, H, W)`` tensor.
    """

    name = "scenes"
    title = "scenes (procedural)"
    folder = ""
    splits = ("train", "val", "test")
    layout = "generated on demand, nothing on disk"
    how_to_get = "built in: colorlab.data.get_dataset('scenes')"

    def __init__(self, root=None, split: str = "train", size: int | None = 64, download: bool = False,
                 n: int | None = None, seed: int = 0, transform: Callable | None = None):
        if split not in self.splits:
            raise ColorlabError(f"scenes: unknown split {split!r}; choose one of {', '.join(self.splits)}")
        size = 64 if size is None else size
        if not isinstance(size, (int, np.integer)) or not 32 <= size <= 256:
            raise ColorlabError(f"scenes: size must be an integer from 32 to 256, got {size!r}")
        n = (2048 if split == "train" else 256) if n is None else n
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ColorlabError(f"scenes: n must be a positive integer, got {n!r}")
        self.split, self.size, self.n, self.seed, self.transform = split, int(size), int(n), int(seed), transform
        self.root = None
        self.classes = list(PROFILES)   # the item label is the profile

    @classmethod
    def is_present(cls, root=None) -> bool:
        return True

    def __len__(self) -> int:
        return self.n

    def scene(self, index: int) -> Scene:
        """Scene ``index`` with its latent labels (exact Lab, class map, mode map, profile)."""
        if not 0 <= index < self.n:
            raise IndexError(f"index {index} out of range for {self.n} scenes")
        rng = np.random.default_rng([GENERATOR_VERSION, _SPLIT_STREAM[self.split], self.seed, index])
        flower = True if self.split != "train" and index % 8 == 0 else None
        return render_scene(self.size, rng, flower=flower)

    def read(self, index: int) -> np.ndarray:
        return self.scene(index).rgb

    def label(self, index: int) -> int:
        return self.scene(index).profile

    def source(self, index: int) -> str:
        return f"scenes/{self.split}/seed{self.seed}/{index}"

    def __getitem__(self, index: int):
        if not -self.n <= index < self.n:
            raise IndexError(f"index {index} out of range for {self.n} scenes")
        s = self.scene(index % self.n)
        x = torch.from_numpy(s.rgb).permute(2, 0, 1).contiguous()
        if self.transform is not None:
            x = self.transform(x)
        return x, s.profile

    def __repr__(self) -> str:
        return f"ScenesDataset(split={self.split!r}, size={self.size}, n={self.n}, seed={self.seed})"


def write_scenes(folder, key: dict, split: str, size: int, n: int, seed: int, progress: bool = True) -> dict:
    """Draw ``n`` scenes into a cache folder in :mod:`colorlab.data.prepared`'s layout, plus its extras: the
    exact float Lab (``lab.f32``), the class map (``classes.u8``) and the colour-mode map (``modes.u8``)."""
    extras = [EXTRAS[attr][0] for attr in ("lab", "class_map", "mode_map")]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ds = ScenesDataset(split=split, size=size, n=n, seed=seed)
    started = time.time()
    labels = np.zeros(n, np.int64)
    with open(folder / IMAGES, "wb") as img_f, open(folder / extras[0], "wb") as lab_f, \
            open(folder / extras[1], "wb") as cls_f, open(folder / extras[2], "wb") as mode_f:
        for i in progress_bar(range(n), desc=f"draw scenes/{split} @{size}px", unit="img", leave=False, disable=not progress):
            s = ds.scene(i)
            labels[i] = s.profile
            img_f.write(s.rgb.tobytes())
            lab_f.write(s.lab.tobytes())
            cls_f.write(s.classes.tobytes())
            mode_f.write(s.modes.tobytes())
    np.save(folder / LABELS, labels)
    (folder / SOURCES).write_text("".join(f"{ds.source(i)}\n" for i in range(n)), encoding="utf-8")
    meta = {**key, "complete": True, "root": None, "classes": list(PROFILES), "pixel_classes": list(CLASSES),
            "shape": [n, size, size, 3], "count": n, "tried": n, "skipped": 0, "skipped_files": [],
            "gray_dropped": 0, "sources_file": SOURCES, "generator": GENERATOR_VERSION,
            "extras": extras, "seconds": round(time.time() - started, 2),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    (folder / INDEX).write_text(json.dumps(meta, indent=1))
    return meta


def scene_groups() -> dict[str, tuple[int, ...]]:
    """The pixel groups the labs measure: ``{name: class ids}`` for :func:`colorlab.evaluation.evaluate.evaluate`'s
    ``groups``: ``unimodal`` (colour follows from L), ``multimodal`` (isoluminant modes), ``rare``
    (the rare class), ``profile`` (colour set by the scene's profile)."""
    return {"unimodal": UNIMODAL, "multimodal": MULTIMODAL, "rare": RARE, "profile": PROFILE_DEPENDENT}
