"""The L-only profile/category predictor (colorlab.models / training / evaluation .predictor)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from colorlab.core.errors import ColorlabError
from colorlab.evaluation.predictor import evaluate_predictor
from colorlab.models.predictor import BackboneClassifier, SmallCNN, make_predictor
from colorlab.training.predictor import PredictorConfig, train_predictor


def _toy(n, seed):
    """Class 0: a bright left half; class 1: a bright top half — random hues, so only L tells them apart."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 16, 16, 3), np.int64)
    y = rng.integers(0, 2, n)
    for i in range(n):
        bright, dark = rng.integers(150, 256, 3), rng.integers(0, 90, 3)
        x[i] = dark
        if y[i] == 0:
            x[i, :, :8] = bright
        else:
            x[i, :8] = bright
    x += rng.integers(-15, 16, x.shape)
    return np.clip(x, 0, 255).astype(np.uint8), y


def test_predictor_learns_a_separable_toy_problem():
    x, y = _toy(160, 0)
    xv, yv = _toy(64, 1)
    learn = train_predictor(x, y, valid=xv, valid_labels=yv, epochs=4, lr=1e-2, bs=32, device="cpu",
                            model_kwargs={"width": 8, "depth": 2}, progress=False)
    report = evaluate_predictor(learn, xv, yv, device="cpu")
    assert report.accuracy >= 0.85          # chance is 0.5
    assert report.confusion.sum() == 64 and np.trace(report.confusion) == round(report.accuracy * 64)


class _Fixed(nn.Module):
    """A 'model' that returns preset logits in order (evaluation keeps the data order)."""

    def __init__(self, logits):
        super().__init__()
        self.register_buffer("logits", logits)
        self.i = 0

    def forward(self, L):
        out = self.logits[self.i:self.i + len(L)]
        self.i += len(L)
        return out


def test_report_accuracy_confusion_and_top3_table():
    y = np.array([0, 0, 1, 1, 2, 3])
    # predicted ranking per image; image 1's class is 2nd, image 3's class is 4th
    logits = torch.tensor([[4., 3, 2, 1], [3, 4, 2, 1], [1, 4, 3, 2], [4, 1, 3, 2], [1, 2, 4, 3], [1, 2, 3, 4]])
    x = np.zeros((6, 8, 8, 3), np.uint8)
    r = evaluate_predictor(_Fixed(logits), x, y, device="cpu", batch_size=4, names=list("abcd"))
    assert r.accuracy == pytest.approx(4 / 6) and r.top3_accuracy == pytest.approx(5 / 6)
    assert r.confusion.tolist() == [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    t = r.table()
    assert list(t["class"]) == ["a", "b", "c", "d", "all"]
    assert t["top-3 error %"].tolist()[:4] == [0.0, 50.0, 0.0, 0.0]


def test_backbone_without_weights_on_disk_warns_and_still_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.warns(UserWarning, match="random init"):
        m = make_predictor("resnet18", n_classes=3)
    assert isinstance(m, BackboneClassifier) and not m.loaded_weights
    m.eval()
    assert m(torch.rand(2, 1, 16, 16) * 2 - 1).shape == (2, 3)


def test_small_cnn_shapes_and_bad_arguments():
    assert SmallCNN(5, width=4, depth=2)(torch.zeros(3, 1, 16, 16)).shape == (3, 5)
    with pytest.raises(ColorlabError):
        make_predictor("small", n_classes=1)
    with pytest.raises(ColorlabError):
        make_predictor("alexnet-9000", n_classes=3, pretrained=False)
    with pytest.raises(ColorlabError, match="labels"):
        train_predictor(np.zeros((4, 8, 8, 3), np.uint8), np.array([0, 1]), device="cpu")
    with pytest.raises(ColorlabError, match="unknown predictor training option 'epoch'"):
        train_predictor(np.zeros((4, 8, 8, 3), np.uint8), np.array([0, 1, 0, 1]), config=PredictorConfig(device="cpu"),
                        epoch=1)
