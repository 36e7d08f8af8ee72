"""The losses as the reports define them (#22): Robles & Budach's blend on 64 × 64 bins in both readings of
their a/b weights, Lin & Ferreira's rarity-weighted MSE as a named loss, Zhang's weighted cross-entropy on
313 bins; the command line trains the blend on 64 × 64 bins and ``--loss ce`` with a classification head."""
from __future__ import annotations

import json

import pytest
import torch

from colorlab.cli import build_parser, main
from colorlab.core.errors import ColorlabError
from colorlab.rarity.losses import (BlendedLoss, LinFerreiraMSE, RebalancedCrossEntropy, make_loss, prior_grid)
from colorlab.rarity.prior import ABPrior
from colorlab.rarity.robles_budach import robles_budach_weights


def _prior(n: int = 64, seed: int = 0) -> ABPrior:
    g = torch.Generator().manual_seed(seed)
    counts = torch.randint(0, 50, (n * n,), generator=g) * (torch.rand(n * n, generator=g) < 0.3)
    counts[0] += 1
    return ABPrior.from_counts(counts, grid=f"regular{n}", sigma=0.0)  # the report: an unsmoothed histogram


def test_joint_reading_is_one_over_sqrt_of_the_joint_histogram():
    prior = _prior()
    p = prior.p.double() / prior.p.double().sum()
    w = robles_budach_weights(prior, "joint", normalise="sum").double()
    expected = 1 / torch.sqrt(p + 1e-7)
    assert torch.allclose(w, expected / expected.sum(), rtol=1e-5)
    assert abs(float(w.sum()) - 1) < 1e-5                 # "normalized the whole array to add up to 1"
    m = robles_budach_weights(prior, "joint", normalise="mean").double()
    assert abs(float((p * m).sum()) - 1) < 1e-5           # the kit's scale: mean pixel weight 1
    assert torch.allclose(m / m.sum(), w, rtol=1e-4)      # the two normalisations differ by a constant


@pytest.mark.parametrize("combine", ["product", "sum"])
def test_separate_reading_uses_the_a_and_b_histograms(combine):
    prior = _prior()
    plane = (prior.p.double() / prior.p.double().sum()).view(64, 64)
    w_a, w_b = 1 / torch.sqrt(plane.sum(1) + 1e-7), 1 / torch.sqrt(plane.sum(0) + 1e-7)
    expected = w_a[:, None] * w_b[None, :] if combine == "product" else w_a[:, None] + w_b[None, :]
    w = robles_budach_weights(prior, "separate", combine, normalise="sum").double().view(64, 64)
    assert torch.allclose(w, expected / expected.sum(), rtol=1e-5)
    # a cell's weight depends on its a and its b only, not on the joint count
    i, j, k, l = 3, 5, 40, 50
    if combine == "product":
        assert torch.isclose(w[i, j] * w[k, l], w[i, l] * w[k, j], rtol=1e-5)
    else:
        assert torch.isclose(w[i, j] + w[k, l], w[i, l] + w[k, j], rtol=1e-5)


def test_blended_loss_takes_the_reading_and_refuses_zhang_bins_for_it():
    prior = _prior()
    pred, target = torch.rand(2, 2, 8, 8) - 0.5, torch.rand(2, 2, 8, 8) - 0.5
    joint, sep = BlendedLoss(prior), BlendedLoss(prior, histogram="separate")
    assert joint.weighted.lookup.grid == "regular64" and sep.weighted.lookup.grid == "regular64"
    assert not torch.allclose(joint.weighted.weights, sep.weighted.weights)
    assert float(joint(pred, target)) != pytest.approx(float(sep(pred, target)))
    z313 = ABPrior.from_counts(torch.randint(1, 9, (313,)), grid="zhang313")
    with pytest.raises(ColorlabError, match="regular64"):
        BlendedLoss(z313, histogram="separate")
    with pytest.raises(ColorlabError, match="histogram"):
        BlendedLoss(prior, histogram="marginal")


def test_lin_ferreira_is_a_weighted_mse_with_their_weights():
    prior = ABPrior.from_counts(torch.randint(1, 50, (313,)), grid="zhang313")
    loss = make_loss("lin_ferreira", prior=prior, lam=0.5)
    assert isinstance(loss, LinFerreiraMSE)
    p = prior.p.double()
    v = 1 / (0.5 * p + 0.5 / 4)
    v = v / (p * v).sum()                                   # E[v] = Σ p̄·v = 1
    assert torch.allclose(loss.weights.double(), v, rtol=1e-5)
    pred, target = torch.rand(2, 2, 6, 6) - 0.5, torch.rand(2, 2, 6, 6) - 0.5
    by_hand = (loss.pixel_weights(target) * (pred - target).square().sum(1) / 2).mean()   # 1/(2hw) Σ v ‖Y − Ŷ‖²
    assert torch.isclose(loss(pred, target), by_hand)


def test_each_loss_names_its_grid():
    assert prior_grid("blend") == "regular64"
    assert prior_grid("ce") == "zhang313" and prior_grid("lin_ferreira") == "zhang313"
    assert prior_grid("mse") is None
    ce = make_loss("ce", prior=ABPrior.from_counts(torch.randint(1, 9, (313,)), grid="zhang313"))
    assert isinstance(ce, RebalancedCrossEntropy) and ce.centers.shape == (313, 2)


def test_cli_passes_model_and_loss_arguments():
    args = build_parser().parse_args(["train", "--model-arg", "base=16", "--model-arg", "skips=upper",
                                      "--loss-arg", "lam=0.5", "--loss-arg", "histogram=separate",
                                      "--schedule", "step", "--betas", "0.5", "0.9"])
    assert dict(args.model_arg) == {"base": 16, "skips": "upper"}
    assert dict(args.loss_arg) == {"lam": 0.5, "histogram": "separate"}
    assert args.schedule == "step" and args.betas == [0.5, 0.9]
    assert main(["train", "--loss", "ce", "--model-arg", "head=regression", "--out", "/tmp/x"]) == 2


def _train_cli(tmp_path, *extra):
    out = tmp_path / "run"
    rc = main(["train", "sample", "-n", "32", "--size", "16", "--epochs", "1", "--bs", "16", "--device", "cpu",
               "--out", str(out), "--model-arg", "base=8", "--model-arg", "depth=2", *extra])
    assert rc == 0
    return json.loads((out / "checkpoint.json").read_text()) if (out / "checkpoint.json").exists() else \
        torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)["config"]


def test_cli_blend_trains_on_the_64x64_grid(tmp_path):
    cfg = _train_cli(tmp_path, "--loss", "blend", "--loss-arg", "histogram=separate")
    cfg = cfg.get("config", cfg)
    assert cfg["loss"] == "blend" and cfg["prior"]["grid"] == "regular64"
    assert cfg["loss_kwargs"] == {"histogram": "separate"} and cfg["model"]["base"] == 8


def test_cli_ce_trains_a_classification_head(tmp_path):
    cfg = _train_cli(tmp_path, "--loss", "ce", "--schedule", "constant")
    cfg = cfg.get("config", cfg)
    assert cfg["loss"] == "ce" and cfg["prior"]["grid"] == "zhang313"
    assert cfg["model"]["head"] == "classification" and cfg["schedule"] == "constant"
