"""The experiment runner: a grid or list of training runs, each trained, evaluated, tabulated and plotted.

The runs come from a sweep config (:mod:`colorlab.training.sweep_config`: a ``base``, a ``grid`` and/or
``runs``, ``sizes``). :func:`run_sweep` trains each run (:func:`colorlab.training.train.train_colorizer`),
evaluates it (:func:`colorlab.evaluation.evaluate.evaluate`) and writes one table (``results.csv``,
``results.md``) and one bar chart (``sweep.png``). Each run lives in ``OUT/runs/<name>/``: ``config.json``
(its resolved settings), the training checkpoint, ``gallery.png``, ``result.json`` once it is evaluated.
Re-running a sweep skips the runs that have a ``result.json`` and resumes an interrupted run from its
checkpoint.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from colorlab.core.checkpoint import atomic_write, plain
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.core.figures import pyplot, save_figure
from colorlab.data.augment import make_augment
from colorlab.data.loaders import lab_batch
from colorlab.data.prepare import prepare
from colorlab.evaluation.evaluate import COLUMNS, GRAY, MEAN_AB, _model_input, evaluate
from colorlab.evaluation.hints import best_of, sweep_callbacks
from colorlab.models.checkpoint import load_checkpoint
from colorlab.models.heads import predict_ab
from colorlab.models.lab_view import LabView
from colorlab.rarity.losses import prior_grid
from colorlab.rarity.prior import ab_prior, prior_for
from colorlab.training.callbacks import SnapshotAt
from colorlab.training.config import TrainConfig
from colorlab.training.gallery import progression_figure, save_gallery
from colorlab.training.sweep_config import DEFAULT_METRICS, SCHEDULE_KEYS, expand_runs, load_config, short, slug
from colorlab.training.train import train_colorizer

__all__ = ["run_sweep", "markdown_table", "plot_sweep"]


class _Context:
    """Data and priors shared between the runs of one sweep (each computed once)."""

    def __init__(self, train, valid, device, progress):
        self.given = (train, valid) if train is not None else None
        self.device, self.progress = get_device(device), progress
        self.data: dict[str, tuple] = {}
        self.priors: dict[tuple, object] = {}

    def datasets(self, spec: dict):
        if self.given is not None:
            return self.given, "given"
        key = json.dumps(spec, sort_keys=True)
        if key not in self.data:
            kw = dict(root=spec["root"], size=spec["size"], seed=spec["seed"], progress=self.progress)
            tr_split, va_split = spec.get("splits") or ("train", "val")
            train = prepare(spec["dataset"], split=tr_split, n=spec["n"], **kw)
            valid = prepare(spec["dataset"], split=va_split, n=spec["val_n"], **kw)
            self.data[key] = (train, valid)
        return self.data[key], f"{spec['dataset']}@{spec['size']}"

    def prior(self, train, data_key: str, grid: str, sigma: float):
        key = (data_key, grid, sigma)
        if key not in self.priors:
            if getattr(train, "path", None) is not None:
                self.priors[key] = prior_for(train, grid=grid, sigma=sigma, device=self.device, progress=False)
            else:
                self.priors[key] = ab_prior(getattr(train, "images", train), grid=grid, sigma=sigma, device=self.device)
        return self.priors[key]


def _eval_model(model, settings: dict):
    """The model as evaluate() sees it: Lab in, normalised ab out."""
    model = model.eval()
    return LabView(model, settings["colorspace"]) if settings["colorspace"] != "lab" else model


def _save_gallery(path: Path, model, valid, settings: dict, device, bin_centers) -> None:
    n = min(int(settings["gallery"] or 0), len(getattr(valid, "images", valid)))
    if n <= 0:
        return
    L, ab = lab_batch(valid, range(n), device)
    pred = predict_ab(model.to(device), _model_input(model, L), bin_centers=bin_centers)  # a hint model: no hints
    save_gallery(path, L.cpu(), pred.cpu(), ab.cpu(), title=path.parent.name)


def _progression(run_dir: Path, snaps: list[tuple[int, torch.nn.Module]], valid, device, bin_centers) -> None:
    """Siswanto & Karnati's Fig. 6: one photo coloured by the weights of increasing epochs, then the truth."""
    L, ab = lab_batch(valid, [0], device)
    cols = [(f"epoch {e}", predict_ab(m.to(device), _model_input(m, L), bin_centers=bin_centers).cpu())
            for e, m in snaps]
    save_figure(progression_figure(L.cpu(), cols + [("truth", ab.cpu())]), run_dir / "progression.png")


