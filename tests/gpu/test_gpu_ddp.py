"""One-process NCCL data-parallel training: DDP with SyncBatchNorm on the GPU, plain BatchNorm handed back."""
from __future__ import annotations

import socket

import torch
from torch import nn

from gpu_helpers import TINY, blocks

from colorlab.core.checkpoint import read_checkpoint
from colorlab.models import create
from colorlab.training.train import train_colorizer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_one_process_nccl_ddp_trains_and_hands_back_batchnorm(tmp_path, monkeypatch, cuda):
    import colorlab.training.callbacks as cbs
    for var, value in {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()), "RANK": "0", "LOCAL_RANK": "0",
                       "WORLD_SIZE": "1"}.items():
        monkeypatch.setenv(var, value)
    wrapped = []
    real = cbs.DistributedDataParallel

    class Spy(real):
        def __init__(self, module, **kw):
            wrapped.append(module)
            super().__init__(module, **kw)
    monkeypatch.setattr(cbs, "DistributedDataParallel", Spy)
    net = create("unet", **TINY)
    res = train_colorizer(blocks(32), blocks(8, seed=1), model=net, epochs=2, bs=8, device="cuda", progress=False,
                          distributed=True, precision="fp32", out_dir=tmp_path)
    assert not torch.distributed.is_initialized()  # the group joined here was left here
    assert wrapped and any(isinstance(m, nn.SyncBatchNorm) for m in wrapped[0].modules())
    assert res.model is net and not any(isinstance(m, nn.SyncBatchNorm) for m in net.modules())
    assert len(res.history) == 2 and all(torch.isfinite(torch.tensor(h["valid_loss"])) for h in res.history)
    blob = read_checkpoint(tmp_path / "checkpoint.pt")
    again = create(**blob["config"]["model"])
    again.load_state_dict(blob["model"])  # strict: the names of a plain-BatchNorm model
