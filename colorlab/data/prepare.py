"""Decode once, train many times: the prepared uint8 cache.

``prepare(name, ...)`` reads each photo once, fits it to ``size x size`` and streams it
into a cache folder::

    <cache_root>/<dataset>-<split>-<size>px-n<n>-seed<seed>-<hash>/
        images.u8     raw uint8, shape (N, size, size, 3) — opened as a read-only np.memmap
        labels.npy    int64 (N,), -1 when the dataset has no labels
        sources.txt   where item i came from (a relative path, or photo@x,y+side for the sample set)
        index.json    dataset, split, size, n, seed, shape, classes, counts (skipped, gray_dropped)...

The folder name holds a hash of every argument, so re-running with the same arguments
reuses the cache at once. It is built under a hidden temporary name and renamed into place
only when complete, so an interrupted prepare never leaves a cache that looks finished.
Unreadable photos are skipped and counted; gray photos are dropped (``drop_gray``) and counted.

Memory stays flat however large the dataset (Places365: 1.8M photos): photos are decoded
``chunk`` at a time by a pool of threads or worker processes and appended to the file;
labels and sources are appended to files too. With ``resume=True`` the work in progress lives
in ``.<folder>.partial/`` with a small journal (``progress.json``) written after each chunk;
a killed prepare continues where the journal says instead of starting over.
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import multiprocessing
import os
import shutil
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from colorlab.core.config import cache_root
from colorlab.core.errors import ColorlabError
from colorlab.data.gray import GRAY_AB_THRESHOLD, is_gray

__all__ = ["prepare", "load_prepared", "Prepared", "FORMAT_VERSION"]

#: Bumped whenever the cache layout or the way photos are fitted changes.
FORMAT_VERSION = 1
_IMAGES, _LABELS, _SOURCES, _INDEX = "images.u8", "labels.npy", "sources.txt", "index.json"
_LABELS_RAW, _PROGRESS = "labels.i64", "progress.json"
#: Optional per-pixel data beside the images: attribute → (file, dtype, channels or 0).
_EXTRAS = {"lab": ("lab.f32", np.float32, 3), "class_map": ("classes.u8", np.uint8, 0),
           "mode_map": ("modes.u8", np.uint8, 0)}
#: With ``pool="auto"``, prepares of at least this many photos decode in worker processes.
PROCESS_POOL_MIN = 5000


class Prepared(Dataset):
    """A prepared cache: a torch Dataset of ``(uint8 tensor (3, H, W), int label)``.

    Attributes:
        path: the cache folder (other modules may keep derived files here, e.g. an ab prior).
        images: read-only ``np.memmap`` uint8 ``(N, H, W, 3)``.
        labels: int64 ``(N,)``, -1 when unlabeled.
        classes: class names (``[]`` when the dataset has no labels).
        meta: the contents of ``index.json``.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._open()

    def _open(self) -> None:
        index = self.path / _INDEX
        if not index.is_file():
            raise ColorlabError(f"{self.path}: not a prepared cache (no {_INDEX}); run colorlab.data.prepare(...)")
        try:
            self.meta = json.loads(index.read_text())
        except (OSError, ValueError) as e:
            raise ColorlabError(f"{index}: unreadable cache index ({e}); prepare again with force=True") from None
        if not self.meta.get("complete") or self.meta.get("format") != FORMAT_VERSION:
            raise ColorlabError(f"{self.path}: incomplete or outdated cache; prepare again with force=True")
        shape = tuple(self.meta["shape"])
        images = self.path / _IMAGES
        expected = int(np.prod(shape))
        if not images.is_file() or images.stat().st_size != expected:
            raise ColorlabError(f"{images}: cache data is missing or has the wrong size "
                                f"(expected {expected} bytes for {shape}); prepare again with force=True")
        self.images = np.memmap(images, dtype=np.uint8, mode="r", shape=shape)
        self.labels = np.load(self.path / _LABELS)
        self.classes = list(self.meta.get("classes", []))
        # datasets with latent labels (``scenes``): exact float Lab and per-pixel maps beside the images
        self.lab = self.class_map = self.mode_map = None
        extras = self.meta.get("extras", {})
        for attr, (fname, dtype, channels) in _EXTRAS.items():
            if fname in extras:
                f = self.path / fname
                ext_shape = tuple(shape[:3]) + ((channels,) if channels else ())
                if not f.is_file() or f.stat().st_size != int(np.prod(ext_shape)) * np.dtype(dtype).itemsize:
                    raise ColorlabError(f"{f}: cache data is missing or has the wrong size; prepare again with force=True")
                setattr(self, attr, np.memmap(f, dtype=dtype, mode="r", shape=ext_shape))

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        x = torch.from_numpy(np.array(self.images[index])).permute(2, 0, 1).contiguous()
        return x, int(self.labels[index])

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        """Many items at once: ``uint8 (B, 3, H, W)`` and int64 labels ``(B,)``, one memmap read."""
        idx = np.asarray(indices, dtype=np.int64)
        x = torch.from_numpy(np.ascontiguousarray(self.images[idx])).permute(0, 3, 1, 2)
        return x, torch.from_numpy(self.labels[idx].copy())

    @property
    def size(self) -> int:
        return int(self.meta["size"])

    @property
    def sources(self) -> list[str]:
        """Where each item came from, one string per item."""
        return (self.path / _SOURCES).read_text(encoding="utf-8").splitlines()

    def __getstate__(self):  # DataLoader workers re-open the memmap instead of pickling its data
        return {"path": self.path}

    def __setstate__(self, state):
        self.path = state["path"]
        self._open()

    def __repr__(self) -> str:
        m = self.meta
        return (f"Prepared({m['dataset']!r}, split={m['split']!r}, {len(self)} x {m['size']}px, "
                f"classes={len(self.classes)}, skipped={m['skipped']}, gray_dropped={m['gray_dropped']}, "
                f"path={str(self.path)!r})")


