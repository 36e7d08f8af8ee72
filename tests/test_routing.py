"""Per-group priors, per-group colorizers, routing, and the wrong-profile table."""
import numpy as np
import pytest
import torch

from colorlab.core.color import rgb_to_lab
from colorlab.core.errors import ColorlabError
from colorlab.models import create
from colorlab.evaluation.routing import cross_group_table
from colorlab.models.routed import RoutedColorizer
from colorlab.rarity.prior import ab_prior
from colorlab.training.routing import group_priors, prior_shift, train_per_group


@pytest.fixture(scope="module")
def warm_groups(prepared_sample):
    """Label 1 for the patches whose mean b (yellow-blue) is above the median: a skewed profile."""
    rgb = torch.from_numpy(np.array(prepared_sample.images)).permute(0, 3, 1, 2)
    mean_b = rgb_to_lab(rgb)[:, 2].mean((1, 2)).numpy()
    return (mean_b > np.median(mean_b)).astype(np.int64)


def test_group_priors_partition_the_global_counts_and_differ(prepared_sample, warm_groups):
    glob = ab_prior(prepared_sample, device="cpu")
    cold, warm = group_priors(prepared_sample, warm_groups, device="cpu")
    assert torch.equal(cold.counts + warm.counts, glob.counts)
    shift_warm, shift_cold = prior_shift(warm, glob), prior_shift(cold, glob)
    assert shift_warm["mean_b"] > 2.0 and shift_cold["mean_b"] < -2.0
    assert shift_warm["tv"] > 0.1
    assert not torch.allclose(warm.weights(), glob.weights())  # its own rarity weights
    assert prior_shift(glob, glob)["tv"] == pytest.approx(0.0)


def test_group_priors_reject_empty_groups(prepared_sample):
    labels = np.zeros(len(prepared_sample.images), dtype=np.int64)
    labels[0] = 2  # group 1 is empty
    with pytest.raises(ColorlabError, match="group 1 has no images"):
        group_priors(prepared_sample, labels, device="cpu")


def test_train_per_group_uses_each_groups_prior(prepared_sample, warm_groups, tmp_path):
    out = train_per_group(prepared_sample.images[:32], warm_groups[:32], loss="rarity", grid="regular16", out_dir=tmp_path,
                          model_kwargs={"base": 8, "depth": 2}, epochs=1, bs=16, device="cpu", progress=False)
    assert len(out["models"]) == 2 and (tmp_path / "group_1" / "checkpoint.pt").exists()
    own = out["priors"]
    assert not torch.equal(own[0].counts, own[1].counts)
    assert torch.equal(own[0].counts + own[1].counts, out["global_prior"].counts)


def test_train_per_group_with_one_global_prior(prepared_sample, warm_groups, monkeypatch):
    import colorlab.training.routing
    seen = []

    def fake_train(images, valid, prior=None, **kw):  # records what each group's training gets
        seen.append((len(images), prior))
        return type("R", (), {"model": create("unet", base=4, depth=2)})()

    monkeypatch.setattr(colorlab.training.routing, "train_colorizer", fake_train)
    shared = train_per_group(prepared_sample, warm_groups, loss="rarity", grid="regular16", per_group_prior=False,
                             progress=False)
    assert [n for n, _ in seen] == np.bincount(warm_groups).tolist()
    assert seen[0][1] is seen[1][1] is shared["global_prior"]


def test_routed_colorizer_sends_each_photo_to_its_groups_model():
    torch.manual_seed(0)
    a, b = create("unet", base=4, depth=2).eval(), create("unet", base=4, depth=2).eval()
    L = torch.rand(5, 1, 8, 8) * 2 - 1
    routed = RoutedColorizer([a, b])
    routed.route = torch.tensor([0, 1, 1, 0, 1])
    with torch.no_grad():
        out = routed(L)
        assert torch.allclose(out[[0, 3]], a(L[[0, 3]])) and torch.allclose(out[[1, 2, 4]], b(L[[1, 2, 4]]))

    class Router(torch.nn.Module):  # predicts group 1 for bright photos
        def forward(self, L):
            return torch.stack([-L.mean((1, 2, 3)), L.mean((1, 2, 3))], 1)

    routed = RoutedColorizer([a, b], router=Router())
    with torch.no_grad():
        routed(L)
    assert torch.equal(routed.last_route, (L.mean((1, 2, 3)) > 0).long())
    with pytest.raises(ColorlabError, match="no router"):
        RoutedColorizer([a, b])(L)


