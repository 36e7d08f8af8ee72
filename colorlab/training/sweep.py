"""The experiment runner: a grid or list of training runs, each evaluated, as one table and a plot.

A sweep config (YAML or JSON, or a dict) has a ``base`` — the settings every run shares, so all
runs get the same budget and seed — and either a ``grid`` (every combination of the listed
values) or a list of ``runs`` (each a set of overrides, optionally ``name``d), or both (each run
× the grid). Keys may be dotted (``model_kwargs.skips``). ``sizes`` holds named presets
(``smoke``: the sample set on a CPU in a minute or two; ``full``: the real dataset on a GPU).

.. code-block:: yaml

    name: unet-skip-connections
    base: {model: unet, model_kwargs: {base: 16, depth: 3}, loss: mse, epochs: 3}
    runs:
      - {name: only upper, model_kwargs.skips: upper}
      - {name: full connection, model_kwargs.skips: all}
    sizes:
      smoke: {data: {dataset: sample, size: 32, n: 256}}
      full: {data: {dataset: flowers102, size: 64}, epochs: 20}

Each run lives in ``OUT/runs/<name>/``: ``config.json`` (its resolved settings), the training
checkpoint, ``gallery.png``, ``result.json`` once it is evaluated. Re-running a sweep skips the
runs that have a ``result.json`` and resumes an interrupted run from its checkpoint. The sweep
writes ``results.csv``, ``results.md`` and ``sweep.png`` in ``OUT``.

The settings of a run (:data:`DEFAULTS`): ``data`` (``dataset``, ``root``, ``size``, ``n``,
``val_n``, ``seed``), ``model``, ``model_kwargs``, ``loss`` (``mse``/``rarity``/``blend``/``ce``),
``loss_kwargs`` (λ = ``lam``, α = ``alpha``, ``scheme``...), ``prior`` (``grid``, ``sigma``),
``colorspace`` (``lab``/``ycbcr``), ``augment`` (false / true = the papers' recipe / a dict, see
:mod:`colorlab.data.augment`), ``epochs``, ``lr``, ``bs``, ``seed``, ``snapshots`` (epochs whose
weights are kept and evaluated: Siswanto & Karnati's progression), ``gallery`` (photos in the gallery).
"""
from __future__ import annotations

import copy
import itertools
import json
import math
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from fastai.callback.core import Callback

from colorlab.core.checkpoint import atomic_write, load_checkpoint, save_checkpoint
from colorlab.core.errors import ColorlabError

__all__ = ["DEFAULTS", "load_config", "expand_runs", "run_sweep", "plot_sweep", "markdown_table",
           "SnapshotAt", "DEFAULT_METRICS"]

#: Settings every run starts from (a config's ``base`` and a run's overrides are merged on top).
DEFAULTS: dict = {
    "data": {"dataset": "sample", "root": None, "size": 32, "n": 256, "val_n": 64, "seed": 0},
    "model": "unet",
    "model_kwargs": {},
    "loss": "mse",
    "loss_kwargs": {},
    "prior": {"grid": None, "sigma": 5.0},
    "colorspace": "lab",
    "augment": False,
    "epochs": 3,
    "lr": 3e-3,
    "bs": 32,
    "seed": 0,
    "snapshots": [],
    "gallery": 6,
}

#: Metric columns shown in the plot unless a config names others (``metrics: [...]``).
DEFAULT_METRICS = ("PSNR (dB)", "AuC", "AuC rebalanced", "colourfulness gap")
_TOP_KEYS = {"name", "description", "base", "grid", "runs", "sizes", "size", "metrics"}


