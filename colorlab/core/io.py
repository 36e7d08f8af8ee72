"""Reading and writing photos: any format Pillow reads, always RGB uint8, clear errors.

:func:`load_image` is the one entry point every loader, notebook and widget uses, so that
a photo looks the same everywhere:

* EXIF orientation is applied (phone photos come out upright);
* an embedded ICC profile is converted to sRGB (the colour space Lab assumes);
* palette, gray (``1``, ``L``), ``CMYK`` and ``YCbCr`` images are converted to RGB;
* transparency (``RGBA``, ``LA``, ``PA``, palette with a transparent index) is composited
  on white — a transparent pixel has no colour to learn, white is what a viewer shows;
* 16-bit images (``I;16*``, ``I``) are *scaled* to 8 bit (``v * 255 / 65535``), not clipped;
* animated images (GIF, WebP) give their first frame.

Anything wrong with the file — missing, a directory, empty, not an image, truncated or
corrupt, a zero-sized image, absurd dimensions (Pillow's decompression-bomb guard stays
on) — raises :class:`~colorlab.core.errors.ColorlabError` with one line naming the file and the
problem, never a library traceback.
"""
from __future__ import annotations

import functools
import io
import os
import re
import struct
from pathlib import Path
from typing import Union

import numpy as np
import torch
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from colorlab.core.color import rgb_to_lab
from colorlab.core.errors import ColorlabError
from colorlab.core.files import atomic_write

__all__ = ["load_image", "open_rgb", "save_image", "to_gray", "IMAGE_EXTENSIONS", "is_image_file"]

PathLike = Union[str, os.PathLike]

#: File name endings the dataset loaders treat as photos (lower case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")
_COMMON_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".gif": "GIF"}

def is_image_file(path: PathLike) -> bool:
    """True when ``path``'s name ends in one of :data:`IMAGE_EXTENSIONS` and it is not hidden."""
    name = os.path.basename(os.fspath(path))
    return not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS)


def _sniff(head: bytes) -> str | None:
    """The image format a file's first bytes announce, or None."""
    signatures = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"),
                  (b"GIF89a", "GIF"), (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"))
    for magic, fmt in signatures:
        if head.startswith(magic):
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if re.match(rb"P[1-6]\s", head[:3]):
        return "PPM"
    return None


def _header_size(fmt: str, head: bytes) -> tuple[int, int] | None:
    """Width and height written in the header of a PNG, GIF, BMP or PPM file (None if unknown)."""
    try:
        if fmt == "PNG" and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])
        if fmt == "GIF":
            return struct.unpack("<HH", head[6:10])
        if fmt == "BMP":
            w, h = struct.unpack("<ii", head[18:26])
            return w, abs(h)
        if fmt == "PPM":
            m = re.match(rb"P[1-6]\s+(?:#[^\n]*\n\s*)*(\d+)\s+(\d+)", head)
            return (int(m.group(1)), int(m.group(2))) if m else None
    except struct.error:
        return None
    return None


def _explain_unidentified(path: str, head: bytes) -> str:
    fmt = _sniff(head)
    if fmt is None:
        return f"{path}: not an image file (Pillow recognises no image format in it)"
    size = _header_size(fmt, head)
    if size is not None and (size[0] == 0 or size[1] == 0):
        return f"{path}: zero-sized image ({size[0]}x{size[1]} pixels in its {fmt} header)"
    return f"{path}: corrupt {fmt} file (its header cannot be decoded)"


