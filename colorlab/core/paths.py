"""Checks of the files and folders a command was given, made before anything heavy is imported.

``colorlab colorize missing/ --out /read-only`` should answer in a fraction of a second, not after
torch and fastai have loaded: the command line calls these first (:mod:`colorlab.cli`). Each raises
one :class:`~colorlab.core.errors.ColorlabError` naming the path and what is wrong with it.
"""
from __future__ import annotations

import os
from pathlib import Path

from colorlab.core.errors import ColorlabError

__all__ = ["readable_file", "readable_folder", "readable_path", "writable_folder"]


def readable_file(path, what: str = "file") -> Path:
    """``path`` if it is a file this process can read."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ColorlabError(f"{what} {p}: no such file")
    if not p.is_file():
        raise ColorlabError(f"{what} {p}: not a file")
    if not os.access(p, os.R_OK):
        raise ColorlabError(f"{what} {p}: not readable (permission denied)")
    return p


def readable_folder(path, what: str = "folder") -> Path:
    """``path`` if it is a folder this process can list and read."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ColorlabError(f"{what} {p}: no such folder")
    if not p.is_dir():
        raise ColorlabError(f"{what} {p}: not a folder")
    if not os.access(p, os.R_OK | os.X_OK):
        raise ColorlabError(f"{what} {p}: not readable (permission denied)")
    return p


def readable_path(path, what: str = "input") -> Path:
    """``path`` if it is a readable file or folder."""
    p = Path(path).expanduser()
    return readable_folder(p, what) if p.is_dir() else readable_file(p, what)


def writable_folder(path, what: str = "output folder") -> Path:
    """``path``, created if missing, if this process can write into it."""
    p = Path(path).expanduser()
    try:
        p.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ColorlabError(f"{what} {p}: a file is in the way (not a folder)") from None
    except OSError as e:
        raise ColorlabError(f"{what} {p}: cannot be created ({e.strerror})") from None
    if not p.is_dir():
        raise ColorlabError(f"{what} {p}: not a folder")
    if not os.access(p, os.W_OK | os.X_OK):
        raise ColorlabError(f"{what} {p}: not writable (permission denied)")
    return p