# --------------------------------------------------------------------------- config
def load_config(config) -> dict:
    """A sweep config from a YAML/JSON file path or a dict (copied), checked for unknown keys."""
    if isinstance(config, (str, Path)):
        path = Path(config)
        if not path.is_file():
            raise ColorlabError(f"{path}: no such sweep config")
        text = path.read_text()
        try:
            if path.suffix == ".json":
                cfg = json.loads(text)
            else:
                import yaml
                cfg = yaml.safe_load(text)
        except Exception as e:  # noqa: BLE001 - a malformed file is one user-facing problem
            raise ColorlabError(f"{path}: not a valid {path.suffix.lstrip('.') or 'YAML'} file "
                                f"({str(e).splitlines()[0][:120]})") from None
        cfg = cfg or {}
        cfg.setdefault("name", path.stem)
    elif isinstance(config, dict):
        cfg = copy.deepcopy(config)
    else:
        raise ColorlabError(f"a sweep config is a file path or a dict, got {type(config).__name__}")
    if not isinstance(cfg, dict):
        raise ColorlabError("a sweep config must be a mapping with base / grid / runs / sizes")
    unknown = set(cfg) - _TOP_KEYS
    if unknown:
        raise ColorlabError(f"unknown sweep config keys {sorted(unknown)}; use {sorted(_TOP_KEYS)}")
    return cfg


def _set(d: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    for k in keys[:-1]:
        if not isinstance(d.get(k), dict):
            d[k] = {}
        d = d[k]
    d[keys[-1]] = copy.deepcopy(value)


def _merge(base: dict, overrides: dict | None) -> dict:
    """``base`` with ``overrides`` applied: nested dicts merge, dotted keys reach into them."""
    out = copy.deepcopy(base)
    for key, value in (overrides or {}).items():
        if "." in key:
            _set(out, key, value)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _check_settings(s: dict, name: str) -> None:
    unknown = set(s) - set(DEFAULTS)
    if unknown:
        raise ColorlabError(f"run {name!r}: unknown settings {sorted(unknown)}; use {sorted(DEFAULTS)}")
    unknown = set(s["data"]) - set(DEFAULTS["data"])
    if unknown:
        raise ColorlabError(f"run {name!r}: unknown data settings {sorted(unknown)}; use {sorted(DEFAULTS['data'])}")
    if s["loss"] not in ("mse", "rarity", "blend", "ce"):
        raise ColorlabError(f"run {name!r}: unknown loss {s['loss']!r}: use mse, rarity, blend or ce")
    if not isinstance(s["epochs"], int) or s["epochs"] < 1:
        raise ColorlabError(f"run {name!r}: epochs must be a positive integer, got {s['epochs']!r}")
    bad = [e for e in s["snapshots"] if not isinstance(e, int) or not 1 <= e <= s["epochs"]]
    if bad:
        raise ColorlabError(f"run {name!r}: snapshots {bad} are not epochs in 1..{s['epochs']}")


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return ",".join(f"{k}={_short(v)}" for k, v in value.items())
    return str(value)


def expand_runs(config, size: str | None = None) -> list[tuple[str, dict]]:
    """The runs of a sweep: ``[(name, settings)]`` with every setting resolved.

    ``size`` picks a preset from the config's ``sizes`` (default: its ``size`` key, else
    ``"smoke"`` when present).
    """
    cfg = load_config(config)
    sizes = cfg.get("sizes") or {}
    size = size or cfg.get("size") or ("smoke" if "smoke" in sizes else None)
    if size is not None and size not in sizes:
        raise ColorlabError(f"sweep {cfg.get('name', '')!r} has no size {size!r}; it has {sorted(sizes) or 'none'}")
    base = _merge(_merge(DEFAULTS, cfg.get("base")), sizes.get(size) if size else None)
    grid = cfg.get("grid") or {}
    if not isinstance(grid, dict) or any(not isinstance(v, list) or not v for v in grid.values()):
        raise ColorlabError("grid must map each setting to a non-empty list of values")
    runs = cfg.get("runs") or [{}]
    if not isinstance(runs, list) or any(not isinstance(r, dict) for r in runs):
        raise ColorlabError("runs must be a list of mappings (settings to override, optional name)")
    out, seen = [], set()
    for i, run in enumerate(runs):
        run = dict(run)
        run_name = run.pop("name", None)
        for combo in itertools.product(*grid.values()) if grid else [()]:
            overrides = dict(zip(grid, combo))
            parts = [run_name] if run_name else ([] if grid else [f"run {i + 1}"])
            parts += [f"{k.split('.')[-1]}={_short(v)}" for k, v in overrides.items()]
            name = " ".join(parts) or f"run {i + 1}"
            settings = _merge(_merge(base, run), overrides)
            _check_settings(settings, name)
            if name in seen:
                raise ColorlabError(f"two runs are called {name!r}: give them distinct names")
            seen.add(name)
            out.append((name, settings))
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name).strip("_") or "run"


