"""The ``colorlab colorize`` command: its handler imports the inference stage only (torch and the model), never
fastai or the training stage, so one photo is colorized in a few seconds from a cold start."""
from __future__ import annotations

import os

import torch

from colorlab.inference.batch import colorize_paths

__all__ = ["cmd_colorize", "idle_threads"]


def idle_threads(limit: int | None = None) -> int:
    """torch threads worth using now: the cores other programs leave idle (1-minute load average), at least 1.

    Two OpenMP threads sharing their cores with busy programs wait for each other: on a loaded 2-core
    machine one photo took 10x longer with 2 threads than with 1. A quiet machine keeps all of torch's threads.
    """
    limit = limit or torch.get_num_threads()
    try:
        idle = (os.cpu_count() or 1) - os.getloadavg()[0]
    except OSError:  # no load average on this platform
        return limit
    return max(1, min(limit, int(idle + 0.5)))


def cmd_colorize(args) -> int:
    threads = torch.get_num_threads()
    torch.set_num_threads(idle_threads(threads))
    try:
        return colorize_paths(args.inputs, args.out, model=args.model, size=args.size, device=args.device)
    finally:
        torch.set_num_threads(threads)  # main() may run inside a bigger program (a test, a notebook)
