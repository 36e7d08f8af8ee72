"""colorlab.evaluation.bias (training sets that differ in one group's share, per-group gaps) and
colorlab.evaluation.energy (RAPL when readable, else CPU time × a stated power) on small planted inputs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from colorlab.core.errors import ColorlabError
from colorlab.evaluation import energy
from colorlab.evaluation.bias import gap, images_with, mode_groups, one_or_other, with_share
from colorlab.evaluation.energy import EnergyMeter, rapl_joules, reported_estimates

FRUIT = 4


class FakeScenes:
    """Ten 4 × 4 'scenes': images 0–3 hold red fruit only (mode 1), 4–6 teal only (mode 2), 7 both, 8–9 none."""

    def __init__(self):
        n = 10
        self.images = np.arange(n * 48, dtype=np.int64).reshape(n, 4, 4, 3).astype(np.uint8)
        self.lab = np.random.default_rng(0).normal(size=(n, 4, 4, 3)).astype(np.float32)
        self.class_map = np.zeros((n, 4, 4), np.uint8)
        self.mode_map = np.zeros((n, 4, 4), np.uint8)
        self.labels = np.arange(n)
        for i, modes in enumerate([[1]] * 4 + [[2]] * 3 + [[1, 2]]):
            for k, m in enumerate(modes):
                self.class_map[i, k, :2] = FRUIT
                self.mode_map[i, k, :2] = m


def test_images_with_and_one_or_other():
    d = FakeScenes()
    assert images_with(d, FRUIT).tolist() == [True] * 8 + [False] * 2
    assert images_with(d, FRUIT, mode=2).tolist() == [False] * 4 + [True] * 4 + [False] * 2
    assert images_with(d, FRUIT, mode=1, min_pixels=3).sum() == 0  # 2 fruit pixels per image
    assert one_or_other(d, FRUIT, (1, 2)).tolist() == [1, 1, 1, 1, 0, 0, 0, -1, -1, -1]
    with pytest.raises(ColorlabError, match="per-pixel classes"):
        images_with(np.zeros((2, 4, 4, 3), np.uint8), FRUIT)


def test_with_share_draws_exact_counts_and_never_the_excluded():
    d = FakeScenes()
    has = one_or_other(d, FRUIT, (1, 2))
    for share, n, reds in [(0.25, 4, 1), (0.5, 6, 3), (1.0, 4, 4), (0.0, 3, 0)]:
        sub = with_share(d, has, share, n, seed=1)
        assert len(sub) == n and (has[sub.indices] == 1).sum() == reds and (has[sub.indices] >= 0).all()
        np.testing.assert_array_equal(sub.lab, d.lab[sub.indices])          # the exact Lab travels with it
        np.testing.assert_array_equal(sub.mode_map, d.mode_map[sub.indices])
    assert with_share(d, has, 0.5, 6, seed=1).indices.tolist() == with_share(d, has, 0.5, 6, seed=1).indices.tolist()
    with pytest.raises(ColorlabError, match="larger pool"):
        with_share(d, has, 0.5, 10)   # 5 red-only images wanted, the pool has 4
    with pytest.raises(ColorlabError, match="share must be"):
        with_share(d, has, 1.5, 4)


def test_mode_groups_select_one_colour_mode_of_one_class():
    d = FakeScenes()
    groups = mode_groups(FRUIT, {1: "red", 2: "teal"})
    cm, mm = torch.from_numpy(d.class_map), torch.from_numpy(d.mode_map)
    red, teal = groups["red"](cm, mm), groups["teal"](cm, mm)
    assert int(red.sum()) == 2 * 5 and int(teal.sum()) == 2 * 4 and not (red & teal).any()


def test_gap_is_better_minus_worse():
    t = pd.DataFrame({"AuC [a]": [0.9, 0.5], "AuC [b]": [0.6, 0.7]}, index=[0.1, 0.9])
    assert gap(t, "AuC", "a", "b").round(6).tolist() == [0.3, -0.2]


def test_energy_meter_reads_rapl_when_it_can(tmp_path):
    for name, uj in [("intel-rapl:0", 5_000_000), ("intel-rapl:0:0", 1_000_000), ("intel-rapl:1", 2_000_000)]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "energy_uj").write_text(str(uj))
    assert rapl_joules(tmp_path) == pytest.approx(7.0)   # packages only: the sub-domain is inside package 0
    with EnergyMeter(rapl_root=tmp_path) as m:
        (tmp_path / "intel-rapl:0" / "energy_uj").write_text(str(5_000_000 + 3_500_000))
    assert m.joules == pytest.approx(3.5) and m.method.startswith("RAPL")


def test_energy_meter_falls_back_to_cpu_time_times_a_stated_power(tmp_path):
    with EnergyMeter(watts_per_core=12.0, rapl_root=tmp_path / "none") as m:
        x = torch.randn(256, 256)
        for _ in range(20):
            x = torch.tanh(x @ x / 256)
    assert m.cpu_seconds > 0 and m.joules == pytest.approx(12.0 * m.cpu_seconds)
    assert "12 W per busy core" in m.method and "not readable" in m.method
    assert m.kwh == pytest.approx(m.joules / 3.6e6)


def test_reported_runs_are_hours_times_watts():
    rows = {r["report"].split(",")[0]: r for r in reported_estimates()}
    assert rows["Pandey"]["kwh"] == pytest.approx(0.6)            # 8 h × 75 W
    assert rows["Benabla"]["kwh"] == pytest.approx(19 * 0.25)
    assert rows["Benabla"]["image_passes"] == 228_000              # 800·8·20 + 250·20·20
    assert all(r["watts_source"] for r in rows.values())
    assert energy.estimate_kwh(2.0, 500.0) == pytest.approx(1.0)
