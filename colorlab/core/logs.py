"""What the kit prints: progress bars only where someone watches them, short lines said once per process, and
library warnings silenced only around the imports that raise them.

* :func:`interactive` — is this output a terminal or a notebook? When it is a file or a pipe (``make demo >
  log``, CI), progress bars would write every redraw; :func:`progress_bar` then shows none, and a bar that
  would stay on screen (``leave=True``) becomes one line when it ends. Training writes one line per epoch
  instead of fastai's bars (:func:`epoch_line`, used by :mod:`colorlab.training.progress`).
* :func:`say_once` — an optional part that is unavailable (LPIPS weights missing…) is said once per process,
  in one short line, not at every call.
* :func:`quiet_imports` — torch deprecates ``torch.jit.script``, which fastai calls while it is imported;
  the kit silences that warning around its own fastai imports only. Importing ``colorlab`` installs no
  warnings filter in the user's process.
"""
from __future__ import annotations

import contextlib
import sys
import time
import warnings

__all__ = ["interactive", "progress_bar", "say_once", "quiet_imports", "epoch_line"]

_SAID: set[str] = set()


def interactive(stream=None) -> bool:
    """True when ``stream`` (default ``sys.stderr``, where bars go) is a terminal or a Jupyter notebook's output."""
    stream = sys.stderr if stream is None else stream
    if type(stream).__module__.startswith("ipykernel"):  # a notebook: tqdm.auto draws a widget there
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _lines(iterable, desc: str, unit: str, stream):
    start, n = time.perf_counter(), 0
    for n, item in enumerate(iterable, 1):
        yield item
    print(f"{desc}: {n} {unit} in {time.perf_counter() - start:.1f} s", file=stream, flush=True)


def progress_bar(iterable=None, disable: bool = False, **kwargs):
    """``tqdm.auto.tqdm(iterable, **kwargs)`` where the output is interactive; else no bar (an iterable with a
    ``desc`` and ``leave=True`` says one line when it is done). Use it like tqdm (``update``, ``with``)."""
    from tqdm.auto import tqdm  # only where a bar may be drawn
    if disable or interactive(kwargs.get("file")):
        return tqdm(iterable, disable=disable, **kwargs)
    if not (kwargs.get("desc") and kwargs.get("leave", True)):
        return tqdm(iterable, disable=True, **kwargs)
    if iterable is not None:
        return _lines(iterable, kwargs["desc"], kwargs.get("unit", "it"), kwargs.get("file") or sys.stderr)
    return _OneLine(**kwargs)


class _OneLine:
    """Counts like a manual tqdm bar (``update``, ``with``); says one line when it is closed without an error."""

    def __init__(self, desc: str, unit: str = "it", initial: int = 0, unit_scale: bool = False,
                 unit_divisor: int = 1000, file=None, **_ignored):
        self.desc, self.unit, self.n, self.start = desc, unit, initial, time.perf_counter()
        self.scale, self.divisor, self.stream, self.closed = unit_scale, unit_divisor, file or sys.stderr, False

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self, said: bool = True) -> None:
        if not self.closed and said:
            from tqdm import tqdm
            amount = tqdm.format_sizeof(self.n, divisor=self.divisor) if self.scale else str(self.n)
            print(f"{self.desc}: {amount}{self.unit if self.scale else ' ' + self.unit} in "
                  f"{time.perf_counter() - self.start:.1f} s", file=self.stream, flush=True)
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.close(said=kind is None)

    def __getattr__(self, name):  # set_postfix, refresh, reset …: nothing to draw
        return lambda *args, **kwargs: None


def say_once(line: str, stream=None) -> bool:
    """Print ``line`` (to stderr) unless this process said it already; True if it was printed now."""
    if line in _SAID:
        return False
    _SAID.add(line)
    print(line, file=sys.stderr if stream is None else stream, flush=True)
    return True


@contextlib.contextmanager
def quiet_imports():
    """Silence the ``torch.jit.script`` deprecation fastai triggers while it is imported — inside this block only.

    Filters the imported libraries install themselves (fastai's own) are kept; only ours goes away.
    """
    before = list(warnings.filters)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch.jit.script` is deprecated", category=FutureWarning)
        ours = warnings.filters[0]
        yield
        added = [f for f in warnings.filters if f is not ours and f not in before]
    for action, message, category, module, lineno in reversed(added):
        warnings.filterwarnings(action, message.pattern if message else "", category, module.pattern if module else "",
                                lineno)


def epoch_line(names, values, n_epoch: int | None = None) -> str:
    """One line for one epoch from fastai's recorder: ``epoch 2/10  train_loss 0.1496  valid_loss 0.0475  time 00:05``.

    ``names``: the recorder's ``metric_names`` (``epoch`` first); ``values``: its log (epoch number first, 0-based).
    """
    values = list(values)
    epoch = f"epoch {int(values[0]) + 1}" + (f"/{n_epoch}" if n_epoch else "")
    parts = [f"{name} {v:.4g}" if isinstance(v, float) else f"{name} {v}"
             for name, v in zip(list(names)[1:], values[1:])]
    return "  ".join([epoch] + parts)
