"""Decode once, train many times: :func:`prepare` builds the uint8 cache training reads.

``prepare(name, ...)`` reads each photo once, fits it to ``size x size`` and streams it into a
cache folder (its layout and the dataset that reads it: :mod:`colorlab.data.prepared`)::

    <cache_root>/<dataset>-<split>-<size>px-n<n>-seed<seed>-<hash>/

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
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from colorlab.core.config import cache_root
from colorlab.core.errors import ColorlabError
from colorlab.core.files import atomic_write
from colorlab.core.logs import progress_bar
from colorlab.data.datasets import get_dataset
from colorlab.data.gray import GRAY_AB_THRESHOLD, is_gray
from colorlab.data.prepared import FORMAT_VERSION, IMAGES, INDEX, LABELS, SOURCES, Prepared, is_complete, load_prepared
from colorlab.data.registry import dataset_class
import colorlab.data.scenes as scenes  # the module: GENERATOR_VERSION is read at call time

__all__ = ["prepare", "PrepareOptions", "PROCESS_POOL_MIN"]

_LABELS_RAW, _PROGRESS = "labels.i64", "progress.json"
#: With ``pool="auto"``, prepares of at least this many photos decode in worker processes.
PROCESS_POOL_MIN = 5000


def _temp_folder(final: Path) -> Path:
    """A hidden folder beside ``final`` to build it in (named after this process, see :func:`_remove_stale_temps`)."""
    return final.parent / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"


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
        with open(tmp / IMAGES, "r+b") as f:
            f.truncate(count * frame_bytes)
        with open(tmp / _LABELS_RAW, "r+b") as f:
            f.truncate(count * 8)
        lines = (tmp / SOURCES).read_text(encoding="utf-8").splitlines()[:count]
        if (tmp / IMAGES).stat().st_size != count * frame_bytes or len(lines) != count:
            raise ValueError("partial data shorter than its journal")
        (tmp / SOURCES).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return journal
    except (OSError, ValueError, KeyError):
        shutil.rmtree(tmp, ignore_errors=True)
        return {}


@dataclass(frozen=True)
class PrepareOptions:
    """How :func:`prepare` reads and decodes: the keyword options it takes besides the dataset's own.

    Attributes:
        download: download the dataset first if it is missing.
        workers: decoders (0: min(8, cores)).
        pool: ``"thread"``, ``"process"`` or ``"auto"`` (processes from :data:`PROCESS_POOL_MIN` photos on).
        resume: keep a killed prepare's work and continue it.
        chunk: photos decoded at a time (memory is bounded by about ``chunk`` decoded photos).
        drop_gray: leave out photos whose ab spread is under ``gray_threshold``
            (:data:`colorlab.data.gray.GRAY_AB_THRESHOLD`); the count is in ``meta["gray_dropped"]``.
    """

    download: bool = False
    workers: int = 0
    pool: str = "auto"
    resume: bool = False
    chunk: int = 256
    drop_gray: bool = True
    gray_threshold: float = GRAY_AB_THRESHOLD

    def __post_init__(self):
        if self.pool not in ("auto", "thread", "process"):
            raise ColorlabError(f"prepare: pool must be 'auto', 'thread' or 'process', got {self.pool!r}")

    @classmethod
    def pop_from(cls, kw: dict) -> PrepareOptions:
        """The options named in ``kw``, taken out of it (what stays are the dataset's own options)."""
        return cls(**{f.name: kw.pop(f.name) for f in fields(cls) if f.name in kw})

    @property
    def decoders(self) -> int:
        return int(self.workers or min(8, os.cpu_count() or 1))


def prepare(name: str, root=None, split: str = "train", size: int = 64, n: int | None = None, seed: int = 0,
            cache_dir=None, force: bool = False, progress: bool = True, **kw) -> Prepared:
    """Build (or reuse) the uint8 cache of a dataset at training size. See the module docstring.

    Args:
        name: a name from :data:`colorlab.data.registry.DATASETS`.
        root, split: as for :func:`colorlab.data.datasets.get_dataset`.
        size: side of the square images in the cache.
        n: ``sample``: number of patches (default 512 for train, 64 for val); other datasets:
            at most this many photos, a random subset chosen by ``seed`` (default: all).
        seed: patch positions (sample) or the subset (others).
        cache_dir: where cache folders go (default :func:`colorlab.core.config.cache_root`).
        force: rebuild even when a complete cache with these arguments exists.
        progress: show a progress bar and a one-line summary.
        **kw: the fields of :class:`PrepareOptions` (``download``, ``workers``, ``pool``, ``resume``,
            ``chunk``, ``drop_gray``, ``gray_threshold``), and dataset options (``zooms``, ``val_fraction``, ...).
    """
    opts = PrepareOptions.pop_from(kw)
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
        n = n or (2048 if split == "train" else 256)
        kw["generator"] = scenes.GENERATOR_VERSION  # an edited generator never reuses a stale cache
        opts = replace(opts, drop_gray=False)       # overcast scenes are dull on purpose
    root_path = cls.locate(root) if not (unbounded or generated) else None

    key = {"format": FORMAT_VERSION, "dataset": cls.name, "root": str(root_path.resolve()) if root_path else None,
           "split": split, "size": int(size), "n": n, "seed": int(seed), "drop_gray": bool(opts.drop_gray),
           "gray_threshold": float(opts.gray_threshold) if opts.drop_gray else None,
           "options": {k: repr(v) for k, v in sorted(kw.items())}}
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    folder = f"{cls.name}-{split}-{size}px-n{n or 'all'}-seed{seed}-{digest}"
    final = (Path(cache_dir).expanduser() if cache_dir is not None else cache_root()) / folder
    if not force and is_complete(final):
        return load_prepared(final)
    if generated:
        return _prepare_scenes(key, final, force, progress)
    if unbounded:
        ds = get_dataset(cls.name, split=split, size=size, n=n, seed=seed, **kw)
    else:
        ds = get_dataset(cls.name, root=root, split=split, size=size, download=opts.download, **kw)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(final.parent, folder)
    with _locked(final) if opts.resume else contextlib.nullcontext():
        if opts.resume and not force and is_complete(final):  # another process finished it while we waited
            return load_prepared(final)
        meta = _build(ds, key, final, opts, progress, unbounded)
    prepared = load_prepared(final)
    if progress:
        print(f"prepared {len(prepared)} {cls.name}/{split} images at {size}px in {meta['seconds']} s "
              f"(skipped {meta['skipped']} unreadable, dropped {meta['gray_dropped']} gray) -> {final}")
    return prepared


def _prepare_scenes(key: dict, final: Path, force: bool, progress: bool) -> Prepared:
    """Draw the ``scenes`` cache (with its exact Lab and pixel maps) and publish it as ``final``."""
    with _locked(final):
        if not force and is_complete(final):
            return load_prepared(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(final.parent, final.name)
        tmp = _temp_folder(final)
        try:
            meta = scenes.write_scenes(tmp, key, split=key["split"], size=key["size"], n=key["n"], seed=key["seed"],
                                       progress=progress)
            _move_into_place(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    prepared = load_prepared(final)
    if progress:
        print(f"prepared {len(prepared)} scenes/{key['split']} at {key['size']}px in {meta['seconds']} s -> {final}")
    return prepared


def _build(ds, key: dict, final: Path, opts: PrepareOptions, progress: bool, unbounded: bool) -> dict:
    """Stream the photos into a temporary (or resumable partial) folder, then publish it as ``final``."""
    size, n, seed, resume = key["size"], key["n"], key["seed"], opts.resume
    frame_bytes = size * size * 3
    tmp = final.parent / f".{final.name}.partial" if resume else _temp_folder(final)
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
        workers = opts.decoders
        kind = opts.pool if opts.pool != "auto" else ("process" if total >= PROCESS_POOL_MIN and workers > 1
                                                      else "thread")
        bar = progress_bar(total=total, initial=count if unbounded else tried, unit="img", leave=False, disable=not progress,
                   desc=f"prepare {key['dataset']}/{key['split']} @{size}px")
        executor, decode = _decode_pool(kind, workers, ds)
        with open(tmp / IMAGES, "ab") as out, open(tmp / _LABELS_RAW, "ab") as lab, \
                open(tmp / SOURCES, "a", encoding="utf-8") as src, executor, bar:
            while count < total and tried < max_tries:
                need = total - count  # the sample set: ask for little more than still needed
                take = min(opts.chunk, max_tries - tried, need + need // 4 + 8 if unbounded else opts.chunk)
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
                if opts.drop_gray and ok:
                    batch = torch.from_numpy(np.stack([a for _, a in ok])).permute(0, 3, 1, 2)
                    gray = is_gray(batch, float(opts.gray_threshold)).tolist()
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
            raise ColorlabError(f"prepare {key['dataset']}/{key['split']}: no usable images "
                                f"({skipped} unreadable, {gray_dropped} gray) under {ds.root}")
        np.save(tmp / LABELS, np.fromfile(tmp / _LABELS_RAW, dtype=np.int64))
        (tmp / _LABELS_RAW).unlink()
        (tmp / _PROGRESS).unlink(missing_ok=True)
        meta = {**key, "complete": True, "root": str(ds.root), "classes": list(ds.classes),
                "shape": [count, int(size), int(size), 3], "count": count, "tried": tried,
                "skipped": skipped, "skipped_files": skipped_files[:20], "gray_dropped": gray_dropped,
                "sources_file": SOURCES, "seconds": round(time.time() - started, 2), "pool": kind,
                "workers": workers, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (tmp / INDEX).write_text(json.dumps(meta, indent=1))
        _move_into_place(tmp, final)
        return meta
    except (KeyboardInterrupt, SystemExit, OSError):
        keep_partial = resume  # killed or out of disk: keep the journaled work for the next run
        raise
    finally:
        if tmp.exists() and not keep_partial:
            shutil.rmtree(tmp, ignore_errors=True)


def _write_json(path: Path, obj: dict) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(obj)))


def _move_into_place(tmp: Path, final: Path) -> None:
    """Atomically publish ``tmp`` as ``final`` (replacing an older cache of the same name)."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
    try:
        os.replace(tmp, final)
    except OSError:
        if not is_complete(final):  # someone else finished the same prepare first: theirs is fine
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
