"""Training through fastai: loss falls, checkpoints are safe, resume continues, seeds repeat."""
import json
import pickle

import numpy as np
import pytest
import torch
from fastai.callback.core import Callback, CancelFitException

from colorlab import ColorlabError
from colorlab.training.callbacks import DeviceMixedPrecision
from colorlab.core.checkpoint import read_checkpoint, save_checkpoint
from colorlab.models.checkpoint import load_checkpoint
from colorlab.models import create
from colorlab.training.train import train_colorizer

TINY = dict(base=8, depth=2)


def _blocks(n=48, size=16, seed=0):
    """Photos made of two flat colour blocks whose colour follows lightness: learnable from L alone."""
    rng = np.random.default_rng(seed)
    imgs = np.zeros((n, size, size, 3), np.uint8)
    for i in range(n):
        cut = rng.integers(4, size - 4)
        imgs[i, :, :cut] = (200, 40, 40)     # light red on the left
        imgs[i, :, cut:] = (30, 60, 160)     # dark blue on the right
    return imgs


class KillAfter(Callback):
    """Simulates a crash: stops the fit abruptly after ``n`` epochs (after checkpoints ran)."""
    order = 99

    def __init__(self, n):
        self.n = n

    def after_epoch(self):
        if self.epoch + 1 >= self.n:
            raise CancelFitException


def test_a_few_epochs_lower_the_loss(tmp_path):
    res = train_colorizer(_blocks(), model="unet", model_kwargs=TINY, loss="mse", epochs=4, bs=8, lr=1e-2,
                          device="cpu", out_dir=tmp_path, progress=False)
    losses = [h["train_loss"] for h in res.history]
    assert len(losses) == 4 and losses[-1] < 0.7 * losses[0], losses
    assert (tmp_path / "checkpoint.pt").exists() and (tmp_path / "history.json").exists()
    assert read_checkpoint(tmp_path / "checkpoint.pt")["config"]["augment"] is None


def test_checkpoint_records_the_augmentation(tmp_path):
    from colorlab.data.augment import Augment
    train_colorizer(_blocks(16), model="unet", model_kwargs=TINY, loss="mse", epochs=1, bs=8, device="cpu",
                    progress=False, out_dir=tmp_path, augment=Augment(flip=True, rotation=10.0))
    recorded = read_checkpoint(tmp_path / "checkpoint.pt")["config"]["augment"]
    assert recorded["flip"] is True and recorded["rotation"] == 10.0


def test_seeded_runs_are_repeatable():
    kw = dict(model="unet", model_kwargs=TINY, loss="mse", epochs=1, bs=8, device="cpu", progress=False, seed=3)
    a = train_colorizer(_blocks(), **kw).model.state_dict()
    b = train_colorizer(_blocks(), **kw).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = train_colorizer(_blocks(), **{**kw, "seed": 4}).model.state_dict()
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_a_train_config_is_the_same_run_as_its_keywords():
    from colorlab.training.config import TrainConfig
    kw = dict(model="unet", model_kwargs=TINY, loss="mse", epochs=1, bs=8, progress=False, seed=3)
    a = train_colorizer(_blocks(), device="cpu", **kw).model.state_dict()
    b = train_colorizer(_blocks(), None, TrainConfig(**kw), device="cpu").model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ColorlabError, match="unknown training option 'epoch'; valid options: model, "):
        train_colorizer(_blocks(), epoch=1)
    with pytest.raises(ColorlabError, match="with colorspace='ycbcr' use loss='mse'"):
        TrainConfig(colorspace="ycbcr", loss="rarity")


def test_checkpoint_round_trip_rebuilds_the_model(tmp_path):
    model = create("unet", **TINY)
    path = save_checkpoint(tmp_path / "m.pt", model, {"model": model.config, "size": 16}, epoch=3)
    loaded, cfg = load_checkpoint(path)
    assert cfg["size"] == 16 and cfg["normalization"]["ab"] == "ab/110"
    x = torch.randn(2, 1, 16, 16)
    model.eval()
    assert torch.allclose(loaded(x), model(x))
    assert json.loads((tmp_path / "m.json").read_text())["model"] == model.config


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    model = create("unet", **TINY)
    path = save_checkpoint(tmp_path / "m.pt", model, {"model": model.config}, epoch=1)
    before = path.read_bytes()

    def crash(obj, f, *a, **k):
        with open(f, "wb") as fh:
            fh.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError):
        save_checkpoint(path, model, {"model": model.config}, epoch=2)
    assert path.read_bytes() == before, "a failed write damaged the previous checkpoint"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # the hand-made evil file uses protocol 4
