"""Precision, memory format and ``torch.compile`` chosen by measurement — moved below training.

The rule lives in :mod:`colorlab.core.precision` and the measured plan in :mod:`colorlab.core.speed`,
so that colorizing and the widgets need nothing from training. This module keeps the old import
path working (``from colorlab.training.speed import speed_plan``).
"""
from __future__ import annotations

from colorlab.core.precision import (cache_key, candidates, cpu_capability, cpu_model, DTYPES, MARGIN,
                                     native_bf16, PRECISIONS, SpeedPlan, tf32_policy)
from colorlab.core.speed import autocast_dtype, compile_pays, COMPILE_GUESS, probe, record_compile, speed_plan

__all__ = ["SpeedPlan", "speed_plan", "autocast_dtype", "probe", "candidates", "compile_pays", "record_compile",
           "cache_key", "cpu_capability", "cpu_model", "native_bf16", "tf32_policy", "PRECISIONS", "DTYPES",
           "MARGIN", "COMPILE_GUESS"]
