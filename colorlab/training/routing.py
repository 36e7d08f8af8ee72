"""Per-group colour priors and one colorizer per group (seeds 000 and 002).

Robles & Budach clusters the training photos into K colour *profiles*, computes "colour weights
generated for each profile" and trains one colorizer per profile with its own weights; a
predictor that sees only the gray photo routes each photo to one of them. Siswanto & Karnati does the
same with *categories*. Given a :class:`colorlab.profiles.groups.Groups` (profiles or categories):

* :func:`group_images`, :func:`group_subset` — one group's photos;
* :func:`group_priors` — the ab prior of each group's photos (they partition the global counts);
* :func:`train_per_group` — one colorizer per group, each with its own group's prior (or the
  global one), in ``out_dir/group_<k>``.

The router is :class:`colorlab.models.routed.RoutedColorizer`; what routing gains is measured by
:mod:`colorlab.evaluation.routing`.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from colorlab.core.errors import ColorlabError
from colorlab.rarity.bins import DEFAULT_GRID
from colorlab.rarity.losses import prior_grid
from colorlab.rarity.prior import ABPrior, ab_prior
from colorlab.training.config import TrainConfig
from colorlab.training.train import train_colorizer

__all__ = ["group_labels", "group_images", "group_subset", "DataSubset", "group_priors", "prior_shift",
           "train_per_group"]

#: :func:`~colorlab.training.train.train_colorizer`'s keywords that :func:`train_per_group` passes on as they are
#: (its other options are :class:`~colorlab.training.config.TrainConfig` fields).
_RUN_KEYWORDS = ("device", "resume", "extra_cbs")


def group_labels(groups) -> np.ndarray:
    """The group of each image ``(N,)`` int64, from a :class:`~colorlab.profiles.groups.Groups` or labels."""
    return np.asarray(getattr(groups, "labels", groups), dtype=np.int64)


def group_images(data, groups, group: int) -> np.ndarray:
    """The uint8 images ``(n, H, W, 3)`` of one group (``data``: a prepared cache or an array)."""
    images = getattr(data, "images", data)
    labels = group_labels(groups)
    if len(labels) != len(images):
        raise ColorlabError(f"{len(labels)} group labels for {len(images)} images")
    idx = np.flatnonzero(labels == group)
    return np.ascontiguousarray(images[idx])


class DataSubset:
    """Some items of a prepared dataset, with everything it carries beside the images.

    ``images`` (uint8), and where the dataset has them its exact float ``lab`` (``scenes``),
    ``class_map``, ``mode_map``, ``labels`` and ``classes`` — so training on a subset reads the
    exact Lab, and :func:`colorlab.evaluation.evaluate.evaluate` still breaks the table down by pixel group.
    """

    def __init__(self, data, indices):
        idx = np.asarray(indices, dtype=np.int64)
        self.indices = idx
        self.images = np.ascontiguousarray(getattr(data, "images", data)[idx])
        for attr in ("lab", "class_map", "mode_map", "labels"):
            arr = getattr(data, attr, None)
            setattr(self, attr, None if arr is None else np.ascontiguousarray(arr[idx]))
        self.classes = list(getattr(data, "classes", []) or [])

    def __len__(self) -> int:
        return len(self.images)


def group_subset(data, groups, group: int) -> DataSubset:
    """The photos of one group as a :class:`DataSubset` (keeps the exact Lab and pixel maps)."""
    labels = group_labels(groups)
    n = len(getattr(data, "images", data))
    if len(labels) != n:
        raise ColorlabError(f"{len(labels)} group labels for {n} images")
    return DataSubset(data, np.flatnonzero(labels == group))


def _training_data(data, labels, group: int):
    """A group's photos for training: a subset with exact Lab where the data has it, else uint8 images."""
    if getattr(data, "lab", None) is not None:
        return group_subset(data, labels, group)
    return group_images(data, labels, group)


def group_priors(data, groups, grid: str = DEFAULT_GRID, sigma: float = 5.0, device="auto",
                 batch_size: int = 256) -> list[ABPrior]:
    """One ab prior per group (Robles & Budach's per-profile colour weights come from these).

    Args:
        data: a prepared cache or uint8 images ``(N, H, W, 3)``.
        groups: a :class:`~colorlab.profiles.groups.Groups` or labels ``(N,)`` in ``0..K-1``.
    Returns:
        K :class:`~colorlab.rarity.prior.ABPrior`; their raw ``counts`` sum to the global prior's.
    """
    labels = group_labels(groups)
    k = int(getattr(groups, "n_groups", labels.max() + 1))
    priors = []
    for g in range(k):
        imgs = group_images(data, labels, g)
        if len(imgs) == 0:
            raise ColorlabError(f"group {g} has no images: use fewer groups")
        priors.append(ab_prior(imgs, grid=grid, sigma=sigma, device=device, batch_size=batch_size))
    return priors


