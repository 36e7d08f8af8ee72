"""evaluate(): the side-by-side table, its baselines, and consistency with the metrics."""
import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn

from colorlab.evaluation import metrics
from colorlab.core.color import AB_SCALE, rgb_to_lab
from colorlab.core.errors import ColorlabError
from colorlab.evaluation.evaluate import COLUMNS, GRAY, MEAN_AB, evaluate, mean_ab
from colorlab.models import create


class ConstantAB(nn.Module):
    """A stand-in colorizer that paints every pixel one ab colour (Lab units)."""

    head, in_channels = "regression", 1

    def __init__(self, ab):
        super().__init__()
        self.register_buffer("ab", torch.as_tensor(ab, dtype=torch.float32).reshape(1, 2, 1, 1))

    def forward(self, x):
        return (self.ab / AB_SCALE).expand(x.shape[0], 2, *x.shape[-2:])


class Prepared:
    """The bit of colorlab.data.Prepared that evaluate reads."""

    def __init__(self, images):
        self.images = images


def solid(colours, size=16):
    """uint8 (N, size, size, 3) images, each one solid colour."""
    return np.stack([np.broadcast_to(np.array(c, np.uint8), (size, size, 3)) for c in colours]).copy()


def lab_of(rgb):
    return rgb_to_lab(torch.tensor(rgb, dtype=torch.uint8).reshape(1, 3, 1, 1)).flatten()


@pytest.fixture(scope="module")
def photos():
    from skimage import data
    img = data.astronaut()[::4, ::4]  # 128x128
    return np.stack([img[i:i + 32, j:j + 32] for i in (0, 48, 96) for j in (0, 64)])


def test_table_layout_and_baselines(photos):
    ds = Prepared(photos)
    torch.manual_seed(0)
    df = evaluate({"unet": create("unet", base=4, depth=3)}, ds, device="cpu", batch_size=4, progress=False)
    assert isinstance(df, pd.DataFrame)
    assert list(df.index) == ["unet", GRAY, MEAN_AB] and list(df.columns) == COLUMNS
    assert df.attrs["notes"]["images"] == len(photos)
    # the baselines are exactly what a model painting zeros / the mean colour would score
    mean = mean_ab(ds, device="cpu")
    same = evaluate({"zero": ConstantAB([0, 0]), "mean": ConstantAB(mean)}, ds, device="cpu", progress=False)
    pd.testing.assert_series_equal(same.loc["zero"], same.loc[GRAY], check_names=False)
    pd.testing.assert_series_equal(same.loc["mean"], same.loc[MEAN_AB], check_names=False, atol=1e-5)
    pd.testing.assert_frame_equal(df.loc[[GRAY, MEAN_AB]], same.loc[[GRAY, MEAN_AB]], atol=1e-5)
    # no prior, no lpips/fid on this machine → NaN with a reason
    assert df["AuC rebalanced"].isna().all() and "unavailable" in df.attrs["notes"]["AuC rebalanced"]
    for col, (ok, why) in (("LPIPS", metrics.lpips_available()), ("FID", metrics.fid_available())):
        if not ok:
            assert df[col].isna().all() and df.attrs["notes"][col] == why


def test_hand_computed_values_on_solid_colours():
    red = (200, 40, 40)
    ds = Prepared(solid([red, red]))
    ab = lab_of(red)[1:]
    df = evaluate({"oracle": ConstantAB(ab)}, ds, device="cpu", progress=False)
    oracle, gray = df.loc["oracle"], df.loc[GRAY]
    assert oracle["AuC"] == pytest.approx(1.0, abs=1e-6)
    assert oracle["CIEDE2000"] < 1e-3 and oracle["PSNR (dB)"] > 40 and oracle["SSIM"] > 0.999
    # gray: every pixel's ab error is |ab| → AuC = 1 − |ab|/150; colourfulness gap = −CF(red)
    assert gray["AuC"] == pytest.approx(1 - float(ab.norm()) / 150, abs=1e-5)
    r, g, b = red
    cf_red = 0.3 * math.hypot(r - g, (r + g) / 2 - b)  # a solid image has σ = 0
    assert gray["colourfulness gap"] == pytest.approx(-cf_red, abs=0.05)
    assert oracle["colourfulness gap"] == pytest.approx(0.0, abs=0.05)
    # mean ab of the evaluation set is the oracle here
    assert df.loc[MEAN_AB, "AuC"] == pytest.approx(1.0, abs=1e-6)


def test_mean_ab_baseline_uses_train_set_when_given():
    red, blue = (200, 40, 40), (40, 40, 200)
    df = evaluate({}, Prepared(solid([red])), train=Prepared(solid([blue, blue])), device="cpu", progress=False)
    err = float((lab_of(red)[1:] - lab_of(blue)[1:]).norm())
    assert df.loc[MEAN_AB, "AuC"] == pytest.approx(max(0.0, 1 - err / 150), abs=1e-5)
    assert "train" in df.attrs["notes"][MEAN_AB]


