"""Lab 12: what labs 04–07 measured on drawn scenes, measured on held-out real photos.

* :func:`download_or_stand_in`: the dataset, downloaded and checked; offline, a quick run gets a small stand-in
  copy instead (so that the lab, ``make notebooks`` and the website's quick build run without a network);
* :func:`check_copy` says whether a local copy of a dataset is the published one (the checksums of its
  small metadata files, its photo count) — a lab that ran on a stand-in (the test suite's fake copy)
  says so plainly instead of reporting numbers as if they came from real photos;
* :func:`rare_bins` / :func:`rare_colour_mask`: the training set's rarest colours (the bins of lowest
  prior probability that together hold ``share`` of its pixels) and the held-out pixels of those colours —
  photos have no pixel classes, so "rare" is defined by the colour distribution itself;
* :func:`compare_on_photos`: :func:`colorlab.evaluation.evaluate.evaluate` (PSNR, colourfulness, AuC … next
  to the gray and mean-ab baselines) with the rare-colour pixels as a group: ``chroma ratio [rare colours]``
  is how vivid the prediction is where the truth has a rare colour (1 = as vivid, 0 = gray);
* :func:`rarest_photos`: the held-out photos with the most rare-colour pixels, for the gallery.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.data.batches import iter_batches
from colorlab.data.datasets import get_dataset
from colorlab.data.registry import dataset_class
from colorlab.core.config import cache_root
from colorlab.core.download import DownloadError
from colorlab.data.remote import RECIPES, download_dataset, target_folder
from colorlab.data.stand_in import flowers_stand_in
from colorlab.evaluation.evaluate import GRAY, MEAN_AB, batch_lab, evaluate

__all__ = ["PUBLISHED", "CopyCheck", "check_copy", "download_or_stand_in", "run_size_note", "rare_bins", "rare_colour_mask",
           "compare_on_photos", "rarest_photos", "findings", "RARE"]

#: dataset → (the splits that hold every published photo, how many photos they hold together)
PUBLISHED = {"flowers102": (("train", "val", "test"), 8189), "tiny-imagenet": (("train", "val"), 110000)}
#: the group name of the rare-colour pixels in :func:`compare_on_photos`'s table
RARE = "rare colours"


@dataclass(frozen=True)
class CopyCheck:
    """What :func:`check_copy` found: ``real`` is True only when every check passed."""

    title: str
    folder: Path
    photos: int
    published: int
    mismatched: tuple[str, ...]

    @property
    def real(self) -> bool:
        return self.photos == self.published and not self.mismatched

    def __str__(self) -> str:
        if self.real:
            return (f"{self.title} in {self.folder}: {self.photos:,} photos and its metadata files as published — "
                    f"the real dataset.")
        why = [f"it holds {self.photos:,} photos where the published dataset has {self.published:,}"] if \
            self.photos != self.published else []
        why += [f"{name} is not the published file (its checksum differs)" for name in self.mismatched]
        return (f"NOT THE REAL DATASET: {self.title} in {self.folder}: {'; '.join(why)}. It is a stand-in "
                f"(such as the test suite's fake copy): the numbers and pictures below show that the lab runs, "
                f"not what a colorizer learns from real photos.")


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def check_copy(name: str, root=None) -> CopyCheck:
    """Is the local copy of ``name`` (``flowers102`` or ``tiny-imagenet``) the published dataset?

    Two checks, both cheap: the photos in its published splits are counted, and every small file of the
    download recipe that lies in the folder as it was published (Flowers 102's ``imagelabels.mat`` and
    ``setid.mat``) is held against its published md5.
    """
    key = dataset_class(name).name
    if key not in PUBLISHED:
        raise ColorlabError(f"check_copy knows {', '.join(PUBLISHED)}, not {name!r}")
    cls = dataset_class(key)
    folder = target_folder(cls, root)
    splits, published = PUBLISHED[key]
    photos = sum(len(get_dataset(key, root=folder, split=s, size=8)) for s in splits)
    mismatched = []
    for remotes in RECIPES[key].files.values():
        for r in remotes:
            path = folder / r.filename
            if path.is_file() and r.md5 and _md5(path) != r.md5:
                mismatched.append(r.filename)
    return CopyCheck(cls.title, folder, photos, published, tuple(sorted(set(mismatched))))


def download_or_stand_in(name: str, quick: bool, n: int = 800, progress: bool = True) -> Path:
    """``download_dataset(name)``: the published dataset, fetched once and checked. When it cannot be fetched (no
    network, ``COLORLAB_OFFLINE``, no mirror) and the run is ``quick``, a stand-in copy of Flowers 102's layout with
    ``n`` small photos cut from the kit's sample photos (:func:`colorlab.data.stand_in.flowers_stand_in`, in the
    cache, never where the real dataset goes) — :func:`check_copy` then says plainly that it is not the real
    dataset. A full-size run needs the real photos: the download's error is raised, with what to do."""
    try:
        return download_dataset(name, progress=progress)
    except DownloadError as e:
        if not quick or dataset_class(name).name != "flowers102":
            raise DownloadError(f"{e}\n(lab 12 needs the real {name} for its full-size run; its quick run alone "
                                f"can work offline, on a stand-in of Flowers 102)", kind=e.kind) from None
        print(f"{name} cannot be downloaded here ({e.kind}): this quick run uses a stand-in of {n} photos cut from "
              f"the kit's sample photos. Set COLORLAB_MIRROR to a course mirror, or connect, for the real photos.")
        return flowers_stand_in(cache_root() / "stand-in", n=n, shape=(200, 150))


