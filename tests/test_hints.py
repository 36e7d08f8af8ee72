"""Hint encoding, the synthetic hint sampler, the hint training callback and the hints-vs-PSNR evaluation."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

from colorlab.core.errors import ColorlabError
from colorlab.evaluation.hints import hints_vs_psnr
from colorlab.hints.encoding import Hint, encode_hints, paint_patches
from colorlab.hints.sampling import HintSampler, patch_colours, random_hints
from colorlab.training.callbacks import HintCallback
from colorlab.training.hints import train_hint_model


def test_paint_patches_mask_area_colour_and_overlap():
    top = torch.tensor([[2, 4]])
    left = torch.tensor([[2, 4]])
    size = torch.tensor([[3, 2]])
    ab = torch.tensor([[[0.1, -0.2], [0.5, 0.4]]])
    out = paint_patches(top, left, size, ab, torch.ones(1, 2, dtype=torch.bool), 8, 8)
    mask = out[0, 2]
    assert mask.sum() == 9 + 4 - 1  # a 3×3 and a 2×2 patch sharing pixel (4, 4)
    assert mask[2:5, 2:5].all() and mask[4:6, 4:6].all()
    assert torch.allclose(out[0, :2, 2, 2], torch.tensor([0.1, -0.2]))
    assert torch.allclose(out[0, :2, 4, 4], torch.tensor([0.5, 0.4]))  # the later hint wins the overlap
    assert torch.allclose(out[0, :2, 3, 3], torch.tensor([0.1, -0.2]))
    assert (out[0, :2][:, ~mask.bool()] == 0).all()


def test_paint_patches_skips_invalid_slots_and_clips_at_border():
    out = paint_patches(torch.tensor([[6, 0]]), torch.tensor([[6, 0]]), torch.tensor([[5, 3]]),
                        torch.ones(1, 2, 2), torch.tensor([[True, False]]), 8, 8)
    assert out[0, 2].sum() == 4  # 5×5 patch at (6, 6) clipped to 2×2; the invalid one is not painted
    assert out[0, 2, 0, 0] == 0


def test_encode_hints_rescales_photo_coordinates():
    hints = [Hint(x=40, y=80, size=8, ab=(22.0, -33.0))]
    enc = encode_hints(hints, 64, 64, photo_size=(256, 256))
    assert enc.shape == (3, 64, 64)
    ys, xs = torch.nonzero(enc[2], as_tuple=True)
    assert len(ys) == 4  # 8 photo pixels → 2 working pixels per side
    assert abs(float(ys.float().mean()) - 20) <= 1 and abs(float(xs.float().mean()) - 10) <= 1
    assert torch.allclose(enc[:2, ys[0], xs[0]] * 110, torch.tensor([22.0, -33.0]))
    assert encode_hints([], 16, 16).abs().sum() == 0


def test_patch_colours_are_the_true_patch_means():
    g = torch.Generator().manual_seed(1)
    ab = torch.rand(3, 2, 20, 24, generator=g) * 2 - 1
    top = torch.randint(0, 12, (3, 5), generator=g)
    left = torch.randint(0, 15, (3, 5), generator=g)
    size = torch.randint(1, 10, (3, 5), generator=g)
    got = patch_colours(ab, top, left, size, "mean", 2.0)
    for b in range(3):
        for k in range(5):
            t, l, s = int(top[b, k]), int(left[b, k]), int(size[b, k])
            want = ab[b, :, t:t + s, l:l + s].mean((1, 2))
            assert torch.allclose(got[b, k], want, atol=1e-5)


def test_gaussian_colour_of_a_flat_image_is_its_colour():
    ab = torch.tensor([0.3, -0.6]).view(1, 2, 1, 1).expand(2, 2, 16, 16).contiguous()
    hints = HintSampler(colour="gaussian", p=0.2, reveal_p=0.0)(ab, generator=torch.Generator().manual_seed(0))
    m = hints[:, 2] > 0
    assert m.any()
    assert torch.allclose(hints[:, 0][m], torch.tensor(0.3)) and torch.allclose(hints[:, 1][m], torch.tensor(-0.6))


def test_hint_counts_are_geometric_with_the_given_p():
    for p in (1 / 8, 0.1):
        n = HintSampler(p=p, max_hints=10_000).sample_counts(40_000, torch.Generator().manual_seed(0)).float()
        assert abs(n.mean().item() - (1 - p) / p) < 0.15 * (1 - p) / p / 3
        assert abs((n == 0).float().mean().item() - p) < 0.01  # P(0 hints) = p
    assert HintSampler(max_hints=3).sample_counts(1000, torch.Generator().manual_seed(0)).max() <= 3


def test_sampler_hints_sit_near_the_centre_and_carry_true_colours():
    g = torch.Generator().manual_seed(0)
    ab = torch.rand(256, 2, 32, 32, generator=g) * 2 - 1
    hints = HintSampler(reveal_p=0.0, min_size=1, max_size=1)(ab, generator=g)
    mask = hints[:, 2].bool()
    assert hints.shape == (256, 3, 32, 32)
    m2 = mask[:, None].expand(-1, 2, -1, -1)
    assert torch.allclose(hints[:, :2][m2], ab[m2], atol=1e-5)
    density = mask.float().mean(0)
    assert density[8:24, 8:24].mean() > 3 * density[:4, :4].mean()  # Normal(centre, size/4)
    assert (hints[:, :2][~mask[:, None].expand(-1, 2, -1, -1)] == 0).all()


def test_reveal_probability_one_gives_the_whole_image():
    ab = torch.rand(4, 2, 8, 8) - 0.5
    hints = HintSampler(reveal_p=1.0)(ab)
    assert (hints[:, 2] == 1).all() and torch.allclose(hints[:, :2], ab)


@pytest.mark.parametrize("kw", [dict(p=0), dict(p=1.5), dict(min_size=0), dict(min_size=5, max_size=3),
                                dict(colour="median"), dict(reveal_p=2)])
def test_sampler_rejects_bad_settings(kw):
    with pytest.raises(ColorlabError):
        HintSampler(**kw)


def test_sampler_rejects_bad_input():
    with pytest.raises(ColorlabError, match="normalised ab"):
        HintSampler()(torch.zeros(2, 3, 8, 8))


def test_random_hints_count_and_colours():
    ab = torch.rand(2, 2, 16, 16) - 0.5
    h = random_hints(ab, 5, generator=torch.Generator().manual_seed(0))
    assert 1 <= h[:, 2].sum((1, 2)).min() and h[:, 2].sum((1, 2)).max() <= 5
    m = h[:, 2].bool()[:, None].expand(-1, 2, -1, -1)
    assert torch.allclose(h[:, :2][m], ab[m], atol=1e-5)


class _FakeLearn:
    def __init__(self, L, ab, training=True):
        self.xb, self.yb, self.training = (L,), (ab,), training


def test_hint_callback_adds_three_channels_from_the_target():
    cb = HintCallback(HintSampler(reveal_p=1.0))
    learn = _FakeLearn(torch.zeros(2, 1, 8, 8), torch.full((2, 2, 8, 8), 0.25))
    cb.learn = learn
    cb.before_batch()
    x, = learn.xb
    assert x.shape == (2, 4, 8, 8)
    assert torch.allclose(x[:, 1:3], torch.full((2, 2, 8, 8), 0.25)) and (x[:, 3] == 1).all()


class _OracleHintModel(nn.Module):
    """Predicts the hint colour where there is a hint and gray elsewhere: PSNR must grow with hints."""

    in_channels, head = 4, "regression"

    def forward(self, x):
        return x[:, 1:3] * x[:, 3:4]


def test_hints_vs_psnr_table_rises_with_hints(small_photos):
    photos = np.stack([p[:32, :32] for p in small_photos[:6]])
    table = hints_vs_psnr(_OracleHintModel(), photos, counts=(0, 5, 50, 400), size=2, device="cpu", progress=False)
    assert list(table["hints"]) == [0, 5, 50, 400] and (table["n"] == 6).all()
    assert np.all(np.diff(table["psnr"].to_numpy()) > 0)


def test_hints_vs_psnr_needs_a_hint_model():
    from colorlab.models import create
    with pytest.raises(ColorlabError, match="in_channels=4"):
        hints_vs_psnr(create("unet", base=4, depth=2), np.zeros((1, 8, 8, 3), np.uint8), device="cpu")


def test_train_hint_model_through_the_fastai_path(prepared_sample, tmp_path):
    res = train_hint_model(prepared_sample, model_kwargs=dict(base=8, depth=2), epochs=2, bs=16, device="cpu",
                           progress=False, out_dir=tmp_path / "run")
    assert res.model.in_channels == 4 and res.model.config["in_channels"] == 4
    assert len(res.history) == 2 and res.history[1]["train_loss"] < res.history[0]["train_loss"]
    assert (tmp_path / "run" / "checkpoint.pt").is_file()
    with pytest.raises(ColorlabError, match="gallery"):
        train_hint_model(prepared_sample, epochs=1, gallery_every=1)


# ------------------------------------------------------------------ palette suggestions and post-processing
def test_palette_finds_the_five_colours_of_a_block_image():
    from colorlab.profiles.palette import suggest_palette
    colours = np.array([[200, 30, 30], [30, 160, 40], [20, 40, 200], [240, 220, 40], [250, 250, 250]], np.uint8)
    widths = [40, 25, 15, 12, 8]  # columns of each colour → its share of the image
    img = np.concatenate([np.broadcast_to(c, (20, w, 3)) for c, w in zip(colours, widths)], 1)
    pal = suggest_palette(img, n_colors=5)
    assert pal.rgb.shape == (5, 3) and pal.hex[0].startswith("#")
    assert np.allclose(pal.fractions, np.array(widths) / 100, atol=1e-6)
    assert np.abs(pal.rgb.astype(int) - colours.astype(int)).max() <= 2  # sorted by share, colours recovered
    with pytest.raises(ColorlabError, match="RGB"):
        suggest_palette(np.zeros((4, 4), np.uint8))


def test_gamma_lut_and_boosts():
    from colorlab.inference.postprocess import apply_gamma, boost, enhance, gamma_lut
    lut = gamma_lut(2.0)
    assert lut.dtype == torch.uint8 and lut[0] == 0 and lut[255] == 255
    assert lut[64] == round(255 * (64 / 255) ** 0.5) and torch.all(lut[1:] >= lut[:-1])
    img = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    assert np.array_equal(apply_gamma(img, 2.0), lut.numpy()[img])
    assert np.array_equal(boost(img), img) and np.array_equal(enhance(img), img)
    chroma = lambda x: np.ptp(x.astype(int), axis=2).mean()  # noqa: E731 - spread of R, G, B
    assert chroma(boost(img, saturation=1.5)) > chroma(img) + 3
    assert boost(img, lightness=1.2).astype(int).sum() > img.astype(int).sum()
    t = torch.from_numpy(img).permute(2, 0, 1)
    assert torch.equal(boost(t, lightness=1.2), torch.from_numpy(boost(img, lightness=1.2)).permute(2, 0, 1))
    for bad in (lambda: gamma_lut(0), lambda: boost(img, saturation=-1), lambda: apply_gamma(img.astype(float), 2)):
        with pytest.raises(ColorlabError):
            bad()


def test_sampler_with_a_fixed_count_gives_exactly_that_many_hints():
    ab = torch.rand(5, 2, 32, 32) * 0.4 - 0.2
    sampler = HintSampler(min_size=1, max_size=1, reveal_p=1.0)
    hints = sampler(ab, generator=torch.Generator().manual_seed(0), n=7)
    per_image = hints[:, 2].flatten(1).sum(1)
    assert (per_image <= 7).all() and (per_image >= 4).all()   # 7 single pixels (a few may coincide), never revealed
    assert sampler(ab, n=0)[:, 2].sum() == 0


def test_hints_vs_psnr_groups_on_scenes(tmp_path):
    from colorlab.data import prepare

    data = prepare("scenes", split="val", size=32, n=8, seed=0, cache_dir=tmp_path, progress=False)
    table = hints_vs_psnr(_OracleHintModel(), data, counts=(0, 50), sampler=HintSampler(), device="cpu",
                          progress=False)
    assert {"psnr [multimodal]", "psnr [unimodal]", "psnr [rare]", "psnr [profile]"} <= set(table.columns)
    fruit = table.set_index("hints")["psnr [multimodal]"]
    assert fruit[50] > fruit[0]


def test_sampling_and_painting_hints_never_read_values_back():
    """No int(n.max()), no reveal.any(), no boolean-mask index: nothing a GPU would have to stop for."""
    from host_syncs import count_host_syncs
    ab = torch.rand(6, 2, 16, 16) * 2 - 1
    gen = torch.Generator().manual_seed(0)
    samplers = [HintSampler(reveal_p=0.5), HintSampler(colour="gaussian", reveal_p=0.0)]
    for s in samplers:
        s(ab, generator=gen)  # warm: one-time set-up outside the count
    with count_host_syncs() as counts:
        for s in samplers:
            out = s(ab, generator=gen)
            s(ab, generator=gen, n=10)
        random_hints(ab, 10, size=2, generator=gen)
    assert not counts, dict(counts)
    assert out.shape == (6, 3, 16, 16)


def test_sampler_still_reveals_whole_images_and_respects_counts():
    ab = torch.rand(64, 2, 8, 8) * 2 - 1
    gen = torch.Generator().manual_seed(0)
    out = HintSampler(reveal_p=1.0)(ab, generator=gen)
    assert torch.equal(out[:, :2], ab) and (out[:, 2] == 1).all()
    n = HintSampler(p=0.5, max_hints=3, min_size=1, max_size=1, reveal_p=0.0)(ab, generator=gen)[:, 2]
    assert n.flatten(1).sum(1).max() <= 3 and n.sum() > 0


def test_hints_vs_psnr_holds_one_batch_on_the_device_at_a_time(small_photos, monkeypatch):
    import colorlab.evaluation.hints as ev
    read = []
    real = ev.iter_batches

    def counting(*a, **k):
        for b in real(*a, **k):
            read.append(len(b))
            yield b

    seen = []

    class Model(_OracleHintModel):
        def forward(self, x):
            seen.append(len(read))
            return super().forward(x)

    monkeypatch.setattr(ev, "iter_batches", counting)
    photos = np.stack([p[:16, :16] for p in small_photos[:6]])
    hints_vs_psnr(Model(), photos, counts=(0, 5), batch_size=2, device="cpu", progress=False)
    assert len(read) == 3 and seen[0] == 1, f"batches read before the first prediction: {seen[0]}"
