"""Hostile archives (#26 item 5): a member outside the destination, an absolute path or a link out is named
"unsafe archive (path …)", nothing is extracted, the archive is deleted and the advice is to check the mirror;
a good archive is extracted with the modes the umask gives."""
from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile

import pytest

from colorlab.core.archive import unsafe_member
from colorlab.core.download import DownloadError, extract


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, kind, value in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size, info.mode = len(value), 0o644
                tar.addfile(info, io.BytesIO(value))
            else:
                info.type, info.linkname = (tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE), value
                tar.addfile(info)
    return path


HOSTILE = {  # members, and the one the message must name
    "dotdot": ([("data/ok.txt", "file", b"ok"), ("data/../../evil.txt", "file", b"evil")], "data/../../evil.txt"),
    "absolute": ([("data/ok.txt", "file", b"ok"), ("{tmp}/abs_evil.txt", "file", b"evil")], "{tmp}/abs_evil.txt"),
    "symlink_out": ([("data/ok.txt", "file", b"ok"), ("data/link", "symlink", "../../outside"),
                     ("data/link/evil.txt", "file", b"evil")], "data/link"),
    "hardlink_out": ([("data/ok.txt", "file", b"ok"), ("data/hard", "hardlink", "../secret")], "data/hard"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_tar_is_refused_whole(tmp_path, case):
    members = [(n.format(tmp=tmp_path), k, v) for n, k, v in HOSTILE[case][0]]
    bad = HOSTILE[case][1].format(tmp=tmp_path)
    archive = _tar(tmp_path / "flowers.tgz", members)
    dest = tmp_path / "staging" / "content"
    dest.mkdir(parents=True)
    with pytest.raises(DownloadError) as err:
        extract(archive, dest)
    msg = str(err.value)
    assert err.value.kind == "unsafe" and msg.startswith("unsafe archive (path ") and "mirror" in msg, msg
    assert f"(path {bad!r}" in msg and "truncated" not in msg
    assert list(dest.iterdir()) == [], "something was extracted"
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "abs_evil.txt").exists()
    assert not archive.exists(), "the hostile archive is kept"


def test_hostile_zip_is_refused(tmp_path):
    archive = tmp_path / "tiny.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("tiny/ok.txt", "ok")
        z.writestr("../evil.txt", "evil")
    dest = tmp_path / "content"
    with pytest.raises(DownloadError, match=r"^unsafe archive \(path '\.\./evil\.txt'"):
        extract(archive, dest)
    assert not (tmp_path / "evil.txt").exists() and list(dest.iterdir()) == []


def test_member_rules():
    assert unsafe_member("a/b/../c.txt") is None and unsafe_member("a/link", "../b") is None
    assert unsafe_member("a/link", "../../b") and unsafe_member("/etc/passwd") and unsafe_member("C:/x")
    assert unsafe_member("a/hard", "b", hard=True) is None and unsafe_member("a/hard", "../b", hard=True)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_good_archive_extracts_with_the_umask(tmp_path, umask):
    archive = _tar(tmp_path / "good.tgz", [("data/a.txt", "file", b"a"), ("data/sub/b.txt", "file", b"b"),
                                           ("data/link", "symlink", "sub/b.txt")])
    old = os.umask(umask)
    try:
        extract(archive, tmp_path / "out")
    finally:
        os.umask(old)
    out = tmp_path / "out" / "data"
    assert (out / "link").read_text() == "b"
    assert stat.S_IMODE((out / "a.txt").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((out / "sub").stat().st_mode) == 0o777 & ~umask
