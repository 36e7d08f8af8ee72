"""The kit's categorical colours stay apart with colour-vision deficiency, and every figure takes them from
colorlab.viz.palettes (issue #24).

The rule: after Machado, Oliveira & Fernandes's (2009) full-severity simulation of protanopia, deuteranopia and
tritanopia (and with normal vision), every two colours of a palette differ by at least
``MIN_DELTA_E`` = 10 in CIEDE2000. Colorized photos and ab planes are data, not the kit's choice, and are not
checked; the scan below looks for colours *chosen* in the figure code.
"""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

from colorlab.viz import palettes
from colorlab.viz.palettes import CVD_MATRICES, MIN_DELTA_E, PALETTES, min_distance, simulate_cvd, to_rgb

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
KINDS = ["normal", *CVD_MATRICES]
RED_GREEN = ("#d62728", "#2ca02c")  # matplotlib's default red and green


def too_close(named: dict) -> list[str]:
    """Every palette whose closest pair falls below MIN_DELTA_E, for each kind of vision."""
    out = []
    for name, colours in named.items():
        for kind in KINDS:
            d, (i, j) = min_distance(colours, kind)
            if d < MIN_DELTA_E:
                out.append(f"{name}: {colours[i]} and {colours[j]} are ΔE00 {d:.1f} apart with {kind}")
    return out


def test_every_palette_of_the_kit_stays_apart_with_every_deficiency():
    assert not too_close(PALETTES), "\n".join(too_close(PALETTES))


def test_the_check_fails_on_a_red_green_pair():
    problems = too_close({**PALETTES, "red/green": RED_GREEN})
    assert problems and all(p.startswith("red/green") for p in problems), problems
    assert any("deuteranopia" in p for p in problems)
    assert min_distance(RED_GREEN, "normal")[0] > 50  # far apart for normal vision: only the simulation catches it


def test_the_simulation_keeps_grays_and_merges_red_with_green():
    grays = np.linspace(0, 1, 5)[:, None].repeat(3, 1)
    for kind in CVD_MATRICES:
        np.testing.assert_allclose(simulate_cvd(grays, kind), grays, atol=2e-3)  # each row of M sums to 1
    red, green = simulate_cvd(to_rgb(["#ff0000", "#00ff00"]), "protanopia")
    assert abs(red[0] - red[1]) < 0.12 and abs(green[0] - green[1]) < 0.12  # both seen as a yellow-olive
    with pytest.raises(ValueError, match="unknown colour-vision deficiency"):
        simulate_cvd(grays, "achromatopsia")


# --- no figure chooses a colour outside the palette module ------------------------------------------

FIGURE_CODE = sorted([*(ROOT / "colorlab" / "viz").glob("*.py"), *(ROOT / "colorlab" / "widgets").glob("*.py")])
_CHROMATIC = ("red|green|blue|orange|purple|magenta|cyan|yellow|pink|brown|lime|limegreen|crimson|olive|navy|teal|"
              "violet|gold")
CATEGORICAL_COLOUR = re.compile(
    r"""["']\#[0-9a-fA-F]{6}["']"""                        # a hex colour
    rf"""|["'](?:tab:\w+|C\d|(?:{_CHROMATIC}))["']"""       # a colour cycle entry, a tab: or a chromatic name
    r"""|\b(?:tab10|tab20[bc]?|Set[123]|Paired|Accent|Dark2|Pastel[12])\b"""  # a qualitative colormap
    r"""|f["']C\{""")                                      # the colour cycle by index, f"C{k}"
#: An RGB triple of floats in [0, 1] that is not a gray, e.g. ``[0.3, 0.65, 0.25]``.
RGB_TRIPLE = re.compile(r"[\[(]\s*([01]?\.\d+),\s*([01]?\.\d+),\s*([01]?\.\d+)\s*[\])]")
#: Colours that are image content, not categories: (file name, colour) → why.
EXEMPT = {("hint_painter.py", '"#e03c31"'): "the default hint colour: painted into the photo as data",
          ("classes.py", "(1.0, 0.38, 0.1)"): "three softmax temperatures, not a colour"}


def hard_coded_colours(path: Path, text: str | None = None) -> list[str]:
    text = path.read_text() if text is None else text
    hits = []
    for n, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0] if not re.search(r"""["']#""", line) else line
        for m in CATEGORICAL_COLOUR.finditer(code):
            if (path.name, m.group(0).replace("'", '"')) not in EXEMPT:
                hits.append(f"{path.relative_to(ROOT)}:{n}: {m.group(0)}")
        for m in RGB_TRIPLE.finditer(code):
            if len({float(v) for v in m.groups()}) > 1 and (path.name, m.group(0)) not in EXEMPT:
                hits.append(f"{path.relative_to(ROOT)}:{n}: RGB {m.group(0)}")
    return hits


def test_figure_code_takes_its_categorical_colours_from_the_palette_module():
    assert len(FIGURE_CODE) >= 10
    hits = [h for p in FIGURE_CODE if p.name != "palettes.py" for h in hard_coded_colours(p)]
    assert not hits, "categorical colours chosen outside colorlab/viz/palettes.py:\n" + "\n".join(hits)


def test_the_scan_finds_a_planted_red_green_frame():
    planted = ('spine.set_edgecolor("limegreen" if right else "crimson")\nax.plot(x, color="C3")\n'
               'ax.plot(x, color=f"C{k}")\nCOLOURS = np.array([[0.3, 0.65, 0.25], [0.5, 0.5, 0.5]])\n')
    assert len(hard_coded_colours(ROOT / "colorlab" / "viz" / "routing.py", planted)) == 5
    assert hard_coded_colours(ROOT / "colorlab" / "viz" / "x.py", 'cmap="magma", color="0.3", ec="black"') == []


# --- the figures really use them ------------------------------------------------------------------

def test_figures_draw_with_the_palette():
    import matplotlib.pyplot as plt
    import pandas as pd

    from colorlab.viz.bias import plot_group_metric
    from colorlab.viz.metrics import plot_ab_error_curves
    from colorlab.viz.scenes import CLASS_COLOURS

    np.testing.assert_allclose(CLASS_COLOURS, to_rgb(palettes.CLASS_COLOURS))
    g = torch.Generator().manual_seed(0)
    true = torch.randn(2, 2, 8, 8, generator=g) * 20
    fig = plot_ab_error_curves({"a": true + 5, "b": true - 9, "c": true * 0}, true)
    colours = [matplotlib.colors.to_hex(line.get_color()).upper() for line in fig.axes[0].lines]
    assert colours == [c.upper() for c in palettes.CATEGORICAL[:3]], colours
    table = pd.DataFrame({"AuC [x]": [0.5, 0.6], "AuC [y]": [0.7, 0.4]}, index=[0.1, 0.9])
    fig2 = plot_group_metric(table, "AuC", ["x", "y"])
    lines = fig2.axes[0].lines
    assert lines[0].get_marker() != lines[1].get_marker() and lines[0].get_linestyle() != lines[1].get_linestyle()
    plt.close("all")