# --------------------------------------------------------------------------- running
class SnapshotAt(Callback):
    """Keep a copy of the weights after the given epochs (``folder/snapshot_epoch<e>.pt``), rank 0 only."""

    order = 61

    def __init__(self, epochs, folder: str | Path, config: dict | None = None):
        self.epochs, self.folder, self.config = set(int(e) for e in epochs), Path(folder), dict(config or {})

    def after_epoch(self):
        done = self.epoch + 1
        if getattr(self.learn, "skipping_epoch", False) or done not in self.epochs:
            return
        if torch.distributed.is_available() and torch.distributed.is_initialized() and torch.distributed.get_rank():
            return
        model = getattr(self.model, "module", self.model)
        config = {**self.config, "model": model.config, "epoch": done}
        save_checkpoint(self.folder / f"snapshot_epoch{done:03d}.pt", model, config, epoch=done)


class _Context:
    """Data and priors shared between the runs of one sweep (each computed once)."""

    def __init__(self, train, valid, device, progress):
        self.given = (train, valid) if train is not None else None
        from colorlab.core.device import get_device
        self.device, self.progress = get_device(device), progress
        self.data: dict[str, tuple] = {}
        self.priors: dict[tuple, object] = {}

    def datasets(self, spec: dict):
        if self.given is not None:
            return self.given, "given"
        key = json.dumps(spec, sort_keys=True)
        if key not in self.data:
            from colorlab.data import prepare
            kw = dict(root=spec["root"], size=spec["size"], seed=spec["seed"], progress=self.progress)
            train = prepare(spec["dataset"], split="train", n=spec["n"], **kw)
            valid = prepare(spec["dataset"], split="val", n=spec["val_n"], **kw)
            self.data[key] = (train, valid)
        return self.data[key], f"{spec['dataset']}@{spec['size']}"

    def prior(self, train, data_key: str, grid: str, sigma: float):
        key = (data_key, grid, sigma)
        if key not in self.priors:
            from colorlab.rarity.stats import ab_prior, prior_for
            if getattr(train, "path", None) is not None:
                self.priors[key] = prior_for(train, grid=grid, sigma=sigma, device=self.device, progress=False)
            else:
                self.priors[key] = ab_prior(getattr(train, "images", train), grid=grid, sigma=sigma, device=self.device)
        return self.priors[key]


def _plain(obj):
    return json.loads(json.dumps(obj, default=str))


def _valid_images(valid, valid_n: int | None = None) -> np.ndarray:
    return np.array(getattr(valid, "images", valid)[:valid_n])  # a copy: memmaps are read-only


def _lab_batch(images: np.ndarray, device) -> tuple[torch.Tensor, torch.Tensor]:
    from colorlab.core.color import split_lab
    rgb = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).to(device)
    return split_lab(rgb)


def _eval_model(model, settings: dict):
    """The model as evaluate() sees it: Lab in, normalised ab out."""
    from colorlab.models.lab_view import LabView
    model = model.eval()
    return LabView(model, settings["colorspace"]) if settings["colorspace"] != "lab" else model


