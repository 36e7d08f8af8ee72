"""Training on a GPU: fp16 and bf16 against fp32, resume with the optimizer on the GPU, the T4 path."""
from __future__ import annotations

import pytest
import torch
from fastai.callback.core import Callback

from gpu_helpers import TINY, blocks

from colorlab.core import precision as rule
from colorlab.core.checkpoint import read_checkpoint
from colorlab.core.speed import speed_plan
from colorlab.training.callbacks import DeviceMixedPrecision
from colorlab.training.train import train_colorizer

KW = dict(model="unet", model_kwargs=TINY, loss="mse", epochs=3, bs=8, lr=3e-3, progress=False, seed=0)


class ScalerSpy(Callback):
    """What the gradient scaler was during training (fastai drops it after the fit)."""
    order = 99

    def before_fit(self):
        self.seen = []

    def after_batch(self):
        scaler = getattr(self.learn, "scaler", None)
        if self.training and scaler is not None:
            self.seen.append(scaler.is_enabled())


def _run(precision, **kw):
    spy = ScalerSpy()
    res = train_colorizer(blocks(), blocks(8, seed=1), device="cuda", precision=precision, extra_cbs=[spy],
                          **{**KW, **kw})
    res.scaler_on = bool(spy.seen) and all(spy.seen)
    return res, res.history[-1]["valid_loss"]


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_reduced_precision_trains_like_fp32(precision, cuda):
    if precision == "bf16" and not rule.native_bf16(cuda):
        pytest.skip("this GPU has no native bf16 (compute capability < 8.0)")
    ref, ref_loss = _run("fp32")
    res, loss = _run(precision)
    assert res.learn.speed_plan.precision == precision
    assert next(res.model.parameters()).dtype == torch.float32 and next(res.model.parameters()).is_cuda
    assert loss == pytest.approx(ref_loss, rel=0.3, abs=2e-3), (precision, loss, ref_loss)
    x = torch.rand(4, 1, 16, 16, device=cuda) * 2 - 1
    with torch.no_grad():
        diff = (res.model.eval()(x).float() - ref.model.eval()(x).float()).abs().mean()
    assert diff < 0.05, f"{precision} model drifted from the fp32 one by {diff:.3f} (normalised ab)"
    assert any(isinstance(c, DeviceMixedPrecision) for c in res.learn.cbs)
    assert res.scaler_on is (precision == "fp16")  # a gradient scaler for fp16 only


def test_resume_on_the_gpu_keeps_the_optimizer_state_there(tmp_path, cuda):
    from fastai.callback.core import CancelFitException

    class KillAfter(Callback):
        order = 99

        def after_epoch(self):
            if self.epoch + 1 >= 1:
                raise CancelFitException

    kw = {**KW, "precision": "fp32", "checkpoint_every": 1}
    straight = train_colorizer(blocks(), blocks(8, seed=1), device="cuda", out_dir=tmp_path / "a", **kw)
    train_colorizer(blocks(), blocks(8, seed=1), device="cuda", out_dir=tmp_path / "b", extra_cbs=[KillAfter()], **kw)
    res = train_colorizer(blocks(), blocks(8, seed=1), device="cuda", out_dir=tmp_path / "b", resume=True, **kw)
    assert res.start_epoch == 1
    for p, state in res.learn.opt.state.items():
        for v in state.values():
            if isinstance(v, torch.Tensor) and v.is_floating_point():
                assert v.device == p.device and v.dtype == p.dtype
    final = read_checkpoint(tmp_path / "b" / "checkpoint.pt")["model"]
    for k, v in straight.model.state_dict().items():
        assert torch.allclose(final[k].float(), v.detach().cpu().float(), atol=1e-3, rtol=1e-3), k


def test_the_t4_path_fp16_with_a_scaler(monkeypatch, tmp_path, cuda):
    """A class's T4 (compute capability 7.5, bf16 only emulated): the rule picks fp16, training scales gradients."""
    monkeypatch.setenv("COLORLAB_HOME", str(tmp_path))
    monkeypatch.delenv("COLORLAB_PRECISION", raising=False)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda idx=None: (7, 5))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    cands, why = rule.candidates(cuda)
    assert cands == [("fp16", True)], why
    plan = speed_plan(cuda, compile="off", verbose=False)
    assert plan.precision == "fp16" and plan.needs_scaler and "tf32" in plan.as_config()
    res, loss = _run("auto")
    assert res.learn.speed_plan.precision == "fp16"
    assert torch.isfinite(torch.tensor(loss))
    assert res.scaler_on