def load_prepared(path: str | os.PathLike) -> Prepared:
    """Open a cache folder written by :func:`prepare`."""
    return Prepared(path)


def _is_complete(folder: Path) -> bool:
    try:
        return bool(json.loads((folder / _INDEX).read_text()).get("complete"))
    except (OSError, ValueError):
        return False


def _remove_stale_temps(cache_dir: Path, folder: str) -> None:
    """Delete leftovers of prepares that were killed (their process no longer exists)."""
    for tmp in cache_dir.glob(f".{folder}.tmp-*"):
        try:
            pid = int(tmp.name.rsplit(".tmp-", 1)[1].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(tmp, ignore_errors=True)
        except (ValueError, IndexError, PermissionError, OSError):
            pass


def _candidates(ds, n: int | None, seed: int, unbounded: bool) -> Iterator[int]:
    if unbounded:  # the sample set: as many patches as it takes to keep n
        return itertools.count()
    if n is None or n >= len(ds):
        return iter(range(len(ds)))
    pick = np.random.default_rng(seed).choice(len(ds), size=n, replace=False)
    return iter(np.sort(pick).tolist())  # sorted: read the disk in order


def _read(ds, index: int):
    try:
        return index, ds.read(index), None
    except ColorlabError as e:
        return index, None, str(e)


_WORKER_DS = None  # the dataset, once per decoding process


def _init_worker(ds) -> None:
    global _WORKER_DS
    _WORKER_DS = ds
    try:
        torch.set_num_threads(1)  # one process per core already
    except RuntimeError:
        pass


def _read_in_worker(index: int):
    return _read(_WORKER_DS, index)


def _decode_pool(kind: str, workers: int, ds):
    """``map(index -> (index, rgb | None, error | None))`` over a pool of threads or processes."""
    if kind == "process":
        # spawn: forking a process that already runs torch's thread pools can deadlock
        ex = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker, initargs=(ds,))
        return ex, lambda todo: ex.map(_read_in_worker, todo, chunksize=max(1, len(todo) // (4 * workers)))
    ex = ThreadPoolExecutor(workers)
    return ex, lambda todo: ex.map(lambda i: _read(ds, i), todo)


@contextlib.contextmanager
def _locked(folder: Path):
    """Hold an exclusive lock on ``folder`` (released by the OS if the process dies).

    A second prepare of the same cache waits here, then finds the cache complete.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no resumable partials shared between processes
        yield
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _restore_partial(tmp: Path, frame_bytes: int) -> dict:
    """Cut a partial cache back to what its journal vouches for; return the journal (empty: start over)."""
    try:
        journal = json.loads((tmp / _PROGRESS).read_text())
        count = int(journal["count"])
        with open(tmp / _IMAGES, "r+b") as f:
            f.truncate(count * frame_bytes)
        with open(tmp / _LABELS_RAW, "r+b") as f:
            f.truncate(count * 8)
        lines = (tmp / _SOURCES).read_text(encoding="utf-8").splitlines()[:count]
        if (tmp / _IMAGES).stat().st_size != count * frame_bytes or len(lines) != count:
            raise ValueError("partial data shorter than its journal")
        (tmp / _SOURCES).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return journal
    except (OSError, ValueError, KeyError):
        shutil.rmtree(tmp, ignore_errors=True)
        return {}


def prepare(name: str, root=None, split: str = "train", size: int = 64, n: int | None = None, seed: int = 0,
            cache_dir=None, force: bool = False, progress: bool = True, drop_gray: bool = True, **kw) -> Prepared:
    """Build (or reuse) the uint8 cache of a dataset at training size. See the module docstring.

    Args:
        name: a name from :data:`colorlab.data.DATASETS`.
        root, split: as for :func:`colorlab.data.get_dataset`.
        size: side of the square images in the cache.
        n: ``sample``: number of patches (default 512 for train, 64 for val); other datasets:
            at most this many photos, a random subset chosen by ``seed`` (default: all).
        seed: patch positions (sample) or the subset (others).
        cache_dir: where cache folders go (default :func:`colorlab.core.config.cache_root`).
        force: rebuild even when a complete cache with these arguments exists.
        progress: show a progress bar and a one-line summary.
        drop_gray: leave out photos whose ab spread is under ``gray_threshold``
            (:data:`colorlab.data.gray.GRAY_AB_THRESHOLD`); the count is in ``meta["gray_dropped"]``.
        **kw: ``download``; ``workers`` (decoders, default min(8, cores)); ``pool``: ``"thread"``,
            ``"process"`` or ``"auto"`` (processes from :data:`PROCESS_POOL_MIN` photos on);
            ``resume`` (keep a killed prepare's work and continue it); ``gray_threshold``;
            ``chunk`` (photos decoded at a time: memory is bounded by about
            ``chunk`` decoded photos); and dataset options (``zooms``, ``val_fraction``, ...).
    """
    from colorlab.data import dataset_class, get_dataset  # the registry lives in the package

    download = bool(kw.pop("download", False))
    workers = int(kw.pop("workers", 0) or min(8, os.cpu_count() or 1))
    gray_threshold = float(kw.pop("gray_threshold", GRAY_AB_THRESHOLD))
    chunk = int(kw.pop("chunk", 256))
    pool_kind = str(kw.pop("pool", "auto"))
    resume = bool(kw.pop("resume", False))
    if pool_kind not in ("auto", "thread", "process"):
        raise ColorlabError(f"prepare: pool must be 'auto', 'thread' or 'process', got {pool_kind!r}")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ColorlabError(f"prepare: size must be a positive integer, got {size!r}")
    if n is not None and (not isinstance(n, (int, np.integer)) or n < 1):
        raise ColorlabError(f"prepare: n must be a positive integer or None, got {n!r}")
    cls = dataset_class(name)
    unbounded = cls.name == "sample"
    generated = cls.name == "scenes"
    if unbounded:
        n = n or (64 if split == "val" else 512)
    if generated:
        from colorlab.data.scenes import GENERATOR_VERSION
        n = n or (2048 if split == "train" else 256)
        kw["generator"] = GENERATOR_VERSION  # an edited generator never reuses a stale cache
        drop_gray = False                    # overcast scenes are dull on purpose
    root_path = cls.locate(root) if not (unbounded or generated) else None

    key = {"format": FORMAT_VERSION, "dataset": cls.name, "root": str(root_path.resolve()) if root_path else None,
           "split": split, "size": int(size), "n": n, "seed": int(seed), "drop_gray": bool(drop_gray),
           "gray_threshold": gray_threshold if drop_gray else None, "options": {k: repr(v) for k, v in sorted(kw.items())}}
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    folder = f"{cls.name}-{split}-{size}px-n{n or 'all'}-seed{seed}-{digest}"
    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else cache_root()
    final = cache_dir / folder
    if not force and _is_complete(final):
        return load_prepared(final)

    if generated:
        from colorlab.data.scenes import write_scenes
        with _locked(final):
            if not force and _is_complete(final):
                return load_prepared(final)
            cache_dir.mkdir(parents=True, exist_ok=True)
            _remove_stale_temps(cache_dir, folder)
            tmp = cache_dir / f".{folder}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            try:
                meta = write_scenes(tmp, key, split=split, size=size, n=n, seed=seed, progress=progress)
                _move_into_place(tmp, final)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        prepared = load_prepared(final)
        if progress:
            print(f"prepared {len(prepared)} scenes/{split} at {size}px in {meta['seconds']} s -> {final}")
        return prepared
    if unbounded:
        ds = get_dataset(cls.name, split=split, size=size, n=n, seed=seed, **kw)
    else:
        ds = get_dataset(cls.name, root=root, split=split, size=size, download=download, **kw)
    cache_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(cache_dir, folder)
    with _locked(final) if resume else contextlib.nullcontext():
        if resume and not force and _is_complete(final):  # another process finished it while we waited
            return load_prepared(final)
        meta = _build(ds, cls, key, cache_dir, folder, final, n, seed, unbounded, workers, pool_kind, chunk,
                      drop_gray, gray_threshold, resume, progress)
    prepared = load_prepared(final)
    if progress:
        print(f"prepared {len(prepared)} {cls.name}/{split} images at {size}px in {meta['seconds']} s "
              f"(skipped {meta['skipped']} unreadable, dropped {meta['gray_dropped']} gray) -> {final}")
    return prepared


def _build(ds, cls, key, cache_dir: Path, folder: str, final: Path, n, seed, unbounded, workers, pool_kind, chunk,
           drop_gray, gray_threshold, resume, progress) -> dict:
    """Stream the photos into a temporary (or resumable partial) folder, then publish it as ``final``."""
    size = key["size"]
    frame_bytes = size * size * 3
    tmp = cache_dir / (f".{folder}.partial" if resume else f".{folder}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    journal = _restore_partial(tmp, frame_bytes) if resume and tmp.exists() else {}
    tmp.mkdir(exist_ok=True)
    started = time.time() - float(journal.get("seconds", 0.0))
    keep_partial = False
    try:
        total = n if unbounded else (min(n, len(ds)) if n else len(ds))
        count, tried = int(journal.get("count", 0)), int(journal.get("tried", 0))
        gray_dropped, skipped = int(journal.get("gray_dropped", 0)), int(journal.get("skipped", 0))
        skipped_files = list(journal.get("skipped_files", []))
        candidates = _candidates(ds, n, seed, unbounded)
        for _ in itertools.islice(candidates, tried):  # already done by the killed run
            pass
        max_tries = 50 * total + 1000 if unbounded else total
        kind = pool_kind if pool_kind != "auto" else ("process" if total >= PROCESS_POOL_MIN and workers > 1
                                                      else "thread")
        bar = tqdm(total=total, initial=count if unbounded else tried, unit="img", leave=False, disable=not progress,
                   desc=f"prepare {cls.name}/{key['split']} @{size}px")
        executor, decode = _decode_pool(kind, workers, ds)
        with open(tmp / _IMAGES, "ab") as out, open(tmp / _LABELS_RAW, "ab") as lab, \
                open(tmp / _SOURCES, "a", encoding="utf-8") as src, executor, bar:
            while count < total and tried < max_tries:
                need = total - count  # the sample set: ask for little more than still needed
                take = min(chunk, max_tries - tried, need + need // 4 + 8 if unbounded else chunk)
                todo = list(itertools.islice(candidates, take))
                if not todo:
                    break
                tried += len(todo)
                results = list(decode(todo))
                errors = [err for _, _, err in results if err is not None]
                skipped += len(errors)
                skipped_files += errors[: max(0, 20 - len(skipped_files))]
                ok = [(i, a) for i, a, err in results if err is None]
                del results
                gray = [False] * len(ok)
                if drop_gray and ok:
                    batch = torch.from_numpy(np.stack([a for _, a in ok])).permute(0, 3, 1, 2)
                    gray = is_gray(batch, gray_threshold).tolist()
                    del batch
                labels, sources = [], []
                for (i, a), g in zip(ok, gray):
                    if count == total:
                        break
                    if g:
                        gray_dropped += 1
                        continue
                    out.write(np.ascontiguousarray(a, dtype=np.uint8).tobytes())
                    labels.append(ds.label(i))
                    sources.append(ds.source(i))
                    count += 1
                lab.write(np.asarray(labels, dtype=np.int64).tobytes())
                src.write("".join(f"{s_}\n" for s_ in sources))
                if resume:  # the journal only ever vouches for data already handed to the OS
                    for f in (out, lab, src):
                        f.flush()
                    _write_json(tmp / _PROGRESS, {"count": count, "tried": tried, "gray_dropped": gray_dropped,
                                                  "skipped": skipped, "skipped_files": skipped_files,
                                                  "seconds": round(time.time() - started, 2)})
                bar.update(len(todo) if not unbounded else min(total, count) - bar.n)
        if not count:
            raise ColorlabError(f"prepare {cls.name}/{key['split']}: no usable images "
                                f"({skipped} unreadable, {gray_dropped} gray) under {ds.root}")
        np.save(tmp / _LABELS, np.fromfile(tmp / _LABELS_RAW, dtype=np.int64))
        (tmp / _LABELS_RAW).unlink()
        (tmp / _PROGRESS).unlink(missing_ok=True)
        meta = {**key, "complete": True, "root": str(ds.root), "classes": list(ds.classes),
                "shape": [count, int(size), int(size), 3], "count": count, "tried": tried,
                "skipped": skipped, "skipped_files": skipped_files[:20], "gray_dropped": gray_dropped,
                "sources_file": _SOURCES, "seconds": round(time.time() - started, 2), "pool": kind,
                "workers": workers, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (tmp / _INDEX).write_text(json.dumps(meta, indent=1))
        _move_into_place(tmp, final)
        return meta
    except (KeyboardInterrupt, SystemExit, OSError):
        keep_partial = resume  # killed or out of disk: keep the journaled work for the next run
        raise
    finally:
        if tmp.exists() and not keep_partial:
            shutil.rmtree(tmp, ignore_errors=True)


def _write_json(path: Path, obj: dict) -> None:
    part = path.with_suffix(".tmp")
    part.write_text(json.dumps(obj))
    os.replace(part, path)


def _move_into_place(tmp: Path, final: Path) -> None:
    """Atomically publish ``tmp`` as ``final`` (replacing an older cache of the same name)."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
    try:
        os.replace(tmp, final)
    except OSError:
        if not _is_complete(final):  # someone else finished the same prepare first: theirs is fine
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