def _save_gallery(path: Path, model, valid, settings: dict, device, bin_centers) -> None:
    from colorlab.models import predict_ab
    from colorlab.viz.lab import save_gallery
    n = int(settings["gallery"] or 0)
    if n <= 0:
        return
    L, ab = _lab_batch(_valid_images(valid, n), device)
    pred = predict_ab(model.to(device), L, bin_centers=bin_centers)
    save_gallery(path, L.cpu(), pred.cpu(), ab.cpu(), title=path.parent.name)


def _progression(run_dir: Path, snaps: list[tuple[int, torch.nn.Module]], valid, settings: dict, device,
                 bin_centers) -> None:
    """Siswanto & Karnati's Fig. 6: one photo coloured by the weights of increasing epochs, then the truth."""
    from colorlab.core.color import denormalize_ab, denormalize_l, gray_rgb, lab_to_rgb
    from colorlab.models import predict_ab
    from colorlab.viz.lab import _plt, save_figure, to_hwc
    L, ab = _lab_batch(_valid_images(valid, 1), device)
    Ld = denormalize_l(L.cpu())
    cols = [(f"epoch {e}", predict_ab(m.to(device), L, bin_centers=bin_centers).cpu()) for e, m in snaps]
    cols.append(("truth", ab.cpu()))
    plt = _plt()
    fig, axes = plt.subplots(1, len(cols) + 1, figsize=(1.8 * (len(cols) + 1), 2.1), squeeze=False)
    axes[0, 0].imshow(to_hwc(gray_rgb(Ld)[0]))
    axes[0, 0].set_title("gray", fontsize=9)
    for ax, (title, pred) in zip(axes[0, 1:], cols):
        ax.imshow(to_hwc(lab_to_rgb(torch.cat([Ld, denormalize_ab(pred)], 1))[0]))
        ax.set_title(title, fontsize=9)
    for ax in axes[0]:
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    save_figure(fig, run_dir / "progression.png")


def _train_and_evaluate(name: str, settings: dict, run_dir: Path, ctx: _Context) -> dict:
    from colorlab.data.augment import make_augment
    from colorlab.evaluation.evaluate import evaluate
    from colorlab.training.train import train_colorizer

    (train, valid), data_key = ctx.datasets(settings["data"])
    loss = settings["loss"]
    grid = settings["prior"]["grid"] or ("regular64" if loss == "blend" else "zhang313")
    prior = ctx.prior(train, data_key, grid, settings["prior"]["sigma"]) if loss != "mse" else None
    model_kwargs = dict(settings["model_kwargs"])
    if loss == "ce":  # rebalanced classification: a Q-bin head on the prior's grid
        model_kwargs.setdefault("head", "classification")
        model_kwargs.setdefault("n_bins", prior.Q)
    ckpt = run_dir / "checkpoint.pt"
    history_file = run_dir / "history.json"
    earlier = json.loads(history_file.read_text()) if ckpt.exists() and history_file.exists() else []
    cbs = [SnapshotAt(settings["snapshots"], run_dir, {"colorspace": settings["colorspace"]})] \
        if settings["snapshots"] else []
    t0 = time.perf_counter()
    res = train_colorizer(train, valid, model=settings["model"], model_kwargs=model_kwargs, loss=loss,
                          loss_kwargs=settings["loss_kwargs"], prior=prior, epochs=settings["epochs"],
                          lr=settings["lr"], bs=settings["bs"], device=ctx.device, out_dir=run_dir,
                          resume=ckpt.exists(), seed=settings["seed"], progress=ctx.progress,
                          augment=make_augment(settings["augment"]), colorspace=settings["colorspace"],
                          extra_cbs=cbs)
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
        _progression(run_dir, snaps, valid, settings, ctx.device, centers)
    valid_losses = [h["valid_loss"] for h in history if isinstance(h.get("valid_loss"), float)]
    return {"name": name, "data": data_key, "settings": settings, "history": history,
            "train_seconds": seconds, "resumed_from_epoch": res.start_epoch,
            "best_valid_loss": min(valid_losses) if valid_losses else None,
            "table": json.loads(table.to_json(orient="index")), "notes": _plain(table.attrs.get("notes", {}))}


