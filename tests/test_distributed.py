"""Data-parallel training: real 2-process DDP runs (gloo, CPU), sharding, rank helpers, the CLI flag.

The multi-process test starts this very file under ``python -m torch.distributed.run``; in that
mode (``--worker``) each rank trains, is stopped, resumes, and leaves its weights and losses on disk
for the parent test to compare.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from colorlab import ColorlabError
from colorlab.core.distributed import (convert_sync_batchnorm, env_world, init_distributed, is_rank0, rank0_first,
                                       shard_indices, sync_batchnorm_copy, world_size)
from colorlab.data.loaders import make_dataloaders
from colorlab.training.callbacks import DistributedDDP

TINY = dict(base=8, depth=2)
HERE = Path(__file__).resolve()


def _blocks(n=64, size=16, seed=0):
    """Two flat colour blocks whose colour follows lightness: learnable from L in a few steps."""
    rng = np.random.default_rng(seed)
    imgs = np.zeros((n, size, size, 3), np.uint8)
    for i in range(n):
        cut = rng.integers(4, size - 4)
        imgs[i, :, :cut] = (200, 40, 40)
        imgs[i, :, cut:] = (30, 60, 160)
    return imgs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(args: list[str], tmp_path: Path, nproc: int = 2, timeout: int = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLORLAB_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    for var in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", str(nproc),
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=tmp_path)
    assert proc.returncode == 0, f"torchrun failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


# --------------------------------------------------------------------------- the worker (one per rank)

def _worker(out: Path) -> None:
    """Train 3 epochs, 'crash' after 2, resume to 3; record weights, losses and who wrote checkpoints."""
    from fastai.callback.core import Callback, CancelFitException

    import colorlab.training.callbacks as callbacks
    from colorlab.core.distributed import distributed_context
    from colorlab.training.train import train_colorizer

    class KillAfter(Callback):
        order = 99

        def after_epoch(self):
            if self.epoch + 1 >= 2:
                raise CancelFitException

    with distributed_context(device="cpu") as info:
        saves = []
        real_save = callbacks.save_checkpoint
        callbacks.save_checkpoint = lambda *a, **k: (saves.append(k.get("epoch")), real_save(*a, **k))[1]
        kw = dict(model="unet", model_kwargs=TINY, loss="mse", epochs=3, bs=8, lr=1e-2, device="cpu",
                  out_dir=out / "run", progress=False, distributed=True, seed=info.rank)  # seeds differ on purpose
        first = train_colorizer(_blocks(64), _blocks(8, seed=1), extra_cbs=[KillAfter()], **kw)
        n_batches = len(first.learn.dls.train)
        second = train_colorizer(_blocks(64), _blocks(8, seed=1), resume=True, **kw)
        torch.save({k: v.detach().clone().contiguous() for k, v in second.model.state_dict().items()},
                   out / f"weights{info.rank}.pt")
        (out / f"rank{info.rank}.json").write_text(json.dumps({
            "world": info.world_size, "backend": info.backend, "batches_per_epoch": n_batches,
            "first": [h["train_loss"] for h in first.history], "second": [h["train_loss"] for h in second.history],
            "start": second.start_epoch, "saves": saves, "unwrapped": type(second.model).__name__}))


def test_two_gloo_processes_train_in_lockstep_and_resume(tmp_path):
    t = time.perf_counter()
    _torchrun([str(HERE), "--worker", str(tmp_path)], tmp_path)
    elapsed = time.perf_counter() - t
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["world"] == r1["world"] == 2 and r0["backend"] == "gloo"
    # 64 photos over 2 ranks at bs 8: each rank reads its own 32 -> 4 batches an epoch
    assert r0["batches_per_epoch"] == r1["batches_per_epoch"] == 4
    # DDP keeps the replicas identical (different seeds per rank: it is not luck)
    w0, w1 = torch.load(tmp_path / "weights0.pt"), torch.load(tmp_path / "weights1.pt")
    assert w0.keys() == w1.keys()
    assert all(torch.equal(w0[k], w1[k]) for k in w0), "replicas diverged"
    # the loss falls over the 3 epochs (2 before the crash, 1 after resuming)
    losses = r0["first"] + r0["second"]
    assert len(r0["first"]) == 2 and len(r0["second"]) == 1 and r0["start"] == 2 == r1["start"]
    assert losses[-1] < 0.8 * losses[0], losses
    # rank 0 alone writes checkpoints and history
    assert r0["saves"] == [1, 2, 3] and r1["saves"] == []
    assert json.loads((tmp_path / "run" / "history.json").read_text())[0]["epoch"] == 3
    assert "DistributedDataParallel" not in (r0["unwrapped"], r1["unwrapped"])  # unwrapped after the fit
    print(f"2-process DDP run: {elapsed:.1f} s")


# --------------------------------------------------------------------------- single-process pieces

def test_shards_are_disjoint_equal_and_cover_everything():
    for n, world in [(10, 2), (11, 3), (5, 4)]:
        shards = [shard_indices(n, True, seed=0, epoch=3, rank=r, world_size=world) for r in range(world)]
        assert len({len(s) for s in shards}) == 1 and len(shards[0]) == -(-n // world)
        assert set().union(*map(set, shards)) == set(range(n))
        if n % world == 0:
            assert sum(len(s) for s in shards) == n and len(set().union(*map(set, shards))) == n
    a = shard_indices(100, True, 0, 0, 0, 2)
    assert a == shard_indices(100, True, 0, 0, 0, 2)        # same seed and epoch, same shard on every call
    assert a != shard_indices(100, True, 0, 1, 0, 2)        # a new order each epoch
    assert shard_indices(6, False, 0, 0, 1, 2) == [1, 3, 5]  # no shuffle: strided


def test_sharded_loader_reads_only_its_share():
    imgs = _blocks(20)
    seen = []
    for r in range(2):
        dls = make_dataloaders(imgs, imgs[:4], bs=4, device="cpu", rank=r, world_size=2, drop_last=False)
        assert len(dls.train) == 3 and dls.train.n_shard == 10
        idx = list(dls.train.get_idxs())
        assert len(idx) == 10
        seen.append(set(idx))
        assert len(dls.valid.get_idxs()) == 4  # validation is not sharded
    assert seen[0].isdisjoint(seen[1]) and seen[0] | seen[1] == set(range(20))
    with pytest.raises(ColorlabError, match="rank"):
        make_dataloaders(imgs, imgs[:4], bs=4, device="cpu", rank=2, world_size=2)


def test_rank_helpers_read_torchrun_variables(monkeypatch):
    for var in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(var, raising=False)
    assert env_world() == (0, 0, 1) and world_size() == 1 and is_rank0()
    info = init_distributed(device="cpu")  # one process: nothing to join
    assert (info.rank, info.world_size, info.backend) == (0, 1, None) and info.device.type == "cpu"
    with rank0_first():
        pass
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert env_world() == (3, 1, 4) and not is_rank0()
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    with pytest.raises(ColorlabError, match="MASTER_ADDR"):
        init_distributed(device="cpu")
    monkeypatch.setenv("WORLD_SIZE", "four")
    with pytest.raises(ColorlabError, match="WORLD_SIZE"):
        env_world()


def test_sync_batchnorm_only_where_it_matters():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Sequential(nn.BatchNorm2d(4), nn.ReLU()))
    assert convert_sync_batchnorm(net, torch.device("cpu")) is net  # PyTorch syncs BN on accelerators only
    synced = sync_batchnorm_copy(net)
    assert synced is not net and isinstance(synced[1][0], nn.SyncBatchNorm)
    assert type(net[1][0]) is nn.BatchNorm2d, "the user's model was converted in place"
    assert synced[1][0].weight is net[1][0].weight and synced[1][0].running_mean is net[1][0].running_mean
    synced.train()(torch.randn(4, 1, 6, 6))  # training the copy updates the model's own statistics
    assert int(net[1][0].num_batches_tracked) == 1 and net[1][0].running_mean.abs().sum() > 0
    assert [n for n, _ in synced.named_parameters()] == [n for n, _ in net.named_parameters()]


def test_ddp_callback_hands_back_the_plain_model_with_batchnorm(tmp_path, monkeypatch):
    """With SyncBatchNorm on (as on GPUs), the model after training and in its checkpoint has plain BatchNorm."""
    import colorlab.training.callbacks as cbs
    from colorlab.core.checkpoint import read_checkpoint
    from colorlab.models import create
    from colorlab.training.train import train_colorizer

    wrapped = []

    class FakeDDP(nn.Module):  # one process: the wrapping without a process group
        def __init__(self, module, **kw):
            super().__init__()
            self.module = module
            wrapped.append(module)

        def forward(self, *a):
            return self.module(*a)
    monkeypatch.setattr(cbs, "is_distributed", lambda: True)
    monkeypatch.setattr(cbs, "DistributedDataParallel", FakeDDP)
    import colorlab.core.distributed as cd

    def as_on_a_gpu(model, device):  # the kit's own conversion, as it runs on a GPU in a process group
        with monkeypatch.context() as m:
            m.setattr(cd, "is_distributed", lambda: True)
            return cd.convert_sync_batchnorm(model, torch.device("cuda"))
    monkeypatch.setattr(cbs, "convert_sync_batchnorm", as_on_a_gpu)
    net = create("unet", **TINY)
    res = train_colorizer(_blocks(16), _blocks(4), model=net, epochs=1, bs=8, device="cpu", progress=False,
                          extra_cbs=[DistributedDDP(sync_bn=True)], out_dir=tmp_path)
    assert any(isinstance(m, nn.SyncBatchNorm) for m in wrapped[0].modules())  # DDP trained the synced copy
    assert res.model is net or getattr(res.model, "_orig_mod", None) is net
    assert not any(isinstance(m, nn.SyncBatchNorm) for m in res.model.modules())
    assert any(type(m) is nn.BatchNorm2d for m in res.model.modules())
    loaded = create(**read_checkpoint(tmp_path / "checkpoint.pt")["config"]["model"])
    loaded.load_state_dict(read_checkpoint(tmp_path / "checkpoint.pt")["model"])
    assert not any(isinstance(m, nn.SyncBatchNorm) for m in loaded.modules())


def test_ddp_callback_is_a_no_op_in_one_process():
    from colorlab.models import create
    from colorlab.training.train import train_colorizer
    res = train_colorizer(_blocks(16), _blocks(4), model=create("unet", **TINY), epochs=1, bs=8, device="cpu",
                          progress=False, distributed=True)
    assert any(isinstance(c, DistributedDDP) for c in res.learn.cbs)
    assert type(res.model).__name__ != "DistributedDataParallel" and len(res.history) == 1


def test_cli_accepts_distributed_flags():
    from colorlab.cli import build_parser
    args = build_parser().parse_args(["train", "sample", "--distributed", "--workers", "2", "--compile"])
    assert args.distributed and args.workers == 2 and args.compile
    args = build_parser().parse_args(["train", "sample"])
    assert not args.distributed and not args.compile


if __name__ == "__main__" and "--worker" in sys.argv:
    _worker(Path(sys.argv[sys.argv.index("--worker") + 1]))
