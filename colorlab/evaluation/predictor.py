"""Scoring the profile / category predictor: accuracy, confusion matrix and per-class top-1/top-3 error.

Siswanto & Karnati judge their classifiers by the per-class top-3 error (their Table I):
:func:`evaluate_predictor` returns a :class:`PredictorReport` whose :meth:`~PredictorReport.table` has that layout.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from colorlab.core.errors import ColorlabError
from colorlab.training.predictor import labels_of, predict_proba

__all__ = ["PredictorReport", "evaluate_predictor"]


@dataclass
class PredictorReport:
    """Accuracy, confusion matrix (rows: true, columns: predicted) and per-class top-1/top-3 error."""

    names: list
    accuracy: float
    top3_accuracy: float
    confusion: np.ndarray
    top1_error: np.ndarray
    top3_error: np.ndarray
    support: np.ndarray

    def table(self):
        """Siswanto & Karnati's Table I layout: one row per class (and "all"), errors in %."""
        import pandas as pd

        df = pd.DataFrame({"class": self.names, "images": self.support,
                           "top-1 error %": 100 * self.top1_error, "top-3 error %": 100 * self.top3_error})
        total = pd.DataFrame({"class": ["all"], "images": [int(self.support.sum())],
                              "top-1 error %": [100 * (1 - self.accuracy)],
                              "top-3 error %": [100 * (1 - self.top3_accuracy)]})
        return pd.concat([df, total], ignore_index=True).round(2)


def evaluate_predictor(model, data, labels=None, device="auto", batch_size: int = 128,
                       names: list | None = None) -> PredictorReport:
    """Score a predictor (or its fastai Learner) on ``data`` with true ``labels`` (as in
    :func:`colorlab.training.predictor.train_predictor`)."""
    y, default_names = labels_of(data, labels)
    probs = predict_proba(model, data, device=device, batch_size=batch_size)
    K = probs.shape[1]
    names = list(names or getattr(model, "names", None) or default_names)
    names = (names + [f"class {i}" for i in range(len(names), K)])[:K]
    if y.max() >= K:
        raise ColorlabError(f"labels go up to {int(y.max())} but the model predicts {K} classes")
    yt = torch.from_numpy(y)
    top = probs.topk(min(3, K), dim=1).indices
    hit1 = (top[:, 0] == yt).numpy()
    hit3 = (top == yt[:, None]).any(1).numpy()
    conf = np.zeros((K, K), dtype=np.int64)
    np.add.at(conf, (y, top[:, 0].numpy()), 1)
    support = np.bincount(y, minlength=K)
    with np.errstate(invalid="ignore", divide="ignore"):
        e1 = 1 - np.bincount(y, weights=hit1, minlength=K) / support
        e3 = 1 - np.bincount(y, weights=hit3, minlength=K) / support
    return PredictorReport(names, float(hit1.mean()), float(hit3.mean()), conf, e1, e3, support)