def test_rebalanced_auc_with_a_prior(photos):
    class FakePrior:  # bins by the sign of a; rare bin (a < 0) weighs 9x
        weights = torch.tensor([1.0, 9.0])

        def bin_index(self, ab):
            return (ab[:, 0] < 0).long()

    ds = Prepared(photos)
    plain = evaluate({}, ds, device="cpu", progress=False)
    df = evaluate({}, ds, prior=FakePrior(), device="cpu", progress=False)
    assert df["AuC rebalanced"].notna().all()
    pd.testing.assert_series_equal(df["AuC"], plain["AuC"])
    # hand-check one image: weighted mean of max(0, 1 − |ab|/150) for the gray baseline
    lab = rgb_to_lab(torch.from_numpy(photos).permute(0, 3, 1, 2))
    ab = lab[:, 1:]
    score = (1 - ab.norm(dim=1) / 150).clamp_min(0)
    w = torch.where(ab[:, 0] < 0, 9.0, 1.0)
    expected = ((w * score).flatten(1).sum(1) / w.flatten(1).sum(1)).mean()
    assert df.loc[GRAY, "AuC rebalanced"] == pytest.approx(float(expected), abs=1e-5)

    class UniformPrior(FakePrior):
        weights = torch.tensor([2.0, 2.0])
    uniform = evaluate({}, ds, prior=UniformPrior(), device="cpu", progress=False)
    np.testing.assert_allclose(uniform["AuC rebalanced"], uniform["AuC"], atol=1e-6)


def test_rebalanced_auc_with_the_kits_abprior(photos):
    from colorlab.rarity.weights import rarity_weights
    from colorlab.rarity.prior import ABPrior

    ab = rgb_to_lab(torch.from_numpy(photos).permute(0, 3, 1, 2))[:, 1:]
    probe = ABPrior.from_counts(torch.ones(313, dtype=torch.int64))
    prior = ABPrior.from_counts(torch.bincount(probe.bin_index(ab).flatten(), minlength=313))
    df = evaluate({}, Prepared(photos), prior=prior, device="cpu", progress=False)
    # Zhang et al.'s rebalanced AuC: each pixel weighs 1 / p̃ of its true bin (λ = 0), not the training weights
    w = (1.0 / prior.p)[prior.bin_index(ab)]
    expected = metrics.auc_ab(torch.zeros_like(ab), ab, pixel_weights=w).mean()
    assert df.loc[GRAY, "AuC rebalanced"] == pytest.approx(float(expected), abs=1e-5)
    training_weights = rarity_weights(prior)[prior.bin_index(ab)]
    other = metrics.auc_ab(torch.zeros_like(ab), ab, pixel_weights=training_weights).mean()
    assert abs(float(other) - float(expected)) > 1e-4  # the λ = 0.5 weights would give another number
    with pytest.raises(ColorlabError, match="313"):
        evaluate({}, Prepared(photos), prior=ABPrior.from_counts(torch.ones(256, dtype=torch.int64), grid="regular16"),
                 device="cpu", progress=False)
    # rare colours are the saturated ones, which gray gets most wrong → rebalancing lowers its AuC
    assert df.loc[GRAY, "AuC rebalanced"] < df.loc[GRAY, "AuC"]


def test_accepts_tensor_and_hint_and_classification_models(photos):
    torch.manual_seed(0)
    models = {"hints": create("unet", base=4, depth=3, in_channels=4),
              "cls": create("plain_cnn", base=4, head="classification", n_bins=3)}
    centers = torch.tensor([[0.0, 0.0], [20.0, 10.0], [-15.0, 30.0]])
    a = evaluate(models, Prepared(photos), device="cpu", bin_centers=centers, progress=False, max_images=4)
    b = evaluate(models, torch.from_numpy(photos).permute(0, 3, 1, 2).contiguous(), device="cpu",
                 bin_centers=centers, batch_size=3, progress=False, max_images=4)
    assert a.attrs["notes"]["images"] == 4
    pd.testing.assert_frame_equal(a, b, atol=1e-5, rtol=1e-5)


def test_bad_inputs_are_clear_errors(photos):
    with pytest.raises(ColorlabError, match="reserved"):
        evaluate({GRAY: ConstantAB([0, 0])}, Prepared(photos), device="cpu", progress=False)
    with pytest.raises(ColorlabError, match="uint8"):
        evaluate({}, torch.rand(2, 3, 16, 16), device="cpu", progress=False)
    with pytest.raises(ColorlabError, match="multiples of 8"):
        evaluate({"p": create("plain_cnn", base=4)}, Prepared(photos[:, :30, :30].copy()), device="cpu",
                 progress=False)


def test_evaluation_reads_its_sums_from_the_device_once_not_per_batch():
    """Metrics accumulate on the device: evaluating 3× as many batches reads values back no more often
    (before: one .item() per metric × model × batch, and per group a boolean-mask index)."""
    from host_syncs import count_host_syncs
    from colorlab.data.scenes import scene_groups  # noqa: F401  (imported before counting)
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 255, (6, 16, 16, 3), dtype=np.uint8)
    models = {"a": ConstantAB((20.0, -10.0)), "b": ConstantAB((-5.0, 30.0))}
    groups = {"left": np.tile(np.arange(16) < 8, (6, 16, 1))}
    evaluate(models, imgs[:2], device="cpu", batch_size=2, progress=False, groups=groups)  # warm: lazy imports
    reads = []
    for n in (2, 6):
        with count_host_syncs() as counts:
            evaluate(models, imgs[:n], device="cpu", batch_size=2, progress=False, groups=groups)
        reads.append(dict(counts))
    assert reads[0] == reads[1], f"host reads grow with the number of batches: {reads}"
    assert sum(reads[1].values()) <= 4, reads[1]
