"""colorlab.core.io: every format and mode comes out as RGB uint8; every bad file gives one clear error."""
from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from colorlab.core.color import rgb_to_lab
from colorlab.core.errors import ColorlabError
from colorlab.core.io import load_image, save_image, to_gray


@pytest.fixture
def photo(small_photos):
    return small_photos[0]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, bit_depth: int, color_type: int, raw_rows: bytes) -> bytes:
    """A minimal PNG written by hand (lets tests make 16-bit RGB and absurd headers)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(raw_rows))
            + _png_chunk(b"IEND", b""))


# ---------------------------------------------------------------------------------------- formats
@pytest.mark.parametrize("ext, lossless", [(".png", True), (".bmp", True), (".tif", True), (".webp", True),
                                           (".gif", False), (".jpg", False)])
def test_formats_load_as_rgb_uint8(tmp_path, photo, ext, lossless):
    path = tmp_path / f"photo{ext}"
    Image.fromarray(photo).save(path, **({"lossless": True} if ext == ".webp" else {}))
    rgb = load_image(path)
    assert rgb.dtype == np.uint8 and rgb.shape == photo.shape
    err = np.abs(rgb.astype(int) - photo.astype(int)).mean()
    assert err == 0 if lossless else err < 12


def test_exif_orientation_is_applied(tmp_path):
    a = np.zeros((10, 20, 3), np.uint8)
    a[0, 0] = (255, 0, 0)  # red marker at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    Image.fromarray(a).save(tmp_path / "o.png", exif=exif)
    rgb = load_image(tmp_path / "o.png")
    assert rgb.shape == (20, 10, 3)
    assert tuple(rgb[0, -1]) == (255, 0, 0)  # top-left moved to top-right


def test_palette_and_transparent_palette(tmp_path, photo):
    Image.fromarray(photo).convert("P").save(tmp_path / "p.png")
    assert np.array_equal(load_image(tmp_path / "p.png"), np.asarray(Image.open(tmp_path / "p.png").convert("RGB")))
    p = Image.new("P", (4, 4), 1)
    p.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    p.putpixel((0, 0), 0)
    p.save(tmp_path / "t.png", transparency=0)
    rgb = load_image(tmp_path / "t.png")
    assert tuple(rgb[0, 0]) == (255, 255, 255)  # transparent index → white, not black
    assert tuple(rgb[1, 1]) == (10, 200, 30)


def test_rgba_and_la_are_composited_on_white(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (200, 0, 0, 255)
    rgba[0, 1] = (200, 0, 0, 0)
    rgba[1, 0] = (0, 0, 0, 128)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    rgb = load_image(tmp_path / "a.png").astype(int)
    assert tuple(rgb[0, 0]) == (200, 0, 0)
    assert tuple(rgb[0, 1]) == (255, 255, 255)
    assert np.all(np.abs(rgb[1, 0] - 127) <= 1)  # half-transparent black on white
    la = Image.fromarray(np.array([[[50, 255], [50, 0]]], np.uint8), "LA")
    la.save(tmp_path / "la.png")
    assert load_image(tmp_path / "la.png").tolist() == [[[50, 50, 50], [255, 255, 255]]]


def test_cmyk_is_converted(tmp_path):
    cmyk = Image.new("CMYK", (3, 2), (0, 255, 255, 0))  # no cyan, full magenta + yellow: red
    cmyk.save(tmp_path / "c.tif")
    rgb = load_image(tmp_path / "c.tif")
    assert rgb.shape == (2, 3, 3) and tuple(rgb[0, 0]) == (255, 0, 0)
    cmyk.save(tmp_path / "c.jpg")
    assert np.abs(load_image(tmp_path / "c.jpg")[0, 0].astype(int) - (255, 0, 0)).max() < 8


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16bit_gray_is_scaled_not_clipped(tmp_path, ext):
    levels = np.array([[0, 257 * 10, 32768, 65535]], np.uint16)
    Image.fromarray(levels).save(tmp_path / f"g16{ext}")
    rgb = load_image(tmp_path / f"g16{ext}")
    assert rgb.shape == (1, 4, 3)
    assert rgb[0, :, 0].tolist() == [0, 10, 128, 255]
    assert np.array_equal(rgb[..., 0], rgb[..., 2])


def test_16bit_rgb_png_is_scaled(tmp_path):
    px = np.array([[[65535, 0, 32768], [257 * 200, 257 * 3, 65535]]], dtype=">u2")
    rows = b"".join(b"\x00" + row.tobytes() for row in px)
    (tmp_path / "c16.png").write_bytes(_png(2, 1, 16, 2, rows))
    rgb = load_image(tmp_path / "c16.png").astype(int)
    assert np.abs(rgb - [[[255, 0, 128], [200, 3, 255]]]).max() <= 1


def test_animated_gif_gives_first_frame(tmp_path):
    frames = [Image.new("RGB", (4, 4), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    assert tuple(load_image(tmp_path / "anim.gif")[0, 0]) == (255, 0, 0)


# ---------------------------------------------------------------------------------------- to_gray
def test_to_gray_is_lab_lightness(tmp_path, photo):
    Image.fromarray(photo).save(tmp_path / "p.png")
    L = to_gray(tmp_path / "p.png")
    expected = rgb_to_lab(torch.from_numpy(photo).permute(2, 0, 1))[0].numpy()
    assert L.dtype == np.float32 and L.shape == photo.shape[:2]
    assert np.allclose(L, expected, atol=1e-4)
    assert np.allclose(to_gray(photo), L)
    assert np.allclose(to_gray(torch.from_numpy(photo).permute(2, 0, 1)), L)


def test_to_gray_of_modes(tmp_path):
    Image.new("L", (3, 3), 255).save(tmp_path / "w.png")
    Image.fromarray(np.zeros((3, 3, 4), np.uint8), "RGBA").save(tmp_path / "clear.png")
    Image.fromarray(np.full((3, 3), 65535, np.uint16)).save(tmp_path / "w16.png")
    for name in ("w.png", "clear.png", "w16.png"):
        assert np.allclose(to_gray(tmp_path / name), 100.0, atol=1e-3), name
    assert np.allclose(to_gray(np.zeros((2, 2), np.uint8)), 0.0)


def test_to_gray_rejects_bad_arrays():
    with pytest.raises(ColorlabError, match="shape"):
        to_gray(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(ColorlabError, match="zero-sized"):
        to_gray(np.zeros((0, 4, 3), np.uint8))


# ---------------------------------------------------------------------------------------- errors
def _bad_files(tmp_path, photo):
    Image.fromarray(photo).save(tmp_path / "ok.jpg", quality=90)
    Image.fromarray(photo).save(tmp_path / "ok.png")
    jpg, png = (tmp_path / "ok.jpg").read_bytes(), (tmp_path / "ok.png").read_bytes()
    idat = png.index(b"IDAT") + 4
    corrupt_png = png[:idat + 2] + bytes(b ^ 0x5A for b in png[idat + 2:idat + 40]) + png[idat + 40:]
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.jpg").write_text("these are my holiday notes, not a photo\n")
    (tmp_path / "trunc.jpg").write_bytes(jpg[: len(jpg) // 2])
    (tmp_path / "trunc.png").write_bytes(png[: len(png) // 2])
    (tmp_path / "corrupt.png").write_bytes(corrupt_png)
    (tmp_path / "corrupt.jpg").write_bytes(jpg[:2] + b"\xff\xc0\x00\x02" + b"\x00" * 64)
    (tmp_path / "bomb.png").write_bytes(_png(100_000, 100_000, 8, 2, b"\x00" * 301))
    (tmp_path / "zero.png").write_bytes(_png(0, 0, 8, 2, b""))
    (tmp_path / "zero.gif").write_bytes(b"GIF89a" + struct.pack("<HH", 0, 0) + b"\x00\x00\x00;")
    (tmp_path / "folder.png").mkdir()
    return {
        "missing.png": "not found", "folder.png": "directory", "empty.png": "empty",
        "notes.jpg": "not an image", "trunc.jpg": "truncated", "trunc.png": "truncated",
        "corrupt.png": "corrupt|truncated", "corrupt.jpg": "corrupt", "bomb.png": "absurd image dimensions 100000x100000",
        "zero.png": "zero-sized", "zero.gif": "zero-sized",
    }


def test_bad_input_gives_one_clear_error(tmp_path, photo):
    for name, problem in _bad_files(tmp_path, photo).items():
        with pytest.raises(ColorlabError, match=problem) as info:
            load_image(tmp_path / name)
        message = str(info.value)
        assert name in message and "\n" not in message, message
        e = info.value  # no chained library traceback
        assert e.__cause__ is None and (e.__context__ is None or e.__suppress_context__)
        with pytest.raises(ColorlabError):
            to_gray(tmp_path / name)


def test_decompression_bomb_guard_stays_on():
    assert Image.MAX_IMAGE_PIXELS is not None


# ---------------------------------------------------------------------------------------- save
def test_save_image_round_trip_and_atomic(tmp_path, photo, monkeypatch):
    out = save_image(tmp_path / "sub" / "x.png", photo)
    assert np.array_equal(load_image(out), photo)
    save_image(tmp_path / "f.png", photo.astype(np.float32) / 255.0)
    assert np.array_equal(load_image(tmp_path / "f.png"), photo)
    save_image(tmp_path / "t.jpg", torch.from_numpy(photo).permute(2, 0, 1))
    assert load_image(tmp_path / "t.jpg").shape == photo.shape

    def fail(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(Image.Image, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        save_image(out, np.zeros_like(photo))
    assert np.array_equal(load_image(out), photo)  # the old file is untouched
    assert sorted(p.name for p in out.parent.iterdir()) == ["x.png"]  # no temporary left behind


def test_save_image_unknown_extension(tmp_path, photo):
    with pytest.raises(ColorlabError, match="extension"):
        save_image(tmp_path / "x.nope", photo)


def test_embedded_icc_profile_is_converted_to_srgb(tmp_path, photo):
    from PIL import ImageCms
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(photo).save(tmp_path / "icc.png", icc_profile=srgb)
    assert Image.open(tmp_path / "icc.png").info.get("icc_profile")
    from colorlab.core import io as cio
    before = cio._srgb_transform.cache_info()
    assert np.abs(load_image(tmp_path / "icc.png").astype(int) - photo.astype(int)).max() <= 2
    after = cio._srgb_transform.cache_info()
    assert after.hits + after.misses == before.hits + before.misses + 1  # the profile was applied
    Image.fromarray(photo).save(tmp_path / "bad_icc.png", icc_profile=b"not a profile")
    assert np.array_equal(load_image(tmp_path / "bad_icc.png"), photo)  # broken profile: pixels as stored
