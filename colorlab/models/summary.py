"""``layer_table(model, shape)``: each layer's output shape and parameter count, as a DataFrame.

What a lab prints to show an architecture (fastai's ``Learner.summary`` needs a whole Learner and
DataLoaders; this needs only the model and an input shape).
"""
from __future__ import annotations

import torch
import torch.nn as nn


def _shape(out) -> str:
    if isinstance(out, torch.Tensor):
        return "×".join(str(d) for d in out.shape[1:])
    if isinstance(out, (tuple, list)) and out:
        return ", ".join(_shape(o) for o in out)
    return "-"


def layer_table(model: nn.Module, shape: tuple, depth: int = 2, device="cpu"):
    """Run one zero batch of ``shape`` (N, C, H, W) through ``model``; one row per module down to ``depth``.

    Columns: ``layer`` (dotted name), ``type``, ``output`` (shape without N), ``parameters`` (its own
    and its children's). The model is left in the mode it was in.
    """
    import pandas as pd

    rows, hooks = [], []
    for name, module in model.named_modules():
        level = name.count(".") + 1 if name else 0
        if name and level <= depth:
            def hook(m, inp, out, name=name):
                rows.append({"layer": name, "type": type(m).__name__, "output": _shape(out),
                             "parameters": sum(p.numel() for p in m.parameters())})
            hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(shape, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    table = pd.DataFrame(rows, columns=["layer", "type", "output", "parameters"])
    table.attrs["total parameters"] = sum(p.numel() for p in model.parameters())
    return table
