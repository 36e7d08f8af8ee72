"""Per-group colour priors and routed multi-model colorization (seeds 000 and 002).

Seed 000 clusters the training photos into K colour *profiles*, computes "colour weights
generated for each profile" and trains one colorizer per profile with its own weights; a
predictor that sees only the gray photo routes each photo to one of them. Seed 002 does the
same with *categories*. Given a :class:`colorlab.profiles.Groups` (profiles or categories):

* :func:`group_priors` — the ab prior of each group's photos (they partition the global counts);
* :func:`train_per_group` — one colorizer per group, each with its own group's prior (or the
  global one), in ``out_dir/group_<k>``;
* :class:`RoutedColorizer` — an ``nn.Module`` that sends each photo to its group's colorizer,
  chosen by a predictor (:mod:`colorlab.predictor`) or by given labels; it plugs into
  :func:`colorlab.evaluate.evaluate` like any model;
* :func:`cross_group_table` — the "wrong profile" experiment: every group's photos coloured by
  every group's colorizer.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from .errors import ColorlabError
from .stats import DEFAULT_GRID, ABPrior, ab_prior

__all__ = ["group_images", "group_priors", "prior_shift", "train_per_group", "RoutedColorizer",
           "cross_group_table"]


def _labels(groups) -> np.ndarray:
    return np.asarray(getattr(groups, "labels", groups), dtype=np.int64)


def group_images(data, groups, group: int) -> np.ndarray:
    """The uint8 images ``(n, H, W, 3)`` of one group (``data``: a prepared cache or an array)."""
    images = getattr(data, "images", data)
    labels = _labels(groups)
    if len(labels) != len(images):
        raise ColorlabError(f"{len(labels)} group labels for {len(images)} images")
    idx = np.flatnonzero(labels == group)
    return np.ascontiguousarray(images[idx])


def group_priors(data, groups, grid: str = DEFAULT_GRID, sigma: float = 5.0, device="auto",
                 batch_size: int = 256) -> list[ABPrior]:
    """One ab prior per group (seed 000's per-profile colour weights come from these).

    Args:
        data: a prepared cache or uint8 images ``(N, H, W, 3)``.
        groups: a :class:`~colorlab.profiles.Groups` or labels ``(N,)`` in ``0..K-1``.
    Returns:
        K :class:`~colorlab.stats.ABPrior`; their raw ``counts`` sum to the global prior's.
    """
    labels = _labels(groups)
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


def train_per_group(train, groups, valid=None, valid_groups=None, per_group_prior: bool = True,
                    loss: str = "blend", grid: str | None = None, out_dir: str | Path | None = None,
                    progress: bool = True, **train_kwargs) -> dict:
    """Train one colorizer per group, each on its own group's photos (seed 000 / 002).

    Args:
        train: a prepared cache or uint8 images ``(N, H, W, 3)``; ``groups`` its grouping.
        valid, valid_groups: optional held-out photos and their groups (else each group holds out 10 %).
        per_group_prior: True → each colorizer's loss uses its own group's prior (seed 000's proposal);
            False → every colorizer uses the global prior of ``train``.
        loss: as in :func:`colorlab.train.train_colorizer`; ``"mse"`` needs no prior.
        grid: ab grid of the priors (default: ``"regular64"`` for ``"blend"`` as seed 000, else Zhang's 313).
        out_dir: each group trains in ``out_dir/group_<k>`` (resumable); None keeps nothing on disk.
        train_kwargs: passed to :func:`colorlab.train.train_colorizer` (model, model_kwargs, epochs, ...).
    Returns:
        ``{"models": [K colorizers], "priors": [K priors or None], "global_prior", "results": [TrainResult]}``.
    """
    from .train import train_colorizer

    labels = _labels(groups)
    k = int(getattr(groups, "n_groups", labels.max() + 1))
    grid = grid or ("regular64" if loss == "blend" else DEFAULT_GRID)
    needs_prior = loss != "mse"
    global_prior = ab_prior(getattr(train, "images", train), grid=grid) if needs_prior else None
    local = group_priors(train, labels, grid=grid) if needs_prior and per_group_prior else None
    models, priors, results = [], [], []
    for g in range(k):
        if progress:
            print(f"group {g + 1}/{k}: {int((labels == g).sum())} photos, "
                  f"{'own' if local else 'global' if needs_prior else 'no'} prior", flush=True)
        prior = local[g] if local else global_prior
        val = group_images(valid, valid_groups, g) if valid is not None else None
        if val is not None and len(val) == 0:
            val = None
        res = train_colorizer(group_images(train, labels, g), val, loss=loss, prior=prior,
                              out_dir=None if out_dir is None else Path(out_dir) / f"group_{g}",
                              progress=progress, **train_kwargs)
        models.append(res.model.eval())
        priors.append(prior)
        results.append(res)
    return {"models": models, "priors": priors, "global_prior": global_prior, "results": results}


class RoutedColorizer(nn.Module):
    """K colorizers behind a router: each photo is coloured by the colorizer of its group.

    ``forward(L_norm (N, C, H, W)) → (N, 2, H, W)`` normalised ab, like any regression colorizer.
    The group of each photo comes from ``router(L_norm)`` — a predictor returning logits
    ``(N, K)`` (it sees only the gray photo) — or, when set, from :attr:`route` (fixed labels
    ``(N,)`` for the next call, e.g. the true profiles for an "oracle" routing).
    """

    def __init__(self, colorizers, router: nn.Module | None = None):
        super().__init__()
        self.colorizers = nn.ModuleList(colorizers)
        if not len(self.colorizers):
            raise ColorlabError("RoutedColorizer needs at least one colorizer")
        heads = {getattr(m, "head", "regression") for m in self.colorizers}
        if heads != {"regression"}:
            raise ColorlabError("RoutedColorizer routes regression colorizers (wrap Q-bin models first)")
        self.router = router
        first = self.colorizers[0]
        self.head, self.in_channels = "regression", getattr(first, "in_channels", 1)
        self.stride = max(getattr(m, "stride", 1) for m in self.colorizers)
        self.config = {"name": "routed", "k": len(self.colorizers),
                       "colorizers": [getattr(m, "config", {}) for m in self.colorizers]}
        self.route: torch.Tensor | None = None
        self.last_route: torch.Tensor | None = None

    def groups_of(self, L_norm: torch.Tensor) -> torch.Tensor:
        """Group index ``(N,)`` of each photo (fixed :attr:`route` or the router's arg-max)."""
        if self.route is not None:
            g = torch.as_tensor(self.route, device=L_norm.device).long()
            if g.shape != (L_norm.shape[0],):
                raise ColorlabError(f"route has {tuple(g.shape)} labels for a batch of {L_norm.shape[0]}")
            return g
        if self.router is None:
            raise ColorlabError("no router: pass router= (a profile/category predictor) or set .route")
        return self.router(L_norm[:, :1]).argmax(1)

    def forward(self, L_norm: torch.Tensor) -> torch.Tensor:
        g = self.groups_of(L_norm)
        if int(g.max()) >= len(self.colorizers) or int(g.min()) < 0:
            raise ColorlabError(f"routed to group {int(g.max())} but there are {len(self.colorizers)} colorizers")
        out = L_norm.new_zeros(L_norm.shape[0], 2, *L_norm.shape[-2:], dtype=torch.float32)
        for k, model in enumerate(self.colorizers):
            sel = (g == k).nonzero().squeeze(1)
            if sel.numel():
                out[sel] = model(L_norm[sel]).float()
        self.last_route = g.detach()
        return out


@torch.no_grad()
def cross_group_table(colorizers, data, groups, metric: str = "AuC", device="auto",
                      names=None, progress: bool = False, **evaluate_kwargs) -> pd.DataFrame:
    """The "wrong profile" experiment: photos of group *i* (rows) coloured by group *j*'s model (columns).

    The diagonal is perfect ("oracle") routing; the off-diagonal shows what a routing mistake
    costs. ``metric`` is any column of :func:`colorlab.evaluate.evaluate`.
    """
    from .evaluate import COLUMNS, evaluate

    if metric not in COLUMNS:
        raise ColorlabError(f"unknown metric {metric!r}: use one of {', '.join(COLUMNS)}")
    labels = _labels(groups)
    k = len(colorizers)
    names = list(names or getattr(groups, "names", None) or [f"group {i}" for i in range(k)])[:k]
    models = {f"model {n}": m for n, m in zip(names, colorizers)}
    rows = {}
    for i in range(k):
        imgs = group_images(data, labels, i)
        if len(imgs) == 0:
            continue
        table = evaluate(models, imgs, device=device, progress=progress, **evaluate_kwargs)
        rows[f"photos {names[i]}"] = table.loc[list(models), metric].to_numpy()
    out = pd.DataFrame(rows, index=list(models)).T
    out.attrs["metric"] = metric
    return out
