"""The four widgets, driven through their plain-Python state and callbacks (no browser)."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

from colorlab.core.errors import ColorlabError
from colorlab.models import create
from colorlab.widgets import HintPainter, ProfileExplorer, RarityExplorer, TuringTest, wilson_interval


@pytest.fixture(scope="module")
def hint_model():
    torch.manual_seed(0)
    model = create("unet", in_channels=4, base=4, depth=2)
    with torch.no_grad():  # make the hint channels matter a lot, so every hint visibly changes the output
        model.stem[0][0].weight[:, 1:3] *= 50
    return model.eval()


@pytest.fixture()
def painter(hint_model, small_photos):
    return HintPainter(hint_model, image=small_photos[0], photo_size=64, patch_size=6, device="cpu")


def test_click_adds_a_hint_and_changes_the_colorization(painter):
    threads = torch.get_num_threads()
    view = painter.widget
    before, before_png, n = painter.result.copy(), painter._view["result"].value, painter.updates
    painter.set_color("#20c040")
    painter.click(30, 20)
    assert len(painter.hints) == 1 and (painter.hints[0].x, painter.hints[0].y, painter.hints[0].size) == (30, 20, 6)
    a, b = painter.hints[0].ab
    assert a < -20 and b > 20  # green in Lab
    assert painter.updates == n + 1 and not np.array_equal(painter.result, before)
    assert painter._view["result"].value != before_png
    assert "1 hint" in painter._view["status"].value and view is painter.widget
    assert torch.get_num_threads() == threads  # the one-thread update leaves torch's setting alone


def test_click_on_a_hint_removes_it_then_undo_and_clear(painter):
    painter.click(10, 10)
    painter.click(40, 40)
    painter.click(11, 9)  # inside the first hint's patch: removes it
    assert [(h.x, h.y) for h in painter.hints] == [(40, 40)]
    painter.undo()
    assert [(h.x, h.y) for h in painter.hints] == [(10, 10), (40, 40)]
    painter.clear()
    assert painter.hints == []
    painter.undo()
    assert len(painter.hints) == 2
    painter.click(-5, 300)  # outside the photo: nothing happens
    assert len(painter.hints) == 2


def test_hints_reach_the_model_input(painter):
    painter.set_color((255, 0, 0))
    painter.set_patch_size(9)
    painter.click(32, 32)
    enc = painter.hint_channels()
    assert enc.shape == (3, painter.work_size, painter.work_size)
    assert enc[2].sum() > 0 and enc[0].max() > 0.3  # red: strongly positive a


def test_palette_offers_five_swatches_of_the_automatic_colorization(painter):
    assert len(painter.palette) == 5 and painter.palette.rgb.dtype == np.uint8
    assert abs(painter.palette.fractions.sum() - 1) < 1e-5
    painter.widget
    buttons = painter._view["swatches"].children
    assert len(buttons) == 5
    buttons[2].click()
    assert painter.color == tuple(int(v) for v in painter.palette.rgb[2])


def test_upload_sample_and_save(painter, small_photos, tmp_path):
    painter.click(5, 5)
    buf = io.BytesIO()
    Image.fromarray(small_photos[3]).save(buf, format="PNG")
    painter.load_bytes(buf.getvalue(), "mine.png")
    assert painter.hints == [] and painter.name == "mine" and painter.result.shape == (64, 64, 3)
    with pytest.raises(ColorlabError, match="broken.png"):
        painter.load_bytes(b"not an image", "broken.png")
    painter.set_image("chelsea")
    assert painter.name == "chelsea"
    out = painter.save(tmp_path / "out.png")
    assert np.array_equal(np.asarray(Image.open(out)), painter.result)


def _upload(widget, name, content):
    """What the browser sends when a file is chosen in a FileUpload (the upload callback runs here)."""
    widget.set_state({"value": [{"name": name, "type": "image/png", "size": len(content),
                                 "content": memoryview(content), "last_modified": 0}]})


def test_a_bad_upload_shows_its_error_in_the_status_line_and_does_not_raise(painter, small_photos):
    painter.widget
    painter.click(5, 5)
    before = painter.result.copy()
    _upload(painter._view["upload"], "broken.png", b"not an image")  # must not raise
    status = painter._view["status"].value
    assert status.startswith("⚠") and "broken.png" in status and "not an image Pillow can read" in status
    assert np.array_equal(painter.result, before) and len(painter.hints) == 1  # the photo and hints stay
    assert painter._view["upload"].value == ()  # cleared: the same file can be chosen again
    buf = io.BytesIO()
    Image.fromarray(small_photos[3]).save(buf, format="PNG")
    _upload(painter._view["upload"], "good.png", buf.getvalue())
    assert painter.name == "good" and painter.hints == []
    assert not painter._view["status"].value.startswith("⚠")  # the next good update replaces the error


def test_every_painter_callback_reports_errors_in_the_status_line(painter, monkeypatch, caplog):
    painter.widget
    status = painter._view["status"]

    def bug(*args, **kwargs):
        raise ValueError("a bug")
    for name in ("undo", "clear", "save", "set_color", "set_patch_size", "click", "set_image"):
        monkeypatch.setattr(painter, name, bug)
    for trigger in (lambda v: v["picker"].set_trait("value", "#123456"), lambda v: v["size"].set_trait("value", 3),
                    lambda v: v["swatches"].children[0].click(), lambda v: v["samples"].set_trait("value", "chelsea"),
                    lambda v: v["events"]._handle_mouse_msg(None, {"type": "click", "dataX": 3, "dataY": 4}, None)):
        status.value = ""
        trigger(painter._view)
        assert status.value == "⚠ ValueError: a bug"
    for button in painter._view["box"].children[4].children[:3]:  # undo, clear, save
        status.value = ""
        button.click()
        assert status.value == "⚠ ValueError: a bug"
    assert "a bug" in caplog.text  # a bug (not a ColorlabError) also goes to the log with its traceback


def test_painter_rejects_bad_input(hint_model, small_photos):
    with pytest.raises(ColorlabError, match="in_channels=4"):
        HintPainter(create("unet", base=4, depth=2), image=small_photos[0], device="cpu")
    p = HintPainter(hint_model, image=small_photos[0], photo_size=32, device="cpu")
    for bad in ("#12", "red", (300, 0, 0)):
        with pytest.raises(ColorlabError, match="colour"):
            p.set_color(bad)
    with pytest.raises(ColorlabError, match="patch size"):
        p.set_patch_size(0)
    with pytest.raises(ColorlabError, match="no such file"):
        p.set_image("/nonexistent/photo.jpg")


def test_enhanced_output_is_brighter(hint_model, small_photos):
    plain = HintPainter(hint_model, image=small_photos[1], photo_size=32, device="cpu")
    bright = HintPainter(hint_model, image=small_photos[1], photo_size=32, device="cpu",
                         enhance=dict(gamma=1.5, lightness=1.2))
    assert bright.result.astype(float).mean() > plain.result.astype(float).mean() + 5


# ------------------------------------------------------------------ rarity explorer
@pytest.fixture(scope="module")
def prior(prepared_sample):
    from colorlab.rarity.prior import ab_prior
    return ab_prior(prepared_sample, device="cpu")


def test_rarity_explorer_lambda_and_scheme(prior, prepared_sample):
    photo = np.asarray(prepared_sample.images[0])
    ex = RarityExplorer(prior, photo)
    assert ex.pixel_weights.shape == photo.shape[:2]
    ex.set("zhang", 1.0)
    assert torch.allclose(ex.weights, torch.ones_like(ex.weights)) and math.isclose(ex.loss["ratio"], 1.0, rel_tol=1e-5)
    ex.widget
    before = ex._view["image"].value
    ex._view["lam"].value = 0.1  # the slider drives the same state
    assert ex.lam == pytest.approx(0.1) and ex.weights.max() > 3 and ex._view["image"].value != before
    assert not math.isclose(ex.loss["weighted_mse"], ex.loss["mse"], rel_tol=1e-3)
    ex._view["scheme"].value = "sqrt"
    assert ex.scheme == "sqrt" and "sqrt" in ex._view["label"].value
    with pytest.raises(ColorlabError, match="scheme"):
        ex.set("cubic")


def test_rarity_explorer_loss_is_zero_for_a_perfect_prediction(prior, prepared_sample):
    photo = np.asarray(prepared_sample.images[1])
    ex = RarityExplorer(prior, photo, prediction=photo)
    assert ex.loss["mse"] == pytest.approx(0, abs=1e-10) and ex.loss["weighted_mse"] == pytest.approx(0, abs=1e-10)
    with pytest.raises(ColorlabError, match="same size"):
        RarityExplorer(prior, photo, prediction=photo[:16])


# ------------------------------------------------------------------ profile explorer
def test_profile_explorer_k_changes_palettes_and_members(prepared_sample):
    ex = ProfileExplorer(prepared_sample, k=2, k_max=6, n_examples=3, device="cpu")
    ex.widget
    assert ex.palettes.shape[0] == 2
    before = ex._view["palettes"].value
    ex._view["slider"].value = 4
    assert ex.k == 4 and ex.palettes.shape == (4, 5, 3) and ex._view["palettes"].value != before
    members = np.concatenate([ex.members(g) for g in range(4)])
    assert sorted(members.tolist()) == list(range(len(prepared_sample.images)))
    with pytest.raises(ColorlabError, match="between 1"):
        ex.set_k(0)


# ------------------------------------------------------------------ Turing test
def _wilson(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_turing_test_is_a_two_alternative_forced_choice(small_photos):
    real, fake = small_photos[:6], [p[::-1].copy() for p in small_photos[:6]]  # pair i: one photo, two versions
    tt = TuringTest(real, fake, seed=3)
    tt.widget
    assert sorted(i for i, _ in tt.trials) == list(range(6))
    assert {left for _, left in tt.trials} == {True, False}  # the real photo is not always on one side
    assert tt._view["report"].value == ""  # no feedback while the test runs
    picked_fake = []
    for j, (i, real_left) in enumerate(tt.trials):
        left, right = tt.current
        shown_real, shown_fake = (left, right) if real_left else (right, left)
        assert np.array_equal(shown_real, real[i]) and np.array_equal(shown_fake, fake[i])
        assert tt._view["progress"].value == f"pair {j + 1} of 6"
        fool = j % 3 == 0  # pick the colorization in every third pair
        picked_fake.append(fool)
        tt.choose(("right" if real_left else "left") if fool else ("left" if real_left else "right"))
    assert tt.done and tt.current is None and tt.fooled == picked_fake
    rep = tt.report()
    k = sum(picked_fake)
    assert (rep.trials, rep.fooled) == (6, k) and rep.fooled_rate == pytest.approx(k / 6)
    assert (rep.ci_low, rep.ci_high) == pytest.approx(_wilson(k, 6), abs=1e-9)
    assert "done" in tt._view["progress"].value and all(b.disabled for b in tt._view["buttons"])
    assert f"fooled in {k} of 6" in tt._view["report"].value and "Wilson" in tt._view["report"].value
    with pytest.raises(ColorlabError, match="over"):
        tt.choose("left")


def test_wilson_interval_matches_the_formula_and_stays_in_0_1():
    for k, n in [(0, 10), (3, 10), (10, 10), (32, 100), (1, 1)]:
        lo, hi = wilson_interval(k, n)
        assert (lo, hi) == pytest.approx(_wilson(k, n), abs=1e-9)
        assert 0 <= lo <= k / n <= hi <= 1 and hi > lo
    lo, hi = wilson_interval(5, 10, confidence=0.99)
    assert lo < _wilson(5, 10)[0] and hi > _wilson(5, 10)[1]  # 99 % is wider than 95 %
    with pytest.raises(ColorlabError, match="successes"):
        wilson_interval(11, 10)


def test_turing_test_buttons_and_bad_input(small_photos):
    tt = TuringTest(small_photos[:2], [p[::-1].copy() for p in small_photos[:2]], seed=0)
    tt.widget
    real_left = tt.trials[0][1]
    tt._view["buttons"][0].click()  # "left is real"
    assert tt.choices == ["left"] and tt.fooled == [not real_left]
    tt._view["buttons"][1].click()
    assert tt.done and tt.report().trials == 2 and "Wilson" in str(tt.report())
    tt._view["buttons"][1].click()  # after the end: nothing happens, nothing raises
    assert len(tt.choices) == 2
    assert str(TuringTest(small_photos[:1], small_photos[1:2]).report()) == "no pair judged yet"
    assert wilson_interval(0, 0)[0] != wilson_interval(0, 0)[0]  # NaN before any answer
    with pytest.raises(ColorlabError, match="colorized"):
        TuringTest(small_photos[:2], [])
    with pytest.raises(ColorlabError, match="pairs"):
        TuringTest(small_photos[:2], small_photos[:1])
    with pytest.raises(ColorlabError, match="uint8"):
        TuringTest([np.zeros((4, 4), np.float32)], small_photos[:1])
    with pytest.raises(ColorlabError, match="pair 0"):
        TuringTest([small_photos[0]], [small_photos[0][:8]])
    with pytest.raises(ColorlabError, match="left' or 'right"):
        TuringTest(small_photos[:1], small_photos[1:2]).choose("middle")


def test_turing_test_error_in_a_button_shows_in_its_status_line(small_photos, monkeypatch):
    tt = TuringTest(small_photos[:1], small_photos[1:2], seed=0)
    tt.widget

    def broken(side):
        raise ColorlabError("the quiz broke")
    monkeypatch.setattr(tt, "choose", broken)
    tt._view["buttons"][0].click()  # must not raise
    assert tt._view["status"].value == "⚠ the quiz broke"
