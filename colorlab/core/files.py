"""Writing files the way every part of the kit does: atomically, under a name no other writer uses, and
with the permissions the user's umask gives.

:func:`atomic_write` is the one atomic writer (checkpoints, images, caches, reports, JSON): the data
goes to a temporary file next to the destination, named after this process and a random token (two
notebooks preparing the same data never write into one file), then is renamed onto the destination, so
a reader sees the old file or the new one, never half of one. The temporary file is created like any
``open(path, "w")`` would create it — mode ``0o666`` minus the umask — so a course's shared folder or a
web server can read what the kit writes when the umask allows it (``tempfile.mkstemp`` would make it
``0o600``).
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

__all__ = ["atomic_write", "temp_name", "current_umask"]


def temp_name(path: str | os.PathLike) -> Path:
    """A temporary name next to ``path`` that no other process or call uses: ``.<name>.<pid>-<random>.tmp``."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp")


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(tmp_path)`` then rename onto ``path``: readers see the old file or the new, never half.

    ``write`` gets the path of an empty file it may open and overwrite (``torch.save``, ``Path.write_text``,
    ``fig.savefig``, ``DataFrame.to_csv`` …). The file written has the mode a plain ``open()`` gives.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # the umask applies, as for open()
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def current_umask() -> int:
    """The process's umask, read without changing it (``/proc/self/status``), else by setting it back at once."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
