"""Every download the kit makes: datasets and pretrained weights, checked, resumable, mirrorable.

One function, :func:`fetch`, brings one published file (:class:`Remote`: URL, size, checksum)
into a folder:

* ``COLORLAB_MIRROR`` — a base URL (``https://course.example.org/colorlab``) or a local folder —
  replaces the published location; the file name and the checksum stay the same, so a course
  can host one copy for its students and a cluster can work offline;
* ``COLORLAB_OFFLINE=1`` — nothing ever opens a network connection (a local-folder mirror
  still works); the test suite and CI set it;
* a partial file (``<name>.part``) is resumed with an HTTP ``Range`` request;
* the free disk space is checked before starting;
* every failure is ONE :class:`DownloadError` (a :class:`ColorlabError`) naming the URL and
  what to do: no network, HTTP error, an HTML page instead of the file, checksum mismatch,
  truncated file, disk full.

torchvision's ``download_url`` / ``download_and_extract_archive`` do not fit here: they cannot
resume, have no mirror, do not notice an HTML login or error page, and raise raw ``URLError``
/ ``RuntimeError``; torch.hub's ``download_url_to_file`` has the same gaps. Archives are unpacked by
:mod:`colorlab.core.archive`, which checks every member before writing any (:func:`extract`).
"""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
import socket
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

from colorlab.core.archive import UnsafeArchive, unpack
from colorlab.core.errors import ColorlabError
from colorlab.core.logs import progress_bar

__all__ = ["Remote", "DownloadError", "fetch", "extract", "offline", "mirror", "source_of", "human_size",
           "check_free_space"]

OFFLINE_ENV = "COLORLAB_OFFLINE"
MIRROR_ENV = "COLORLAB_MIRROR"
CHUNK = 1 << 20
USER_AGENT = "colorlab (+https://github.com/colorlab)"


class DownloadError(ColorlabError):
    """A download failed; the message names the URL and what to do.

    ``kind``: ``network`` (unreachable, cut, timeout), ``http``, ``html``, ``checksum``,
    ``corrupt``, ``unsafe`` (an archive member outside the destination), ``disk``, ``offline`` or ``missing``
    (not in a local mirror folder).
    """

    def __init__(self, message: str, kind: str = "network"):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Remote:
    """One published file: where it lives, how big it is, how to check it.

    ``sha256`` may be a prefix (torch hub names weight files ``<name>-<first 8+ hex of sha256>.pth``).
    """

    url: str
    size: int | None = None
    md5: str | None = None
    sha256: str | None = None

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


def offline() -> bool:
    """True when ``COLORLAB_OFFLINE`` is set to anything but ``""``/``0``/``false``/``no``."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def mirror() -> str | None:
    """``COLORLAB_MIRROR`` (a base URL or a local folder), or None."""
    m = os.environ.get(MIRROR_ENV, "").strip()
    return m or None


def _is_url(s: str) -> bool:
    return s.split("://", 1)[0].lower() in ("http", "https", "ftp", "file") and "://" in s


def source_of(remote: Remote) -> str:
    """Where ``remote`` is fetched from: the mirror's copy (same file name) or the published URL."""
    m = mirror()
    if m is None:
        return remote.url
    if _is_url(m):
        return m.rstrip("/") + "/" + remote.filename
    return str(Path(m).expanduser() / remote.filename)


def human_size(n: float | None) -> str:
    if n is None:
        return "unknown size"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} TB"


def check_free_space(folder: Path, needed: int, what: str) -> None:
    """Raise :class:`DownloadError` unless ``folder``'s file system has ``needed`` bytes free."""
    folder = Path(folder)
    probe = folder
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed:
        raise DownloadError(f"not enough disk space for {what}: needs {human_size(needed)}, "
                            f"{human_size(free)} free in {probe}; free some space or set COLORLAB_HOME "
                            f"(or pass root=) to a larger disk", kind="disk")


def _hashes(path: Path) -> tuple[str, str]:
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            md5.update(block)
            sha.update(block)
    return md5.hexdigest(), sha.hexdigest()


