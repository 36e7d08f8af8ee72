"""Colorization Turing test as a two-alternative forced choice (Zhang, Isola & Efros 2016).

Each trial shows one photo twice, side by side in random order: the real photo and its
colorization. The player clicks the one they think is real. The *fooled rate* is the share of
trials in which the player picked the colorization, reported with a 95 % Wilson interval
(Wilson 1927). A player who cannot tell the two apart picks at random: 50 %. (Zhang et al.
asked their participants to click the *fake* one; picking the real one is the same choice.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from colorlab.core.errors import ColorlabError
from colorlab.widgets._common import array_png, shows_errors

__all__ = ["TuringTest", "TuringReport", "fooled_rate", "wilson_interval"]

SIDES = ("left", "right")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion ``successes / n`` (Wilson 1927).

    With ``p̂ = k / n`` and ``z`` the normal quantile (1.96 for 95 %)::

        centre = (p̂ + z²/2n) / (1 + z²/n),   half = z / (1 + z²/n) · sqrt(p̂(1 − p̂)/n + z²/4n²)

    Unlike ``p̂ ± z·sqrt(p̂(1 − p̂)/n)`` it stays inside [0, 1] and is not empty at ``k = 0`` or
    ``k = n``. Computed by scipy's ``binomtest(k, n).proportion_ci(method="wilson")``; ``(nan, nan)``
    when ``n = 0``.
    """
    from scipy.stats import binomtest

    if n == 0:
        return float("nan"), float("nan")
    if not 0 <= successes <= n:
        raise ColorlabError(f"need 0 <= successes <= n, got {successes} of {n}")
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def fooled_rate(fooled) -> tuple[float, float, float]:
    """``(rate, low, high)`` of a list of bools (True where the colorization was picked): the share and its 95 %
    :func:`wilson_interval` (what :meth:`TuringTest.report` gives; lab 10's exercise has this contract)."""
    k, n = int(sum(bool(f) for f in fooled)), len(fooled)
    low, high = wilson_interval(k, n)
    return (k / n if n else float("nan")), low, high


@dataclass
class TuringReport:
    """Outcome so far: trials judged, trials where the colorization was picked, the fooled rate and its 95 % interval."""

    trials: int
    fooled: int
    fooled_rate: float
    ci_low: float
    ci_high: float

    def __str__(self) -> str:
        if not self.trials:
            return "no pair judged yet"
        return (f"fooled in {self.fooled} of {self.trials} pairs = {100 * self.fooled_rate:.0f}% "
                f"(95% Wilson interval {100 * self.ci_low:.0f}–{100 * self.ci_high:.0f}%; "
                f"50% = cannot tell real from colorized)")