def test_cross_group_table_has_the_oracle_on_its_diagonal():
    """Two groups of flat photos, red and blue; each group's model paints exactly its group's colour. The
    diagonal (the right model) must be near-perfect and every off-diagonal cell (the wrong one) far worse."""
    from colorlab.core.color import rgb_to_lab
    colours = {"red": (200, 40, 40), "blue": (30, 60, 160)}
    labels = np.array([0, 1, 1, 0, 1, 0])
    imgs = np.stack([np.broadcast_to(np.array(list(colours.values())[g], np.uint8), (16, 16, 3)) for g in labels])
    ab = {n: rgb_to_lab(torch.tensor(c, dtype=torch.float32).view(1, 3, 1, 1) / 255)[0, 1:, 0, 0].tolist()
          for n, c in colours.items()}
    models = [_ConstantAB(ab["red"]), _ConstantAB(ab["blue"])]
    names = ["red", "blue"]
    for metric, good, margin in (("PSNR (dB)", 40.0, 20.0), ("AuC", 0.99, 0.3)):
        table = cross_group_table(models, imgs, labels, metric=metric, names=names, device="cpu")
        assert table.shape == (2, 2) and list(table.index) == ["photos red", "photos blue"]
        assert list(table.columns) == ["model red", "model blue"]
        m = table.to_numpy()
        assert m[0, 0] > good and m[1, 1] > good, table
        assert m[0, 0] > m[0, 1] + margin and m[1, 1] > m[1, 0] + margin, table
    with pytest.raises(ColorlabError, match="unknown metric"):
        cross_group_table(models, imgs, labels, metric="accuracy")


class _ConstantAB(torch.nn.Module):
    """A colorizer painting every pixel one ab colour (normalised), whatever L."""
    head, in_channels, stride = "regression", 1, 1

    def __init__(self, ab):
        super().__init__()
        self.register_buffer("ab", torch.tensor(ab, dtype=torch.float32).view(1, 2, 1, 1) / 110.0)

    def forward(self, L):
        return self.ab.expand(L.shape[0], 2, *L.shape[-2:]).clone()


def test_routing_experiment_reads_single_routed_oracle_and_wrong_from_one_pass():
    from colorlab.evaluation.routing import routing_experiment
    # two flat "profiles": ab (40, 0) and (-40, 0); their colorizers paint exactly that; one model paints gray
    lab = np.zeros((6, 8, 8, 3), dtype=np.float32)
    lab[..., 0] = 50.0
    truth = np.array([0, 1, 0, 1, 1, 0])
    lab[..., 1] = np.where(truth == 0, 40.0, -40.0)[:, None, None]
    data = type("D", (), {"lab": lab, "images": np.zeros((6, 8, 8, 3), np.uint8)})()

    class Router(torch.nn.Module):  # always says profile 0: right on half the photos
        def forward(self, L):
            return torch.tensor([[1.0, 0.0]]).expand(L.shape[0], 2)

    res = routing_experiment(_ConstantAB([0, 0]), [_ConstantAB([40, 0]), _ConstantAB([-40, 0])], data, truth,
                             router=Router(), device="cpu")
    m = res.metrics
    assert m["auc_oracle"] == pytest.approx(1.0)
    assert m["auc_single"] == pytest.approx(1 - 40 / 150)
    assert m["auc_wrong_profile"] == pytest.approx(1 - 80 / 150)
    assert m["auc_routed"] == pytest.approx((1.0 + 1 - 80 / 150) / 2)
    assert m["routing_accuracy"] == pytest.approx(0.5)
    table = res.table()
    assert table.shape == (2, 3) and table.iloc[0, 0] == pytest.approx(1.0)


def test_same_steps_gives_each_group_the_one_models_optimizer_steps():
    from colorlab.training.routing import _steps_per_epoch
    assert _steps_per_epoch(256, 32, True) == 7        # 230 after holding out 26, last partial batch dropped
    assert _steps_per_epoch(64, 32, True) == 1
    assert _steps_per_epoch(64, 32, False) == 2
    assert _steps_per_epoch(10, 32, True) == 1         # a group smaller than one batch still trains
