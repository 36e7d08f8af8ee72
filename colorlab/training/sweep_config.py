"""Sweep configs: the runs of an experiment, each a resolved set of training settings.

The runner is :func:`colorlab.evaluation.sweep.run_sweep` (it trains and evaluates every run). A sweep
config (YAML or JSON, or a dict) has a ``base`` — the settings every run shares, so all runs get the
same budget and seed — and either a ``grid`` (every combination of the listed
values) or a list of ``runs`` (each a set of overrides, optionally ``name``d), or both (each run
× the grid). Keys may be dotted (``model_kwargs.skips``). ``sizes`` holds named presets
(``smoke``: the sample set on a CPU in a minute or two; ``full``: the real dataset on a GPU); a preset
may hold a ``grid`` of its own, whose lists replace the config's for those settings (a data-size sweep
lists a few hundred photos at ``smoke`` and tens of thousands at ``full``). A run that names another
``model`` than the base takes only its own ``model_kwargs`` (a U-Net baseline in a sweep of fusion nets).

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
``val_n``, ``seed``, ``splits``: the training and held-out split names, e.g. ``[train90, test10]``), ``model``, ``model_kwargs``, ``loss`` (``mse``/``rarity``/``blend``/``lin_ferreira``/``ce``),
``loss_kwargs`` (λ = ``lam``, α = ``alpha``, ``scheme``...), ``prior`` (``grid``, ``sigma``),
``colorspace`` (``lab``/``ycbcr``), ``augment`` (false / true = the papers' recipe / a dict, see
:mod:`colorlab.data.augment`), ``epochs``, ``lr``, ``bs``, ``seed``, the schedule and optimiser (``schedule``:
``one_cycle``/``constant``/``step``, ``steps_per_epoch``, ``step_every``, ``gamma``, ``betas``, ``weight_decay``,
as in :class:`~colorlab.training.config.TrainConfig`), ``snapshots`` (epochs whose
weights are kept and evaluated: Siswanto & Karnati's progression), ``gallery`` (photos in the gallery),
``hints`` (None, or :class:`~colorlab.hints.sampling.HintSampler` options: a hint U-Net fed synthetic hints,
Benabla et al.'s Tables 1–2), ``epoch_metrics`` (validation metrics logged every epoch, the best one tabulated:
:data:`colorlab.evaluation.hints.EPOCH_METRICS`).
"""
from __future__ import annotations

import copy
import itertools
import json
import re
from pathlib import Path

import yaml

from colorlab.core.errors import ColorlabError
from colorlab.core.names import LOSS_NAMES
from colorlab.training.config import SCHEDULES

__all__ = ["DEFAULTS", "DEFAULT_METRICS", "SCHEDULE_KEYS", "load_config", "expand_runs", "short", "slug"]

#: Settings every run starts from (a config's ``base`` and a run's overrides are merged on top).
DEFAULTS: dict = {
    "data": {"dataset": "sample", "root": None, "size": 32, "n": 256, "val_n": 64, "seed": 0,
             "splits": ["train", "val"]},
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
    "schedule": "one_cycle",
    "steps_per_epoch": None,
    "step_every": 10,
    "gamma": 0.1,
    "betas": None,
    "weight_decay": None,
    "snapshots": [],
    "gallery": 6,
    "hints": None,
    "epoch_metrics": [],
}

#: The settings that go to :class:`~colorlab.training.config.TrainConfig` as they are (schedule and optimiser).
SCHEDULE_KEYS = ("schedule", "steps_per_epoch", "step_every", "gamma", "betas", "weight_decay")

#: Metric columns shown in the plot unless a config names others (``metrics: [...]``).
DEFAULT_METRICS = ("PSNR (dB)", "AuC", "AuC rebalanced", "colourfulness gap")
_TOP_KEYS = {"name", "description", "base", "grid", "runs", "sizes", "size", "metrics"}


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
    if s["loss"] not in LOSS_NAMES:
        raise ColorlabError(f"run {name!r}: unknown loss {s['loss']!r}: use {', '.join(LOSS_NAMES)}")
    if s["schedule"] not in SCHEDULES:
        raise ColorlabError(f"run {name!r}: unknown schedule {s['schedule']!r}: use {', '.join(SCHEDULES)}")
    if not isinstance(s["epochs"], int) or s["epochs"] < 1:
        raise ColorlabError(f"run {name!r}: epochs must be a positive integer, got {s['epochs']!r}")
    bad = [e for e in s["snapshots"] if not isinstance(e, int) or not 1 <= e <= s["epochs"]]
    if bad:
        raise ColorlabError(f"run {name!r}: snapshots {bad} are not epochs in 1..{s['epochs']}")


def _own_model_kwargs(*overrides: dict) -> dict:
    """The ``model_kwargs`` that ``overrides`` set themselves (also as dotted ``model_kwargs.x`` keys)."""
    out: dict = {"model_kwargs": {}}
    for o in overrides:
        out = _merge(out, {k: v for k, v in o.items() if k.split(".")[0] == "model_kwargs"})
    return out["model_kwargs"]


def short(value) -> str:
    """A setting's value as a run name or a table cell shows it (``0.001``, ``a=1,b=2``)."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return ",".join(f"{k}={short(v)}" for k, v in value.items())
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
    preset = dict(sizes.get(size) or {}) if size else {}
    size_grid = preset.pop("grid", None) or {}   # a size may replace grid values (smoke: 64 photos, full: 10k)
    base = _merge(_merge(DEFAULTS, cfg.get("base")), preset)
    grid = cfg.get("grid") or {}
    if not isinstance(grid, dict) or not isinstance(size_grid, dict):
        raise ColorlabError("grid (in the config or in a size) must map each setting to a non-empty list of values")
    grid = {**grid, **size_grid}
    if any(not isinstance(v, list) or not v for v in grid.values()):
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
            parts += [f"{k.split('.')[-1]}={short(v)}" for k, v in overrides.items()]
            name = " ".join(parts) or f"run {i + 1}"
            settings = _merge(_merge(base, run), overrides)
            if settings["model"] != base["model"]:   # another model takes other options: only the run's own
                settings["model_kwargs"] = _own_model_kwargs(run, overrides)
            _check_settings(settings, name)
            if name in seen:
                raise ColorlabError(f"two runs are called {name!r}: give them distinct names")
            seen.add(name)
            out.append((name, settings))
    return out


def slug(name: str) -> str:
    """A run name as a folder name."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name).strip("_") or "run"
