"""Downloading the real datasets: published files, checksums, and assembly into the loaders' layout.

:func:`download_dataset` (``colorlab download NAME``, ``get_dataset(..., download=True)``)
fetches each archive with :func:`colorlab.core.download.fetch` (mirror, resume, checks), extracts it
into a temporary folder next to the destination, checks that the loader's layout is complete
there, and only then renames it into place — a half-extracted copy never sits where the
loaders look. Archives are deleted once extracted (``keep_archives=True`` keeps them in
``<data folder>/.downloads``).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from colorlab.core.download import DownloadError, Remote, check_free_space, extract, fetch, human_size, mirror
from colorlab.core.errors import ColorlabError
from colorlab.data.registry import dataset_class

__all__ = ["download_dataset", "RECIPES", "Recipe", "download_plan"]


@dataclass(frozen=True)
class Recipe:
    """What to fetch for one dataset (per split where they differ) and how it lands on disk.

    ``files[split]``: the :class:`Remote` files that split needs (``"all"``: every split).
    ``archives_hold``: the top-level folder an archive unpacks to, when the loader's folder is
    that one (``tiny-imagenet-200``, ``flower_photos``); None: the archive's content goes into
    the dataset folder as is.
    """

    files: dict[str, tuple[Remote, ...]]
    extracted_factor: float = 1.05   # extracted size / archive size, for the free-space check
    archives_hold: str | None = None
    notes: str = ""


_FLOWERS = "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/"
_PLACES = "http://data.csail.mit.edu/places/places365/"
_PLACES_LISTS = Remote(_PLACES + "filelist_places365-standard.tar", 67498496, md5="35a0585fee1fa656440f3ab298f8479c")
_PLACES_VAL = Remote(_PLACES + "val_256.tar", 525158400, md5="e27b17d8d44f4af9a78502beb927f808")
_PLACES_TRAIN = Remote(_PLACES + "train_256_places365standard.tar", 26103685120, md5="53ca1c756c3d1e7809517cc47c5561c5")

#: name → recipe. URLs and md5s are the ones torchvision verifies (tf-flowers: the sha256
#: TensorFlow Datasets publishes); sizes are the published byte counts.
RECIPES: dict[str, Recipe] = {
    "tiny-imagenet": Recipe(
        files={"all": (Remote("http://cs231n.stanford.edu/tiny-imagenet-200.zip", 248100043,
                              md5="90528d7ca1a48142e341f4ef8d21d0de"),)},
        extracted_factor=1.9, archives_hold="tiny-imagenet-200"),
    "flowers102": Recipe(
        files={"all": (Remote(_FLOWERS + "102flowers.tgz", 344862509, md5="52808999861908f626f3c1f4e79d11fa"),
                       Remote(_FLOWERS + "imagelabels.mat", 502, md5="e0620be6f572b9609742df49c70aed4d"),
                       Remote(_FLOWERS + "setid.mat", 14989, md5="a5357ecc9cb78c4bef273ce3793fc85c"))}),
    "tf-flowers": Recipe(
        files={"all": (Remote("https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz",
                              228813984,
                              sha256="4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c"),)},
        archives_hold="flower_photos"),
    "places365": Recipe(
        files={"val": (_PLACES_LISTS, _PLACES_VAL), "train": (_PLACES_LISTS, _PLACES_TRAIN),
               "all": (_PLACES_LISTS, _PLACES_VAL, _PLACES_TRAIN)},
        notes="the small 256x256 standard set; the train archive alone is 26.1 GB"),
}


def _recipe(name: str) -> tuple[str, Recipe, type]:
    cls = dataset_class(name)
    key = getattr(cls, "name", name)
    if key not in RECIPES:
        how = getattr(cls, "how_to_get", "") or "it is built in or made of your own files"
        raise ColorlabError(f"{getattr(cls, 'title', key)} cannot be downloaded ({how}); "
                            f"downloadable: {', '.join(RECIPES)}")
    return key, RECIPES[key], cls


def _files(recipe: Recipe, split: str, title: str) -> tuple[Remote, ...]:
    if split in recipe.files:
        return recipe.files[split]
    if split in ("all", None) or "all" in recipe.files:
        return recipe.files.get("all") or tuple(dict.fromkeys(f for fs in recipe.files.values() for f in fs))
    raise ColorlabError(f"{title}: no download for split {split!r}; choose one of {', '.join(recipe.files)}")


def target_folder(cls: type, root: str | os.PathLike | None) -> Path:
    """Where a download of ``cls`` goes: ``root`` if it is the dataset's folder, else ``root/<folder>``."""
    if root is None:
        return cls.default_root()
    root = Path(root).expanduser()
    return root if root.name == cls.folder else root / cls.folder