def _train_and_evaluate(name: str, settings: dict, run_dir: Path, ctx: _Context) -> dict:
    (train, valid), data_key = ctx.datasets(settings["data"])
    loss = settings["loss"]
    grid = settings["prior"]["grid"] or prior_grid(loss)
    prior = ctx.prior(train, data_key, grid, settings["prior"]["sigma"]) if loss != "mse" else None
    extra_kwargs, extra_cbs = sweep_callbacks(settings)  # hint runs (Benabla et al.), per-epoch metrics
    model_kwargs = {**dict(settings["model_kwargs"]), **extra_kwargs}
    if loss == "ce":  # rebalanced classification: a Q-bin head on the prior's grid
        model_kwargs.setdefault("head", "classification")
        model_kwargs.setdefault("n_bins", prior.Q)
    ckpt = run_dir / "checkpoint.pt"
    history_file = run_dir / "history.json"
    earlier = json.loads(history_file.read_text()) if ckpt.exists() and history_file.exists() else []
    cbs = extra_cbs + ([SnapshotAt(settings["snapshots"], run_dir, {"colorspace": settings["colorspace"]})]
                       if settings["snapshots"] else [])
    t0 = time.perf_counter()
    config = TrainConfig(model=settings["model"], model_kwargs=model_kwargs, loss=loss,
                         loss_kwargs=settings["loss_kwargs"], epochs=settings["epochs"], lr=settings["lr"],
                         bs=settings["bs"], seed=settings["seed"], colorspace=settings["colorspace"],
                         augment=make_augment(settings["augment"]), progress=ctx.progress,
                         **{k: settings[k] for k in SCHEDULE_KEYS})
    res = train_colorizer(train, valid, config, prior=prior, device=ctx.device, out_dir=run_dir,
                          resume=ckpt.exists(), extra_cbs=cbs)
    seconds = time.perf_counter() - t0
    history = [h for h in earlier if h["epoch"] <= res.start_epoch] + res.history
    atomic_write(history_file, lambda tmp: Path(tmp).write_text(json.dumps(history, indent=2)))

    centers = prior.centers if prior is not None and loss == "ce" else None
    eval_prior = ctx.prior(train, data_key, "zhang313", 5.0)  # the same rebalanced AuC for every run
    models = {name: _eval_model(res.model, settings)}
    snaps = []
    for e in settings["snapshots"]:
        net, _ = load_checkpoint(run_dir / f"snapshot_epoch{e:03d}.pt")
        snaps.append((e, _eval_model(net, settings)))
        models[f"{name} @ epoch {e}"] = snaps[-1][1]
    table = evaluate(models, valid, prior=eval_prior, train=train, device=ctx.device, bin_centers=centers,
                     progress=False)
    _save_gallery(run_dir / "gallery.png", models[name], valid, settings, ctx.device, centers)
    if snaps:
        _progression(run_dir, snaps, valid, ctx.device, centers)
    valid_losses = [h["valid_loss"] for h in history if isinstance(h.get("valid_loss"), float)]
    return {"name": name, "data": data_key, "settings": _as_json(settings), "history": history,
            "train_seconds": seconds, "resumed_from_epoch": res.start_epoch,
            "best_valid_loss": min(valid_losses) if valid_losses else None,
            "best": best_of(history, settings["epoch_metrics"]),
            "table": json.loads(table.to_json(orient="index")),
            "notes": plain(table.attrs.get("notes", {}), for_json=True)}


