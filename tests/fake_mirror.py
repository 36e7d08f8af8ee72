"""A fake course mirror for tests that download: fake archives under the real file names, and the one
thing patched to accept them — the download recipes' checksums (and sizes), in the test's process or,
for notebook kernels started by a test, inside each kernel.

The recipes of :mod:`colorlab.data.remote` carry the published checksums, which a fake archive cannot
match. Tests in one process patch ``remote.RECIPES`` with ``monkeypatch`` (tests/test_downloads.py). A
notebook runs in a kernel of its own: :func:`kernel_env` writes the fakes' checksums to a JSON file and an
IPython startup file (in a fresh ``IPYTHONDIR``) that calls :func:`install_in_kernel`, which makes the same
patch there. Nothing in the package changes: a real user's download is checked against the published
checksums as always.

``install_in_kernel`` also lifts ``COLORLAB_OFFLINE`` for the length of a dataset download whose source is
the loopback mirror (as the ``served`` fixture does for a whole in-process test), and for nothing else:
pretrained-weight downloads in the other notebooks stay offline.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

FAKE_RECIPES_ENV = "COLORLAB_TEST_FAKE_RECIPES"


def tar_bytes(folder: Path, arcroot: Path, mode: str = "w:gz") -> bytes:
    """``folder`` (recursively) as a tar archive in memory, member names relative to ``arcroot``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for p in sorted(folder.rglob("*")):
            tar.add(p, arcname=str(p.relative_to(arcroot)), recursive=False)
    return buf.getvalue()


def flowers_blobs(base: Path) -> dict[str, bytes]:
    """The three published files of Oxford Flowers 102, made from a fake copy ``base`` (``flowers-102/``)."""
    return {"102flowers.tgz": tar_bytes(base / "jpg", base),
            "imagelabels.mat": (base / "imagelabels.mat").read_bytes(),
            "setid.mat": (base / "setid.mat").read_bytes()}


def fake_recipe(recipe, blobs: dict[str, bytes]):
    """``recipe`` (a :class:`colorlab.data.remote.Recipe`) expecting exactly ``blobs`` (size and md5)."""
    from colorlab.core.download import Remote
    from colorlab.data.remote import Recipe

    files = {split: tuple(Remote(r.url, len(blobs[r.filename]), md5=hashlib.md5(blobs[r.filename]).hexdigest())
                          for r in remotes) for split, remotes in recipe.files.items()}
    return Recipe(files, recipe.extracted_factor, recipe.archives_hold, recipe.notes)


def kernel_env(folder: Path, fakes: dict[str, dict[str, bytes]]) -> dict[str, str]:
    """Files in ``folder`` that make notebook kernels accept ``fakes`` (dataset → {file name: bytes});
    returns the environment variables to set before the kernels start."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sums = {name: {f: [len(b), hashlib.md5(b).hexdigest()] for f, b in blobs.items()} for name, blobs in fakes.items()}
    (folder / "fake_recipes.json").write_text(json.dumps(sums, indent=1))
    startup = folder / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00_fake_mirror.py").write_text(
        "import importlib.util as _u\n"
        f"_s = _u.spec_from_file_location('fake_mirror', {str(Path(__file__).resolve())!r})\n"
        "_m = _u.module_from_spec(_s)\n_s.loader.exec_module(_m)\n_m.install_in_kernel()\n"
        "del _u, _s, _m\n")
    return {"IPYTHONDIR": str(folder / "ipython"), FAKE_RECIPES_ENV: str(folder / "fake_recipes.json")}


def _loopback(url: str) -> bool:
    return url.startswith(("http://127.0.0.1:", "http://localhost:"))


def install_in_kernel() -> None:
    """In a notebook kernel: patch the recipes named in ``$COLORLAB_TEST_FAKE_RECIPES`` to the fakes'
    sizes and checksums, and let dataset downloads reach the loopback mirror despite ``COLORLAB_OFFLINE``."""
    path = os.environ.get(FAKE_RECIPES_ENV)
    if not path:
        return
    from colorlab.core.download import Remote, mirror
    from colorlab.data import remote

    for name, sums in json.loads(Path(path).read_text()).items():
        r = remote.RECIPES[name]
        files = {split: tuple(Remote(x.url, *sums[x.filename]) if x.filename in sums else x for x in xs)
                 for split, xs in r.files.items()}
        remote.RECIPES[name] = remote.Recipe(files, r.extracted_factor, r.archives_hold, r.notes)
    fetch = remote.fetch

    def fetch_from_loopback(*args, **kwargs):
        saved = os.environ.get("COLORLAB_OFFLINE")
        lift = saved is not None and _loopback(mirror() or "")
        if lift:
            os.environ.pop("COLORLAB_OFFLINE")
        try:
            return fetch(*args, **kwargs)
        finally:
            if lift:
                os.environ["COLORLAB_OFFLINE"] = saved

    remote.fetch = fetch_from_loopback
