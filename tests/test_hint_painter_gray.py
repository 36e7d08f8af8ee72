"""The hint painter shows the gray photo as Lab gray: ``lab_to_rgb(L, 0, 0)``, not a 1/2.2 power of L."""
from __future__ import annotations

import numpy as np
import torch

from colorlab.core.color import lab_to_rgb, rgb_to_lab
from colorlab.models import create
from colorlab.widgets import HintPainter
from colorlab.widgets.hint_painter import gray_display


def test_gray_display_is_lab_gray():
    L = torch.tensor([0.0, 25.0, 50.0, 75.0, 100.0]).view(1, 1, 1, 5)
    shown = gray_display(L)
    assert shown.shape == (1, 5, 3) and shown.dtype == np.uint8
    assert (shown[..., 0] == shown[..., 1]).all() and (shown[..., 1] == shown[..., 2]).all()
    assert abs(int(shown[0, 2, 0]) - round(0.4663 * 255)) <= 1      # L = 50 is sRGB 0.466, not 0.73
    # the shown gray has the photo's own L back
    back = rgb_to_lab(torch.from_numpy(shown).permute(2, 0, 1)[None].float() / 255)[0, 0, 0]
    assert torch.allclose(back, L[0, 0, 0], atol=0.3)


def test_painter_gray_matches_lab_to_rgb_of_the_photo_lightness(small_photos):
    painter = HintPainter(create("unet", in_channels=4, base=4, depth=2).eval(), image=small_photos[0],
                          photo_size=32, device="cpu")
    L = rgb_to_lab(torch.from_numpy(painter.photo.copy()).permute(2, 0, 1)[None])[:, :1]
    ref = lab_to_rgb(torch.cat([L, torch.zeros_like(L).expand(-1, 2, -1, -1)], 1))[0].permute(1, 2, 0)
    assert np.abs(painter.gray.astype(int) - (ref * 255).round().numpy().astype(int)).max() <= 1
    gamma = ((L[0, 0] / 100).clamp(0, 1) ** (1 / 2.2) * 255).round().numpy()
    assert np.abs(painter.gray[..., 0].astype(float) - gamma).mean() > 5  # the old display was brighter
