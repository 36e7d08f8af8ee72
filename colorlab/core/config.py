"""Where the kit keeps data, caches and runs.

``COLORLAB_HOME`` (default ``~/.colorlab``) holds ``data/<dataset>/`` (where loaders look
when no ``root`` is given) and ``cache/`` (prepared uint8 caches). ``COLORLAB_DATA`` and
``COLORLAB_CACHE`` override the two folders separately.

Downloads (datasets and pretrained weights, :mod:`colorlab.core.download`): ``COLORLAB_MIRROR`` (a
base URL or a local folder with the published files) replaces every published location, and
``COLORLAB_OFFLINE=1`` forbids any network access.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["home", "data_root", "cache_root", "demo_model"]


def home() -> Path:
    return Path(os.environ.get("COLORLAB_HOME", Path.home() / ".colorlab")).expanduser()


def data_root() -> Path:
    env = os.environ.get("COLORLAB_DATA")
    return Path(env).expanduser() if env else home() / "data"


def cache_root() -> Path:
    env = os.environ.get("COLORLAB_CACHE")
    return Path(env).expanduser() if env else home() / "cache"


def demo_model() -> Path:
    """Where ``make demo`` leaves its trained model (``colorlab colorize``'s default ``--model``)."""
    return home() / "models" / "demo_unet_blend.pt"
