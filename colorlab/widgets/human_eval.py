"""Two more human-evaluation protocols beside the side-by-side :class:`~colorlab.widgets.turing_test.TuringTest`.

* **Real or fake?** — one photo at a time, real or colorized in random order; the player says which it is
  (Siswanto & Karnati: "ask humans to determine whether the pictures are real or fake"). The *fooled rate*
  is the share of colorized photos taken for real; the real photos' share taken for real is its control
  (a player who cannot tell: the two are equal).
* **Preference across models** — the colorizations of one photo by several models, side by side in random
  order; the player picks the one they find most accurate (Robles & Budach's proposed test). Each model's
  share of the picks (1/K for indistinguishable models).

Every rate comes with its 95 % Wilson interval (:func:`~colorlab.widgets.turing_test.wilson_interval`; each
share's own interval, not a simultaneous one). :func:`real_or_fake_rates` and :func:`preference_shares` are
the arithmetic, usable on answers collected anywhere; the classes hold the trials and a widget.
"""
from __future__ import annotations

import numpy as np

from colorlab.core.errors import ColorlabError
from colorlab.widgets._common import array_png, shows_errors
from colorlab.widgets.turing_test import _enlarged, wilson_interval

__all__ = ["real_or_fake_rates", "preference_shares", "RealOrFakeTest", "PreferenceTest"]


def _rate(k: int, n: int) -> dict:
    low, high = wilson_interval(k, n)
    return {"k": int(k), "n": int(n), "rate": k / n if n else float("nan"), "ci_low": low, "ci_high": high}


def real_or_fake_rates(is_colorized, said_real) -> dict:
    """Single-image protocol: per trial, was the photo colorized, and did the player call it real?

    Returns ``{"fooled": …, "real_judged_real": …}``, each ``{"k", "n", "rate", "ci_low", "ci_high"}``: the share
    of colorized photos called real (the fooled rate) and of real photos called real (the control).
    """
    fake, said = np.asarray(is_colorized, bool), np.asarray(said_real, bool)
    if fake.shape != said.shape or fake.ndim != 1:
        raise ColorlabError(f"one answer per trial: {fake.shape} trials, {said.shape} answers")
    return {"fooled": _rate(int((fake & said).sum()), int(fake.sum())),
            "real_judged_real": _rate(int((~fake & said).sum()), int((~fake).sum()))}


def preference_shares(picks, models) -> dict:
    """Preference protocol: ``picks`` (the model picked in each trial) → per model its share of the trials
    (``{"k", "n", "rate", "ci_low", "ci_high"}``), in the order of ``models``."""
    models, picks = list(models), list(picks)
    unknown = sorted({p for p in picks if p not in models}, key=str)
    if unknown:
        raise ColorlabError(f"picks name models not in the test: {unknown}")
    return {m: _rate(sum(p == m for p in picks), len(picks)) for m in models}


def _check_photos(photos, what: str) -> list:
    photos = list(photos)
    for a in map(np.asarray, photos):
        if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
            raise ColorlabError(f"every {what} photo must be uint8 RGB (H, W, 3), got {a.dtype} {a.shape}")
    return photos


def _text(name: str, r: dict) -> str:
    if not r["n"]:
        return f"{name}: none yet"
    return (f"{name}: {r['k']} of {r['n']} = {100 * r['rate']:.0f}% "
            f"(95% Wilson {100 * r['ci_low']:.0f}–{100 * r['ci_high']:.0f}%)")


class _Protocol:
    """Trials in a random order, one answer each; a view of photos with a button under each."""

    labels: tuple[str, ...] = ()
    help = ""

    def __init__(self, display_size: int):
        self.answers: list = []
        self.display_size = int(display_size)
        self._view = None

    @property
    def done(self) -> bool:
        return len(self.answers) >= len(self.trials)

    def _answer(self, value) -> None:
        if self.done:
            raise ColorlabError("the test is over: every trial has been judged")
        self.answers.append(value)
        self._refresh()

    @property
    def widget(self):
        if self._view is None:
            import ipywidgets as W

            status = W.Label()
            guard = shows_errors(status)
            px = f"{self.display_size}px"
            photos = self.current or ()
            images = [W.Image(format="png", width=px, height=px) for _ in photos]
            buttons = [W.Button(description=label, button_style="info") for label in self.button_labels()]
            for i, b in enumerate(buttons):
                b.on_click(guard(lambda _, i=i: None if self.done else self._click(i)))
            self._view = dict(images=images, buttons=buttons, progress=W.Label(), report=W.Label(), status=status)
            self._view["box"] = W.VBox([W.HTML(self.help), W.HBox(images), W.HBox(buttons), self._view["progress"],
                                        self._view["report"], status])
            self._refresh()
        return self._view["box"]

    def _refresh(self) -> None:
        v = self._view
        if v is None:
            return
        for im, photo in zip(v["images"], self.current or ()):
            im.value = array_png(_enlarged(np.asarray(photo), self.display_size))
        n = len(self.trials)
        v["progress"].value = "done — thank you!" if self.done else f"trial {len(self.answers) + 1} of {n}"
        v["report"].value = str(self) if self.done else ""
        for b in v["buttons"]:
            b.disabled = self.done

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)


