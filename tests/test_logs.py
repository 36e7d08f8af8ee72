"""Quiet logs (#26 item 4, #23's global filter): no bar redraws when the output is not a terminal, an unavailable
optional metric said once per process in one line, and no warnings filter left in the user's process."""
from __future__ import annotations

import io
import subprocess
import sys

from colorlab.core import logs
from colorlab.core.logs import epoch_line, interactive, progress_bar, say_once
from colorlab.evaluation import metrics


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_bars_only_on_a_terminal_else_one_line():
    log = io.StringIO()
    assert not interactive(log) and interactive(_Terminal())
    assert sum(progress_bar(range(5), desc="evaluate", unit="batch", file=log)) == 10
    with progress_bar(total=3000, desc="flowers.tgz", unit="B", unit_scale=True, unit_divisor=1000, file=log) as bar:
        bar.update(2500)
    list(progress_bar(range(3), desc="draw", leave=False, file=log))  # a bar that would vanish: nothing
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("evaluate: 5 batch in ") and lines[1].startswith("flowers.tgz: 2.50kB")
    assert "\r" not in log.getvalue()
    tty = _Terminal()
    list(progress_bar(range(3), desc="draw", file=tty, mininterval=0))
    assert "\r" in tty.getvalue()  # a terminal still gets its bar


def test_epoch_line():
    names = ["epoch", "train_loss", "valid_loss", "time"]
    assert epoch_line(names, [1, 0.149630, 0.0474621, "00:05"], 10) == \
        "epoch 2/10  train_loss 0.1496  valid_loss 0.04746  time 00:05"


def test_unavailable_metric_is_said_once_in_one_short_line(monkeypatch, capsys):
    monkeypatch.setattr(logs, "_SAID", set())
    monkeypatch.setattr(metrics, "_installed", lambda name: False)
    for _ in range(3):
        assert not metrics.lpips_available()[0] and not metrics.fid_available()[0]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(len(line) < 200 for line in err), err
    assert err[0].startswith("colorlab: LPIPS unavailable") and "pip install lpips" in err[0]
    assert say_once("x") and not say_once("x")


def test_no_global_warnings_filter_after_importing_the_kit():
    """In a fresh interpreter (pytest installs its own filters): importing the modules that import fastai raises no
    FutureWarning (turned into an error here) and leaves no filter of ours behind."""
    script = ("import warnings, colorlab, colorlab.data.loaders, colorlab.training.train\n"
              "print(sum(f[1] is not None and 'jit.script' in f[1].pattern for f in warnings.filters))")
    r = subprocess.run([sys.executable, "-W", "error::FutureWarning", "-c", script], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "0", r.stderr[-2000:]