def _verify(path: Path, remote: Remote) -> str | None:
    """None if ``path`` matches the remote's checksum(s), else a description of the mismatch."""
    md5, sha = _hashes(path)
    if remote.md5 and md5 != remote.md5.lower():
        return f"md5 {md5}, expected {remote.md5}"
    if remote.sha256 and not sha.startswith(remote.sha256.lower()):
        return f"sha256 {sha[:16]}…, expected {remote.sha256[:16]}…"
    return None


def _looks_like_html(head: bytes) -> bool:
    h = head.lstrip()[:256].lower()
    return h.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml")) or b"<html" in h


def _progress(total: int | None, initial: int, name: str, enabled: bool):
    return progress_bar(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1000, desc=name,
                        disable=not enabled, file=sys.stderr, dynamic_ncols=True)


def _disk_full(e: OSError) -> bool:
    return getattr(e, "errno", None) in (errno.ENOSPC, getattr(errno, "EDQUOT", -1))


def fetch(remote: Remote, folder: str | os.PathLike, progress: bool = True, timeout: float = 30.0,
          resume: bool = True) -> Path:
    """Bring ``remote`` into ``folder/<file name>``, checked; return that path.

    A file already there with the right checksum is reused. A ``<name>.part`` left by a cut
    download is resumed (``Range`` request). Raises one :class:`DownloadError` per failure.

    Args:
        timeout: seconds to wait for the server to answer / send (a short one makes
            ``pretrained="download"`` fall back quickly).
    """
    from filelock import FileLock

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / remote.filename
    # Several processes (torchrun ranks, parallel notebooks) may want the same file: one fetches
    # it, the others wait and then find it there.
    locks = Path(tempfile.gettempdir()) / "colorlab-locks"  # not in the data folder: nothing left there
    locks.mkdir(exist_ok=True)
    key = hashlib.sha256(str(final.resolve()).encode()).hexdigest()[:24]
    with FileLock(str(locks / f"{key}.lock")):
        return _fetch_locked(remote, final, progress, timeout, resume)


def _fetch_locked(remote: Remote, final: Path, progress: bool, timeout: float, resume: bool) -> Path:
    src = source_of(remote)
    if final.is_file():
        if _verify(final, remote) is None:
            return final
        final.unlink()  # a stale or corrupt copy: fetch it again
    part = final.with_name(final.name + ".part")
    if not _is_url(src):
        _copy_local(Path(src), part, remote, progress)
    else:
        if offline():
            raise DownloadError(f"not downloading {src}: COLORLAB_OFFLINE is set (nothing may use the network); "
                                f"unset it, or set COLORLAB_MIRROR to a folder holding {remote.filename}, "
                                f"or put the file at {final}", kind="offline")
        _http_download(src, part, remote, progress, timeout, resume)
    bad = _verify(part, remote)
    if bad is not None:
        part.unlink(missing_ok=True)
        raise DownloadError(f"checksum mismatch for {src} ({bad}): the file is corrupt or not the published one; "
                            f"it was deleted — download again, or fix the mirror's copy", kind="checksum")
    os.replace(part, final)
    return final


def _copy_local(path: Path, part: Path, remote: Remote, progress: bool) -> None:
    if not path.is_file():
        raise DownloadError(f"{path} does not exist: the mirror folder COLORLAB_MIRROR={mirror()} must hold "
                            f"{remote.filename} (published at {remote.url})", kind="missing")
    size = path.stat().st_size
    check_free_space(part.parent, size, remote.filename)
    try:
        with open(path, "rb") as src, open(part, "wb") as dst, _progress(size, 0, remote.filename, progress) as bar:
            for block in iter(lambda: src.read(CHUNK), b""):
                dst.write(block)
                bar.update(len(block))
    except OSError as e:
        part.unlink(missing_ok=True)
        if _disk_full(e):
            raise DownloadError(f"disk full while copying {path} into {part.parent}; free some space and "
                                f"run it again", kind="disk") from None
        raise DownloadError(f"cannot copy {path} ({e}); check the mirror folder", kind="missing") from None


