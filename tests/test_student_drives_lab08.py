"""Lab 08's experiment runs on the student's routed forward pass: ``routing_experiment(..., routed_forward=…)``
scores the routed AuC on what that function returns (issue #21, item 5)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from colorlab.evaluation.routing import routing_experiment
from colorlab.models.routed import routed_forward as kit_routed_forward


class _ConstantAB(torch.nn.Module):
    """A colorizer painting every pixel one ab colour (normalised), whatever L."""
    head, in_channels, stride = "regression", 1, 1

    def __init__(self, ab):
        super().__init__()
        self.register_buffer("ab", torch.tensor(ab, dtype=torch.float32).view(1, 2, 1, 1) / 110.0)

    def forward(self, L):
        return self.ab.expand(L.shape[0], 2, *L.shape[-2:]).clone()


class _Router(torch.nn.Module):
    """Right on every photo: the profile is written in L (50 → 0, 60 → 0.2 once normalised)."""

    def forward(self, L):
        g = (L[:, 0, 0, 0] > 0.1).long()
        return torch.nn.functional.one_hot(g, 2).float()


def _experiment(**kw):
    lab = np.zeros((6, 8, 8, 3), dtype=np.float32)
    truth = np.array([0, 1, 0, 1, 1, 0])
    lab[..., 0] = np.where(truth == 1, 60.0, 50.0)[:, None, None]
    lab[..., 1] = np.where(truth == 0, 40.0, -40.0)[:, None, None]
    data = type("D", (), {"lab": lab, "images": np.zeros((6, 8, 8, 3), np.uint8)})()
    colorizers = [_ConstantAB([40, 0]), _ConstantAB([-40, 0])]
    return routing_experiment(_ConstantAB([0, 0]), colorizers, data, truth, router=_Router(), device="cpu", **kw).metrics


def test_the_students_routed_forward_decides_the_routed_auc():
    default = _experiment()
    assert default["auc_routed"] == pytest.approx(1.0)
    assert _experiment(routed_forward=kit_routed_forward) == default            # the kit's own: the same numbers

    def right_but_not_the_kits(L, classifier, colorizers):                       # one image at a time
        g = classifier(L).argmax(dim=1).tolist()
        return torch.cat([colorizers[k](L[i:i + 1]) for i, k in enumerate(g)])

    assert _experiment(routed_forward=right_but_not_the_kits)["auc_routed"] == pytest.approx(default["auc_routed"])

    def first_colorizer_only(L, classifier, colorizers):                        # a different routed pass
        return colorizers[0](L)

    changed = _experiment(routed_forward=first_colorizer_only)
    assert changed["auc_routed"] == pytest.approx((3 * 1.0 + 3 * (1 - 80 / 150)) / 6)
    assert changed["auc_routed"] != default["auc_routed"]
    assert {k: v for k, v in changed.items() if k != "auc_routed"} == \
        {k: v for k, v in default.items() if k != "auc_routed"}               # only the routed number moves
