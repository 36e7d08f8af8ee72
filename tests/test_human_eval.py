"""The three human-evaluation protocols (#22): side-by-side (TuringTest, unchanged), one image at a time real or
fake, and a preference across several models — each rate with its 95 % Wilson interval."""
from __future__ import annotations

import numpy as np
import pytest

from colorlab.core.errors import ColorlabError
from colorlab.widgets import (PreferenceTest, RealOrFakeTest, TuringTest, preference_shares, real_or_fake_rates,
                              wilson_interval)


def _photos(n, value):
    return [np.full((6, 6, 3), value + i, np.uint8) for i in range(n)]


def test_real_or_fake_rates_by_hand():
    r = real_or_fake_rates([True, True, True, False, False], [True, False, True, True, False])
    assert (r["fooled"]["k"], r["fooled"]["n"]) == (2, 3) and r["fooled"]["rate"] == pytest.approx(2 / 3)
    assert (r["fooled"]["ci_low"], r["fooled"]["ci_high"]) == pytest.approx(wilson_interval(2, 3))
    assert (r["real_judged_real"]["k"], r["real_judged_real"]["n"]) == (1, 2)
    with pytest.raises(ColorlabError):
        real_or_fake_rates([True], [True, False])


def test_real_or_fake_test_shows_each_photo_once_alone_and_scores_the_player():
    real, fake = _photos(4, 10), _photos(6, 100)
    t = RealOrFakeTest(real, fake, seed=1)
    shown = []
    while not t.done:
        (photo,) = t.current
        shown.append(int(photo[0, 0, 0]))
        t.answer("real" if photo[0, 0, 0] < 100 else "real" if len(shown) % 2 else "fake")  # fooled by every 2nd
    assert sorted(shown) == sorted([10, 11, 12, 13] + list(range(100, 106)))
    assert shown != sorted(shown)                                  # mixed, not real first
    r = t.report()
    truth_fooled = sum(1 for i, v in enumerate(shown, 1) if v >= 100 and i % 2)
    assert r["fooled"]["k"] == truth_fooled and r["fooled"]["n"] == 6
    assert r["real_judged_real"]["rate"] == 1.0
    assert "fooled" in str(t)
    with pytest.raises(ColorlabError, match="over"):
        t.answer("real")


def test_preference_test_credits_the_model_picked_wherever_it_stands():
    cols = {"A": _photos(5, 0), "B": _photos(5, 50), "C": _photos(5, 150)}
    t = PreferenceTest(cols, seed=0)
    positions = set()
    while not t.done:
        shown = [int(p[0, 0, 0]) for p in t.current]
        pos = next(k for k, v in enumerate(shown) if 50 <= v < 100)   # the player always likes B
        positions.add(pos)
        t.pick(pos)
    assert len(positions) > 1                                      # B moved between trials
    r = t.report()
    assert r["B"]["rate"] == 1.0 and r["A"]["k"] == r["C"]["k"] == 0 and r["B"]["n"] == 5
    assert (r["A"]["ci_low"], r["A"]["ci_high"]) == pytest.approx(wilson_interval(0, 5))
    assert preference_shares(["A", "A", "C"], ["A", "B", "C"])["A"]["k"] == 2
    with pytest.raises(ColorlabError):
        PreferenceTest({"A": _photos(2, 0)})
    with pytest.raises(ColorlabError):
        PreferenceTest({"A": _photos(2, 0), "B": _photos(3, 0)})


def test_the_widgets_drive_the_protocols_and_the_2afc_test_still_works():
    t = RealOrFakeTest(_photos(1, 10), _photos(1, 100), seed=0)
    t.widget
    t._view["buttons"][0].click()                                  # "real"
    t._view["buttons"][1].click()                                  # "fake"
    assert t.done and t.answers == [True, False] and all(b.disabled for b in t._view["buttons"])
    p = PreferenceTest({"A": _photos(1, 0), "B": _photos(1, 50)}, seed=0)
    p.widget
    p._view["buttons"][1].click()
    assert p.done and p.answers == [p.trials[0][1][1]]
    tt = TuringTest(_photos(2, 10), _photos(2, 100), seed=0)
    tt.choose("left")
    tt.choose("right")
    assert tt.report().trials == 2