def _varied(runs: list[tuple[str, dict]]) -> list[str]:
    """Dotted names of the settings that differ between runs (the table's parameter columns)."""
    flat = []
    for _, s in runs:
        f = pd.json_normalize(_plain(s), sep=".").iloc[0].to_dict()
        flat.append({k: json.dumps(v, sort_keys=True, default=str) for k, v in f.items()})
    keys = sorted(set().union(*flat)) if flat else []
    return [k for k in keys if len({f.get(k) for f in flat}) > 1 and k not in ("gallery", "snapshots")]


def _metric_columns(metrics: dict) -> list[str]:
    """evaluate()'s columns, then any per-group ones it added (``"chroma ratio [multimodal]"`` ...)."""
    from colorlab.evaluation.evaluate import COLUMNS
    return COLUMNS + [c for c in metrics if c not in COLUMNS]


def _table(results: list[dict], runs: list[tuple[str, dict]]) -> pd.DataFrame:
    from colorlab.evaluation.evaluate import COLUMNS, GRAY, MEAN_AB
    params = _varied(runs)
    rows, baselines = [], {}
    for r in results:
        flat = pd.json_normalize(r["settings"], sep=".").iloc[0].to_dict()
        for row_name, metrics in r["table"].items():
            if row_name in (GRAY, MEAN_AB):
                baselines.setdefault((r["data"], row_name), metrics)
                continue
            row = {"run": row_name, **{p: "" if flat.get(p) is None else _short(flat[p]) for p in params}}
            row.update({c: metrics.get(c) for c in _metric_columns(metrics)})
            if row_name == r["name"]:
                row["best valid loss"] = r["best_valid_loss"]
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
    from colorlab.viz.lab import _plt, save_figure
    metrics = [m for m in metrics if m in table.columns and table[m].notna().any()]
    if not metrics:
        raise ColorlabError(f"none of the metrics {list(metrics)} is in the table")
    plt = _plt()
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
        config: a YAML/JSON path or a dict (see the module docstring).
        out_dir: where runs and tables go (default ``runs/sweeps/<config name>``).
        size: a preset of the config's ``sizes`` (default ``"smoke"`` when it has one).
        train, valid: prepared caches (or uint8 arrays) to use instead of each run's ``data``.
        progress: fastai/tqdm progress bars while training; ``verbose``: one line per run.
    Returns:
        the table (one row per run and snapshot, then the gray / mean-ab baselines; parameter
        columns for the settings that vary, then the metrics of :func:`colorlab.evaluation.evaluate.evaluate`,
        best validation loss and training seconds). ``table.attrs`` holds ``out_dir``, ``csv``,
        ``markdown`` and ``plot`` paths, and ``runs``: each run's folder by run name (its
        ``checkpoint.pt`` loads back with :func:`colorlab.core.checkpoint.load_checkpoint`).
    """
    cfg = load_config(config)
    runs = expand_runs(cfg, size)
    out = Path(out_dir) if out_dir is not None else Path("runs") / "sweeps" / _slug(str(cfg.get("name", "sweep")))
    ctx = _Context(train, valid, device, progress)
    results = []
    for i, (name, settings) in enumerate(runs, 1):
        run_dir = out / "runs" / _slug(name)
        result_file, config_file = run_dir / "result.json", run_dir / "config.json"
        wanted = _plain(settings)
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
    run_dirs = {name: str(out / "runs" / _slug(name)) for name, _ in runs}
    table.attrs.update(out_dir=str(out), csv=str(csv), markdown=str(md), plot=None, runs=run_dirs)
    if plot:
        plot_sweep(table, cfg.get("metrics") or DEFAULT_METRICS, out / "sweep.png", title=cfg.get("name"))
        table.attrs["plot"] = str(out / "sweep.png")
    return table
