"""How routing pays off: every group's photos coloured by every group's colorizer (seeds 000 and 002).

* :func:`cross_group_table` — the "wrong profile" experiment: every group's photos coloured by
  every group's colorizer, scored by any column of :func:`colorlab.evaluation.evaluate.evaluate`;
* :func:`routing_experiment` — one model vs routed vs oracle vs wrong-profile routing, as AuC,
  from one forward pass of each colorizer over the held-out photos (:class:`RoutingResult`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from colorlab.core.color import AB_SCALE, LAB
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.data.batches import iter_batches
from colorlab.evaluation.evaluate import COLUMNS, batch_lab, evaluate
from colorlab.models.heads import predict_ab
from colorlab.models.routed import routed_forward as kit_routed_forward
from colorlab.training.routing import group_images, group_labels

__all__ = ["cross_group_table", "routing_experiment", "RoutingResult"]


@torch.no_grad()
def cross_group_table(colorizers, data, groups, metric: str = "AuC", device="auto",
                      names=None, progress: bool = False, **evaluate_kwargs) -> pd.DataFrame:
    """The "wrong profile" experiment: photos of group *i* (rows) coloured by group *j*'s model (columns).

    The diagonal is perfect ("oracle") routing; the off-diagonal shows what a routing mistake
    costs. ``metric`` is any column of :func:`colorlab.evaluation.evaluate.evaluate`.
    """
    if metric not in COLUMNS:
        raise ColorlabError(f"unknown metric {metric!r}: use one of {', '.join(COLUMNS)}")
    labels = group_labels(groups)
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
        routed: ``(score, count)`` per photo of a routed forward pass run as such (``routed_forward=``):
            ``auc_routed`` comes from it instead of from the router's column of ``score``.
    """

    def __init__(self, names, score, count, truth, predicted, routed=None):
        self.names, self.score, self.count = list(names), score, count
        self.truth, self.predicted = truth, predicted
        K, rows = len(self.names), np.arange(len(truth))
        pooled = lambda cols: float(score[rows, cols].sum() / count[rows, cols].sum())  # noqa: E731
        wrong = ~np.eye(K, dtype=bool)[truth]                             # (N, K): the other groups' colorizers
        self.metrics = {
            "auc_single": pooled(np.full(len(truth), K)),
            "auc_routed": (pooled(predicted) if routed is None
                           else float(np.sum(routed[0]) / np.sum(routed[1]))),
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
                       pixels=None, names=None, device="auto", batch_size: int = 64,
                       routed_forward=None) -> RoutingResult:
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
        routed_forward: a function ``(L (N, 1, H, W), router, colorizers) → ab (N, 2, H, W)`` with the contract
            of :func:`colorlab.models.routed.routed_forward` (e.g. a student's, lab 08): the routed AuC is
            scored on what it returns. None (or the kit's own): read off the router's choice.
    """
    dev = get_device(device)
    truth = group_labels(groups)
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
    if routed_forward is kit_routed_forward or router is None:
        routed_forward = None
    routed = None if routed_forward is None else (np.zeros(n), np.zeros(n))
    start = 0
    for batch in iter_batches(data, batch_size, dev, exact_lab=True):
        _, lab = batch_lab(batch)
        stop = start + lab.shape[0]
        L_norm, ab_true = LAB.normalise(lab)
        if pixels is None:
            mask = torch.ones_like(ab_true[:, 0], dtype=torch.bool)
        else:
            cm = torch.from_numpy(np.array(class_map[start:stop])).to(dev)
            mask = torch.isin(cm, torch.as_tensor(list(pixels), device=dev))
        predicted[start:stop] = (router(L_norm).argmax(1).cpu().numpy() if router is not None
                                 else truth[start:stop])
        for j, m in enumerate(models):
            err = AB_SCALE * torch.linalg.vector_norm(predict_ab(m, L_norm).float() - ab_true, dim=1)  # Lab units
            s = (1.0 - err / 150.0).clamp_min(0.0)
            score[start:stop, j] = (s * mask).flatten(1).sum(1).double().cpu().numpy()
            count[start:stop, j] = mask.flatten(1).sum(1).double().cpu().numpy()
        if routed is not None:
            err = AB_SCALE * torch.linalg.vector_norm(routed_forward(L_norm, router, models[:K]).float() - ab_true, dim=1)
            routed[0][start:stop] = ((1.0 - err / 150.0).clamp_min(0.0) * mask).flatten(1).sum(1).double().cpu().numpy()
            routed[1][start:stop] = count[start:stop, 0]
        start = stop
    return RoutingResult(names, score, count, truth, predicted, routed)
