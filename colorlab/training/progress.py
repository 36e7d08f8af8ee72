"""Training output for a log file: one line per epoch instead of fastai's progress bars.

fastprogress decides whether to draw from ``getattr(stdout, "isatty", False)`` — the method, never called, so
always true — and writes every redraw of its bars into ``make demo > log`` or a CI log. :func:`plain_progress`
swaps fastai's ``ProgressCallback`` for :class:`EpochLines` when the output is not interactive.
"""
from __future__ import annotations

import sys

from colorlab.core.logs import epoch_line, interactive, quiet_imports

with quiet_imports():
    from fastai.callback.core import Callback

__all__ = ["EpochLines", "plain_progress"]


class EpochLines(Callback):
    """Print one line per epoch (epoch, losses, metrics, time) through the learner's logger; no bars."""

    order = 60  # where fastai's ProgressCallback runs, after the Recorder

    def before_fit(self):
        self.old_logger, self.learn.logger = self.learn.logger, self._line

    def _line(self, log):
        print(epoch_line(self.recorder.metric_names, log, getattr(self.learn, "n_epoch", None)), flush=True)

    def after_fit(self):
        self.learn.logger = self.old_logger


def plain_progress(learn, stream=None):
    """``learn`` with :class:`EpochLines` instead of fastai's bars when ``stream`` (stdout) is not interactive."""
    if interactive(sys.stdout if stream is None else stream):
        return learn
    learn.remove_cbs([c for c in learn.cbs if type(c).__name__ == "ProgressCallback"])
    if not any(isinstance(c, EpochLines) for c in learn.cbs):
        learn.add_cb(EpochLines())
    return learn