def _check_path(path: PathLike) -> tuple[str, bytes]:
    """Fail clearly on a path that cannot be an image; return the path and its first bytes."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise ColorlabError(f"{p}: file not found")
    if os.path.isdir(p):
        raise ColorlabError(f"{p}: is a directory, not an image file")
    try:
        with open(p, "rb") as f:
            head = f.read(64)
    except OSError as e:
        raise ColorlabError(f"{p}: cannot be read ({e.strerror or e})") from None
    if not head:
        raise ColorlabError(f"{p}: empty file (0 bytes)")
    return p, head


@functools.lru_cache(maxsize=16)
def _srgb_transform(icc: bytes, mode: str):
    """A cached littleCMS transform from an embedded profile to sRGB (photo sets share a few profiles)."""
    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    return ImageCms.buildTransform(src, ImageCms.createProfile("sRGB"), mode, "RGB")


def _to_srgb(im: Image.Image) -> Image.Image:
    """Convert an image with an embedded ICC profile to sRGB (unchanged when it has none)."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "CMYK"):
        return im
    try:
        return ImageCms.applyTransform(im, _srgb_transform(bytes(icc), im.mode))
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return im  # a broken profile: fall back to Pillow's plain conversion


def _scale_16bit(im: Image.Image) -> Image.Image:
    """16-bit (or 32-bit integer / float) gray → 8-bit ``L``, scaling the full range."""
    a = np.asarray(im)
    if im.mode == "F":
        a = a.astype(np.float64)
        a = a * 255.0 if a.size and np.nanmax(a) <= 1.0 else a  # floats in [0, 1] or [0, 255]
        out = np.clip(np.nan_to_num(a), 0, 255).round()
    else:  # I;16*, I: the 16-bit range 0..65535
        out = (np.clip(a.astype(np.int64), 0, 65535) * 255 + 32767) // 65535
    return Image.fromarray(out.astype(np.uint8), "L")


def _rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode → ``RGB``, transparency composited on white."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        im = _scale_16bit(im)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("LA", "PA", "La", "RGBa"):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, im).convert("RGB")
    if im.mode == "CMYK":
        im = _to_srgb(im)
    if im.mode == "RGB":
        return _to_srgb(im)
    return im.convert("RGB")


def open_rgb(path: PathLike, draft: int | None = None) -> Image.Image:
    """Open a photo as an upright, loaded ``RGB`` :class:`PIL.Image.Image`.

    Args:
        path: any file Pillow reads.
        draft: if given, JPEGs are decoded at a reduced scale (Pillow's ``draft``, 1/2 to
            1/8, much faster) whose *both* sides stay at least ``draft`` pixels. Use it when
            the photo will be shrunk to ``draft`` pixels anyway.
    Raises:
        ColorlabError: one line naming the file and the problem.
    """
    p, head = _check_path(path)
    try:
        im = Image.open(p)
    except UnidentifiedImageError:
        raise ColorlabError(_explain_unidentified(p, head)) from None
    except Image.DecompressionBombError:
        fmt = _sniff(head)
        size = _header_size(fmt, head) if fmt else None
        dims = f" {size[0]}x{size[1]}" if size else ""
        raise ColorlabError(f"{p}: absurd image dimensions{dims}, over Pillow's decompression-bomb limit of "
                            f"{2 * Image.MAX_IMAGE_PIXELS} pixels") from None
    except (OSError, SyntaxError, ValueError, struct.error) as e:
        raise ColorlabError(f"{p}: corrupt image file ({e})") from None
    try:
        w, h = im.size
        if w <= 0 or h <= 0:
            raise ColorlabError(f"{p}: zero-sized image ({w}x{h} pixels)")
        if draft and im.format in ("JPEG", "MPO"):
            im.draft(None, (draft, draft))
        im.load()
        upright = im
        try:
            upright = ImageOps.exif_transpose(im)
        except Exception:  # noqa: BLE001 — broken EXIF: keep the pixels as stored
            pass
        out = _rgb(upright)
        return out.copy() if out is im else out
    except ColorlabError:
        raise
    except Image.DecompressionBombError as e:
        raise ColorlabError(f"{p}: absurd image dimensions, refused as a possible decompression bomb ({e})") from None
    except MemoryError:
        raise ColorlabError(f"{p}: image too large to decode in memory ({im.size[0]}x{im.size[1]})") from None
    except Exception as e:  # noqa: BLE001 — decoders raise OSError, SyntaxError, ValueError, zlib.error...
        fmt = im.format or _sniff(head) or "image"
        msg = str(e) or type(e).__name__
        kind = "truncated" if "truncated" in msg else "corrupt"
        raise ColorlabError(f"{p}: {kind} {fmt} file ({msg})") from None
    finally:
        im.close()


