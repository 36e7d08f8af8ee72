"""The kit's categorical colours, chosen to stay apart under colour-vision deficiency (CVD).

Every colour the kit *chooses* to tell categories apart — class legends, bars, lines, diagram boxes,
the frames of a right/wrong gallery — comes from this module. Colours that are data (a colorized
photo, an ab plane, a palette extracted from a photo) are what they are and are not drawn from here.

* The base is Okabe & Ito's (2008) eight colours, designed to be told apart by people with
  protanopia, deuteranopia and tritanopia. There is no red/green pair: "right/wrong" is blue and
  vermillion, and figures that must work in gray too add a second channel (marker, line style or
  line width: :func:`series_style`).
* :func:`simulate_cvd` applies Machado, Oliveira & Fernandes's (2009) full-severity (1.0) matrices to
  linear sRGB, the model Chrome's and Firefox's developer tools use. Their tritanopia matrix is the
  least accurate of the three (the model was fitted for anomalous trichromacy); it is used here as a
  screen, not as a verdict.
* :func:`min_distance` is the smallest CIEDE2000 difference between two colours of a palette after the
  simulation; :data:`MIN_DELTA_E` is the bar every palette of the kit clears under every simulation
  (``tests/test_palettes.py``). A ΔE00 of about 1 is just noticeable side by side; 10 is a clear
  difference between two small patches in a legend.
"""
from __future__ import annotations

import re

import numpy as np

__all__ = ["OKABE_ITO", "CATEGORICAL", "MARKERS", "LINESTYLES", "NEUTRAL", "RIGHT", "WRONG", "CLASS_COLOURS",
           "WINDOWS", "DIAGRAM", "FRUIT_MODES", "PALETTES", "CVD_MATRICES", "MIN_DELTA_E", "to_rgb", "simulate_cvd",
           "min_distance", "cvd_table", "series_style", "prop_cycle"]

#: Okabe & Ito (2008), "Color Universal Design": name → sRGB hex.
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7"}
_O = OKABE_ITO

#: Series colours (lines, bars, groups), most distinct first; use them in this order.
CATEGORICAL: tuple[str, ...] = (_O["blue"], _O["orange"], _O["bluish green"], _O["reddish purple"], _O["sky blue"],
                                _O["vermillion"], _O["yellow"], _O["black"])
#: A second channel for series: marker shapes and line styles, in the same order as :data:`CATEGORICAL`.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES: tuple[str, ...] = ("-", "--", "-.", ":")
#: Baselines and de-emphasised marks: a gray, never a category of its own.
NEUTRAL = "#BBBBBB"
#: A right / wrong pair (thick solid frame / thin dashed frame where it is drawn).
RIGHT, WRONG = _O["blue"], _O["vermillion"]
#: The ``scenes`` pixel classes (sky, grass, water, bark, fruit, car, flower, sun) for class maps and their legend.
CLASS_COLOURS: tuple[str, ...] = (_O["sky blue"], _O["bluish green"], _O["blue"], _O["black"], _O["vermillion"],
                                  _O["orange"], _O["reddish purple"], _O["yellow"])
#: Series that stand for a colour: the ``scenes`` fruit's two modes (red, teal), as CVD-safe stand-ins.
FRUIT_MODES: tuple[str, ...] = (_O["vermillion"], _O["bluish green"])
#: Outlines drawn *on photos* (receptive-field windows): light, saturated, paired with line styles.
WINDOWS: tuple[str, ...] = (_O["yellow"], _O["sky blue"], _O["reddish purple"], _O["orange"])
#: Box fills of the architecture diagrams: encoder, decoder, input/output, global branch, bottleneck/fusion.
#: Light enough for black text, still apart under every simulation (the boxes also carry their names).
DIAGRAM: tuple[str, ...] = ("#9AD2F2", "#F2CF80", "#F0F0F0", "#33B18F", "#D694B9")  # Okabe–Ito tints

#: Every palette the kit uses, by name (checked by ``tests/test_palettes.py``).
PALETTES: dict[str, tuple[str, ...]] = {"categorical": CATEGORICAL, "right/wrong": (RIGHT, WRONG),
                                        "scene classes": CLASS_COLOURS, "windows": WINDOWS, "diagram": DIAGRAM,
                                        "fruit modes": FRUIT_MODES,
                                        "series + baseline": CATEGORICAL[:4] + (NEUTRAL,)}

#: Machado, Oliveira & Fernandes (2009), severity 1.0; multiply *linear* sRGB column vectors.
CVD_MATRICES: dict[str, np.ndarray] = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
#: The smallest CIEDE2000 difference allowed between two colours of one palette, with normal vision and
#: under each simulated deficiency.
MIN_DELTA_E = 10.0


def to_rgb(colours) -> np.ndarray:
    """Hex strings, matplotlib colour names or RGB tuples → float sRGB ``(n, 3)`` in [0, 1]."""
    def one(c):
        if isinstance(c, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", c):
            return [int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        from matplotlib.colors import to_rgb as mpl_rgb  # only for colour names: hex needs no matplotlib
        return mpl_rgb(c)
    return np.array([one(c) for c in colours], dtype=np.float64).reshape(-1, 3)


def _linear(c):
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _companded(c):
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def simulate_cvd(rgb, kind: str) -> np.ndarray:
    """How sRGB colours ``(..., 3)`` in [0, 1] look with ``kind`` (``protanopia``, ``deuteranopia``,
    ``tritanopia``; ``normal`` returns them unchanged): Machado et al.'s matrix on linear sRGB, clipped."""
    rgb = np.asarray(rgb, dtype=np.float64)
    if kind == "normal":
        return rgb
    if kind not in CVD_MATRICES:
        raise ValueError(f"unknown colour-vision deficiency {kind!r}; choose one of {sorted(CVD_MATRICES)} or 'normal'")
    return _companded(_linear(rgb) @ CVD_MATRICES[kind].T)


def min_distance(colours, kind: str = "normal") -> tuple[float, tuple[int, int]]:
    """The smallest CIEDE2000 difference between two of ``colours`` as seen with ``kind``, and that pair's indices."""
    from skimage.color import deltaE_ciede2000, rgb2lab
    lab = rgb2lab(simulate_cvd(to_rgb(colours), kind)[None])[0]
    d = deltaE_ciede2000(lab[:, None, :], lab[None, :, :])
    d[np.diag_indices(len(lab))] = np.inf
    i, j = np.unravel_index(np.argmin(d), d.shape)
    return float(d[i, j]), (int(min(i, j)), int(max(i, j)))


def cvd_table(palettes: dict | None = None):
    """A pandas table: for each palette (rows), the smallest ΔE00 between two of its colours with normal vision
    and under each simulated deficiency (columns)."""
    import pandas as pd
    palettes = PALETTES if palettes is None else palettes
    kinds = ["normal", *CVD_MATRICES]
    return pd.DataFrame({name: {k: min_distance(p, k)[0] for k in kinds} for name, p in palettes.items()}).T[kinds]


def series_style(k: int) -> dict:
    """Colour, marker and line style of series ``k`` (cycling): two channels, so lines stay apart in gray too."""
    return {"color": CATEGORICAL[k % len(CATEGORICAL)], "marker": MARKERS[k % len(MARKERS)],
            "linestyle": LINESTYLES[k % len(LINESTYLES)]}


def prop_cycle():
    """A matplotlib property cycle of :data:`CATEGORICAL` colours with markers (``ax.set_prop_cycle(prop_cycle())``)."""
    from cycler import cycler  # matplotlib's own dependency
    return cycler(color=list(CATEGORICAL)) + cycler(marker=list(MARKERS))
