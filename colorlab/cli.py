"""The ``colorlab`` command: datasets, prepare, demo, train, evaluate, sweep, colorize, course, run-notebooks.

This module only parses and checks: each subcommand names its handler as ``"module:function"``
(:mod:`colorlab.data.commands`, :mod:`colorlab.inference.commands`, :mod:`colorlab.course.commands`),
imported when that command runs, so ``colorlab --help`` never loads torch. Option values (model, loss
and dataset names from :mod:`colorlab.core.names`) are checked by the parser, and the files and folders
a command was given by its ``check`` function (:mod:`colorlab.core.paths`), both before anything heavy
is imported: a mistake is answered at once.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import sys

from colorlab import __version__
from colorlab.core.config import demo_model
from colorlab.core.errors import ColorlabError
from colorlab.core.names import DATASET_NAMES, DOWNLOADABLE, LOSS_NAMES, MODEL_NAMES, SCHEDULES, dataset_key
from colorlab.core.paths import readable_file, readable_folder, readable_path, writable_folder

__all__ = ["build_parser", "main", "version"]

DISTRIBUTIONS = ("colorlab-kit", "colorlab")  # the distribution's name, and the one it had before


def version() -> str:
    """The installed distribution's version (``colorlab-kit``), else the package's own ``__version__``."""
    from importlib import metadata  # only for --version: it costs a few hundredths of a second
    for name in DISTRIBUTIONS:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return __version__  # not installed (a source checkout on sys.path): the package's own number


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults in the help, except the ones that say nothing (None, False)."""

    def _get_help_string(self, action):
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def _key_value(text: str) -> tuple[str, object]:
    """argparse type: ``KEY=VALUE``, the value read as a Python literal when it is one (``16``, ``0.5``, ``True``,
    ``(0.9, 0.99)``), else kept as text (``separate``)."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (e.g. base=16), got {text!r}")
    lowered = {"true": True, "false": False, "none": None, "null": None}
    if value.lower() in lowered:
        return key, lowered[value.lower()]
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def _dataset(name: str) -> str:
    """argparse type: a dataset name, normalised (``Tiny_ImageNet`` → ``tiny-imagenet``)."""
    try:
        return dataset_key(name)
    except ColorlabError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _downloadable(name: str) -> str:
    """argparse type: a dataset ``colorlab download`` can fetch."""
    key = _dataset(name)
    if key not in DOWNLOADABLE:
        raise argparse.ArgumentTypeError(f"{key} is not downloaded (it is built in or your own folder); "
                                         f"downloadable: {', '.join(DOWNLOADABLE)}")
    return key


# ---- checks of what a command was given, before its handler (and torch) is imported -------------------

def _check_root(args, needed: bool = True) -> None:
    if args.root is not None and needed:
        readable_folder(args.root, "dataset folder (--root)")


def _check_prepare(args) -> None:  # also `download` (which always downloads)
    if getattr(args, "download", True) and args.root is not None:
        writable_folder(args.root, "dataset folder (--root)")
    else:
        _check_root(args)


def _check_demo(args) -> None:
    writable_folder(args.out, "output folder (--out)")


def _check_train(args) -> None:
    _check_root(args)
    writable_folder(args.out, "output folder (--out)")
    head = dict(args.model_arg).get("head")
    if args.loss == "ce" and head not in (None, "classification"):
        raise ColorlabError(f"--loss ce trains a classification head; drop --model-arg head={head}")
    if args.loss != "ce" and head == "classification":
        raise ColorlabError("a classification head (--model-arg head=classification) trains with --loss ce")


def _check_evaluate(args) -> None:
    for model in args.models:
        readable_file(model, "checkpoint")
    _check_root(args)


def _check_sweep(args) -> None:
    readable_file(args.config, "sweep config")
    if args.out is not None:
        writable_folder(args.out, "output folder (--out)")


def _check_colorize(args) -> None:
    if args.model is None and not demo_model().is_file():
        raise ColorlabError(f"no --model given and no demo model at {demo_model()}: run `make demo` "
                            "(or `colorlab demo`) first, or pass --model CHECKPOINT")
    if args.model is not None:
        readable_file(args.model, "checkpoint (--model)")
    for item in args.inputs:
        readable_path(item, "input")
    writable_folder(args.out, "output folder (--out)")


def _check_export(args) -> None:
    readable_folder(args.src, "solution notebooks (--src)")
    readable_folder(args.datasets, "dataset READMEs (--datasets)")


def _check_release(args) -> None:
    readable_folder(args.src, "solution notebooks (--src)")
    writable_folder(args.dir, "course folder")


def _check_autograde(args) -> None:
    readable_folder(args.dir, "course folder")
    readable_folder(args.submissions, "submissions folder")


def _check_notebooks(args) -> None:
    readable_folder(args.folder, "notebook folder (--folder)")
    writable_folder(args.out, "output folder (--out)")
    if args.baselines is not None:
        readable_file(args.baselines, "baselines (--baselines)")


# ---- the parser -----------------------------------------------------------------------------------------

def _command(sub, name: str, help: str, handler: str, check=None) -> argparse.ArgumentParser:
    s = sub.add_parser(name, help=help, description=help, formatter_class=_Formatter)
    s.set_defaults(handler=handler, check=check)
    return s


def _data_commands(sub) -> None:
    _command(sub, "datasets", "list every dataset, where it looks for it, whether it is present",
             "colorlab.data.commands:cmd_datasets")

    s = _command(sub, "download", "download a dataset (checked, resumable; COLORLAB_MIRROR for a course copy)",
                 "colorlab.data.commands:cmd_download", _check_prepare)
    s.add_argument("dataset", type=_downloadable, help=", ".join(DOWNLOADABLE))
    s.add_argument("--root", default=None, help="dataset folder or its parent (default: $COLORLAB_HOME/data)")
    s.add_argument("--split", default="all", help="places365 only: train or val (the train archive is 26 GB)")
    s.add_argument("--keep-archives", action="store_true", help="keep the archives (in <parent>/.downloads)")
    s.add_argument("--quiet", action="store_true", help="no progress bars")

    s = _command(sub, "prepare", "decode a dataset once into a uint8 training cache",
                 "colorlab.data.commands:cmd_prepare", _check_prepare)
    s.add_argument("dataset", type=_dataset, help=f"one of {', '.join(DATASET_NAMES)}")
    s.add_argument("--root", default=None, help="dataset folder (default: $COLORLAB_HOME/data/<name>)")
    s.add_argument("--split", default="train", help="train, val (or test where the dataset has one)")
    s.add_argument("--size", type=int, default=64, help="side of the square images in the cache (px)")
    s.add_argument("-n", type=int, default=None, help="patches (sample) or at most this many images")
    s.add_argument("--seed", type=int, default=0, help="random seed (patches, subsets)")
    s.add_argument("--force", action="store_true", help="rebuild even if a cache exists")
    s.add_argument("--download", action="store_true", help="download the dataset first if it is missing")
    s.add_argument("--keep-gray", action="store_true", help="keep grayscale photos (dropped by default)")
    s.add_argument("--workers", type=int, default=0, help="decoders (0: min(8, cores))")
    s.add_argument("--pool", default="auto", choices=["auto", "thread", "process"],
                   help="decode in threads or worker processes (auto: processes for large datasets)")
    s.add_argument("--resume", action="store_true", help="keep the work of a killed prepare and continue it")


def _train_command(sub) -> None:
    s = _command(sub, "train", "train a colorizer on a prepared dataset", "colorlab.course.commands:cmd_train",
                 _check_train)
    s.add_argument("dataset", nargs="?", default="sample", type=_dataset, help=f"one of {', '.join(DATASET_NAMES)}")
    s.add_argument("--root", default=None, help="dataset folder (default: $COLORLAB_HOME/data/<name>)")
    s.add_argument("--model", default="unet", choices=MODEL_NAMES, help="the colorizer")
    s.add_argument("--loss", default="blend", choices=LOSS_NAMES,
                   help="mse, rarity-weighted mse, blended (Robles & Budach, 64×64 bins), lin_ferreira (their "
                        "rarity-weighted MSE) or rebalanced cross-entropy (Zhang et al., 313 bins; the model gets a "
                        "classification head)")
    s.add_argument("--model-arg", action="append", default=[], type=_key_value, metavar="KEY=VALUE",
                   help="a model option, e.g. base=16 (repeatable)")
    s.add_argument("--loss-arg", action="append", default=[], type=_key_value, metavar="KEY=VALUE",
                   help="a loss option, e.g. lam=0.5 or histogram=separate (repeatable)")
    s.add_argument("--size", type=int, default=64, help="training image size (px)")
    s.add_argument("-n", type=int, default=None, help="training patches (sample) or at most this many images")
    s.add_argument("--epochs", type=int, default=10, help="epochs")
    s.add_argument("--lr", type=float, default=3e-3, help="learning rate (one-cycle: its peak)")
    _schedule_options(s)
    s.add_argument("--bs", type=int, default=32, help="batch size (per process)")
    s.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    s.add_argument("--out", default="runs/train", help="checkpoints, history and galleries go here")
    s.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    s.add_argument("--checkpoint-every", type=int, default=1, help="save a checkpoint every N epochs")
    s.add_argument("--gallery-every", type=int, default=None, help="save a gallery figure every N epochs")
    s.add_argument("--seed", type=int, default=0, help="random seed")
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


def _schedule_options(s) -> None:
    s.add_argument("--schedule", default="one_cycle", choices=SCHEDULES,
                   help="learning-rate schedule: one-cycle, constant, or step decay (× --gamma every --step-every epochs)")
    s.add_argument("--steps-per-epoch", type=int, default=None,
                   help="an epoch is this many batches (default: one pass over the training set)")
    s.add_argument("--step-every", type=int, default=10, help="step decay: epochs between decays")
    s.add_argument("--gamma", type=float, default=0.1, help="step decay: factor per decay")
    s.add_argument("--betas", type=float, nargs=2, default=None, metavar=("B1", "B2"),
                   help="Adam's betas (default: fastai's 0.9 0.99, β1 cycled by one-cycle)")
    s.add_argument("--weight-decay", type=float, default=None, help="decoupled weight decay (default: fastai's 0.01)")


def _model_commands(sub) -> None:
    s = _command(sub, "demo", "the whole story on the embedded sample set (no download)",
                 "colorlab.course.commands:cmd_demo", _check_demo)
    s.add_argument("--out", default="runs/demo", help="figures, metrics.json and report.html go here")
    s.add_argument("--epochs", type=int, default=None, help="epochs of the photo U-Net (default: 4; the scenes U-Nets train 6)")
    s.add_argument("-n", type=int, default=None, help="training photo patches (default: 768)")
    s.add_argument("--size", type=int, default=64, help="training image size (px)")
    s.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    s.add_argument("--quick", action="store_true", help="a tiny run (seconds) to check the pipeline")

    _train_command(sub)

    s = _command(sub, "evaluate", "metrics table of checkpoints (+ gray and mean-ab baselines)",
                 "colorlab.course.commands:cmd_evaluate", _check_evaluate)
    s.add_argument("models", nargs="+", help="checkpoint files")
    s.add_argument("--dataset", default="sample", type=_dataset, help=f"one of {', '.join(DATASET_NAMES)}")
    s.add_argument("--root", default=None, help="dataset folder (default: $COLORLAB_HOME/data/<name>)")
    s.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")

    s = _command(sub, "sweep", "run a sweep of training runs from a YAML/JSON config and tabulate them",
                 "colorlab.course.commands:cmd_sweep", _check_sweep)
    s.add_argument("config", help="sweep config (e.g. configs/unet_skip_connections.yaml)")
    s.add_argument("--out", default=None, help="output folder (default: runs/sweeps/<config name>)")
    s.add_argument("--size", default=None, help="a size preset of the config (default: smoke)")
    s.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    s.add_argument("--quiet", action="store_true", help="no per-epoch progress bars")

    s = _command(sub, "colorize", "colorize photos (files or folders) at their own size",
                 "colorlab.inference.commands:cmd_colorize", _check_colorize)
    s.add_argument("inputs", nargs="+", help="image files or folders (searched recursively)")
    s.add_argument("--out", required=True, help="output folder (<name>_color.png for each photo)")
    s.add_argument("--model", default=None, help="checkpoint (default: the one `make demo` trained)")
    s.add_argument("--size", type=int, default=None, help="working size (default: the trained size)")
    s.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")


def _check_experiment(args) -> None:
    _check_sweep(args)  # the config file and --out, as for a sweep
    _check_root(args)


def _paper_commands(sub) -> None:
    s = _command(sub, "experiment", "run a report's experiment that is not a sweep (configs/experiments/)",
                 "colorlab.evaluation.experiments:cmd_experiment", _check_experiment)
    s.add_argument("config", help="experiment config (runner: classifier_table or routed)")
    for flag, default, help in (("--size", None, "a preset of the config: tiny, smoke (default) or full"),
                                ("--root", None, "dataset folder (e.g. of category photos)"),
                                ("--out", None, "output folder (default: runs/experiments/<name>)"),
                                ("--device", "auto", "auto, cpu, cuda, cuda:N or mps")):
        s.add_argument(flag, default=default, help=help)

    s = _command(sub, "route", "routed colorizers on real photos: groups from colour profiles (Robles & Budach) or "
                 "folder classes (Siswanto & Karnati), one colorizer per group, a router; evaluated per group",
                 "colorlab.evaluation.experiments:cmd_route", _check_train)
    s.add_argument("dataset", type=_dataset, help=f"one of {', '.join(DATASET_NAMES)}")
    s.add_argument("--by", default="profiles", choices=["profiles", "classes"], help="how photos are grouped")
    s.add_argument("--model", default="unet", choices=MODEL_NAMES, help="every group's colorizer")
    s.add_argument("--loss", default="blend", choices=LOSS_NAMES, help="every colorizer's loss (its group's prior)")
    for flag in ("--model-arg", "--loss-arg"):
        s.add_argument(flag, action="append", default=[], type=_key_value, metavar="KEY=VALUE", help="(repeatable)")
    for flag, kind, default, help in (
            ("--k", int, 4, "colour profiles (--by profiles)"), ("--root", str, None, "dataset folder"),
            ("--router", str, "small", "the predictor: small or a backbone name"), ("--size", int, 64, "image px"),
            ("-n", int, None, "at most this many training photos"), ("--val-n", int, None, "held-out photos"),
            ("--epochs", int, 5, "epochs of each colorizer and the router"), ("--bs", int, 32, "batch size"),
            ("--lr", float, 3e-3, "learning rate"), ("--seed", int, 0, "random seed"),
            ("--out", str, "runs/route", "tables and checkpoints"), ("--device", str, "auto", "auto, cpu, cuda…")):
        s.add_argument(flag, type=kind, default=default, help=help)


def _course_commands(sub) -> None:
    s = sub.add_parser("course", help="course tooling: export, release, autograde, guide, book", formatter_class=_Formatter)
    course = s.add_subparsers(dest="course_cmd", required=True, metavar="COURSE_COMMAND")
    e = _command(course, "export", "exercises (no solutions, no model answers), dataset READMEs, a student README",
                 "colorlab.course.commands:cmd_course_export", _check_export)
    e.add_argument("dir", help="the folder to write (must be new or empty)")
    e.add_argument("--src", default="notebooks", help="the solution notebooks")
    e.add_argument("--datasets", default="datasets", help="the folder of dataset READMEs")
    e.add_argument("--force", action="store_true", help="replace the bundle in an existing folder")
    g = _command(course, "release", "an nbgrader course folder and the released assignments (no solutions, "
                 "no hidden tests, no model answers) under DIR/release/", "colorlab.course.grading_commands:cmd_release",
                 _check_release)
    g.add_argument("dir", help="the course folder (created if missing; nbgrader_config.py, source/, release/)")
    g.add_argument("--labs", nargs="*", default=None, help="lab numbers, e.g. 01 02 (default: every graded lab)")
    g.add_argument("--src", default="notebooks", help="the solution notebooks")
    g.add_argument("--timeout", type=int, default=300, help="seconds a cell may run when autograding")
    g = _command(course, "autograde", "autograde a folder of submissions (SUBMISSIONS/<student>/<NN_name>.ipynb): "
                 "scores, DIR/grades.csv and feedback pages", "colorlab.course.grading_commands:cmd_autograde",
                 _check_autograde)
    g.add_argument("dir", help="the course folder `colorlab course release` made")
    g.add_argument("lab", help="the lab's number, e.g. 01")
    g.add_argument("submissions", help="one folder per student holding that lab's notebook")
    g = _command(course, "guide", "the instructor's guide (model answers, hidden tests, expected numbers, "
                 "common mistakes, timing) as Markdown", "colorlab.course.grading_commands:cmd_guide",
                 lambda args: readable_folder(args.src, "solution notebooks (--src)"))
    g.add_argument("out", help="the Markdown file to write, e.g. runs/instructor_guide.md")
    g.add_argument("--src", default="notebooks", help="the solution notebooks")
    g.add_argument("--answers", default="tests/exercise_answers",
                   help="stored right and wrong answers (their wrong answers become 'common mistakes')")
    g = _command(course, "book", "the course website (Sphinx): the labs with their executed outputs, the syllabus, "
                 "the capstone brief, the dataset cards", "colorlab.course.grading_commands:cmd_book")
    g.add_argument("out", help="the folder to write: html/ (the site) and src/ (its Sphinx sources)")
    g.add_argument("--executed", required=True, help="the executed labs: the --out folder of `colorlab run-notebooks`")
    for flag, help in (("--instructor", "show solutions, model answers (staff only)"), ("--quick", "smoke-run banner")):
        g.add_argument(flag, action="store_true", help=help)
    s = _command(sub, "run-notebooks", "execute the lab notebooks with papermill; print a status table",
                 "colorlab.course.commands:cmd_run_notebooks", _check_notebooks)
    s.add_argument("--folder", default="notebooks", help="the notebooks to run")
    s.add_argument("--out", default="runs/notebooks", help="executed notebooks and metrics.json go here")
    s.add_argument("--only", nargs="*", default=None, help="notebook numbers or names, e.g. 04 07")
    s.add_argument("-p", "--param", action="append", default=[], help="NAME=VALUE notebook parameter (repeatable)")
    s.add_argument("--full", action="store_true", help="the notebooks' own parameters instead of smoke ones")
    s.add_argument("--workers", type=int, default=2, help="notebooks run at once")
    s.add_argument("--cell-timeout", type=int, metavar="SECONDS", help="one cell's time limit (default: 600 s; --full 3600 s)")
    s.add_argument("--baselines", default=None, help="baselines JSON to compare metrics.json against")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="colorlab", formatter_class=_Formatter,
                                description="Deep-learning image colorization: a teaching and experimentation kit. "
                                            "Data under $COLORLAB_HOME (default ~/.colorlab).")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    _data_commands(sub)
    _model_commands(sub)
    _paper_commands(sub)
    _course_commands(sub)
    return p


def _handler(name: str):
    """The function a ``"module:function"`` handler names, its module imported now."""
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:  # looked up only when asked for
        print(f"colorlab {version()}")
        return 0
    if not getattr(args, "handler", None):  # a bare `colorlab`: say what it can do, as for any usage error
        parser.print_help(sys.stderr)
        return 2
    try:
        if getattr(args, "check", None):
            args.check(args)
        return int(_handler(args.handler)(args) or 0)
    except ColorlabError as e:
        print(f"colorlab: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("colorlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