def test_checkpoints_never_run_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (exec, ("open(%r, 'w').write('pwned')" % str(tmp_path / "pwned"),))

    bad = tmp_path / "evil.pt"
    with open(bad, "wb") as f:
        pickle.dump({"format": "colorlab-ckpt-1", "config": "{}", "model": Evil()}, f)
    with pytest.raises(ColorlabError, match="not a readable colorlab checkpoint"):
        read_checkpoint(bad)
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(ColorlabError, match="no such checkpoint"):
        read_checkpoint(tmp_path / "missing.pt")


def test_resume_after_a_kill_continues_from_the_last_checkpoint(tmp_path):
    """A killed-and-resumed run ends with the weights of the same run never interrupted.

    Dropping the optimizer state (Adam's moments restart) or the schedule (the one-cycle rate restarts
    from warm-up), or shuffling the resumed epochs differently, each changes the final weights.
    """
    kw = dict(model="unet", model_kwargs=TINY, loss="mse", epochs=3, bs=8, device="cpu", progress=False,
              checkpoint_every=1, lr=1e-2)
    data = _blocks(24)
    straight = train_colorizer(data, out_dir=tmp_path / "straight", **kw)
    train_colorizer(data, extra_cbs=[KillAfter(2)], out_dir=tmp_path / "killed", **kw)
    blob = read_checkpoint(tmp_path / "killed" / "checkpoint.pt")
    assert blob["epoch"] == 2 and "opt" in blob
    killed_weights = blob["model"]
    res = train_colorizer(data, resume=True, out_dir=tmp_path / "killed", **kw)
    final = read_checkpoint(tmp_path / "killed" / "checkpoint.pt")
    assert any(not torch.equal(final["model"][k], killed_weights[k]) for k in killed_weights)
    want = {k: v.detach().cpu() for k, v in straight.model.state_dict().items()}
    for k, v in want.items():
        assert torch.allclose(final["model"][k].float(), v.float(), atol=1e-5, rtol=1e-4), \
            f"{k}: the resumed run drifted from the uninterrupted one"
    assert res.start_epoch == 2 and final["epoch"] == 3
    assert [h["epoch"] for h in res.history] == [3]
    assert res.history[-1]["valid_loss"] == pytest.approx(straight.history[-1]["valid_loss"], rel=1e-4)
    # resuming a finished run trains nothing more
    again = train_colorizer(data, resume=True, out_dir=tmp_path / "killed", **kw)
    assert again.history == [] and read_checkpoint(tmp_path / "killed" / "checkpoint.pt")["epoch"] == 3


def test_resume_puts_the_optimizer_state_on_the_parameters_device_and_dtype(tmp_path):
    """Checkpoints are read onto the CPU; the state must follow the parameters (here: a float64 state
    stands in for a CPU state meeting CUDA parameters)."""
    kw = dict(model="unet", model_kwargs=TINY, loss="mse", epochs=1, bs=8, device="cpu", progress=False,
              out_dir=tmp_path)
    train_colorizer(_blocks(16), **kw)
    path = tmp_path / "checkpoint.pt"
    blob = torch.load(path, weights_only=True)
    moved = 0
    for state in blob["opt"]["state"]:
        for k, v in state.items():
            if isinstance(v, torch.Tensor) and v.is_floating_point() and v.dim():
                state[k] = v.double()
                moved += 1
    assert moved
    torch.save(blob, path)
    res = train_colorizer(_blocks(16), resume=True, **kw)  # epochs == 1: restores, trains nothing
    opt = res.learn.opt
    for p, state in opt.state.items():
        for k, v in state.items():
            if isinstance(v, torch.Tensor) and v.is_floating_point():
                assert (v.device, v.dtype) == (p.device, p.dtype), f"optimizer state {k!r} stayed {v.dtype}"