def download_plan(name: str, split: str = "all") -> tuple[list[Remote], int, str]:
    """The files a download needs, their total size in bytes, and a one-line announcement."""
    key, recipe, cls = _recipe(name)
    files = list(_files(recipe, split, cls.title))
    total = sum(f.size or 0 for f in files)
    where = f" from the mirror {mirror()}" if mirror() else ""
    line = (f"{cls.title} ({key}{'' if split in ('all', None) else ', ' + split}): {human_size(total)} to download"
            f"{where} ({', '.join(f'{f.filename} {human_size(f.size)}' for f in files)})"
            f"{'; ' + recipe.notes if recipe.notes else ''}")
    return files, total, line


def download_dataset(name: str, root: str | os.PathLike | None = None, split: str = "all", progress: bool = True,
                     keep_archives: bool = False, verbose: bool = True) -> Path:
    """Download ``name`` (``tiny-imagenet``, ``flowers102``, ``tf-flowers``, ``places365``) into the
    layout its loader reads; return that folder.

    Args:
        root: the dataset folder or its parent (default ``data_root() / <folder>``).
        split: ``all`` or, for places365, ``train`` / ``val`` only (the train archive is 26 GB).
        progress: show progress bars.
        keep_archives: keep the archives in ``<parent>/.downloads`` after extracting them.

    Raises one :class:`~colorlab.core.download.DownloadError` per failure, leaving nothing
    half-extracted where the loaders look (a partial archive is kept for resuming).
    """
    key, recipe, cls = _recipe(name)
    files, total, line = download_plan(key, split)
    dest = target_folder(cls, root)
    if cls.split_present(dest, split or "all"):
        if verbose:
            print(f"{cls.title}: already in {dest} (nothing to download)", flush=True)
        return dest
    per_split = [s for s in recipe.files if s != "all"]
    if split in ("all", None) and per_split and any(cls.split_present(dest, s) for s in per_split):
        for s in per_split:  # e.g. places365 with val already there: fetch only the missing train split
            download_dataset(key, dest, s, progress, keep_archives, verbose)
        return dest
    if verbose:
        print(line, flush=True)
    parent = dest.parent
    parent.mkdir(parents=True, exist_ok=True)
    store = parent / ".downloads"
    already = {f.filename for f in files if (store / f.filename).is_file()}
    need = sum((f.size or 0) for f in files if f.filename not in already) + int(total * recipe.extracted_factor)
    check_free_space(parent, need, f"{cls.title} (download and extraction)")

    try:
        archives = [fetch(f, store, progress=progress) for f in files]
    except DownloadError:
        _remove_if_empty(store)
        raise
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=parent))
    try:
        content = staging / "content"
        content.mkdir()
        for f, path in zip(files, archives):
            if path.suffix in (".zip", ".tar", ".tgz", ".gz"):
                if verbose:
                    print(f"extracting {path.name}", flush=True)
                extract(path, content)
            else:
                shutil.copy2(path, content / path.name)
        ready = content / recipe.archives_hold if recipe.archives_hold else content
        if not ready.is_dir():
            raise DownloadError(f"{files[0].filename} does not hold {recipe.archives_hold}/ as published; "
                                f"it is not the right archive (check COLORLAB_MIRROR)")
        _install(ready, dest, cls, split)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_if_empty(store)
    if not keep_archives:
        for path in archives:
            path.unlink(missing_ok=True)
        _remove_if_empty(store)
    if verbose:
        print(f"{cls.title}: ready in {dest}", flush=True)
    return dest


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not empty (a partial file to resume, archives kept) or already gone
        pass


def _install(ready: Path, dest: Path, cls: type, split: str) -> None:
    """Rename the extracted copy into place, after checking the loader will find it complete."""
    if not dest.exists() or (dest.is_dir() and not any(dest.iterdir())):
        if not cls.is_present(ready):
            raise DownloadError(f"{cls.title}: the downloaded archives do not give the expected layout "
                                f"({cls.layout}); nothing was installed — check COLORLAB_MIRROR's copies")
        if dest.exists():
            dest.rmdir()
        os.replace(ready, dest)
        return
    # The folder exists (e.g. places365 val present, train being added): move each new top-level
    # entry in, the image folders last, so the loader never sees a list without its images.
    entries = sorted(ready.iterdir(), key=lambda p: (p.is_dir(), p.name))
    for entry in entries:
        target = dest / entry.name
        if target.is_dir() and entry.is_dir():
            continue  # already there from an earlier download
        os.replace(entry, target)
    if not cls.is_present(dest):
        raise DownloadError(f"{cls.title}: {dest} is still incomplete after the download ({cls.layout}); "
                            f"remove it and download again")