def _enlarged(rgb: np.ndarray, size: int) -> np.ndarray:
    """A small photo repeated pixel by pixel up to about ``size`` (browsers blur small images they enlarge)."""
    k = max(1, size // max(rgb.shape[:2]))
    return np.repeat(np.repeat(rgb, k, axis=0), k, axis=1) if k > 1 else rgb


class TuringTest:
    """Real or colorized? Pairs ``real[i]`` / ``colorized[i]`` (the same photo; uint8 ``(H, W, 3)`` each).

    Args:
        real, colorized: the photos and their colorizations, pair by pair.
        seed: the order of the pairs and the side of the real photo in each.
        display_size: about how many screen pixels each photo is shown at (small photos are enlarged).
        fooled_rate: ``fooled_rate(fooled) → (rate, low, high)`` for :meth:`report` (default: the share and
            :func:`wilson_interval`; lab 10: the student's).

    State: ``trials`` (``(pair index, real_on_left)`` in play order), ``choices`` ("left"/"right" per
    judged trial), :attr:`fooled` (per judged trial: was the colorization picked?), :attr:`current`
    (the ``(left, right)`` photos to judge, None when done), :meth:`report`. :meth:`choose` records a
    choice; the view's two buttons call it. No feedback is given until the end (as in Zhang et al.'s test trials).
    """

    def __init__(self, real, colorized, seed: int = 0, display_size: int = 192, fooled_rate=None):
        self.fooled_rate = fooled_rate
        self.real, self.colorized = list(real), list(colorized)
        if not self.colorized:
            raise ColorlabError("the Turing test needs at least one colorized photo")
        if len(self.real) != len(self.colorized):
            raise ColorlabError(f"the Turing test shows pairs: real[i] and colorized[i] are the same photo; got "
                                f"{len(self.real)} real and {len(self.colorized)} colorized photos")
        for i, (r, c) in enumerate(zip(self.real, self.colorized)):
            for im in (r, c):
                a = np.asarray(im)
                if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
                    raise ColorlabError(f"every photo must be uint8 RGB (H, W, 3), got {a.dtype} {a.shape}")
            if np.shape(r) != np.shape(c):
                raise ColorlabError(f"pair {i}: the real photo is {np.shape(r)} but its colorization {np.shape(c)}")
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(self.real))
        real_left = rng.integers(0, 2, len(self.real)).astype(bool)
        self.trials: list[tuple[int, bool]] = [(int(i), bool(left)) for i, left in zip(order, real_left)]
        self.choices: list[str] = []
        self.display_size = int(display_size)
        self._view = None

    @property
    def done(self) -> bool:
        return len(self.choices) >= len(self.trials)

    @property
    def current(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The ``(left, right)`` photos of the pair to judge now (None when every pair has been judged)."""
        if self.done:
            return None
        i, real_left = self.trials[len(self.choices)]
        real, fake = np.asarray(self.real[i]), np.asarray(self.colorized[i])
        return (real, fake) if real_left else (fake, real)

    def choose(self, side) -> None:
        """Record which photo of the current pair the player takes for real: ``"left"``/``"right"`` (or 0/1)."""
        if self.done:
            raise ColorlabError("the test is over: every pair has been judged")
        if side in (0, 1) and not isinstance(side, str):
            side = SIDES[int(side)]
        if side not in SIDES:
            raise ColorlabError(f"choose 'left' or 'right', got {side!r}")
        self.choices.append(side)
        self._refresh()

    @property
    def fooled(self) -> list[bool]:
        """Per judged trial: True where the player picked the colorization as the real photo."""
        return [(side == "left") != real_left for (_, real_left), side in zip(self.trials, self.choices)]

    def report(self) -> TuringReport:
        fooled = self.fooled
        n, k = len(fooled), sum(fooled)
        if n and self.fooled_rate is not None:
            rate, lo, hi = (float(v) for v in self.fooled_rate(list(fooled)))
            return TuringReport(n, k, rate, lo, hi)
        lo, hi = wilson_interval(k, n)
        return TuringReport(n, k, k / n if n else float("nan"), lo, hi)

    @property
    def widget(self):
        """The two photos side by side, a "this one is real" button under each, progress, report and status."""
        if self._view is None:
            import ipywidgets as W

            status = W.Label()
            status.add_class("colorlab-turing-status")
            guard = shows_errors(status)
            px = f"{self.display_size}px"
            images = [W.Image(format="png", width=px, height=px) for _ in SIDES]
            buttons = [W.Button(description=f"{side} is real", button_style="info") for side in SIDES]
            for side, b in zip(SIDES, buttons):
                b.on_click(guard(lambda _, s=side: None if self.done else self.choose(s)))
            columns = [W.VBox([im, b]) for im, b in zip(images, buttons)]
            self._view = dict(images=images, buttons=buttons, progress=W.Label(), report=W.Label(), status=status,
                              help=W.HTML("One of the two photos is real, the other colorized. "
                                          "<b>Click under the one you think is real.</b>"))
            self._view["box"] = W.VBox([self._view["help"], W.HBox(columns), self._view["progress"],
                                        self._view["report"], status])
            self._refresh()
        return self._view["box"]

    def _refresh(self) -> None:
        v = self._view
        if v is None:
            return
        pair = self.current
        if pair is not None:
            for im, photo in zip(v["images"], pair):
                im.value = array_png(_enlarged(photo, self.display_size))
        n = len(self.trials)
        v["progress"].value = "done — thank you!" if self.done else f"pair {len(self.choices) + 1} of {n}"
        v["report"].value = str(self.report()) if self.done else ""
        for b in v["buttons"]:
            b.disabled = self.done

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
