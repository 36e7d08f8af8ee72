"""Schedules and optimiser settings (#22): one-cycle, constant and step decay; an epoch as a pass or as a fixed
number of steps; Adam's betas and weight decay — in TrainConfig, sweep settings and the checkpoint."""
from __future__ import annotations

import json

import numpy as np
import pytest
from fastai.callback.core import Callback

from colorlab.core.errors import ColorlabError
from colorlab.data.loaders import CacheLoader
from colorlab.training.config import TrainConfig
from colorlab.training.sweep_config import expand_runs
from colorlab.training.train import train_colorizer


class _Record(Callback):
    """The learning rate and optimiser hypers of every training batch, and each epoch's batch count."""

    def __init__(self):
        self.lrs, self.batches = [], []

    def before_epoch(self):
        self.batches.append(0)

    def after_batch(self):
        if self.training:
            self.lrs.append((self.epoch, float(self.opt.hypers[0]["lr"])))
            self.batches[-1] += 1
            self.hypers = dict(self.opt.hypers[0])


@pytest.fixture(scope="module")
def tiny():
    return np.random.default_rng(0).integers(0, 255, (40, 16, 16, 3), dtype=np.uint8)


def _train(tiny, tmp_path=None, **options):
    rec = _Record()
    res = train_colorizer(tiny[:32], tiny[32:], model="plain_cnn", model_kwargs={"base": 8}, bs=8, device="cpu",
                          progress=False, extra_cbs=[rec], out_dir=tmp_path, **options)
    return rec, res


def test_step_decay_fixed_steps_betas_and_weight_decay_reach_the_optimiser_and_the_checkpoint(tiny, tmp_path):
    rec, res = _train(tiny, tmp_path, epochs=3, lr=0.01, schedule="step", step_every=1, gamma=0.5,
                      steps_per_epoch=3, betas=(0.5, 0.9), weight_decay=0.0)
    assert rec.batches == [3, 3, 3]                               # 3 steps an epoch, not 32 / 8 = 4
    by_epoch = {e: {round(lr, 8) for ep, lr in rec.lrs if ep == e} for e in range(3)}
    assert by_epoch == {0: {0.01}, 1: {0.005}, 2: {0.0025}}       # × gamma every epoch, constant within it
    assert rec.hypers["mom"] == 0.5 and rec.hypers["sqr_mom"] == 0.9 and rec.hypers["wd"] == 0.0
    cfg = json.loads((tmp_path / "checkpoint.json").read_text())
    cfg = cfg.get("config", cfg)
    assert cfg["schedule"] == "step" and cfg["steps_per_epoch"] == 3 and cfg["gamma"] == 0.5
    assert cfg["betas"] == [0.5, 0.9] and cfg["weight_decay"] == 0.0 and cfg["optimizer"] == "adam"


def test_constant_rate(tiny):
    rec, _ = _train(tiny, epochs=1, lr=0.002, schedule="constant")   # (one-cycle, the default: tests/test_train.py)
    assert [round(lr, 8) for _, lr in rec.lrs] == [0.002] * 4 and rec.batches == [4]


def test_steps_per_epoch_continue_the_stream_of_shuffles():
    dl = CacheLoader(np.zeros((10, 2, 2, 3), np.uint8), bs=4, shuffle=True, drop_last=True)
    dl.steps = 2
    first, second = dl.epoch_batches(), dl.epoch_batches()
    assert len(dl) == 2 and [len(b) for b in first + second] == [4, 4, 4, 4]
    seen = [i for b in first for i in b] + second[0][:2]
    assert sorted(seen) == list(range(10))                       # every photo once before any comes again


def test_bad_settings_are_refused_and_sweeps_carry_them():
    with pytest.raises(ColorlabError, match="schedule"):
        TrainConfig(schedule="cosine")
    with pytest.raises(ColorlabError, match="betas"):
        TrainConfig(betas=(0.9,))
    with pytest.raises(ColorlabError, match="steps_per_epoch"):
        TrainConfig(steps_per_epoch=0)
    (_, s), = expand_runs({"base": {"schedule": "constant", "steps_per_epoch": 25, "betas": [0.9, 0.999]}})
    assert s["schedule"] == "constant" and s["steps_per_epoch"] == 25 and s["betas"] == [0.9, 0.999]
    with pytest.raises(ColorlabError, match="schedule"):
        expand_runs({"base": {"schedule": "cosine"}})