def _as_json(settings):
    """``settings`` as JSON, a function in them (e.g. ``loss_kwargs.fn``: a student's loss) recorded by its name."""
    if isinstance(settings, dict):
        return plain({k: _as_json(v) for k, v in settings.items()}, for_json=True)
    if callable(settings) and not isinstance(settings, type):
        return f"<function {getattr(settings, '__name__', type(settings).__name__)}>"
    return plain(settings, for_json=True)


def _varied(runs: list[tuple[str, dict]]) -> list[str]:
    """Dotted names of the settings that differ between runs (the table's parameter columns)."""
    flat = []
    for _, s in runs:
        f = pd.json_normalize(_as_json(s), sep=".").iloc[0].to_dict()
        flat.append({k: json.dumps(v, sort_keys=True, default=str) for k, v in f.items()})
    keys = sorted(set().union(*flat)) if flat else []
    return [k for k in keys if len({f.get(k) for f in flat}) > 1 and k not in ("gallery", "snapshots")]


def _metric_columns(metrics: dict) -> list[str]:
    """evaluate()'s columns, then any per-group ones it added (``"chroma ratio [multimodal]"`` ...)."""
    return COLUMNS + [c for c in metrics if c not in COLUMNS]


def _table(results: list[dict], runs: list[tuple[str, dict]]) -> pd.DataFrame:
    params = _varied(runs)
    rows, baselines = [], {}
    for r in results:
        flat = pd.json_normalize(r["settings"], sep=".").iloc[0].to_dict()
        for row_name, metrics in r["table"].items():
            if row_name in (GRAY, MEAN_AB):
                baselines.setdefault((r["data"], row_name), metrics)
                continue
            row = {"run": row_name, **{p: "" if flat.get(p) is None else short(flat[p]) for p in params}}
            row.update({c: metrics.get(c) for c in _metric_columns(metrics)})
            if row_name == r["name"]:
                row["best valid loss"] = r["best_valid_loss"]
                row.update(r.get("best") or {})
                row["train s"] = round(r["train_seconds"], 1)
            rows.append(row)
    multi = len({d for d, _ in baselines}) > 1
    for (data, row_name), metrics in baselines.items():
        label = f"{row_name} [{data}]" if multi else row_name
        rows.append({"run": label, **{c: metrics.get(c) for c in _metric_columns(metrics)}})
    table = pd.DataFrame(rows).set_index("run")
    for c in table.columns.difference(params):
        table[c] = pd.to_numeric(table[c], errors="coerce")
    return table.dropna(axis=1, how="all")


