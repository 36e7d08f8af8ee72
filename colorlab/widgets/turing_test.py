"""Colorization Turing test (the seeds' human evaluation): real or colorized?

Photos are shown one at a time in random order; the player says "real" or "colorized".
The *fooled rate* is the share of colorized photos the player took for real, reported with a
95 % Wilson confidence interval (a 50 % rate means the colorizations cannot be told apart).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ColorlabError
from ._common import array_png

__all__ = ["TuringTest", "TuringReport", "wilson_interval"]


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (scipy's ``binomtest(...).proportion_ci``)."""
    from scipy.stats import binomtest

    if n == 0:
        return float("nan"), float("nan")
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass
class TuringReport:
    """Outcome so far: colorized photos shown/fooled, the fooled rate and its 95 % CI, accuracy on real photos."""

    fake_shown: int
    fooled: int
    fooled_rate: float
    ci_low: float
    ci_high: float
    real_shown: int
    real_correct: int

    def __str__(self) -> str:
        if not self.fake_shown:
            return "no colorized photo judged yet"
        return (f"fooled {self.fooled}/{self.fake_shown} = {100 * self.fooled_rate:.0f}% "
                f"(95% CI {100 * self.ci_low:.0f}–{100 * self.ci_high:.0f}%); "
                f"real photos recognised {self.real_correct}/{self.real_shown}")


class TuringTest:
    """A real-or-colorized quiz over ``real`` and ``colorized`` photos (uint8 ``(H, W, 3)`` each).

    State: ``trials`` (``(index, is_real)`` in play order), ``guesses`` (the player's answers,
    True = "real"), :attr:`current` (the photo to judge, None when done), :meth:`report`.
    """

    def __init__(self, real, colorized, seed: int = 0):
        self.real, self.colorized = list(real), list(colorized)
        if not self.colorized:
            raise ColorlabError("the Turing test needs at least one colorized photo")
        for im in self.real + self.colorized:
            a = np.asarray(im)
            if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
                raise ColorlabError(f"every photo must be uint8 RGB (H, W, 3), got {a.dtype} {a.shape}")
        items = [(i, True) for i in range(len(self.real))] + [(i, False) for i in range(len(self.colorized))]
        order = np.random.default_rng(seed).permutation(len(items))
        self.trials = [items[j] for j in order]
        self.guesses: list[bool] = []
        self._view = None

    @property
    def done(self) -> bool:
        return len(self.guesses) >= len(self.trials)

    @property
    def current(self) -> np.ndarray | None:
        """The photo to judge now (None when every photo has been judged)."""
        if self.done:
            return None
        i, is_real = self.trials[len(self.guesses)]
        return np.asarray((self.real if is_real else self.colorized)[i])

    def guess(self, real: bool) -> None:
        """Record the player's answer for the current photo (True = "real") and move on."""
        if self.done:
            raise ColorlabError("the test is over: every photo has been judged")
        self.guesses.append(bool(real))
        self._refresh()

    def report(self) -> TuringReport:
        judged = list(zip(self.trials, self.guesses))
        fake = [g for (_, is_real), g in judged if not is_real]
        real = [g for (_, is_real), g in judged if is_real]
        fooled = sum(fake)
        rate = fooled / len(fake) if fake else float("nan")
        lo, hi = wilson_interval(fooled, len(fake))
        return TuringReport(len(fake), fooled, rate, lo, hi, len(real), sum(real))

    @property
    def widget(self):
        """The photo, "real" / "colorized" buttons, progress and the running report."""
        if self._view is None:
            import ipywidgets as W

            real, fake = W.Button(description="real", button_style="success"), \
                W.Button(description="colorized", button_style="warning")
            real.on_click(lambda _: None if self.done else self.guess(True))
            fake.on_click(lambda _: None if self.done else self.guess(False))
            self._view = dict(image=W.Image(format="png", width="256px"), progress=W.Label(), report=W.Label(),
                              buttons=(real, fake))
            self._view["box"] = W.VBox([self._view["image"], W.HBox([real, fake]), self._view["progress"],
                                        self._view["report"]])
            self._refresh()
        return self._view["box"]

    def _refresh(self) -> None:
        v = self._view
        if v is None:
            return
        cur = self.current
        if cur is not None:
            v["image"].value = array_png(cur)
        v["progress"].value = f"photo {min(len(self.guesses) + 1, len(self.trials))} of {len(self.trials)}" \
            if not self.done else "done — thank you!"
        v["report"].value = str(self.report())
        for b in v["buttons"]:
            b.disabled = self.done

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