def run_size_note(quick: bool, n_train: int, epochs: int, full_n: int, full_epochs: int) -> str:
    """One line on the size of this run: the quick size is for a first pass, not for conclusions."""
    if quick:
        return (f"quick size: {n_train} training photos, {epochs} epochs (the full size: {full_n} photos, "
                f"{full_epochs} epochs): a first pass to see the lab run; draw conclusions from the full size only.")
    return f"full size: {n_train} training photos, {epochs} epochs."


@torch.no_grad()
def rare_bins(prior, share: float = 0.05) -> torch.Tensor:
    """The rarest colours of the training set: a bool mask ``(Q,)`` over the prior's bins.

    Bins are taken from the least probable (smoothed ``p``) upwards while together they hold at most
    ``share`` of the training pixels (raw counts); bins the training set never saw are always rare.
    """
    if not 0.0 < share < 1.0:
        raise ColorlabError(f"share must be in (0, 1), got {share!r}")
    order = torch.argsort(prior.p.double() + 1e-12 * prior.raw.double(), stable=True)
    cum = torch.cumsum(prior.raw.double()[order], 0)
    rare = torch.zeros(prior.Q, dtype=torch.bool)
    rare[order[cum <= share + 1e-12]] = True
    rare[prior.counts == 0] = True
    return rare


@torch.no_grad()
def rare_colour_mask(data, prior, share: float = 0.05, device="auto", batch_size: int = 128) -> np.ndarray:
    """A bool array ``(N, H, W)``: the pixels of ``data`` whose true colour falls in :func:`rare_bins`."""
    dev = get_device(device)
    rare = rare_bins(prior, share).to(dev)
    out = [rare[prior.bin_index(batch_lab(b)[1][:, 1:])].cpu().numpy()
           for b in iter_batches(data, batch_size, dev)]
    if not out:
        raise ColorlabError("rare_colour_mask: the data holds no images")
    return np.concatenate(out)


def compare_on_photos(models: dict, valid, train, prior, mask: np.ndarray, device="auto",
                      progress: bool = False) -> pd.DataFrame:
    """:func:`~colorlab.evaluation.evaluate.evaluate` on held-out photos with the rare-colour pixels as a group.

    Rows: the models, ``"gray (ab=0)"`` and ``"mean ab"`` (the training set's mean colour); columns: every
    column of ``evaluate`` plus ``"<metric> [rare colours]"`` (PSNR, AuC, chroma ratio, recall@20 over the
    pixels of ``mask``, :func:`rare_colour_mask` of ``valid``). ``table.attrs``: ``"rare share"``, the share of
    held-out pixels in that group, and ``"rare photos"``, how many photos hold any.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.shape[0] != len(getattr(valid, "images", valid)):
        raise ColorlabError(f"the mask covers {mask.shape[0]} images, the held-out set has "
                            f"{len(getattr(valid, 'images', valid))}")
    table = evaluate(models, valid, prior=prior, train=train, device=device, progress=progress,
                     groups={RARE: mask})
    table.attrs["rare share"] = float(mask.mean())
    table.attrs["rare photos"] = int(mask.any(axis=(1, 2)).sum())
    return table


def rarest_photos(mask: np.ndarray, n: int = 8) -> np.ndarray:
    """Indices of the ``n`` photos with the largest share of rare-colour pixels (in index order)."""
    share = np.asarray(mask, dtype=bool).reshape(len(mask), -1).mean(1)
    pick = np.argsort(-share, kind="stable")[:n]
    return np.sort(pick)


def _more(a: float, b: float, what: str, unit: str = "") -> str:
    if not (np.isfinite(a) and np.isfinite(b)):
        return f"{what}: not computed"
    word = "above" if a > b else "below" if a < b else "level with"
    return f"{what}: {a - b:+.2f}{unit} ({word})"


def findings(table: pd.DataFrame, mse: str, rarity: str) -> list[str]:
    """What :func:`compare_on_photos`'s table says about the MSE and the rarity model, in sentences —
    reported as measured, whichever way it went (nothing is asserted: it depends on the data)."""
    row = table.loc
    col = f"chroma ratio [{RARE}]"
    truth_cf = float(row[mse, "colourfulness"] - row[mse, "colourfulness gap"])
    lines = [f"images: {table.attrs.get('notes', {}).get('images', '?')} held-out photos; "
             f"{table.attrs.get('rare share', float('nan')):.1%} of their pixels have one of the training set's "
             f"rare colours"]
    for name in (mse, rarity):
        lines.append(f"{name}: PSNR {row[name, 'PSNR (dB)']:.2f} dB — "
                     f"{_more(row[name, 'PSNR (dB)'], row[GRAY, 'PSNR (dB)'], 'vs gray', ' dB')}, "
                     f"{_more(row[name, 'PSNR (dB)'], row[MEAN_AB, 'PSNR (dB)'], 'vs mean ab', ' dB')}")
    lines.append(f"colourfulness: truth {truth_cf:.1f}, {mse} {row[mse, 'colourfulness']:.1f}, "
                 f"{rarity} {row[rarity, 'colourfulness']:.1f} (rarity ÷ MSE = "
                 f"{row[rarity, 'colourfulness'] / max(row[mse, 'colourfulness'], 1e-9):.2f})")
    lines.append(f"chroma kept on rare colours (1 = as vivid as the truth, 0 = gray): {mse} {row[mse, col]:.2f}, "
                 f"{rarity} {row[rarity, col]:.2f}; mean ab {row[MEAN_AB, col]:.2f}")
    return lines
