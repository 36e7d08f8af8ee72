"""The four widgets, driven through their plain-Python state and callbacks (no browser)."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

from colorlab.errors import ColorlabError
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
    from colorlab.stats import ab_prior
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


def test_turing_test_counts_fooled_guesses(small_photos):
    real, fake = small_photos[:5], [p[::-1].copy() for p in small_photos[5:10]]
    tt = TuringTest(real, fake, seed=3)
    tt.widget
    assert sorted(tt.trials) == sorted([(i, True) for i in range(5)] + [(i, False) for i in range(5)])
    fooled = 0
    for j, (i, is_real) in enumerate(tt.trials):
        shown = tt.current
        assert np.array_equal(shown, (real if is_real else fake)[i])
        answer = True if is_real else j % 2 == 0  # take every other colorized photo for real
        fooled += (not is_real) and answer
        tt.guess(answer)
    assert tt.done and tt.current is None
    rep = tt.report()
    assert (rep.fake_shown, rep.fooled, rep.real_shown, rep.real_correct) == (5, fooled, 5, 5)
    assert rep.fooled_rate == pytest.approx(fooled / 5)
    assert (rep.ci_low, rep.ci_high) == pytest.approx(_wilson(fooled, 5), abs=1e-9)
    assert "done" in tt._view["progress"].value and all(b.disabled for b in tt._view["buttons"])
    with pytest.raises(ColorlabError, match="over"):
        tt.guess(True)


def test_turing_test_buttons_and_bad_input(small_photos):
    tt = TuringTest(small_photos[:1], small_photos[1:2], seed=0)
    tt.widget
    tt._view["buttons"][1].click()
    assert tt.guesses == [False]
    assert wilson_interval(0, 0)[0] != wilson_interval(0, 0)[0]  # NaN before any answer
    with pytest.raises(ColorlabError, match="colorized"):
        TuringTest(small_photos[:2], [])
    with pytest.raises(ColorlabError, match="uint8"):
        TuringTest([np.zeros((4, 4), np.float32)], small_photos[:1])
