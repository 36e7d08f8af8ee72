"""The ``colorlab colorize`` command: its handler imports the inference stage only (torch and the model), never
fastai or the training stage, so one photo is colorized in a few seconds from a cold start."""
from __future__ import annotations

from colorlab.inference.batch import colorize_paths

__all__ = ["cmd_colorize"]


def cmd_colorize(args) -> int:
    return colorize_paths(args.inputs, args.out, model=args.model, size=args.size, device=args.device)
