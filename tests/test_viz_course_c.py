"""colorlab.viz.architecture: the schematic figures of labs 05 and 06 read their numbers from the model."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from colorlab.core.errors import ColorlabError  # noqa: E402
from colorlab.models import FPNColorizer, FusionColorizer, UNet  # noqa: E402
from colorlab.viz.architecture import (fpn_diagram, fusion_diagram, pixel_weight_figure,  # noqa: E402
                                       receptive_field_figure, unet_diagram)


def _texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts + [ax.title])


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_unet_diagram_labels_every_level_and_its_skips():
    fig = unet_diagram(UNet(base=8, depth=3), 32)
    text = _texts(fig)
    for label in ("8 ch\n32×32", "16 ch\n16×16", "32 ch\n8×8", "L input\n1×32×32", "ab output\n2×32×32"):
        assert label in text
    assert text.count("copy + concatenate") == 2 and "no skip" not in text
    # 3 encoder boxes, 2 decoder boxes, input and output
    assert len(fig.axes[0].patches) == 7


def test_unet_diagram_from_a_config_shows_missing_skips_and_rejects_bad_sizes():
    text = _texts(unet_diagram({"name": "unet", "base": 4, "depth": 3, "skips": "upper"}, 16))
    assert text.count("copy + concatenate") == 1 and text.count("no skip") == 1
    with pytest.raises(ColorlabError, match="multiple of 4"):
        unet_diagram({"name": "unet", "base": 4, "depth": 3}, 18)
    with pytest.raises(ColorlabError, match="unet"):
        unet_diagram({"name": "fusion"}, 16)


def test_fusion_diagram_reads_the_global_vector_size():
    branch = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, 7))
    model = FusionColorizer(backbone=branch, backbone_size=8, encoder_out=5, fusion_channels=6, width=2)
    text = _texts(fusion_diagram(model, 32))
    assert "vector g (7)" in text and "7×4×4" in text and "5×4×4" in text and "6×4×4" in text


def test_fpn_diagram_one_level_per_tap():
    model = FPNColorizer(backbone="mobilenet_v3_small", pretrained=False, width=8, levels=3)
    fig = fpn_diagram(model, 32)
    text = _texts(fig)
    assert text.count("1×1 conv (lateral)") == 3 and "stride 2:" in text and "stride 8:" in text
    with pytest.raises(ColorlabError, match="built FPNColorizer"):
        fpn_diagram({"name": "fpn"}, 32)


def test_receptive_field_figure_draws_one_window_per_model_on_each_image():
    gray = np.zeros((3, 20, 20, 3), dtype=np.uint8)
    colour = torch.rand(3, 3, 20, 20)
    fig = receptive_field_figure(gray, colour, {"small": 7, "whole": 20}, (5, 5), titles=["a", "b", "c"])
    assert len(fig.axes) == 6
    assert all(len(ax.patches) == 2 for ax in fig.axes)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["small: 7 px", "whole: 20 px"]
    with pytest.raises(ColorlabError, match="colour images"):
        receptive_field_figure(gray, colour[:2], {"small": 7}, (5, 5))


def test_pixel_weight_figure_one_row_per_scheme_and_a_log_colour_bar():
    rgb = np.random.default_rng(0).integers(0, 255, (4, 8, 8, 3), dtype=np.uint8)
    w = {"zhang": torch.rand(4, 8, 8) * 10 + 0.1, "sqrt": np.ones((4, 8, 8))}
    fig = pixel_weight_figure(rgb, w)
    assert len(fig.axes) == 3 * 4 + 1  # scene row, two weight rows, the colour bar
    assert fig.axes[-1].get_ylabel() == "pixel weight (log scale)"
    with pytest.raises(ColorlabError, match=r"\(4, H, W\)"):
        pixel_weight_figure(rgb, {"bad": np.ones((3, 8, 8))})