class RealOrFakeTest(_Protocol):
    """Real or fake? Each of ``real`` and ``colorized`` (uint8 ``(H, W, 3)`` photos) shown alone, in random order.

    :meth:`answer` takes ``"real"`` or ``"fake"`` for the photo :attr:`current` shows; :meth:`report` gives
    :func:`real_or_fake_rates` of the answers so far.
    """

    help = "One photo at a time. <b>Is it a real photo, or a colorized one?</b>"

    def __init__(self, real, colorized, seed: int = 0, display_size: int = 192):
        super().__init__(display_size)
        self.real, self.colorized = _check_photos(real, "real"), _check_photos(colorized, "colorized")
        if not self.colorized:
            raise ColorlabError("the real-or-fake test needs at least one colorized photo")
        items = [(False, i) for i in range(len(self.real))] + [(True, i) for i in range(len(self.colorized))]
        order = np.random.default_rng(seed).permutation(len(items))
        self.trials: list[tuple[bool, int]] = [items[int(j)] for j in order]   # (is colorized, index)

    def button_labels(self):
        return ("real", "fake")

    @property
    def current(self):
        if self.done:
            return None
        fake, i = self.trials[len(self.answers)]
        return ((self.colorized if fake else self.real)[i],)

    def answer(self, verdict: str) -> None:
        if verdict not in ("real", "fake"):
            raise ColorlabError(f"answer 'real' or 'fake', got {verdict!r}")
        self._answer(verdict == "real")

    def _click(self, i: int) -> None:
        self.answer(("real", "fake")[i])

    def report(self) -> dict:
        fake = [f for f, _ in self.trials[:len(self.answers)]]
        return real_or_fake_rates(fake, self.answers)

    def __str__(self) -> str:
        r = self.report()
        return _text("colorized taken for real (fooled)", r["fooled"]) + "; " + \
            _text("real taken for real", r["real_judged_real"])


class PreferenceTest(_Protocol):
    """Which colorization is most accurate? ``colorizations``: ``{model name: [uint8 (H, W, 3) per photo]}``, the
    same photos for every model; each trial shows one photo's colorizations side by side in random order.

    :meth:`pick` takes the position (0-based) of the chosen photo in :attr:`current`; :meth:`report` gives
    :func:`preference_shares` per model.
    """

    help = "The same photo colorized by several methods. <b>Click under the one you find most accurate.</b>"

    def __init__(self, colorizations: dict, seed: int = 0, display_size: int = 160):
        super().__init__(display_size)
        if not isinstance(colorizations, dict) or len(colorizations) < 2:
            raise ColorlabError("a preference test needs a dict of at least two models' colorizations")
        self.models = list(colorizations)
        self.photos = {m: _check_photos(v, m) for m, v in colorizations.items()}
        counts = {len(v) for v in self.photos.values()}
        if len(counts) != 1 or not counts.pop():
            raise ColorlabError("every model must colorize the same (non-empty) list of photos")
        rng = np.random.default_rng(seed)
        n = len(self.photos[self.models[0]])
        self.trials: list[tuple[int, list[str]]] = [(int(i), [self.models[j] for j in rng.permutation(len(self.models))])
                                                    for i in rng.permutation(n)]

    def button_labels(self):
        return tuple(f"this one ({k + 1})" for k in range(len(self.models)))

    @property
    def current(self):
        if self.done:
            return None
        i, order = self.trials[len(self.answers)]
        return tuple(self.photos[m][i] for m in order)

    def pick(self, position: int) -> None:
        if self.done:
            raise ColorlabError("the test is over: every trial has been judged")
        if not 0 <= int(position) < len(self.models):
            raise ColorlabError(f"pick a position 0..{len(self.models) - 1}, got {position}")
        self._answer(self.trials[len(self.answers)][1][int(position)])

    def _click(self, i: int) -> None:
        self.pick(i)

    def report(self) -> dict:
        return preference_shares(self.answers, self.models)

    def __str__(self) -> str:
        return "; ".join(_text(m, r) for m, r in self.report().items())
