"""The ``colorlab`` command: datasets, prepare, demo, train, evaluate, sweep, colorize.

This module only parses: each subcommand names its handler as ``"module:function"``
(:mod:`colorlab.data.commands`, :mod:`colorlab.course.commands`), imported when that command runs,
so ``colorlab --help`` and the data commands never load fastai and the training stack.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from colorlab.core.errors import ColorlabError

__all__ = ["build_parser", "main"]


def _handler(name: str):
    """The function a ``"module:function"`` handler names, its module imported now."""
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="colorlab", description="Deep-learning image colorization: a teaching and "
                                "experimentation kit. Data under $COLORLAB_HOME (default ~/.colorlab).")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("datasets", help="list every dataset, where it looks for it, whether it is present")
    s.set_defaults(handler="colorlab.data.commands:cmd_datasets")

    s = sub.add_parser("download", help="download a dataset (checked, resumable; COLORLAB_MIRROR for a course copy)")
    s.add_argument("dataset", help="tiny-imagenet, flowers102, tf-flowers or places365")
    s.add_argument("--root", default=None, help="dataset folder or its parent (default: $COLORLAB_HOME/data)")
    s.add_argument("--split", default="all", help="places365 only: train or val (the train archive is 26 GB)")
    s.add_argument("--keep-archives", action="store_true", help="keep the archives (in <parent>/.downloads)")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(handler="colorlab.data.commands:cmd_download")

    s = sub.add_parser("prepare", help="decode a dataset once into a uint8 training cache")
    s.add_argument("dataset")
    s.add_argument("--root", default=None, help="dataset folder (default: $COLORLAB_HOME/data/<name>)")
    s.add_argument("--split", default="train")
    s.add_argument("--size", type=int, default=64)
    s.add_argument("-n", type=int, default=None, help="patches (sample) or at most this many images")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--force", action="store_true", help="rebuild even if a cache exists")
    s.add_argument("--download", action="store_true", help="download the dataset first if it is missing")
    s.add_argument("--keep-gray", action="store_true", help="keep grayscale photos (dropped by default)")
    s.add_argument("--workers", type=int, default=0, help="decoders (default: min(8, cores))")
    s.add_argument("--pool", default="auto", choices=["auto", "thread", "process"],
                   help="decode in threads or worker processes (auto: processes for large datasets)")
    s.add_argument("--resume", action="store_true", help="keep the work of a killed prepare and continue it")
    s.set_defaults(handler="colorlab.data.commands:cmd_prepare")

    s = sub.add_parser("demo", help="the whole story on the embedded sample set (no download)")
    s.add_argument("--out", default="runs/demo")
    s.add_argument("--epochs", type=int, default=None)
    s.add_argument("-n", type=int, default=None, help="training patches")
    s.add_argument("--size", type=int, default=64)
    s.add_argument("--device", default="auto")
    s.add_argument("--quick", action="store_true", help="a tiny run (seconds) to check the pipeline")
    s.set_defaults(handler="colorlab.course.commands:cmd_demo")

    s = sub.add_parser("train", help="train a colorizer on a prepared dataset")
    s.add_argument("dataset", nargs="?", default="sample")
    s.add_argument("--root", default=None)
    s.add_argument("--model", default="unet")
    s.add_argument("--loss", default="blend", choices=["mse", "rarity", "blend", "ce"])
    s.add_argument("--size", type=int, default=64)
    s.add_argument("-n", type=int, default=None)
    s.add_argument("--epochs", type=int, default=10)
    s.add_argument("--lr", type=float, default=3e-3)
    s.add_argument("--bs", type=int, default=32)
    s.add_argument("--device", default="auto")
    s.add_argument("--out", default="runs/train")
    s.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    s.add_argument("--checkpoint-every", type=int, default=1)
    s.add_argument("--gallery-every", type=int, default=None)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--workers", type=int, default=0, help="loader processes reading the prepared cache")
    s.add_argument("--distributed", action="store_true",
                   help="data-parallel over the processes torchrun starts (torchrun --nproc_per_node N -m colorlab "
                        "train ... --distributed); --bs is per process")
    s.add_argument("--compile", nargs="?", const="on", default=None, choices=["auto", "on", "off"],
                   help="torch.compile the model: auto (when it pays for itself within the run; the default, "
                        "$COLORLAB_COMPILE overrides), on (--compile alone) or off")
    s.add_argument("--precision", default=None, choices=["auto", "fp32", "bf16", "fp16"],
                   help="training precision (default $COLORLAB_PRECISION or auto: measured fastest on this machine, "
                        "cached under $COLORLAB_HOME)")
    s.set_defaults(handler="colorlab.course.commands:cmd_train")

    s = sub.add_parser("evaluate", help="metrics table of checkpoints (+ gray and mean-ab baselines)")
    s.add_argument("models", nargs="+", help="checkpoint files")
    s.add_argument("--dataset", default="sample")
    s.add_argument("--root", default=None)
    s.add_argument("--device", default="auto")
    s.set_defaults(handler="colorlab.course.commands:cmd_evaluate")

    s = sub.add_parser("sweep", help="run a sweep of training runs from a YAML/JSON config and tabulate them")
    s.add_argument("config", help="sweep config (e.g. configs/unet_skip_connections.yaml)")
    s.add_argument("--out", default=None, help="output folder (default: runs/sweeps/<config name>)")
    s.add_argument("--size", default=None, help="a size preset of the config (default: smoke)")
    s.add_argument("--device", default="auto")
    s.add_argument("--quiet", action="store_true", help="no per-epoch progress bars")
    s.set_defaults(handler="colorlab.course.commands:cmd_sweep")

    s = sub.add_parser("colorize", help="colorize photos (files or folders) at their own size")
    s.add_argument("inputs", nargs="+", help="image files or folders")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("--model", default=None, help="checkpoint (default: the one `make demo` trained)")
    s.add_argument("--size", type=int, default=None, help="working size (default: the trained size)")
    s.add_argument("--device", default="auto")
    s.set_defaults(handler="colorlab.course.commands:cmd_colorize")

    s = sub.add_parser("course", help="course tooling: `colorlab course export DIR` writes the student bundle")
    course = s.add_subparsers(dest="course_cmd", required=True)
    e = course.add_parser("export", help="exercises (no solutions, no model answers), dataset READMEs, a student README")
    e.add_argument("dir", help="the folder to write (must be new or empty)")
    e.add_argument("--src", default="notebooks", help="the solution notebooks")
    e.add_argument("--datasets", default="datasets", help="the folder of dataset READMEs")
    e.add_argument("--force", action="store_true", help="replace the bundle in an existing folder")
    e.set_defaults(handler="colorlab.course.commands:cmd_course_export")

    s = sub.add_parser("run-notebooks", help="execute the lab notebooks with papermill; print a status table")
    s.add_argument("--folder", default="notebooks")
    s.add_argument("--out", default="runs/notebooks", help="executed notebooks and metrics.json go here")
    s.add_argument("--only", nargs="*", default=None, help="notebook numbers or names, e.g. 04 07")
    s.add_argument("-p", "--param", action="append", default=[], help="NAME=VALUE notebook parameter (repeatable)")
    s.add_argument("--full", action="store_true", help="the notebooks' own parameters instead of smoke ones")
    s.add_argument("--workers", type=int, default=2, help="notebooks run at once")
    s.add_argument("--baselines", default=None, help="baselines JSON to compare metrics.json against")
    s.set_defaults(handler="colorlab.course.commands:cmd_run_notebooks")
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(_handler(args.handler)(args) or 0)
    except ColorlabError as e:
        print(f"colorlab: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("colorlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
