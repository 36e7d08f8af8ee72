"""YCbCr conversions and the colour-space option (exact round trip, agreement with Pillow)."""
import numpy as np
import pytest
import torch
from PIL import Image

from colorlab.core.color import split_lab
from colorlab.core.color import LAB, YCBCR, get_colorspace, join_l_ab, rgb_to_ycbcr, ycbcr_to_rgb
from colorlab.models.lab_view import LabView
from colorlab.core.errors import ColorlabError
from colorlab.data.loaders import make_dataloaders


def test_ycbcr_round_trip_is_exact():
    rgb = torch.rand(4, 3, 16, 16)
    assert torch.allclose(ycbcr_to_rgb(rgb_to_ycbcr(rgb)), rgb, atol=1e-5)
    y, c = YCBCR.split(rgb)
    assert y.shape == (4, 1, 16, 16) and c.shape == (4, 2, 16, 16)
    assert torch.allclose(YCBCR.join(y, c), rgb, atol=1e-5)


def test_ycbcr_matches_pillow(small_photos):
    photo = small_photos[0]
    ours = rgb_to_ycbcr(torch.from_numpy(photo).permute(2, 0, 1)) * 255
    pil = np.asarray(Image.fromarray(photo).convert("YCbCr")).astype(np.float32)
    assert np.abs(ours.permute(1, 2, 0).numpy() - pil).max() <= 1.01  # Pillow rounds to uint8


def test_ycbcr_known_values_and_gray_has_neutral_chroma():
    red = torch.tensor([1.0, 0.0, 0.0]).view(3, 1, 1)
    y, cb, cr = rgb_to_ycbcr(red).flatten().tolist()
    assert y == pytest.approx(0.299) and cb == pytest.approx(0.5 - 0.168736) and cr == pytest.approx(1.0)
    gray = torch.full((3, 2, 2), 0.4)
    assert torch.allclose(rgb_to_ycbcr(gray)[1:], torch.full((2, 2, 2), 0.5), atol=1e-6)


def test_ycbcr_under_bf16_autocast_stays_accurate():
    rgb = torch.rand(2, 3, 8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = ycbcr_to_rgb(rgb_to_ycbcr(rgb))
    assert out.dtype == torch.float32 and torch.allclose(out, rgb, atol=1e-5)


def test_get_colorspace_and_errors():
    assert get_colorspace(None).name == "lab" and get_colorspace("YCbCr").name == "ycbcr"
    with pytest.raises(ColorlabError, match="unknown colour space"):
        get_colorspace("hsv")
    rgb = torch.rand(2, 3, 8, 8)
    L, ab = get_colorspace("lab").split(rgb)
    assert torch.allclose(get_colorspace("lab").join(L, ab), rgb, atol=1e-4)


def test_loader_targets_follow_the_colorspace(prepared_sample):
    lab = make_dataloaders(prepared_sample, bs=8, device="cpu")
    ycc = make_dataloaders(prepared_sample, bs=8, device="cpu", colorspace="ycbcr")
    (xl, yl), (xy, yy) = lab.valid.one_batch(), ycc.valid.one_batch()
    rgb = torch.from_numpy(np.array(lab.valid.images[:8])).permute(0, 3, 1, 2)
    assert torch.allclose(xy, YCBCR.split(rgb)[0]) and torch.allclose(yy, YCBCR.split(rgb)[1])
    assert torch.allclose(xl, split_lab(rgb)[0]) and not torch.allclose(yl, yy)


def test_labview_shows_a_ycbcr_model_as_lab():
    class Oracle(torch.nn.Module):  # "predicts" the CbCr of a fixed image from its Y
        head, in_channels, config = "regression", 1, {"name": "oracle"}

        def __init__(self, cbcr):
            super().__init__()
            self.cbcr = cbcr

        def forward(self, y):
            return self.cbcr

    gray = torch.full((1, 3, 8, 8), 0.5)
    gray[..., :4] = 0.2
    L, ab = split_lab(gray)
    view = LabView(Oracle(YCBCR.split(gray)[1]), "ycbcr")
    assert torch.allclose(view(L), ab, atol=1e-3)  # a neutral photo stays neutral through the detour
    # a colourful photo (red and blue halves, |ab| up to 59): the model's true CbCr must come back as the
    # photo's ab, to within what reading Y off a neutral gray of L costs (2 ab units here) — not zeros, and
    # not CbCr passed through unconverted (81 units away)
    rgb = torch.zeros(1, 3, 8, 8)
    rgb[..., :4] = torch.tensor([0.8, 0.2, 0.2]).view(1, 3, 1, 1)
    rgb[..., 4:] = torch.tensor([0.15, 0.3, 0.7]).view(1, 3, 1, 1)
    L, ab = split_lab(rgb)
    shown = LabView(Oracle(YCBCR.split(rgb)[1]), "ycbcr")(L)
    assert (ab * 110).abs().max() > 50
    assert (shown - ab).abs().max() * 110 < 3.0


def test_one_join_for_both_spaces_and_both_units():
    """LAB.join (normalised, upsampling) agrees with join_l_ab (Lab units); both spaces round-trip."""
    rgb = torch.rand(2, 3, 32, 32)
    for space in (LAB, YCBCR):
        g, c = space.split(rgb)
        assert torch.allclose(space.join(g, c), rgb, atol=2e-4), space.name
        assert torch.allclose(space.denormalise(*space.normalise(space.convert(rgb))), space.convert(rgb), atol=1e-4)
    L, ab = LAB.split(rgb)
    small = torch.nn.functional.avg_pool2d(ab, 4)
    via_units = join_l_ab((L + 1) * 50, small * 110)
    assert torch.allclose(LAB.join(L, small), via_units, atol=1e-5)
    assert not torch.allclose(LAB.join(L, small), rgb, atol=1e-2)  # the chroma really was coarsened
