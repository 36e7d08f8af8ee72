"""The hint painter: click on a gray photo to drop colour hints and watch the hint model recolour it.

All state (the photo, the hints, the undo history, the current colour and patch size) and every
callback live in :class:`HintPainter` as plain Python, so tests drive it without a browser:
``painter.click(x, y)`` adds or removes a hint and re-colorizes. The ipywidgets view (built on
first access of :attr:`HintPainter.widget`) only forwards events: clicks on the photo come from
``ipyevents`` (``dataX``/``dataY`` are pixel coordinates of the displayed image). An error inside any of the
view's callbacks (an unreadable upload, say) is shown in the status line under the photos
(:func:`colorlab.widgets._common.shows_errors`), not only in JupyterLab's log.
"""
from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from colorlab.core.color import LAB, denormalize_l, gray_rgb, lab_to_rgb, rgb_to_lab
from colorlab.core.config import home
from colorlab.core.errors import ColorlabError
from colorlab.core.io import load_image, save_image
from colorlab.data.base import fit_square
from colorlab.data.sample import sample_photos
from colorlab.hints.encoding import HINT_CHANNELS, Hint, encode_hints
from colorlab.inference.colorize import load_colorizer
from colorlab.inference.postprocess import enhance
from colorlab.profiles.palette import suggest_palette, to_hex
from colorlab.core.speed import autocast_dtype
from colorlab.widgets._common import array_png as png_bytes, shows_errors

__all__ = ["HintPainter", "parse_color", "gray_display"]


def parse_color(color) -> tuple[int, int, int]:
    """``"#rrggbb"`` / ``"#rgb"`` / ``(r, g, b)`` (0..255) → an RGB tuple."""
    if isinstance(color, str):
        s = color.strip().lstrip("#")
        if len(s) == 3:
            s = "".join(c * 2 for c in s)
        if len(s) != 6:
            raise ColorlabError(f"not a colour: {color!r} (use '#rrggbb' or an (r, g, b) tuple)")
        try:
            return tuple(int(s[i:i + 2], 16) for i in (0, 2, 4))
        except ValueError:
            raise ColorlabError(f"not a colour: {color!r} (use '#rrggbb' or an (r, g, b) tuple)") from None
    rgb = tuple(int(v) for v in color)
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise ColorlabError(f"an RGB colour needs three values in 0..255, got {color!r}")
    return rgb


def _rgb_to_ab(rgb: tuple[int, int, int]) -> tuple[float, float]:
    lab = rgb_to_lab(torch.tensor(rgb, dtype=torch.float32).view(3, 1, 1) / 255.0)
    return float(lab[1, 0, 0]), float(lab[2, 0, 0])


def _square_photo(image, size: int) -> np.ndarray:
    """A path, sample name, PIL image or array → uint8 RGB ``(size, size, 3)`` (centre crop + resize)."""
    if isinstance(image, (str, Path)):
        path = Path(image)
        if not path.exists():
            samples = dict(sample_photos("all"))
            if str(image) not in samples:
                raise ColorlabError(f"{image}: no such file, and not a sample photo ({', '.join(sorted(samples))})")
            path = samples[str(image)]
        image = load_image(path)
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.dtype != np.uint8:
        raise ColorlabError(f"the photo must be uint8 RGB (H, W, 3) or gray (H, W), got {arr.dtype} {arr.shape}")
    return np.asarray(fit_square(Image.fromarray(np.ascontiguousarray(arr[..., :3])), size))


