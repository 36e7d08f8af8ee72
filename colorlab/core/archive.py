"""Unpacking downloaded archives (zip, tar, tgz) without trusting them.

Every member is checked before anything is written: a name that is absolute, that climbs out of the
destination (``../``), or a link (symbolic or hard) that points outside it, or a device file, makes the
whole archive *unsafe*: nothing is extracted, the archive is deleted, and the error says so — downloading
it again from the same place would give the same file, so the advice is to check the mirror. Extracted
files get the permissions the user's umask gives (as files the kit writes itself do).
"""
from __future__ import annotations

import gzip
import os
import shutil
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from colorlab.core.errors import ColorlabError
from colorlab.core.files import current_umask

__all__ = ["UnsafeArchive", "unsafe_member", "unpack"]


class UnsafeArchive(ColorlabError):
    """An archive member would land outside the destination (``..``, an absolute path, a link out)."""

    def __init__(self, archive: Path, member: str, why: str):
        super().__init__(f"unsafe archive (path {member!r}: {why}): {Path(archive).name} was not extracted and was "
                         "deleted — it is not the published file; check the mirror it came from (COLORLAB_MIRROR) "
                         "before downloading it again")
        self.member = member


def _outside(name: str) -> bool:
    """True if the relative POSIX path ``name`` (``..`` resolved lexically) leaves its root."""
    depth = 0
    for part in PurePosixPath(name).parts:
        depth += -1 if part == ".." else 0 if part in ("", ".") else 1
        if depth < 0:
            return True
    return False


def _absolute(name: str) -> bool:
    return name.startswith(("/", "\\")) or PurePosixPath(name).is_absolute() or (len(name) > 1 and name[1] == ":")


def unsafe_member(name: str, link: str | None = None, hard: bool = False) -> str | None:
    """Why a member named ``name`` (a link to ``link``) is unsafe, or None if it stays inside the destination."""
    name = name.replace("\\", "/")
    if _absolute(name):
        return "an absolute path"
    if _outside(name):
        return "outside the destination"
    if link is not None:
        link = link.replace("\\", "/")
        if _absolute(link):
            return f"a link to the absolute path {link!r}"
        target = link if hard else str(PurePosixPath(name).parent / link)
        if _outside(target):
            return f"a link out of the destination (to {link!r})"
    return None


def _check_tar(archive: Path, tar: tarfile.TarFile) -> None:
    for m in tar.getmembers():
        why = ("a device or pipe" if not (m.isfile() or m.isdir() or m.issym() or m.islnk())
               else unsafe_member(m.name, m.linkname if (m.issym() or m.islnk()) else None, hard=m.islnk()))
        if why:
            raise UnsafeArchive(archive, m.name, why)


def _check_zip(archive: Path, z: zipfile.ZipFile) -> None:
    for info in z.infolist():
        link = None
        if (info.external_attr >> 16) & 0o170000 == 0o120000:  # a symbolic link: its target is the member's data
            link = z.read(info).decode("utf-8", "replace")
        why = unsafe_member(info.filename, link)
        if why:
            raise UnsafeArchive(archive, info.filename, why)


def _umask_filter(umask: int):
    def keep_inside(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
        member = tarfile.data_filter(member, dest)  # the standard library's own refusal, as a second line
        if member.isdir() or (member.mode or 0) & 0o111:
            return member.replace(mode=0o777 & ~umask, deep=False)
        return member.replace(mode=0o666 & ~umask, deep=False)
    return keep_inside


def unpack(archive: str | os.PathLike, into: str | os.PathLike) -> None:
    """Extract a zip, tar, tgz (or a single gzip'd file) into ``into`` after checking every member.

    Raises :class:`UnsafeArchive` (the archive deleted, nothing extracted) for a hostile member; the
    archive libraries' own errors (truncated, corrupt) pass through for the caller to report.
    """
    archive, into = Path(archive), Path(into)
    into.mkdir(parents=True, exist_ok=True)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                _check_zip(archive, z)
                z.extractall(into)  # zipfile writes through open(): the umask applies
        elif archive.suffix == ".gz" and not tarfile.is_tarfile(archive):
            with gzip.open(archive, "rb") as src, open(into / archive.stem, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            mode = {".tgz": "r:gz", ".gz": "r:gz", ".tar": "r:"}.get(archive.suffix, "r:*")
            with tarfile.open(archive, mode) as tar:
                _check_tar(archive, tar)
                tar.extractall(into, filter=_umask_filter(current_umask()))
    except UnsafeArchive:
        archive.unlink(missing_ok=True)
        raise
