"""Precision, memory format and compilation chosen by measurement (colorlab.core.speed, the rule in
colorlab.core.precision) and honoured by training."""
import json

import numpy as np
import pytest
import torch
from fastai.callback.core import Callback

from colorlab import ColorlabError

from colorlab.core import precision as rule
from colorlab.core import speed
from colorlab.core.checkpoint import read_checkpoint
from colorlab.core.precision import SpeedPlan
from colorlab.core.speed import speed_plan
from colorlab.training.train import train_colorizer

TINY = dict(base=8, depth=2)


def _blocks(n=16, size=16):
    imgs = np.zeros((n, size, size, 3), np.uint8)
    imgs[:, :, : size // 2] = (200, 40, 40)
    imgs[:, :, size // 2:] = (30, 60, 160)
    return imgs


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    """An empty COLORLAB_HOME (no cached decision) and no pinned precision."""
    monkeypatch.setenv("COLORLAB_HOME", str(tmp_path))
    monkeypatch.delenv("COLORLAB_PRECISION", raising=False)
    return tmp_path


@pytest.fixture
def fake_probe(monkeypatch):
    """Replace the timing with fixed numbers (bf16 + channels_last fastest); count the calls."""
    calls = []

    def probe(device, cands, **kw):
        calls.append([c for c in cands])
        table = {"fp32": 50.0, "fp32+cl": 60.0, "bf16": 120.0, "bf16+cl": 200.0}
        return {rule.name_of(p, cl): table[rule.name_of(p, cl)] for p, cl in cands}
    monkeypatch.setattr(speed, "probe", probe)
    monkeypatch.setattr(rule, "cpu_capability", lambda: "AVX512")
    return calls


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_each_forced_precision_is_honoured_and_recorded(tmp_path, precision):
    seen = {}

    class Probe(Callback):
        def after_pred(self):
            seen["autocast"] = torch.is_autocast_enabled("cpu")
            seen["dtype"] = torch.get_autocast_dtype("cpu") if seen["autocast"] else torch.float32
            seen["out"] = self.pred.dtype

    with pytest.warns(UserWarning, match="fp16 on a CPU") if precision == "fp16" else _nothing():
        res = train_colorizer(_blocks(), model="unet", model_kwargs=TINY, loss="mse", epochs=1, bs=8, device="cpu",
                              progress=False, extra_cbs=[Probe()], out_dir=tmp_path, precision=precision)
    want = rule.DTYPES[precision]
    assert seen["dtype"] == want and seen["autocast"] == (precision != "fp32")
    assert seen["out"] == want  # the convolutions really ran in that precision
    assert next(res.model.parameters()).dtype == torch.float32  # master weights stay fp32
    cfg = read_checkpoint(tmp_path / "checkpoint.pt")["config"]
    assert cfg["speed"]["precision"] == precision and cfg["speed"]["source"] == "forced"
    assert cfg["speed"]["compile"] is False  # COLORLAB_COMPILE=off in the test suite
    assert json.loads((tmp_path / "checkpoint.json").read_text())["speed"] == cfg["speed"]
    assert res.learn.speed_plan.precision == precision


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_the_suite_pins_fp32_and_precision_fp32_means_plain_training():
    assert speed_plan("cpu", verbose=False).precision == "fp32"
    assert speed_plan("cpu", precision="bf16", verbose=False).precision == "bf16"  # the argument beats the env
    res = train_colorizer(_blocks(), model="unet", model_kwargs=TINY, loss="mse", epochs=1, bs=8, device="cpu",
                          progress=False, precision="fp32", channels_last=False)
    plan = res.learn.speed_plan
    assert (plan.precision, plan.channels_last) == ("fp32", False)
    assert not any(type(c).__name__ in ("DeviceMixedPrecision", "ChannelsLastFormat") for c in res.learn.cbs)


def test_cached_decision_is_reused_and_invalidated_by_torch_or_device(fresh_home, fake_probe, monkeypatch, capsys):
    plan = speed_plan("cpu", compile="off")
    assert (plan.precision, plan.channels_last, plan.source) == ("bf16", True, "probe")
    assert len(fake_probe) == 1 and "training in bf16 + channels_last" in capsys.readouterr().out
    cache = json.loads((fresh_home / "speed.json").read_text())
    assert len(cache) == 1 and "AVX512" in next(iter(cache)) and torch.__version__ in next(iter(cache))

    again = speed_plan("cpu", compile="off", verbose=False)
    assert again.source == "cache" and (again.precision, again.channels_last) == ("bf16", True)
    assert len(fake_probe) == 1  # reused: no second probe

    monkeypatch.setattr(torch, "__version__", "99.0.0")  # another torch: measure again
    assert speed_plan("cpu", compile="off", verbose=False).source == "probe" and len(fake_probe) == 2
    monkeypatch.setattr(rule, "cpu_model", lambda: "Another CPU")  # another device: measure again
    assert speed_plan("cpu", compile="off", verbose=False).source == "probe" and len(fake_probe) == 3
    monkeypatch.setattr(rule, "cpu_capability", lambda: "AMX_BF16")  # another capability: again
    assert speed_plan("cpu", compile="off", verbose=False).source == "probe" and len(fake_probe) == 4
    assert len(json.loads((fresh_home / "speed.json").read_text())) == 4
    assert speed_plan("cpu", compile="off", verbose=False).source == "cache" and len(fake_probe) == 4


def test_auto_training_uses_the_measured_plan_and_records_it(fresh_home, fake_probe, tmp_path):
    res = train_colorizer(_blocks(), model="unet", model_kwargs=TINY, loss="mse", epochs=1, bs=8, device="cpu",
                          progress=False, out_dir=tmp_path / "run", precision="auto", compile="auto")
    speed_cfg = read_checkpoint(tmp_path / "run" / "checkpoint.pt")["config"]["speed"]
    assert speed_cfg["precision"] == "bf16" and speed_cfg["channels_last"] is True
    assert speed_cfg["compile"] is False  # 16 images: compiling would never pay for itself
    assert {type(c).__name__ for c in res.learn.cbs} >= {"DeviceMixedPrecision", "ChannelsLastFormat"}


def test_rule_skips_bf16_without_avx512_and_fp16_on_cpu(monkeypatch):
    monkeypatch.setattr(rule, "cpu_capability", lambda: "AVX2")
    cands, why = rule.candidates(torch.device("cpu"))
    assert {p for p, _ in cands} == {"fp32"} and "AVX2" in why
    monkeypatch.setattr(rule, "cpu_capability", lambda: "AVX512")
    cands, _ = rule.candidates(torch.device("cpu"))
    assert {p for p, _ in cands} == {"fp32", "bf16"}  # fp16 never on a CPU without being asked


def test_pick_needs_a_margin_to_leave_fp32_nchw():
    assert rule.pick({"fp32": 100, "fp32+cl": 103, "bf16": 104, "bf16+cl": 107}) == ("fp32", False)
    assert rule.pick({"fp32": 100, "fp32+cl": 120, "bf16": 90, "bf16+cl": 110}) == ("fp32", True)
    assert rule.pick({"fp32": 50, "fp32+cl": 60, "bf16": 120, "bf16+cl": 200}) == ("bf16", True)
    assert rule.pick({"fp32": 50, "fp32+cl": 0.0, "bf16": 0.0, "bf16+cl": 0.0}) == ("fp32", False)


def test_compile_only_when_it_pays_for_itself(fresh_home, monkeypatch):
    monkeypatch.setattr(speed.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert speed.compile_pays("cpu", None)[0] is False
    assert speed.compile_pays("cpu", 60)[0] is False       # a minute's run: 45 s of compiling never pays
    assert speed.compile_pays("cpu", 3600)[0] is True      # an hour's run: it does
    speed.record_compile("cpu", speedup=1.02, seconds=120)  # measured here: hardly faster, slow to compile
    ok, why = speed.compile_pays("cpu", 3600)
    assert ok is False and "measured 1.02" in why
    threads = torch.get_num_threads()
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads + 7)  # measured with other threads: not used
    assert "typical" in speed.compile_pays("cpu", 3600)[1]
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
    monkeypatch.setattr(speed.shutil, "which", lambda name: None)
    speed.record_compile("cpu", speedup=2.0, seconds=1)
    assert speed.compile_pays("cpu", 3600) == (False, "no C++ compiler for torch.compile")


def test_real_probe_times_every_candidate(fresh_home, monkeypatch):
    """The one test of a real measurement (a small U-Net instead of the default one, to stay quick)."""
    from colorlab.models import create
    monkeypatch.setattr(speed, "_probe_model", lambda in_channels=1: create("unet", base=8, depth=2))
    cands, _ = rule.candidates(torch.device("cpu"))
    with torch.no_grad():  # asked from inference code (the painter): the probe still times training steps
        timings = speed.probe("cpu", cands, bs=4, size=16, rounds=2)
    timings.pop("noisy", None)
    assert set(timings) == {rule.name_of(p, cl) for p, cl in cands}
    assert timings["fp32"] > 0 and timings["fp32+cl"] > 0
    plan = speed_plan("cpu", precision="auto", compile="off", verbose=False)
    assert plan.source in ("probe", "cache") and plan.timings[rule.name_of(plan.precision, plan.channels_last)] > 0


def test_bad_settings_fail_with_one_clear_message():
    with pytest.raises(ColorlabError, match="precision must be one of"):
        speed_plan("cpu", precision="fp8", verbose=False)
    with pytest.raises(ColorlabError, match="compile must be"):
        speed_plan("cpu", compile="sometimes", verbose=False)


def test_cli_flags():
    from colorlab.cli import build_parser
    args = build_parser().parse_args(["train", "--precision", "bf16", "--compile"])
    assert (args.precision, args.compile) == ("bf16", "on")
    args = build_parser().parse_args(["train", "--compile", "auto"])
    assert (args.precision, args.compile) == (None, "auto")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--precision", "fp8"])


def test_plan_autocast_is_a_no_op_for_fp32():
    with SpeedPlan("fp32").autocast("cpu"):
        assert not torch.is_autocast_enabled("cpu")
    with SpeedPlan("bf16").autocast("cpu"):
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16


@pytest.mark.parametrize("timings", [{"fp32": 0.0, "fp32+cl": 0.0, "bf16": 0.0, "bf16+cl": 0.0},
                                     {"fp32": 50.0, "fp32+cl": 60.0, "bf16": 0.0, "bf16+cl": 90.0, "noisy": 1}])
def test_a_disturbed_probe_is_not_cached(fresh_home, monkeypatch, timings):
    calls = []
    monkeypatch.setattr(rule, "cpu_capability", lambda: "AVX512")
    monkeypatch.setattr(speed, "probe", lambda device, cands, **kw: calls.append(1) or dict(timings))
    plan = speed_plan("cpu", compile="off", verbose=False)
    assert plan.source == "probe" and "not cached" in plan.reason
    if not any(v for k, v in timings.items() if k != "noisy"):
        assert (plan.precision, plan.channels_last) == ("fp32", True)  # nothing measured: the safe default
    else:
        assert (plan.precision, plan.channels_last) == ("bf16", True)
    assert not (fresh_home / "speed.json").exists()
    speed_plan("cpu", compile="off", verbose=False)
    assert len(calls) == 2  # measured again
