"""Small helpers the widgets share: figures and arrays as PNG bytes for ``ipywidgets.Image``, and
:func:`shows_errors`, which puts an error raised inside a widget callback into the widget's status line."""
from __future__ import annotations

import functools
import io
import logging

import numpy as np

from colorlab.core.errors import ColorlabError

__all__ = ["figure_png", "array_png", "shows_errors", "error_text"]

log = logging.getLogger("colorlab.widgets")


def figure_png(fig, dpi: int = 90) -> bytes:
    """A matplotlib figure → PNG bytes (the figure is closed: widgets redraw often)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def array_png(rgb: np.ndarray) -> bytes:
    """uint8 ``(H, W, 3)`` → PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def error_text(e: BaseException) -> str:
    """One line for the status label: a :class:`ColorlabError`'s own message, else ``Type: message``."""
    msg = str(e) if isinstance(e, ColorlabError) else f"{type(e).__name__}: {e}"
    return "⚠ " + (msg.splitlines()[0] if msg else type(e).__name__)


def shows_errors(status):
    """Decorator for widget callbacks: an exception raised inside the callback goes to ``status``.

    ipywidgets runs button, ``observe`` and ipyevents callbacks outside any cell, so JupyterLab writes
    their exceptions only to its log console, where a student never looks: the widget seems to do
    nothing. Wrapped in ``shows_errors(status)``, the callback returns None instead of raising and the
    error's one-line message is written to ``status.value`` (any object with a ``value``, e.g. an
    ``ipywidgets.Label``; or a zero-argument function returning it, for a label built later).
    Errors that are not :class:`~colorlab.core.errors.ColorlabError` (bugs, not bad input) are also logged
    with their traceback on the ``colorlab.widgets`` logger.

    Use it on the view's callbacks only: the widget's methods called from code still raise.
    """
    def label():
        return status() if callable(status) else status

    def wrap(callback):
        @functools.wraps(callback)
        def guarded(*args, **kwargs):
            try:
                return callback(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - every error belongs in the status line, not the log
                if not isinstance(e, ColorlabError):
                    log.error("error in widget callback %s", getattr(callback, "__name__", callback), exc_info=True)
                target = label()
                if target is not None:
                    target.value = error_text(e)
                return None
        return guarded
    return wrap
