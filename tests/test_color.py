"""The Lab core against scikit-image, over a dense grid of every 8-bit colour."""
import numpy as np
import pytest
import torch
from skimage.color import lab2rgb, rgb2lab

from colorlab.core.color import (AB_SCALE, denormalize_ab, denormalize_l, join_l_ab, lab_to_rgb,
                            normalize_ab, normalize_l, rgb_to_lab, split_lab)


def _cube(step: int) -> torch.Tensor:
    """Every colour of an 8-bit grid with the given step (0 and 255 always included), as (3, N, 1) uint8."""
    v = torch.unique(torch.cat([torch.arange(0, 256, step), torch.tensor([255])])).to(torch.uint8)
    r, g, b = torch.meshgrid(v, v, v, indexing="ij")
    return torch.stack([r, g, b]).reshape(3, -1, 1)


def test_agrees_with_skimage_on_dense_grid():
    rgb = _cube(3)  # 86^3 = 636k colours, including the cube's corners and faces
    ours = rgb_to_lab(rgb).permute(1, 2, 0).numpy()
    ref = rgb2lab(rgb.permute(1, 2, 0).numpy())
    err = np.abs(ours - ref).max(axis=(0, 1))
    assert err.max() < 1e-3, f"max |ΔL, Δa, Δb| = {err}"


def test_lab_to_rgb_agrees_with_skimage():
    rgb = _cube(15)
    lab = rgb2lab(rgb.permute(1, 2, 0).numpy())
    ref = lab2rgb(lab)
    ours = lab_to_rgb(torch.from_numpy(lab).float().permute(2, 0, 1)).permute(1, 2, 0).numpy()
    assert np.abs(ours - ref).max() < 1e-4


def test_round_trip_exact_on_full_cube():
    v = torch.arange(256, dtype=torch.uint8)
    r, g, b = torch.meshgrid(v, v, v, indexing="ij")
    rgb = torch.stack([r, g, b]).reshape(3, 4096, 4096)  # all 16.7M colours
    back = (lab_to_rgb(rgb_to_lab(rgb)) * 255).round().to(torch.uint8)
    exact = (back == rgb).all(0).double().mean().item()
    assert exact >= 0.999, f"only {exact:.5%} of colours survive uint8 -> Lab -> uint8"


def test_known_values():
    white = rgb_to_lab(torch.ones(3, 1, 1))
    black = rgb_to_lab(torch.zeros(3, 1, 1))
    assert torch.allclose(white.flatten(), torch.tensor([100.0, 0.0, 0.0]), atol=1e-2)
    assert torch.allclose(black.flatten(), torch.zeros(3), atol=1e-4)
    red = rgb_to_lab(torch.tensor([1.0, 0, 0]).view(3, 1, 1)).flatten()
    assert torch.allclose(red, torch.tensor([53.24, 80.09, 67.20]), atol=0.02)


def test_batched_shapes_and_uint8():
    x = torch.randint(0, 256, (2, 5, 3, 4, 6), dtype=torch.uint8)
    lab = rgb_to_lab(x)
    assert lab.shape == x.shape and lab.dtype == torch.float32
    assert torch.allclose(lab, rgb_to_lab(x.float() / 255))


def test_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\(\.\.\., 3, H, W\)"):
        rgb_to_lab(torch.rand(4, 4, 3))


def test_differentiable_including_black():
    rgb = torch.rand(2, 3, 8, 8)
    rgb[0, :, 0, 0] = 0.0  # the cube-root branch point
    rgb.requires_grad_(True)
    lab = rgb_to_lab(rgb)
    lab.sum().backward()
    assert torch.isfinite(rgb.grad).all() and rgb.grad.abs().sum() > 0
    lab2 = torch.tensor([[50.0], [20.0], [-30.0]]).view(1, 3, 1, 1).requires_grad_(True)
    lab_to_rgb(lab2).sum().backward()
    assert torch.isfinite(lab2.grad).all()
    # autograd agrees with a central finite difference (the maths runs in fp32, so no float64 gradcheck)
    x = torch.tensor([0.3, 0.6, 0.2]).view(3, 1, 1).requires_grad_(True)
    weights = torch.tensor([1.0, 0.5, -0.7]).view(3, 1, 1)
    (rgb_to_lab(x) * weights).sum().backward()
    eps = 1e-3
    for c in range(3):
        d = torch.zeros(3, 1, 1)
        d[c] = eps
        fd = ((rgb_to_lab(x.detach() + d) - rgb_to_lab(x.detach() - d)) * weights).sum() / (2 * eps)
        assert abs(fd.item() - x.grad[c].item()) < 1e-2 * max(1.0, abs(fd.item()))


def test_bf16_input_and_autocast():
    rgb = torch.rand(1, 3, 16, 16)
    ref = rgb_to_lab(rgb)
    out = rgb_to_lab(rgb.bfloat16())
    assert out.dtype == torch.bfloat16
    assert (out.float() - ref).abs().max() < 1.5  # bf16 holds ~3 significant digits of L in [0, 100]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = rgb_to_lab(rgb)
    assert inside.dtype == torch.float32 and (inside - ref).abs().max() < 1e-4


def test_normalisation_round_trip():
    lab = rgb_to_lab(torch.rand(2, 3, 8, 8))
    L, ab = lab[:, :1], lab[:, 1:]
    assert normalize_l(L).min() >= -1 and normalize_l(L).max() <= 1
    assert (normalize_ab(ab).abs() <= 1).all()
    assert torch.allclose(denormalize_l(normalize_l(L)), L, atol=1e-5)
    assert torch.allclose(denormalize_ab(normalize_ab(ab)), ab, atol=1e-5)
    Ln, abn = split_lab(torch.rand(2, 3, 8, 8))
    assert Ln.shape == (2, 1, 8, 8) and abn.shape == (2, 2, 8, 8)
    assert AB_SCALE == 110


def test_join_l_ab_keeps_full_resolution_detail():
    rgb = torch.rand(1, 3, 64, 48)
    lab = rgb_to_lab(rgb)
    ab_small = torch.nn.functional.interpolate(lab[:, 1:], size=(16, 12), mode="area")
    out = join_l_ab(lab[:, :1], ab_small)
    assert out.shape == rgb.shape
    # L of the output is the input's L wherever the colour is in gamut
    assert (rgb_to_lab(out)[:, 0] - lab[:, 0]).abs().median() < 0.5
    # with ab at full size, the photo comes back
    assert (join_l_ab(lab[0, :1], lab[0, 1:]) - rgb[0]).abs().max() < 1e-4
    with pytest.raises(ValueError):
        join_l_ab(lab[:, :2], ab_small)


def test_gray_is_shown_as_lab_gray_not_linear_L():
    from colorlab.core.color import gray_rgb
    L = torch.full((1, 1, 2, 2), 50.0)
    g = gray_rgb(L)
    assert g.shape == (1, 3, 2, 2)
    assert torch.allclose(g, torch.full_like(g, 0.4663), atol=2e-3)  # sRGB of L = 50, not 0.5 or 0.73
    assert torch.allclose(rgb_to_lab(g)[:, :1], L, atol=1e-2)
