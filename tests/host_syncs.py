"""Counting the Python-visible ways a tensor's value reaches the host (a GPU would wait for its queue there).

On a GPU these are device-to-host syncs; on the CPU they cost nothing, but counting them here shows where
a GPU would stall: ``.item()``, ``bool(t)`` (``if t.any():``), ``int(t)`` / ``float(t)``, ``.tolist()``,
``.numpy()``, ``.cpu()`` and indexing with a boolean mask (its result's size depends on the values).
``tests/gpu/`` checks the same code under ``torch.cuda.set_sync_debug_mode("error")``.
"""
from __future__ import annotations

import contextlib
import sys
from collections import Counter

import torch

_METHODS = ("item", "__bool__", "__int__", "__float__", "__index__", "tolist", "numpy", "cpu")


def _is_mask(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in items)


@contextlib.contextmanager
def count_host_syncs(only: str | None = None, skip: tuple[str, ...] = ()):
    """Count host reads of tensor values inside the block: ``with count_host_syncs() as n: ...; sum(n.values())``.

    ``only``: count only reads made by code in files whose path contains it (e.g. ``"/colorlab/"``);
    ``skip``: not those made from files whose path contains one of these.
    """
    counts: Counter = Counter()

    def counted() -> bool:
        frame = sys._getframe(2)
        while frame.f_code.co_filename == __file__:  # another count_host_syncs around this one
            frame = frame.f_back
        caller = frame.f_code.co_filename
        return (only is None or only in caller) and not any(s in caller for s in skip)
    saved = {name: getattr(torch.Tensor, name) for name in (*_METHODS, "__getitem__", "__setitem__")}

    def counting(name, real):
        def wrapped(self, *a, **k):
            if counted():
                counts[name] += 1
            return real(self, *a, **k)
        return wrapped

    def masked(real):
        def wrapped(self, index, *a):
            if _is_mask(index) and counted():
                counts["mask index"] += 1
            return real(self, index, *a)
        return wrapped

    try:
        for name in _METHODS:
            setattr(torch.Tensor, name, counting(name, saved[name]))
        torch.Tensor.__getitem__ = masked(saved["__getitem__"])
        torch.Tensor.__setitem__ = masked(saved["__setitem__"])
        yield counts
    finally:
        for name, real in saved.items():
            setattr(torch.Tensor, name, real)
