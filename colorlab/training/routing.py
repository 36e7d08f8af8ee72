"""Per-group colour priors and routed multi-model colorization (seeds 000 and 002).

Robles & Budach clusters the training photos into K colour *profiles*, computes "colour weights
generated for each profile" and trains one colorizer per profile with its own weights; a
predictor that sees only the gray photo routes each photo to one of them. Siswanto & Karnati does the
same with *categories*. Given a :class:`colorlab.profiles.groups.Groups` (profiles or categories):

* :func:`group_priors` — the ab prior of each group's photos (they partition the global counts);
* :func:`train_per_group` — one colorizer per group, each with its own group's prior (or the
  global one), in ``out_dir/group_<k>``;
* :class:`RoutedColorizer` — an ``nn.Module`` that sends each photo to its group's colorizer,
  chosen by a predictor (:mod:`colorlab.models.predictor`) or by given labels; it plugs into
  :func:`colorlab.evaluation.evaluate.evaluate` like any model;
* :func:`cross_group_table` — the "wrong profile" experiment: every group's photos coloured by
  every group's colorizer;
* :func:`routing_experiment` — one model vs routed vs oracle vs wrong-profile routing, as AuC,
  from one forward pass of each colorizer over the held-out photos.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from colorlab.core.errors import ColorlabError
from colorlab.rarity.stats import DEFAULT_GRID, ABPrior, ab_prior

__all__ = ["group_images", "group_subset", "DataSubset", "group_priors", "prior_shift", "train_per_group",
           "RoutedColorizer", "cross_group_table", "routing_experiment", "RoutingResult"]


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
    labels = _labels(groups)
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
        K :class:`~colorlab.rarity.stats.ABPrior`; their raw ``counts`` sum to the global prior's.
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


def _steps_per_epoch(n: int, bs: int, holds_out: bool) -> int:
    """Optimizer steps of one epoch over n photos (as :func:`colorlab.data.loaders.make_dataloaders`
    batches them: 10 % held out when there is no validation set, the last partial batch dropped)."""
    n_train = n - max(1, int(round(n * 0.1))) if holds_out else n
    return max(1, n_train // bs) if n_train >= bs else 1


def train_per_group(train, groups, valid=None, valid_groups=None, per_group_prior: bool = True,
                    loss: str = "blend", grid: str | None = None, out_dir: str | Path | None = None,
                    same_steps: bool = False, progress: bool = True, **train_kwargs) -> dict:
    """Train one colorizer per group, each on its own group's photos (Robles & Budach / 002).

    Args:
        train: a prepared cache or uint8 images ``(N, H, W, 3)``; ``groups`` its grouping.
        valid, valid_groups: optional held-out photos and their groups (else each group holds out 10 %).
        per_group_prior: True → each colorizer's loss uses its own group's prior (Robles & Budach's proposal);
            False → every colorizer uses the global prior of ``train``.
        loss: as in :func:`colorlab.training.train.train_colorizer`; ``"mse"`` needs no prior.
        grid: ab grid of the priors (default: ``"regular64"`` for ``"blend"`` as Robles & Budach, else Zhang's 313).
        out_dir: each group trains in ``out_dir/group_<k>`` (resumable); None keeps nothing on disk.
        same_steps: give every colorizer as many optimizer steps as one model trained on all of
            ``train`` for ``epochs`` (a group of a quarter of the photos trains about four times as
            many epochs), so a comparison with that one model is step for step; False: ``epochs`` each.
        train_kwargs: passed to :func:`colorlab.training.train.train_colorizer` (model, model_kwargs, epochs, ...).
    Returns:
        ``{"models": [K colorizers], "priors": [K priors or None], "global_prior", "results": [TrainResult]}``.
    """
    from colorlab.training.train import train_colorizer

    labels = _labels(groups)
    k = int(getattr(groups, "n_groups", labels.max() + 1))
    grid = grid or ("regular64" if loss == "blend" else DEFAULT_GRID)
    needs_prior = loss != "mse"
    global_prior = ab_prior(getattr(train, "images", train), grid=grid) if needs_prior else None
    local = group_priors(train, labels, grid=grid) if needs_prior and per_group_prior else None
    models, priors, results = [], [], []
    epochs = train_kwargs.pop("epochs", 5)
    bs = int(train_kwargs.get("bs", 32))
    for g in range(k):
        n_g = int((labels == g).sum())
        ep = max(1, round(epochs * _steps_per_epoch(len(labels), bs, valid is None)
                          / _steps_per_epoch(n_g, bs, valid is None))) if same_steps else epochs
        if progress:
            print(f"group {g + 1}/{k}: {n_g} photos, {ep} epochs, "
                  f"{'own' if local else 'global' if needs_prior else 'no'} prior", flush=True)
        prior = local[g] if local else global_prior
        val = _training_data(valid, valid_groups, g) if valid is not None else None
        if val is not None and len(val) == 0:
            val = None
        res = train_colorizer(_training_data(train, labels, g), val, loss=loss, prior=prior,
                              out_dir=None if out_dir is None else Path(out_dir) / f"group_{g}",
                              epochs=ep, progress=progress, **train_kwargs)
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
    costs. ``metric`` is any column of :func:`colorlab.evaluation.evaluate.evaluate`.
    """
    from colorlab.evaluation.evaluate import COLUMNS, evaluate

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


class RoutingResult:
    """What routing does to the held-out photos: every photo coloured by every colorizer.

    Attributes:
        names: the K group names.
        score, count: ``(N, K + 1)`` per photo, the summed AuC score ``max(0, 1 − |Δab| / 150)``
            over the measured pixels and their number, for each group's colorizer (columns
            ``0..K-1``) and the single model (column ``K``).
        truth: ``(N,)`` each photo's group as the oracle knows it; predicted: the router's guess.
        metrics: ``auc_single``, ``auc_routed`` (router's choice), ``auc_oracle`` (true group),
            ``auc_wrong_profile`` (every *other* group's colorizer, averaged), ``routing_accuracy``.
    """

    def __init__(self, names, score, count, truth, predicted):
        self.names, self.score, self.count = list(names), score, count
        self.truth, self.predicted = truth, predicted
        K, rows = len(self.names), np.arange(len(truth))
        pooled = lambda cols: float(score[rows, cols].sum() / count[rows, cols].sum())  # noqa: E731
        wrong = ~np.eye(K, dtype=bool)[truth]                             # (N, K): the other groups' colorizers
        self.metrics = {
            "auc_single": pooled(np.full(len(truth), K)),
            "auc_routed": pooled(predicted),
            "auc_oracle": pooled(truth),
            "auc_wrong_profile": float(score[:, :K][wrong].sum() / count[:, :K][wrong].sum()),
            "routing_accuracy": float((predicted == truth).mean()),
        }

    def table(self) -> pd.DataFrame:
        """AuC of the photos of group *i* (rows) coloured by each colorizer (columns; the last: one model)."""
        K = len(self.names)
        rows = {}
        for i in range(K):
            m = self.truth == i
            if m.any():
                rows[f"photos {self.names[i]}"] = self.score[m].sum(0) / self.count[m].sum(0)
        return pd.DataFrame(rows, index=[f"model {n}" for n in self.names] + ["one model"]).T

    def __repr__(self) -> str:
        return "RoutingResult(" + ", ".join(f"{k}={v:.4f}" for k, v in self.metrics.items()) + ")"


@torch.no_grad()
def routing_experiment(single: nn.Module, colorizers, data, groups, router: nn.Module | None = None,
                       pixels=None, names=None, device="auto", batch_size: int = 64) -> RoutingResult:
    """One model vs K routed colorizers on the held-out ``data`` (Robles & Budach / 002's comparison).

    Every photo is coloured by the single model and by every group's colorizer (one forward
    pass each), and scored by AuC (:func:`colorlab.evaluation.metrics.auc_ab`: mean ``max(0, 1 − |Δab|/150)``).
    From that one pass come the routed AuC (the ``router``'s choice from the gray photo), the
    oracle's (each photo's true group, ``groups``) and the wrong profile's (any other group).

    Args:
        single: the one model trained on every photo; colorizers: the K group colorizers.
        data: held-out photos (a prepared cache; its exact float Lab when it has one).
        groups: their true groups (a :class:`~colorlab.profiles.groups.Groups` or labels ``(N,)``).
        router: a predictor (logits ``(N, K)`` from ``L (N, 1, H, W)``); None routes like the oracle.
        pixels: measure only the pixels of these classes (``data.class_map``, e.g. the ``scenes``
            sky); None: every pixel.
    """
    from colorlab.core.color import denormalize_ab, normalize_l
    from colorlab.core.device import get_device
    from colorlab.evaluation.evaluate import batch_lab, iter_batches
    from colorlab.models.heads import predict_ab

    dev = get_device(device)
    truth = _labels(groups)
    K = len(colorizers)
    names = list(names or getattr(groups, "names", None) or [f"group {i}" for i in range(K)])[:K]
    n = len(getattr(data, "lab", None) if getattr(data, "lab", None) is not None else getattr(data, "images", data))
    if len(truth) != n:
        raise ColorlabError(f"{len(truth)} group labels for {n} images")
    class_map = getattr(data, "class_map", None)
    if pixels is not None and class_map is None:
        raise ColorlabError("pixels= needs a dataset with a class map (e.g. scenes)")
    models = [m.to(dev).eval() for m in list(colorizers) + [single]]
    if router is not None:
        router = getattr(router, "model", router).to(dev).eval()
    score = np.zeros((n, K + 1))
    count = np.zeros((n, K + 1))
    predicted = np.zeros(n, dtype=np.int64)
    start = 0
    for batch in iter_batches(data, batch_size, dev):
        _, lab = batch_lab(batch)
        stop = start + lab.shape[0]
        L_norm, ab_true = normalize_l(lab[:, :1]), lab[:, 1:]
        if pixels is None:
            mask = torch.ones_like(ab_true[:, 0], dtype=torch.bool)
        else:
            cm = torch.from_numpy(np.array(class_map[start:stop])).to(dev)
            mask = torch.isin(cm, torch.as_tensor(list(pixels), device=dev))
        predicted[start:stop] = (router(L_norm).argmax(1).cpu().numpy() if router is not None
                                 else truth[start:stop])
        for j, m in enumerate(models):
            ab = denormalize_ab(predict_ab(m, L_norm)).float()
            s = (1.0 - torch.linalg.vector_norm(ab - ab_true, dim=1) / 150.0).clamp_min(0.0)
            score[start:stop, j] = (s * mask).flatten(1).sum(1).double().cpu().numpy()
            count[start:stop, j] = mask.flatten(1).sum(1).double().cpu().numpy()
        start = stop
    return RoutingResult(names, score, count, truth, predicted)
