"""Lab 07's classification model trains on the student's pieces: ``loss_kwargs={"encode": …, "criterion": …}``
reach :class:`~colorlab.rarity.losses.RebalancedCrossEntropy` through ``make_loss`` (what ``train_colorizer``
calls), and a different soft-encoding or cross-entropy changes the loss it trains on (issue #21, item 5)."""
from __future__ import annotations

import pytest
import torch

from colorlab.rarity.bins import zhang_bins
from colorlab.rarity.losses import make_loss, rebalanced_cross_entropy
from colorlab.rarity.prior import ABPrior
from colorlab.rarity.soft_encoding import soft_encode


def _prior():
    c = zhang_bins().double()
    return ABPrior.from_counts((1e5 * torch.exp(-c.square().sum(1) / (2 * 25.0 ** 2)) + 3).round().long())


def _batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(2, 313, 4, 5, generator=g), torch.rand(2, 2, 4, 5, generator=g) * 1.2 - 0.6


def _loss(**kw):
    logits, ab = _batch()
    return float(make_loss("ce", prior=_prior(), lam=0.2, **kw)(logits, ab))


def test_the_students_pieces_decide_the_loss_the_model_trains_on():
    default = _loss()
    assert _loss(encode=soft_encode, criterion=rebalanced_cross_entropy) == default       # the kit's own: the same

    def my_soft_encode(ab, centres, k=5, sigma=5.0):                                     # right, not the kit's
        d2 = (ab.permute(0, 2, 3, 1)[..., None, :] - centres).square().sum(-1)          # (N, H, W, Q)
        near, idx = d2.topk(k, dim=-1, largest=False)
        w = torch.softmax(-near / (2 * sigma ** 2), dim=-1)
        return torch.zeros_like(d2).scatter_(-1, idx, w).permute(0, 3, 1, 2)

    def my_rebalanced_ce(logits, z, v):
        return -(v * (z * torch.log_softmax(logits, dim=1)).sum(1)).mean()

    assert _loss(encode=my_soft_encode, criterion=my_rebalanced_ce) == pytest.approx(default, rel=1e-5)

    def one_hot(ab, centres, k=5, sigma=5.0):                                            # a different encoding
        return my_soft_encode(ab, centres, 1, sigma)

    def unweighted(logits, z, v):                                                        # a different loss
        return rebalanced_cross_entropy(logits, z, torch.ones_like(v))

    for changed in (_loss(encode=one_hot), _loss(criterion=unweighted)):
        assert abs(changed - default) > 1e-3 * abs(default)

    logits, ab = _batch()                                                                # and it is what trains
    logits.requires_grad_(True)
    make_loss("ce", prior=_prior(), lam=0.2, criterion=my_rebalanced_ce)(logits, ab).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
