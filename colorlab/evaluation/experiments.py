"""The reports' experiments that are not colorizer sweeps, as runners and configs.

* :func:`classifier_table` — Siswanto & Karnati's Table I: the category classifier trained on several
  backbones (their ResNet50, VGG19, Inception), the top-3 error of each category on held-out photos.
* :func:`routed_run` — routed colorizers on real photos, evaluated per group: groups from colour
  **profiles** (Robles & Budach: K-means over dominant colours, K = 4, a colorizer per profile trained with
  that profile's own rarity weights, a profile predictor routing each gray photo) or from the dataset's
  folder **classes** (Siswanto & Karnati: a colorizer per category, a classifier routing).

:func:`run_experiment` runs a config (YAML, in ``configs/experiments/``): ``name``, ``runner``
(``classifier_table`` or ``routed``), ``base`` (its settings) and ``sizes`` (presets merged on top:
``tiny`` for the test suite, ``smoke`` for ``make reproduce``, ``full`` for the report's scale). Each writes
its tables as CSV and Markdown under ``out_dir``.
"""
from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import yaml

from colorlab.core.errors import ColorlabError
from colorlab.data.prepare import prepare
from colorlab.evaluation.predictor import evaluate_predictor
from colorlab.evaluation.routing import cross_group_table, routing_experiment
from colorlab.evaluation.sweep import markdown_table
from colorlab.profiles.groups import build_profiles, category_groups
from colorlab.rarity.losses import prior_grid
from colorlab.rarity.prior import prior_for
from colorlab.training.config import TrainConfig
from colorlab.training.predictor import PredictorConfig, train_predictor
from colorlab.training.routing import train_per_group
from colorlab.training.train import train_colorizer

__all__ = ["TABLE_I_ARCHS", "classifier_table", "routed_run", "run_experiment", "RUNNERS"]

#: Siswanto & Karnati's backbones, in their Table I's order ("Inception": torchvision's Inception v3).
TABLE_I_ARCHS = ("resnet50", "vgg19", "inception_v3")


def classifier_table(train, valid, archs=TABLE_I_ARCHS, config: PredictorConfig | None = None) -> pd.DataFrame:
    """Top-3 error per category (rows) of a classifier on each backbone (columns), on ``valid``; last row ``all``.

    ``train``/``valid``: prepared caches with class labels (e.g. ``folder`` with one sub-folder per category);
    ``config``: the training of every classifier (its ``arch`` replaced by each of ``archs``).
    """
    config = config or PredictorConfig()
    cols, notes = {}, {}
    for arch in archs:
        learn = train_predictor(train, valid=valid, config=replace(config, arch=arch))
        rep = evaluate_predictor(learn, valid, device=config.device)
        cols[arch] = list(rep.top3_error) + [1.0 - rep.top3_accuracy]
        names = list(rep.names) + ["all"]
        notes[arch] = getattr(learn.model, "config", {}).get("pretrained_weights") if hasattr(learn, "model") else None
    table = pd.DataFrame(cols, index=names)
    table.index.name = "category"
    table.attrs["notes"] = notes
    return table


def _groups(by: str, train, valid, k: int, progress: bool):
    if by == "profiles":
        profiles = build_profiles(train, k=k, progress=progress)
        return profiles.groups, profiles.assign_profile(valid)
    if by == "classes":
        tr, va = category_groups(train), category_groups(valid)
        if list(tr.names) != list(va.names):
            raise ColorlabError(f"the training and held-out photos have different classes: {tr.names} vs {va.names}")
        return tr, va.labels
    raise ColorlabError(f"route by 'profiles' or 'classes', got {by!r}")


def routed_run(train, valid, by: str = "profiles", k: int = 4, config: TrainConfig | None = None,
               router: PredictorConfig | None = None, out_dir: str | Path | None = None, device="auto") -> dict:
    """Routed colorizers vs one model on ``valid``, evaluated per group.

    ``by``: ``"profiles"`` (K colour profiles of ``train``; held-out photos assigned to the nearest one) or
    ``"classes"`` (the dataset's folder classes). ``config``: every colorizer's training (default: Robles &
    Budach's blend); each group's loss uses its group's own prior. ``router``: the predictor's training.
    Returns ``{"routing": AuC per group and colorizer (last column: the one model), "summary": routed / single /
    oracle / wrong-group AuC, "cross": photos of group i coloured by group j's colorizer (AuC), "groups": names}``.
    """
    config = config or TrainConfig(loss="blend")
    groups, valid_labels = _groups(by, train, valid, k, config.progress)
    per = train_per_group(train, groups, valid=valid, valid_groups=valid_labels, config=config, device=device,
                          out_dir=None if out_dir is None else Path(out_dir) / "groups")
    grid = prior_grid(config.loss)
    prior = prior_for(train, grid=grid, progress=False) if grid else None
    single = train_colorizer(train, valid, config, prior=prior, device=device,
                             out_dir=None if out_dir is None else Path(out_dir) / "single")
    learn = train_predictor(train, labels=groups, valid=valid, valid_labels=valid_labels,
                            config=replace(router or PredictorConfig(arch="small"), device=str(device)))
    result = routing_experiment(single.model, per["models"], valid, valid_labels, router=learn.model,
                                names=list(groups.names))
    summary = pd.DataFrame({"value": result.metrics})    # AuC routed / one model / oracle / wrong group, routing accuracy
    cross = cross_group_table(per["models"], valid, valid_labels, names=list(groups.names), device=device)
    return {"routing": result.table(), "summary": summary, "cross": cross, "groups": list(groups.names)}