def markdown_table(table: pd.DataFrame, digits: int = 4) -> str:
    """A GitHub Markdown table of a sweep table (numbers to ``digits`` significant digits, blanks for NaN)."""
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "" if math.isnan(v) else f"{v:.{digits}g}"
        return "" if v is None else str(v).replace("|", "\\|")
    cols = [table.index.name or ""] + [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for idx, row in table.iterrows():
        lines.append("| " + " | ".join([cell(idx)] + [cell(v) for v in row]) + " |")
    return "\n".join(lines) + "\n"


def plot_sweep(table: pd.DataFrame, metrics=DEFAULT_METRICS, path: str | Path | None = None, title: str | None = None):
    """One horizontal bar chart per metric, one bar per row (runs and baselines). Saved to ``path`` if given."""
    metrics = [m for m in metrics if m in table.columns and table[m].notna().any()]
    if not metrics:
        raise ColorlabError(f"none of the metrics {list(metrics)} is in the table")
    plt = pyplot()
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 0.35 * len(table) + 1.2),
                             sharey=True, squeeze=False)
    labels = [str(i) for i in table.index]
    for ax, m in zip(axes[0], metrics):
        vals = pd.to_numeric(table[m], errors="coerce").to_numpy(dtype=float)
        ax.barh(range(len(vals)), np.nan_to_num(vals), color=["#4c72b0" if "ab" not in l else "#999999"
                                                               for l in labels])
        ax.set_title(m, fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0, 0].set_yticks(range(len(labels)), labels)
    axes[0, 0].invert_yaxis()
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def run_sweep(config, out_dir: str | Path | None = None, size: str | None = None, train=None, valid=None,
              device="auto", progress: bool = True, verbose: bool = True, plot: bool = True) -> pd.DataFrame:
    """Run every run of a sweep (skipping finished ones), evaluate them, and tabulate.

    Args:
        config: a YAML/JSON path or a dict (see :mod:`colorlab.training.sweep_config`).
        out_dir: where runs and tables go (default ``runs/sweeps/<config name>``).
        size: a preset of the config's ``sizes`` (default ``"smoke"`` when it has one).
        train, valid: prepared caches (or uint8 arrays) to use instead of each run's ``data``.
        progress: fastai/tqdm progress bars while training; ``verbose``: one line per run.
    Returns:
        the table (one row per run and snapshot, then the gray / mean-ab baselines; parameter
        columns for the settings that vary, then the metrics of :func:`colorlab.evaluation.evaluate.evaluate`,
        best validation loss and training seconds). ``table.attrs`` holds ``out_dir``, ``csv``,
        ``markdown`` and ``plot`` paths, and ``runs``: each run's folder by run name (its
        ``checkpoint.pt`` loads back with :func:`colorlab.models.checkpoint.load_checkpoint`).
    """
    cfg = load_config(config)
    runs = expand_runs(cfg, size)
    out = Path(out_dir) if out_dir is not None else Path("runs") / "sweeps" / slug(str(cfg.get("name", "sweep")))
    ctx = _Context(train, valid, device, progress)
    results = []
    for i, (name, settings) in enumerate(runs, 1):
        run_dir = out / "runs" / slug(name)
        result_file, config_file = run_dir / "result.json", run_dir / "config.json"
        wanted = _as_json(settings)
        if config_file.exists() and json.loads(config_file.read_text()) != wanted:
            raise ColorlabError(f"{run_dir} holds a run with other settings; delete it or rename the run")
        if result_file.exists():
            results.append(json.loads(result_file.read_text()))
            if verbose:
                print(f"[{i}/{len(runs)}] {name}: done before, skipped", flush=True)
            continue
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(config_file, lambda tmp: Path(tmp).write_text(json.dumps(wanted, indent=2)))
        if verbose:
            resumed = " (resuming its checkpoint)" if (run_dir / "checkpoint.pt").exists() else ""
            print(f"[{i}/{len(runs)}] {name}: training{resumed}", flush=True)
        result = _train_and_evaluate(name, settings, run_dir, ctx)
        atomic_write(result_file, lambda tmp: Path(tmp).write_text(json.dumps(result, indent=2)))
        results.append(result)
        if verbose:
            m = result["table"][name]
            print(f"[{i}/{len(runs)}] {name}: {result['train_seconds']:.1f} s, PSNR {m['PSNR (dB)']:.2f} dB, "
                  f"AuC {m['AuC']:.4f}", flush=True)
    table = _table(results, runs)
    out.mkdir(parents=True, exist_ok=True)
    csv = atomic_write(out / "results.csv", lambda tmp: table.to_csv(tmp))
    md = atomic_write(out / "results.md", lambda tmp: Path(tmp).write_text(markdown_table(table)))
    run_dirs = {name: str(out / "runs" / slug(name)) for name, _ in runs}
    table.attrs.update(out_dir=str(out), csv=str(csv), markdown=str(md), plot=None, runs=run_dirs)
    if plot:
        plot_sweep(table, cfg.get("metrics") or DEFAULT_METRICS, out / "sweep.png", title=cfg.get("name"))
        table.attrs["plot"] = str(out / "sweep.png")
    return table
