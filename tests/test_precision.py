"""The device-agnostic precision rule (colorlab.core.precision) on GPUs this machine does not have, by mocking
the CUDA queries: native bf16 only from compute capability 8.0, fp16 + a gradient scaler below, TF32
recorded and turned off where exact fp32 matters, and ``compile="auto"`` deciding from a probe on a GPU."""
import pytest
import torch

from colorlab.core import precision as rule
from colorlab.core import speed
from colorlab.core.precision import SpeedPlan

CUDA0 = torch.device("cuda", 0)


@pytest.fixture
def fake_gpu(monkeypatch):
    """A CUDA device 0 of a given compute capability whose ``is_bf16_supported()`` says True (emulation counts)."""
    def make(capability, name="NVIDIA Tesla T4"):
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda idx=None: capability)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda idx=None: name)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
        return CUDA0
    return make


@pytest.mark.parametrize("capability, want", [((7, 5), "fp16"), ((7, 0), "fp16"), ((8, 0), "bf16"),
                                              ((9, 0), "bf16")])
def test_native_bf16_needs_compute_capability_8(fake_gpu, capability, want):
    dev = fake_gpu(capability)
    cands, why = rule.candidates(dev)
    assert [p for p, _ in cands] == [want], why
    assert rule.native_bf16(dev) is (want == "bf16")
    assert f"sm{capability[0]}{capability[1]}" in why
    assert SpeedPlan(want).needs_scaler is (want == "fp16")


def test_the_cache_key_tells_gpus_of_one_name_but_other_capabilities_apart(fake_gpu):
    assert rule.cache_key(fake_gpu((7, 5))) != rule.cache_key(fake_gpu((8, 0)))


def test_fp32_matmul_turns_tf32_off_inside_and_restores_the_policy():
    before = rule.tf32_policy()
    try:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        with rule.fp32_matmul():
            assert rule.tf32_policy() == {"matmul": False, "cudnn": False}
        assert rule.tf32_policy() == {"matmul": True, "cudnn": True}
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before["matmul"], before["cudnn"]


def test_plans_record_the_tf32_policy():
    plan = SpeedPlan("bf16", tf32={"matmul": True, "cudnn": True})
    assert plan.as_config()["tf32"] == {"matmul": True, "cudnn": True}
    assert "tf32" not in SpeedPlan("fp32").as_config()  # CPU plans: nothing to record


def test_compile_auto_decides_from_a_probe_where_the_rule_leaves_one_candidate(tmp_path, monkeypatch):
    """On a GPU the rule names one candidate, so nothing was timed: a short probe must still give
    ``compile="auto"`` a throughput (before, the run length was 'unknown' and compile never came on)."""
    monkeypatch.setenv("COLORLAB_HOME", str(tmp_path))
    monkeypatch.delenv("COLORLAB_PRECISION", raising=False)
    calls = []
    monkeypatch.setattr(rule, "candidates", lambda dev: ([("bf16", True)], "a GPU with native bf16: bf16"))
    monkeypatch.setattr(speed, "probe", lambda dev, cands, **kw: calls.append(cands) or {"bf16+cl": 2000.0})
    monkeypatch.setattr(speed.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    long_run = speed.speed_plan("cpu", compile="auto", run_images=2000 * 3600, verbose=False)
    assert calls == [[("bf16", True)]]
    assert long_run.compile is True and long_run.timings["bf16+cl"] == 2000.0
    short = speed.speed_plan("cpu", compile="auto", run_images=2000 * 10, verbose=False)
    assert short.compile is False
    assert len(calls) == 1  # the throughput was remembered


def test_mixed_precision_is_a_deprecated_alias_of_precision():
    from colorlab.training.config import TrainConfig
    from colorlab.training.predictor import PredictorConfig
    assert TrainConfig(precision="bf16").precision == "bf16"
    for cls in (TrainConfig, PredictorConfig):
        with pytest.warns(DeprecationWarning, match="use precision='fp32'"):
            old = cls(mixed_precision=False)
        assert old.precision == "fp32" and old.mixed_precision is None
        with pytest.warns(DeprecationWarning):
            assert cls(mixed_precision=True).precision is None  # True meant "measure"
    with pytest.warns(DeprecationWarning):
        assert TrainConfig.of(mixed_precision=False, epochs=2).precision == "fp32"  # the keyword path
