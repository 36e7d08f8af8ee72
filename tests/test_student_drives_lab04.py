"""Lab 04: the student's ``conv_block`` builds the plain CNN the lab trains and evaluates
(``train_colorizer(model_kwargs={"block": ...})`` → ``PlainCNN(block=...)``). A different block changes what the
experiment computes; the kit's own block gives exactly the default network."""
from __future__ import annotations

import torch
import torch.nn as nn

from colorlab.models.plain_cnn import plain_block
from colorlab.training.builders import build_model
from colorlab.training.config import TrainConfig


def _no_batchnorm(in_ch, out_ch, stride=1):
    """A different block: the convolution and the ReLU, no normalisation."""
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1), nn.ReLU())


def _net(block=None):
    kwargs = {"base": 4, "batchnorm": True} | ({} if block is None else {"block": block})
    torch.manual_seed(0)
    return build_model(TrainConfig(model="plain_cnn", model_kwargs=kwargs, loss="mse")).train()


def _run(net) -> torch.Tensor:
    x = torch.rand(3, 1, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        return net(x)


def test_the_kits_block_gives_the_default_network():
    default, kit = _net(), _net(plain_block)
    assert kit.config == default.config
    assert [p.shape for p in kit.parameters()] == [p.shape for p in default.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(kit.parameters(), default.parameters()))
    assert torch.equal(_run(kit), _run(default))


def test_a_different_block_changes_the_network():
    default, other = _net(), _net(_no_batchnorm)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in other.body[:-2].modules())
    assert not torch.allclose(_run(other), _run(default))
