"""Pretrained weight files (torchvision's ImageNet backbones, the LPIPS and FID networks).

``pretrained`` takes one of three modes (:func:`pretrained_mode`):

* ``"download"`` (``True`` in older configs): fetch the published file into the torch hub cache
  (``torch.hub.get_dir()/checkpoints``, where torchvision looks) through
  :func:`colorlab.core.download.fetch` — ``COLORLAB_MIRROR``, resume, sha256 check — with a short
  connection timeout; if the network is unreachable (or ``COLORLAB_OFFLINE=1``) it falls back
  to ``"disk"`` with a warning. A file whose checksum does not match is an error.
* ``"disk"``: only a file already in the torch hub cache; nothing touches the network.
* ``"none"`` (``False``): no pretrained weights, random init.

The checksum is torch hub's convention: a weight file is named ``<name>-<sha256 prefix>.pth``
and its sha256 must start with that prefix. :data:`TRUSTED_SHA256` can give a full hash for a
file name instead.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch

from colorlab.core.download import DownloadError, Remote, fetch, offline, source_of
from colorlab.core.errors import ColorlabError

__all__ = ["PRETRAINED_MODES", "pretrained_mode", "hub_checkpoints", "weights_remote", "obtain_weights",
           "TRUSTED_SHA256", "CONNECT_TIMEOUT"]

PRETRAINED_MODES = ("download", "disk", "none")
CONNECT_TIMEOUT = 10.0  # seconds: pretrained="download" should not hang a notebook when the network is down
#: file name → full sha256, for files whose name does not carry a hash prefix (or to pin one)
TRUSTED_SHA256: dict[str, str] = {}
_HASH_IN_NAME = re.compile(r"-([a-f0-9]{6,})\.")


def pretrained_mode(value) -> str:
    """Normalise a ``pretrained`` setting: ``True``/``"true"`` → ``"download"``, ``False``/``None`` → ``"none"``."""
    if value is None or value is False:
        return "none"
    if value is True:
        return "download"
    if isinstance(value, str):
        v = value.strip().lower()
        if v in PRETRAINED_MODES:
            return v
        if v in ("true", "yes", "1", "on"):
            return "download"
        if v in ("false", "no", "0", "off", ""):
            return "none"
    raise ColorlabError(f"pretrained must be one of {', '.join(PRETRAINED_MODES)} (or true/false), got {value!r}")


def hub_checkpoints() -> Path:
    """The folder torchvision and torch.hub keep downloaded weights in."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def weights_remote(url: str) -> Remote:
    """The :class:`~colorlab.core.download.Remote` for a published weight file, with its checksum."""
    name = url.rsplit("/", 1)[-1]
    if name in TRUSTED_SHA256:
        return Remote(url, sha256=TRUSTED_SHA256[name])
    m = _HASH_IN_NAME.search(name)
    return Remote(url, sha256=m.group(1) if m else None)


def obtain_weights(url: str, mode: str, what: str, progress: bool = True) -> tuple[Path | None, str]:
    """The local file of the weights published at ``url`` under ``mode``, or ``(None, why not)``.

    Raises :class:`~colorlab.core.download.DownloadError` when the served file fails its checksum or
    the disk is full (the user must act); network trouble falls back to the disk with a warning.
    """
    mode = pretrained_mode(mode)
    remote = weights_remote(url)
    path = hub_checkpoints() / remote.filename
    if mode == "none":
        return None, "pretrained='none'"
    note = ""
    if mode == "download" and not path.is_file():
        if offline() and "://" in source_of(remote):
            note = " (COLORLAB_OFFLINE is set: nothing was downloaded)"
        else:
            try:
                return fetch(remote, path.parent, progress=progress, timeout=CONNECT_TIMEOUT), "downloaded"
            except DownloadError as e:
                if e.kind in ("checksum", "disk", "corrupt"):
                    raise
                warnings.warn(f"{what}: download failed ({e}); using what is on disk", stacklevel=3)
                note = " (the download failed)"
    if path.is_file():
        return path, "on disk"
    return None, f"not found at {path}{note}"