def gray_display(L: torch.Tensor) -> np.ndarray:
    """L ``(1, 1, H, W)`` (0..100) → the gray photo as shown, uint8 ``(H, W, 3)``: ``lab_to_rgb(L, 0, 0)``.

    The sRGB gray with exactly that lightness (L = 50 shows as 0.47, not as 0.5 or 0.73).
    """
    return (gray_rgb(L.float())[0] * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


class HintPainter:
    """Interactive user-guided colorization of one photo with a hint model (the interface of Zhang et al. 2017 and Benabla et al.).

    Args:
        model: a hint model (``in_channels = 4``) or a checkpoint path of one.
        image: the photo: a path, a sample-photo name, or a uint8 array (default: a sample photo).
        photo_size: side of the (square, centre-cropped) photo shown and colorized.
        work_size: side the model runs at (default: ``min(photo_size, 128)``: only the smooth ab is
            predicted there and upsampled, L keeps the photo's resolution); rounded to the model's stride.
        color: the first hint colour; patch_size: hint side in photo pixels.
        enhance: optional ``dict(gamma=, saturation=, lightness=)`` for :func:`colorlab.inference.postprocess.enhance`.
        device: where the model runs (``"auto"``).
        threads: CPU threads for one update (default 1: a single small image is latency-bound, and on
            a busy machine 2 OpenMP threads waiting for each other were 3-7× slower here; None keeps
            torch's setting).

    State you can read: ``hints`` (list of :class:`~colorlab.hints.encoding.Hint`), ``result`` (uint8
    ``(H, W, 3)`` colorization), ``palette`` (suggested colours), ``updates`` (count),
    ``last_update_ms``. Callbacks: :meth:`click`, :meth:`undo`, :meth:`clear`, :meth:`set_color`,
    :meth:`set_patch_size`, :meth:`set_image`, :meth:`load_bytes`, :meth:`save`.
    """

    def __init__(self, model, image=None, photo_size: int = 256, work_size: int | None = None,
                 color="#e03c31", patch_size: int = 7, enhance: dict | None = None, device="auto",
                 threads: int | None = 1):
        net, _ = load_colorizer(model, device)
        if getattr(net, "in_channels", None) != 1 + HINT_CHANNELS:
            raise ColorlabError(f"the hint painter needs a hint model (in_channels=4), got "
                                f"in_channels={getattr(net, 'in_channels', '?')}; train one with colorlab.training.hints.train_hint_model")
        self.model = net.eval().to(memory_format=torch.channels_last)
        self.device = next(net.parameters()).device
        self.photo_size = int(photo_size)
        stride = int(getattr(net, "stride", 8))
        self.work_size = max(stride, int(work_size or min(photo_size, 128)) // stride * stride)
        self.enhance = enhance
        self.threads = threads
        self.hints: list[Hint] = []
        self._history: list[list[Hint]] = []
        self.updates = 0
        self.last_update_ms = float("nan")
        self.saved: Path | None = None
        self._view = None
        self.color = parse_color(color)
        self.patch_size = 1
        self.set_patch_size(patch_size)
        if image is None:
            image = sample_photos("val")[0][1]
        self.set_image(image)

    # ------------------------------------------------------------------ state changes
    def set_image(self, image, name: str | None = None) -> None:
        """Show a new photo (its colour is ignored); clears the hints and the history."""
        rgb = _square_photo(image, self.photo_size)
        self.name = name or (Path(image).stem if isinstance(image, (str, Path)) else "photo")
        self.photo = rgb
        x = torch.from_numpy(rgb.copy()).to(self.device).permute(2, 0, 1)[None]
        self._L_full, _ = LAB.split(x)                                    # (1, 1, H, W), normalised L
        self._L_in = F.interpolate(self._L_full, size=(self.work_size,) * 2, mode="area")
        self.gray = gray_display(denormalize_l(self._L_full))
        self.hints, self._history = [], []
        self.update()
        self.palette = suggest_palette(self.result)
        self._refresh_view(palette=True)

    def click(self, x: float, y: float) -> None:
        """A click at photo pixel ``(x, y)``: removes the hint under it, else drops one in the current colour."""
        if not (0 <= x < self.photo_size and 0 <= y < self.photo_size):
            return
        self._history.append(list(self.hints))
        for i in range(len(self.hints) - 1, -1, -1):
            if self.hints[i].contains(x, y):
                del self.hints[i]
                break
        else:
            self.hints.append(Hint(int(x), int(y), self.patch_size, _rgb_to_ab(self.color)))
        self.update()

    def add_hint(self, x: float, y: float, color=None, size: int | None = None) -> None:
        """Drop a hint (never removes one), e.g. from code or a saved session."""
        self._history.append(list(self.hints))
        rgb = parse_color(color) if color is not None else self.color
        self.hints.append(Hint(int(x), int(y), int(size or self.patch_size), _rgb_to_ab(rgb)))
        self.update()

    def undo(self) -> None:
        """Go back one change (add, remove or clear)."""
        if self._history:
            self.hints = self._history.pop()
            self.update()

    def clear(self) -> None:
        """Remove every hint (undoable)."""
        if self.hints:
            self._history.append(list(self.hints))
            self.hints = []
            self.update()

    def set_color(self, color) -> None:
        """The colour of the next hints: ``"#rrggbb"`` or ``(r, g, b)``."""
        self.color = parse_color(color)
        if self._view is not None and self._view["picker"].value != to_hex(self.color):
            self._view["picker"].value = to_hex(self.color)

    def set_patch_size(self, size: int) -> None:
        """Side of the next hints' square patch, in photo pixels (>= 1)."""
        size = int(size)
        if size < 1:
            raise ColorlabError(f"patch size must be >= 1 pixel, got {size}")
        self.patch_size = size

    def load_bytes(self, data: bytes, name: str = "upload") -> None:
        """An uploaded photo file's bytes (any format Pillow reads)."""
        try:
            im = Image.open(io.BytesIO(bytes(data)))
            im.load()
        except Exception as e:  # noqa: BLE001 - one clear line for any unreadable upload
            raise ColorlabError(f"{name}: not an image Pillow can read ({type(e).__name__})") from None
        self.set_image(np.asarray(im.convert("RGB")), name=Path(name).stem)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the current colorization (PNG/JPEG by extension; default ``$COLORLAB_HOME/hints/<name>_hints.png``)."""
        path = Path(path) if path is not None else home() / "hints" / f"{self.name}_hints.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.saved = save_image(path, self.result)
        if self._view is not None:
            self._view["status"].value = self._status() + f" · saved {self.saved}"
        return self.saved

    # ------------------------------------------------------------------ the model
    def hint_channels(self) -> torch.Tensor:
        """The current hints encoded at the working size ``(3, w, w)``."""
        return encode_hints(self.hints, self.work_size, self.work_size, (self.photo_size,) * 2, self.device)

    @torch.no_grad()
    def update(self) -> np.ndarray:
        """Re-colorize with the current hints; returns (and keeps in ``result``) uint8 ``(H, W, 3)``."""
        t0 = time.perf_counter()
        saved = torch.get_num_threads()
        if self.threads and self.device.type == "cpu":
            torch.set_num_threads(self.threads)
        try:
            x = torch.cat([self._L_in, self.hint_channels()[None]], 1).contiguous(memory_format=torch.channels_last)
            dtype = autocast_dtype(self.device)  # the first call may time a few training steps (colorlab.core.speed)
            with torch.autocast(self.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
                ab = self.model(x).float()
            rgb = LAB.join(self._L_full, ab)[0]
            out = (rgb.clamp(0, 1) * 255).round().to(torch.uint8)
        finally:
            torch.set_num_threads(saved)
        if self.enhance:
            out = enhance(out, **self.enhance)
        self.result = out.permute(1, 2, 0).cpu().numpy()
        self.updates += 1
        self._refresh_view()
        self.last_update_ms = (time.perf_counter() - t0) * 1000
        if self._view is not None:
            self._view["status"].value = self._status()
        return self.result

    def marked_gray(self) -> np.ndarray:
        """The gray photo with every hint drawn as a square of its colour in a black-and-white frame."""
        img = self.gray.copy()
        H, W = img.shape[:2]
        for h in self.hints:
            r = max(2, (h.size + 1) // 2)
            y0, y1, x0, x1 = max(0, h.y - r - 1), min(H, h.y + r + 2), max(0, h.x - r - 1), min(W, h.x + r + 2)
            img[y0:y1, x0:x1] = 0
            img[y0 + 1:y1 - 1, x0 + 1:x1 - 1] = 255
            lab = torch.tensor([60.0, *h.ab]).view(3, 1, 1)
            col = (lab_to_rgb(lab)[:, 0, 0] * 255).round().to(torch.uint8).numpy()
            img[max(0, h.y - r + 1):min(H, h.y + r), max(0, h.x - r + 1):min(W, h.x + r)] = col
        return img

    def _status(self) -> str:
        return (f"{len(self.hints)} hint{'s' if len(self.hints) != 1 else ''} · update {self.updates} · "
                f"{self.last_update_ms:.0f} ms")

    # ------------------------------------------------------------------ the ipywidgets view
    @property
    def widget(self):
        """The ipywidgets view (built once): gray photo | colorization, palette, controls, status."""
        if self._view is None:
            self._view = self._build_view()
            self._refresh_view(palette=True)
            self._view["status"].value = self._status()
        return self._view["box"]

    def _build_view(self) -> dict:
        import ipywidgets as W
        from ipyevents import Event

        status = W.Label()
        status.add_class("colorlab-hint-status")
        guard = shows_errors(status)  # an error in any callback shows in the status line (not only in the log)
        px = f"{self.photo_size}px"
        photo = W.Image(format="png", width=px, height=px)
        photo.add_class("colorlab-hint-photo")
        result = W.Image(format="png", width=px, height=px)
        result.add_class("colorlab-hint-result")
        clicks = Event(source=photo, watched_events=["click"], prevent_default_action=True)

        @guard
        def clicked(e):
            self.click(e.get("dataX", e.get("relativeX", -1)), e.get("dataY", e.get("relativeY", -1)))
        clicks.on_dom_event(clicked)
        picker = W.ColorPicker(value=to_hex(self.color), description="colour", concise=False)
        picker.observe(guard(lambda ch: self.set_color(ch["new"])), names="value")
        size = W.IntSlider(value=self.patch_size, min=1, max=25, description="patch (px)")
        size.observe(guard(lambda ch: self.set_patch_size(ch["new"])), names="value")
        undo, clear, save = W.Button(description="undo", icon="undo"), W.Button(description="clear"), \
            W.Button(description="save", icon="save")
        undo.on_click(guard(lambda _: self.undo()))
        clear.on_click(guard(lambda _: self.clear()))
        save.on_click(guard(lambda _: self.save()))
        names = [n for n, _ in sample_photos("all")]
        samples = W.Dropdown(options=["(choose)"] + names, description="sample")

        @guard
        def pick_sample(ch):
            if ch["new"] in names:
                self.set_image(dict(sample_photos("all"))[ch["new"]], name=ch["new"])
        samples.observe(pick_sample, names="value")
        upload = W.FileUpload(accept="image/*", multiple=False, description="upload photo")

        @guard
        def uploaded(ch):
            if ch["new"]:
                f = ch["new"][0]
                try:
                    self.load_bytes(f["content"], f.get("name", "upload"))
                finally:
                    upload.value = ()  # forget the file, so that choosing the same one again is seen
        upload.observe(uploaded, names="value")
        swatches = W.HBox()
        help_text = W.HTML("<b>Click</b> the gray photo to drop a hint; click a hint again to remove it.")
        box = W.VBox([help_text, W.HBox([photo, result]), W.HBox([W.Label("palette:"), swatches]),
                      W.HBox([picker, size]), W.HBox([undo, clear, save, samples, upload]), status])
        return dict(box=box, photo=photo, result=result, events=clicks, picker=picker, size=size,
                    swatches=swatches, status=status, samples=samples, upload=upload, guard=guard)

    def _refresh_view(self, palette: bool = False) -> None:
        v = self._view
        if v is None:
            return
        v["photo"].value = png_bytes(self.marked_gray())
        v["result"].value = png_bytes(self.result)
        if palette and hasattr(self, "palette"):
            import ipywidgets as W
            buttons = []
            for hx in self.palette.hex:
                b = W.Button(tooltip=hx, layout=W.Layout(width="32px", height="24px"))
                b.style.button_color = hx
                b.on_click(v["guard"](lambda _, c=hx: self.set_color(c)))
                buttons.append(b)
            v["swatches"].children = buttons

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