def test_training_leaves_the_process_cudnn_settings_as_it_found_them():
    cudnn = torch.backends.cudnn
    before = (cudnn.deterministic, cudnn.benchmark)
    try:
        cudnn.deterministic, cudnn.benchmark = False, True  # what a user tuning their notebook may have set
        train_colorizer(_blocks(16), model="unet", model_kwargs=TINY, loss="mse", epochs=1, bs=8, device="cpu",
                        progress=False)
        assert (cudnn.deterministic, cudnn.benchmark) == (False, True)
    finally:
        cudnn.deterministic, cudnn.benchmark = before


def test_bf16_runs_the_model_in_bf16_on_cpu():
    seen = {}

    class Probe(Callback):
        def after_pred(self):
            seen["autocast"] = torch.is_autocast_enabled("cpu")
            seen["dtype"] = torch.get_autocast_dtype("cpu")

    res = train_colorizer(_blocks(16), model="unet", model_kwargs=TINY, loss="mse", epochs=1, bs=8,
                          device="cpu", progress=False, extra_cbs=[Probe()], precision="bf16")
    assert seen == {"autocast": True, "dtype": torch.bfloat16}
    assert any(isinstance(c, DeviceMixedPrecision) for c in res.learn.cbs)
    assert next(res.model.parameters()).dtype == torch.float32  # master weights stay fp32


def test_classification_model_needs_ce_loss():
    with pytest.raises(ColorlabError, match="loss='ce'"):
        train_colorizer(_blocks(16), model="unet", model_kwargs={**TINY, "head": "classification"}, loss="mse",
                        epochs=1, device="cpu", progress=False)


def test_gallery_shows_each_colour_space_in_its_own_colours(tmp_path):
    """The epoch gallery decodes a YCbCr model's output as YCbCr, not as Lab."""
    from PIL import Image
    for cs in ("lab", "ycbcr"):
        out = tmp_path / cs
        train_colorizer(_blocks(16), model="unet", model_kwargs=TINY, loss="mse", epochs=1, bs=8, device="cpu",
                        progress=False, out_dir=out, gallery_every=1, colorspace=cs)
        img = np.asarray(Image.open(out / "gallery_epoch001.png").convert("RGB")).astype(int)
        # the "truth" row holds the red/blue blocks: both colour spaces must show saturated red somewhere
        red = (img[..., 0] > 150) & (img[..., 1] < 90) & (img[..., 2] < 90)
        assert red.sum() > 50, f"{cs}: the truth row lost its colours"


def test_host_syncs_per_training_step_are_capped():
    """Training cannot be sync-free (fastai's smoothed loss reads the loss each step; fp16's gradient scaler
    checks for infs), but it must not read more than that: at most one value per step in all, none from the
    kit's own code (loss, rarity weights, callbacks). Counted on the CPU: 3 training steps against 1."""
    from host_syncs import count_host_syncs
    from colorlab.rarity.prior import ab_prior
    prior = ab_prior(_blocks(16), device="cpu")
    kw = dict(model="unet", model_kwargs=TINY, loss="rarity", prior=prior, epochs=1, bs=8, device="cpu",
              progress=False, checkpoint_every=100)
    train_colorizer(_blocks(8), _blocks(4), **kw)  # warm: lazy imports and one-time set-up
    # fastai's one-cycle schedule computes on tensors it keeps on the CPU whatever the device: not a device sync
    skip = ("fastai/callback/schedule.py",)
    totals, own = [], []
    for n in (8, 24):  # 1 and 3 training steps
        with count_host_syncs(skip=skip) as every, count_host_syncs(only="/colorlab/") as kit:
            train_colorizer(_blocks(n), _blocks(4), **kw)
        totals.append(sum(every.values()))
        own.append(dict(kit))
    per_step = (totals[1] - totals[0]) / 2
    assert per_step <= 1, f"{per_step} host reads per training step"
    assert own[0] == own[1], f"the kit's own code reads values per step: {own}"