def _http_download(url: str, part: Path, remote: Remote, progress: bool, timeout: float, resume: bool) -> None:
    have = part.stat().st_size if (resume and part.is_file()) else 0
    if not resume:
        part.unlink(missing_ok=True)
    if remote.size is not None:
        check_free_space(part.parent, max(remote.size - have, 0), remote.filename)
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"

    def retry_hint() -> str:
        return f"run the same command again to resume ({human_size(have)} kept in {part})" if resume else "run it again"

    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # the partial file is already complete (or longer than the file)
            return
        raise DownloadError(f"HTTP error {e.code} ({e.reason}) for {url}; check the URL"
                            f"{' and COLORLAB_MIRROR' if mirror() else ''}, or try again later", kind="http") from None
    except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, HTTPException, OSError) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(f"cannot reach {url} ({reason}): no network? Check the connection or proxy, or set "
                            f"COLORLAB_MIRROR to a course mirror or a local folder with {remote.filename}") from None
    with response:
        ctype = (response.headers.get("Content-Type") or "").lower()
        if "text/html" in ctype:
            raise DownloadError(f"{url} returned an HTML page, not {remote.filename} (a login, error or moved page); "
                                f"open the URL in a browser, or download the file by hand into a folder and set "
                                f"COLORLAB_MIRROR to that folder", kind="html")
        append = have and response.status == 206
        length = response.headers.get("Content-Length")
        expected = (int(length) + (have if append else 0)) if length is not None else remote.size
        if not append:
            have = 0
        if expected is not None:
            check_free_space(part.parent, max(expected - have, 0), remote.filename)
        first = True
        try:
            bar = _progress(expected, have, remote.filename, progress)
            with open(part, "ab" if append else "wb") as out, bar:
                while True:
                    block = response.read(CHUNK)
                    if not block:
                        break
                    if first and not append and _looks_like_html(block):
                        raise DownloadError(f"{url} returned an HTML page, not {remote.filename}; open the URL in a "
                                            f"browser, or download the file by hand into a folder and set "
                                            f"COLORLAB_MIRROR to that folder", kind="html")
                    first = False
                    out.write(block)
                    have += len(block)
                    bar.update(len(block))
        except DownloadError:
            part.unlink(missing_ok=True)
            raise
        except OSError as e:
            if _disk_full(e):
                part.unlink(missing_ok=True)
                raise DownloadError(f"disk full while downloading {url} into {part.parent}; the partial file was "
                                    f"deleted — free some space and run it again", kind="disk") from None
            raise DownloadError(f"connection to {url} lost after {human_size(have)} ({e}); {retry_hint()}") from None
        except (HTTPException, socket.timeout, TimeoutError) as e:
            raise DownloadError(f"connection to {url} lost after {human_size(have)} "
                                f"({type(e).__name__}); {retry_hint()}") from None
    if expected is not None and have < expected:
        raise DownloadError(f"download of {url} cut short: {human_size(have)} of {human_size(expected)}; "
                            f"run the same command again to resume ({part})")


def extract(archive: Path, into: Path) -> None:
    """Unpack a zip / tar / tgz archive into ``into``, every member checked first (:mod:`colorlab.core.archive`).

    A hostile archive (a member outside ``into``, an absolute path, a link out) raises a
    :class:`DownloadError` of kind ``unsafe`` — "unsafe archive (path …)", nothing extracted, the advice
    is to check the mirror; a truncated or corrupt one is deleted and raises kind ``corrupt``. The caller
    extracts into a temporary folder and removes it on failure, so nothing half-extracted is left behind.
    """
    import tarfile
    import zipfile
    import zlib

    try:
        unpack(archive, into)
    except UnsafeArchive as e:
        raise DownloadError(str(e), kind="unsafe") from None
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, RuntimeError, ValueError) as e:
        archive.unlink(missing_ok=True)
        why = " ".join(str(e).split())  # one line, whatever the archive library said
        raise DownloadError(f"{archive.name} is truncated or corrupt ({type(e).__name__}: {why}); it was deleted — "
                            f"download it again", kind="corrupt") from None
    except OSError as e:
        if _disk_full(e):
            raise DownloadError(f"disk full while extracting {archive.name} into {into.parent}; free some space "
                                f"and run it again", kind="disk") from None
        archive.unlink(missing_ok=True)
        raise DownloadError(f"{archive.name} is truncated or corrupt ({e}); it was deleted — download it again",
                            kind="corrupt") from None