def prior_shift(prior: ABPrior, reference: ABPrior) -> dict[str, float]:
    """How far a group's prior is from a reference (global) one.

    Returns ``{"tv": total-variation distance in [0, 1], "mean_a", "mean_b": the prior's mean
    ab minus the reference's (ab units)}``.
    """
    if prior.grid != reference.grid:
        raise ColorlabError(f"priors on different grids: {prior.grid} vs {reference.grid}")
    p, q = prior.p.double().cpu(), reference.p.double().cpu()
    c = prior.centers.double().cpu()
    d = (p @ c) - (q @ c)
    return {"tv": 0.5 * float((p - q).abs().sum()), "mean_a": float(d[0]), "mean_b": float(d[1])}


def _steps_per_epoch(n: int, bs: int, holds_out: bool) -> int:
    """Optimizer steps of one epoch over n photos (as :func:`colorlab.data.loaders.make_dataloaders`
    batches them: 10 % held out when there is no validation set, the last partial batch dropped)."""
    n_train = n - max(1, int(round(n * 0.1))) if holds_out else n
    return max(1, n_train // bs) if n_train >= bs else 1


def train_per_group(train, groups, valid=None, valid_groups=None, per_group_prior: bool = True,
                    grid: str | None = None, out_dir: str | Path | None = None, same_steps: bool = False,
                    config: TrainConfig | None = None, **options) -> dict:
    """Train one colorizer per group, each on its own group's photos (Robles & Budach / 002).

    Args:
        train: a prepared cache or uint8 images ``(N, H, W, 3)``; ``groups`` its grouping.
        valid, valid_groups: optional held-out photos and their groups (else each group holds out 10 %).
        per_group_prior: True → each colorizer's loss uses its own group's prior (Robles & Budach's proposal);
            False → every colorizer uses the global prior of ``train``.
        grid: ab grid of the priors (default: ``"regular64"`` for ``"blend"`` as Robles & Budach, else Zhang's 313).
        out_dir: each group trains in ``out_dir/group_<k>`` (resumable); None keeps nothing on disk.
        same_steps: give every colorizer as many optimizer steps as one model trained on all of
            ``train`` for ``epochs`` (a group of a quarter of the photos trains about four times as
            many epochs), so a comparison with that one model is step for step; False: ``epochs`` each.
        config: the training settings of every group (:class:`~colorlab.training.config.TrainConfig`;
            default: its defaults with ``loss="blend"``, Robles & Budach's); ``"mse"`` needs no prior.
        options: :class:`~colorlab.training.config.TrainConfig` fields overriding ``config`` (``model_kwargs``,
            ``epochs``, ``loss``, ...) and :func:`~colorlab.training.train.train_colorizer`'s own
            keywords (``device``, ``resume``, ...).
    Returns:
        ``{"models": [K colorizers], "priors": [K priors or None], "global_prior", "results": [TrainResult]}``.
    """
    run = {k: options.pop(k) for k in _RUN_KEYWORDS if k in options}
    cfg = TrainConfig.of(config or TrainConfig(loss="blend"), **options)
    labels = group_labels(groups)
    k = int(getattr(groups, "n_groups", labels.max() + 1))
    grid = grid or prior_grid(cfg.loss) or DEFAULT_GRID
    needs_prior = cfg.loss != "mse"
    global_prior = ab_prior(getattr(train, "images", train), grid=grid) if needs_prior else None
    local = group_priors(train, labels, grid=grid) if needs_prior and per_group_prior else None
    models, priors, results = [], [], []
    for g in range(k):
        n_g = int((labels == g).sum())
        ep = max(1, round(cfg.epochs * _steps_per_epoch(len(labels), cfg.bs, valid is None)
                          / _steps_per_epoch(n_g, cfg.bs, valid is None))) if same_steps else cfg.epochs
        if cfg.progress:
            print(f"group {g + 1}/{k}: {n_g} photos, {ep} epochs, "
                  f"{'own' if local else 'global' if needs_prior else 'no'} prior", flush=True)
        prior = local[g] if local else global_prior
        val = _training_data(valid, valid_groups, g) if valid is not None else None
        if val is not None and len(val) == 0:
            val = None
        res = train_colorizer(_training_data(train, labels, g), val, config=dataclasses.replace(cfg, epochs=ep),
                              prior=prior, out_dir=None if out_dir is None else Path(out_dir) / f"group_{g}", **run)
        models.append(res.model.eval())
        priors.append(prior)
        results.append(res)
    return {"models": models, "priors": priors, "global_prior": global_prior, "results": results}
