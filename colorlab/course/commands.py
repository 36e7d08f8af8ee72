"""The model and course commands of the ``colorlab`` CLI: ``demo``, ``train``, ``evaluate``, ``sweep``,
``colorize``, ``course export`` and ``run-notebooks``.

Each takes the parsed arguments and returns the exit status; :mod:`colorlab.cli` imports this module
only when one of them runs (the data commands are in :mod:`colorlab.data.commands`).
"""
from __future__ import annotations

import contextlib
from pathlib import Path

from colorlab.core.distributed import distributed_context, is_rank0, rank0_first
from colorlab.course.demo import run_demo
from colorlab.course.export import export_bundle
from colorlab.course.runner import parse_parameters, run_notebooks_command
from colorlab.data.prepare import prepare
from colorlab.evaluation.evaluate import evaluate
from colorlab.inference.commands import cmd_colorize  # the handler lives with inference (no training imports)
from colorlab.models.checkpoint import load_checkpoint
from colorlab.rarity.losses import prior_grid
from colorlab.rarity.prior import prior_for
from colorlab.evaluation.sweep import run_sweep
from colorlab.training.train import train_colorizer

__all__ = ["cmd_demo", "cmd_train", "cmd_evaluate", "cmd_sweep", "cmd_colorize", "cmd_course_export",
           "cmd_run_notebooks"]


def cmd_demo(args) -> int:
    run_demo(out_dir=args.out, epochs=args.epochs, n_train=args.n, size=args.size, device=args.device,
             quick=args.quick)
    return 0


def cmd_train(args) -> int:
    with distributed_context(device=args.device) if args.distributed else contextlib.nullcontext():
        with rank0_first():  # one process decodes the dataset and computes the prior; the others reuse them
            train = prepare(args.dataset, root=args.root, split="train", size=args.size, n=args.n, seed=args.seed,
                            progress=is_rank0())
            valid = prepare(args.dataset, root=args.root, split="val", size=args.size, seed=args.seed,
                            progress=is_rank0())
            grid = prior_grid(args.loss)  # the blend: Robles & Budach's 64 × 64; the others: Zhang's 313
            prior = prior_for(train, grid=grid) if grid else None
        return _train_prepared(args, train, valid, prior)


def _train_prepared(args, train, valid, prior) -> int:
    schedule = dict(schedule=args.schedule, steps_per_epoch=args.steps_per_epoch, step_every=args.step_every,
                    gamma=args.gamma, betas=tuple(args.betas) if args.betas else None, weight_decay=args.weight_decay)
    res = train_colorizer(train, valid, model=args.model, model_kwargs=dict(args.model_arg) or None, loss=args.loss,
                          loss_kwargs=dict(args.loss_arg) or None, prior=prior, epochs=args.epochs,
                          lr=args.lr, bs=args.bs, device=args.device, out_dir=args.out, resume=args.resume,
                          checkpoint_every=args.checkpoint_every, gallery_every=args.gallery_every, seed=args.seed,
                          num_workers=args.workers, distributed=args.distributed, compile=args.compile,
                          precision=args.precision, **schedule)
    if is_rank0():
        print(f"checkpoint: {res.checkpoint}")
    return 0


def cmd_evaluate(args) -> int:
    models = {}
    size = None
    for ck in args.models:
        net, cfg = load_checkpoint(ck)
        models[Path(ck).stem if Path(ck).stem != "checkpoint" else Path(ck).parent.name] = net
        size = size or cfg.get("size", 64)
    valid = prepare(args.dataset, root=args.root, split="val", size=size)
    train = prepare(args.dataset, root=args.root, split="train", size=size)
    table = evaluate(models, valid, prior=prior_for(train), train=train, device=args.device)
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    notes = table.attrs.get("notes", {})
    for col in table.columns:  # an empty column says why (e.g. LPIPS/FID weights not on this machine)
        if table[col].isna().all() and col in notes:
            print(f"{col}: {notes[col]}")
    return 0


def cmd_sweep(args) -> int:
    table = run_sweep(args.config, out_dir=args.out, size=args.size, device=args.device, progress=not args.quiet)
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"table: {table.attrs['csv']}, {table.attrs['markdown']}; plot: {table.attrs['plot']}")
    return 0


def cmd_course_export(args) -> int:
    files = export_bundle(args.dir, src=args.src, datasets=args.datasets, force=args.force)
    n_nb = sum(f.suffix == ".ipynb" for f in files)
    print(f"wrote {len(files)} files to {args.dir}: the kit's wheel ({files[0].name}), {n_nb} exercise notebooks "
          f"(no solutions, hidden tests or model answers), the dataset cards and README.md for students")
    return 0


def cmd_run_notebooks(args) -> int:
    return run_notebooks_command(args.folder, args.out, parse_parameters(args.param), smoke=not args.full,
                                 only=args.only, workers=args.workers, baselines=args.baselines,
                                 cell_timeout=args.cell_timeout)