def load_image(path: PathLike, draft: int | None = None) -> np.ndarray:
    """Read a photo as RGB: ``uint8`` array of shape ``(H, W, 3)``.

    See the module docstring for what is converted how, and :func:`open_rgb` for ``draft``.

    >>> load_image("photo.jpg").shape   # doctest: +SKIP
    (427, 640, 3)
    """
    return np.asarray(open_rgb(path, draft=draft), dtype=np.uint8).copy()


def _as_rgb_array(image) -> np.ndarray:
    """Path, PIL image, numpy array or torch tensor → ``uint8`` ``(H, W, 3)``."""
    if isinstance(image, (str, os.PathLike)):
        return load_image(image)
    if isinstance(image, Image.Image):
        return np.asarray(_rgb(image), dtype=np.uint8)
    if isinstance(image, torch.Tensor):
        t = image.detach().cpu()
        if t.dim() == 3 and t.shape[0] in (1, 3) and t.shape[-1] not in (1, 3):
            t = t.permute(1, 2, 0)
        image = t.numpy()
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        a = np.stack([a] * 3, axis=-1)
    if a.ndim != 3 or a.shape[-1] != 3:
        raise ColorlabError(f"expected an image of shape (H, W, 3) or (H, W), got {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ColorlabError(f"zero-sized image array of shape {a.shape}")
    if a.dtype == np.uint8:
        return a
    if np.issubdtype(a.dtype, np.floating):
        return (np.clip(a, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    if a.dtype == np.uint16:
        return ((a.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    raise ColorlabError(f"unsupported image dtype {a.dtype}: use uint8, uint16 or float in [0, 1]")


def to_gray(image) -> np.ndarray:
    """The L channel (lightness, 0..100) of a photo: ``float32`` array ``(H, W)``.

    Args:
        image: a path (read with :func:`load_image`), a PIL image, or an array/tensor
            ``(H, W, 3)`` / ``(3, H, W)`` / ``(H, W)`` — uint8, uint16 or float in [0, 1].

    Computed with :func:`colorlab.core.color.rgb_to_lab`, so it is exactly the input a model sees.
    """
    rgb = _as_rgb_array(image)
    t = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)
    return rgb_to_lab(t)[0].numpy().astype(np.float32)


def save_image(path: PathLike, rgb, quality: int = 95) -> Path:
    """Write an RGB image atomically (a partial file never appears under ``path``).

    Args:
        path: destination; the format follows the extension (``.png``, ``.jpg``, ``.webp``...).
        rgb: ``uint8`` ``(H, W, 3)`` or ``(H, W)``, float in [0, 1], a ``(3, H, W)`` tensor or a PIL image.
        quality: JPEG/WebP quality.
    Returns:
        The path written (mode as ``open()`` gives it under the umask). PNGs are written with zlib level 1:
        about 10 % larger than Pillow's default level 6, three times faster to write.
    """
    path = Path(path)
    arr = _as_rgb_array(rgb)
    # the usual formats without Image.init(), which imports every Pillow plugin (a tenth of a second)
    fmt = _COMMON_FORMATS.get(path.suffix.lower()) or Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ColorlabError(f"{path}: unknown image extension {path.suffix!r}; use .png, .jpg, .webp, ...")
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {"compress_level": 1} if fmt == "PNG" else {}
    atomic_write(path, lambda tmp: Image.fromarray(arr, "RGB").save(tmp, format=fmt, **options))
    return path

