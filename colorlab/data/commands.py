"""The data commands of the ``colorlab`` CLI: ``datasets``, ``download`` and ``prepare``.

Each takes the parsed arguments and returns the exit status; :mod:`colorlab.cli` imports this module
only when one of them runs.
"""
from __future__ import annotations

from colorlab.data.prepare import prepare
from colorlab.data.remote import download_dataset
from colorlab.data.status import dataset_status

__all__ = ["cmd_datasets", "cmd_download", "cmd_prepare"]


def cmd_datasets(args) -> int:
    rows = dataset_status()
    w = max(len(r["name"]) for r in rows)
    print(f"{'dataset':<{w}}  present  where it looks / how to get it")
    for r in rows:
        mark = "yes" if r["present"] else "no "
        print(f"{r['name']:<{w}}  {mark}      {r['path']}")
        print(f"{'':<{w}}           {r['how']}")
    return 0


def cmd_download(args) -> int:
    download_dataset(args.dataset, root=args.root, split=args.split, progress=not args.quiet,
                     keep_archives=args.keep_archives)
    return 0


def cmd_prepare(args) -> int:
    prepare(args.dataset, root=args.root, split=args.split, size=args.size, n=args.n, seed=args.seed,
            force=args.force, download=args.download, drop_gray=not args.keep_gray, workers=args.workers,
            pool=args.pool, resume=args.resume)
    return 0
