import re
from pathlib import Path

import pytest
import torch

from colorlab import ColorlabError
from colorlab.core.device import describe_device, get_device
from colorlab.training.speed import autocast_dtype


def test_auto_falls_back_to_cpu_without_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("colorlab.core.device._mps_available", lambda: False)
    assert get_device("auto") == torch.device("cpu")
    assert get_device(None) == torch.device("cpu")


def test_auto_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device("auto").type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("colorlab.core.device._mps_available", lambda: True)
    assert get_device("auto").type == "mps"


def test_explicit_devices_and_errors(monkeypatch):
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(torch.device("cpu")) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ColorlabError, match="no CUDA GPU"):
        get_device("cuda")
    with pytest.raises(ColorlabError, match="unknown device"):
        get_device("tpu9")


def test_autocast_dtype_and_description(monkeypatch):
    assert autocast_dtype(torch.device("cpu")) is None  # the test suite pins fp32
    monkeypatch.setenv("COLORLAB_PRECISION", "bf16")
    assert autocast_dtype(torch.device("cpu")) == torch.bfloat16
    assert describe_device("cpu").startswith("cpu (")


def test_no_module_calls_cuda_directly():
    """Every device choice goes through colorlab.core.device.get_device."""
    pkg = Path(__file__).resolve().parents[1] / "colorlab"
    offenders = [f"{p.relative_to(pkg)}:{i}" for p in pkg.rglob("*.py")
                 for i, line in enumerate(p.read_text().splitlines(), 1)
                 if re.search(r"\.cuda\(\)", line) and not line.lstrip().startswith("#")]
    assert not offenders, f".cuda() called directly in {offenders}"
