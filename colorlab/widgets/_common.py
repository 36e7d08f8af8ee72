"""Small helpers the widgets share: figures and arrays as PNG bytes for ``ipywidgets.Image``."""
from __future__ import annotations

import io

import numpy as np

__all__ = ["figure_png", "array_png"]


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
