"""Lab 05's experiment runs on the student's blended loss: the sweep's "blend" run is trained with
``loss_kwargs={"alpha": 0.65, "fn": <the student's my_blended_loss>}`` (make_loss → BlendedLoss(fn=...)).
A different function changes what the loss computes; the kit's own ``blend`` gives the default's value."""
from __future__ import annotations

import torch

from colorlab.evaluation.sweep import _as_json
from colorlab.rarity.losses import BlendedLoss, blend, make_loss
from colorlab.rarity.prior import ABPrior


def _prior() -> ABPrior:
    c = (torch.arange(64) - 34.0) ** 2
    counts = (4000 * torch.exp(-(c[:, None] + c[None, :]) / 60)).long().reshape(-1) + 1
    return ABPrior.from_counts(counts, grid="regular64")


def _batch():
    g = torch.Generator().manual_seed(0)
    return torch.rand(3, 2, 5, 4, generator=g) * 1.2 - 0.6, torch.rand(3, 2, 5, 4, generator=g) * 1.2 - 0.6


def test_the_student_loss_is_what_the_blend_run_computes():
    prior, (pred, target) = _prior(), _batch()
    default = BlendedLoss(prior, alpha=0.65)(pred, target)
    with_kit = make_loss("blend", prior, alpha=0.65, fn=blend)(pred, target)
    assert torch.allclose(with_kit, default, rtol=1e-6)

    def sum_over_channels(p, t, w, alpha):   # a different student: twice the loss
        e = (p - t).square().sum(1)
        return alpha * e.mean() + (1 - alpha) * (w * e).mean()

    other = make_loss("blend", prior, alpha=0.65, fn=sum_over_channels)(pred, target)
    assert not torch.allclose(other, default) and torch.allclose(other, 2 * default, rtol=1e-5)
    seen = {}

    def spy(p, t, w, alpha):                 # it gets the kit's pixel weights and the run's alpha
        seen.update(w=w, alpha=alpha)
        return blend(p, t, w, alpha)

    make_loss("blend", prior, alpha=0.3, fn=spy)(pred, target)
    assert seen["alpha"] == 0.3 and seen["w"].shape == (3, 5, 4)


def test_a_sweep_records_the_function_by_name():
    settings = {"loss": "blend", "loss_kwargs": {"alpha": 0.65, "fn": blend}, "data": {"n": 2}}
    assert _as_json(settings) == {"loss": "blend", "loss_kwargs": {"alpha": 0.65, "fn": "<function blend>"},
                                  "data": {"n": 2}}