def _write(tables: dict, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, table in tables.items():
        if isinstance(table, pd.DataFrame):
            table.to_csv(out / f"{name}.csv")
            (out / f"{name}.md").write_text(markdown_table(table))
            paths[name] = str(out / f"{name}.csv")
    return paths


def _load(config, size: str | None) -> dict:
    cfg = yaml.safe_load(Path(config).read_text()) if isinstance(config, (str, Path)) else copy.deepcopy(config)
    unknown = set(cfg) - {"name", "runner", "base", "sizes", "description"}
    if unknown:
        raise ColorlabError(f"unknown experiment config keys {sorted(unknown)}")
    sizes = cfg.get("sizes") or {}
    size = size or ("smoke" if "smoke" in sizes else None)
    if size is not None and size not in sizes:
        raise ColorlabError(f"experiment {cfg.get('name')!r} has no size {size!r}; it has {sorted(sizes)}")
    settings = copy.deepcopy(cfg.get("base") or {})
    for key, value in (sizes.get(size) or {}).items():
        settings[key] = {**settings.get(key, {}), **value} if isinstance(value, dict) else value
    return {"name": cfg.get("name", "experiment"), "runner": cfg.get("runner"), "settings": settings, "size": size}


def _data(spec: dict):
    kw = dict(root=spec.get("root"), size=spec.get("size", 64), seed=spec.get("seed", 0), progress=False)
    return (prepare(spec["dataset"], split="train", n=spec.get("n"), **kw),
            prepare(spec["dataset"], split="val", n=spec.get("val_n"), **kw))


def _run_table(s: dict, train, valid, out: Path, device) -> dict:
    cfg = PredictorConfig(**{**(s.get("predictor") or {}), "device": str(device)})
    return {"table_i": classifier_table(train, valid, tuple(s.get("archs") or TABLE_I_ARCHS), cfg)}


def _run_routed(s: dict, train, valid, out: Path, device) -> dict:
    res = routed_run(train, valid, by=s.get("by", "profiles"), k=int(s.get("k", 4)),
                     config=TrainConfig(**(s.get("train") or {})),
                     router=PredictorConfig(**(s.get("router") or {})), out_dir=out, device=device)
    return {k: v for k, v in res.items() if k != "groups"}


#: The runners a config can name.
RUNNERS = {"classifier_table": _run_table, "routed": _run_routed}


def run_experiment(config, size: str | None = None, out_dir: str | Path | None = None, device="auto",
                   data=None) -> dict:
    """Run an experiment config (see the module's docstring); ``data``: ``(train, valid)`` to use instead of its
    ``data`` settings. Returns its tables; writes them (CSV, Markdown) and ``settings.json`` under ``out_dir``."""
    cfg = _load(config, size)
    if cfg["runner"] not in RUNNERS:
        raise ColorlabError(f"experiment runner must be one of {', '.join(RUNNERS)}, got {cfg['runner']!r}")
    s = cfg["settings"]
    out = Path(out_dir) if out_dir is not None else Path("runs") / "experiments" / str(cfg["name"])
    train, valid = data if data is not None else _data(s.get("data") or {"dataset": "sample"})
    tables = RUNNERS[cfg["runner"]](s, train, valid, out, device)
    paths = _write(tables, out)
    (out / "settings.json").write_text(json.dumps({**cfg, "tables": paths}, indent=2, default=str))
    return tables


def _print_tables(tables: dict) -> None:
    for name, table in tables.items():
        print(f"\n{name}\n{table.to_string(float_format=lambda v: f'{v:.4g}')}")


def cmd_experiment(args) -> int:
    """``colorlab experiment CONFIG``: run a config of :data:`RUNNERS`, print and write its tables."""
    cfg = _load(args.config, args.size)
    data = None
    if args.root is not None:
        spec = dict(cfg["settings"].get("data") or {}, root=args.root)
        data = _data(spec)
    out = args.out or Path("runs") / "experiments" / str(cfg["name"])
    _print_tables(run_experiment(args.config, size=args.size, out_dir=out, device=args.device, data=data))
    print(f"\ntables: {out}")
    return 0


def cmd_route(args) -> int:
    """``colorlab route DATASET --by profiles|classes``: routed colorizers on real photos, evaluated per group."""
    train, valid = _data({"dataset": args.dataset, "root": args.root, "size": args.size, "n": args.n,
                          "val_n": args.val_n, "seed": args.seed})
    config = TrainConfig(model=args.model, model_kwargs=dict(args.model_arg) or None, loss=args.loss,
                         loss_kwargs=dict(args.loss_arg) or None, epochs=args.epochs, bs=args.bs, lr=args.lr,
                         seed=args.seed)
    res = routed_run(train, valid, by=args.by, k=args.k, config=config,
                     router=PredictorConfig(arch=args.router, epochs=args.epochs), out_dir=args.out, device=args.device)
    tables = {k: v for k, v in res.items() if k != "groups"}
    _write(tables, Path(args.out))
    _print_tables(tables)
    print(f"\ntables: {args.out}")
    return 0
