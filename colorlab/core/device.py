"""One place that decides where tensors live.

Everything in the kit asks :func:`get_device` instead of hard-coding a GPU, so the same
code runs on a laptop CPU, an Apple GPU (MPS) and one or several NVIDIA GPUs.
"""
from __future__ import annotations

import torch

from colorlab.core.errors import ColorlabError

__all__ = ["get_device", "describe_device", "sync"]


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def get_device(device: str | torch.device | None = "auto") -> torch.device:
    """Resolve ``"auto"`` (CUDA, then MPS, then CPU) or check an explicit device name.

    >>> get_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        return device
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ColorlabError(f"unknown device {device!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ColorlabError(f"device {device!r} asked for, but this machine has no CUDA GPU; use 'auto' or 'cpu'")
    if dev.type == "mps" and not _mps_available():
        raise ColorlabError(f"device {device!r} asked for, but MPS is not available here; use 'auto' or 'cpu'")
    return dev


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA, MPS), so that a timer measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def describe_device(device: str | torch.device | None = "auto") -> str:
    """A one-line human description, e.g. ``cpu (2 threads)`` or ``cuda:0 (NVIDIA H100, 79 GiB)``."""
    dev = get_device(device)
    if dev.type == "cuda":
        idx = dev.index if dev.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(idx)
        return f"cuda:{idx} ({props.name}, {props.total_memory / 2**30:.0f} GiB, {torch.cuda.device_count()} visible)"
    if dev.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({torch.get_num_threads()} threads)"
