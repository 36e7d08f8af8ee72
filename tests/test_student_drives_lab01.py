"""Lab 01's experiment runs on the student's code (issue #21): the round trip goes through their
``my_rgb_to_lab``, the gray guess is built from their ``my_split_batch`` — so a different function
changes what the lab measures, and the kit's own function gives the default numbers."""
from __future__ import annotations

import numpy as np
import pytest

from colorlab.core.color import rgb_to_lab
from colorlab.evaluation.baselines import gray_guess, lab_roundtrip, split_images

IMAGES = np.random.default_rng(0).integers(0, 256, (3, 8, 9, 3), dtype=np.uint8)


def test_the_round_trip_runs_on_the_students_conversion():
    default = lab_roundtrip(IMAGES)
    assert lab_roundtrip(IMAGES, to_lab=lambda rgb: rgb_to_lab(rgb)) == default
    assert default["max_error"] < 1e-4 and default["max_lab_difference"] == 0.0

    def lighter(rgb):  # a conversion whose L is 5 too high
        lab = rgb_to_lab(rgb)
        lab[:, 0] += 5
        return lab

    other = lab_roundtrip(IMAGES, to_lab=lighter)
    assert other["max_error"] > 1e-2
    assert other["max_lab_difference"] == pytest.approx(5.0, abs=1e-3)


def test_the_gray_guess_is_built_from_the_students_split():
    default = gray_guess(IMAGES)
    kit = gray_guess(IMAGES, split=lambda images: split_images(images))
    assert (kit.psnr, kit.ab_std) == (default.psnr, default.ab_std)

    def l_over_100(images):  # L/100 instead of L/50 − 1, ab/128 instead of ab/110
        L, ab = split_images(images)
        return (L + 1) / 2, ab * 110 / 128

    other = gray_guess(IMAGES, split=l_over_100)
    assert abs(other.psnr - default.psnr) > 1.0
    assert other.ab_std == pytest.approx(default.ab_std * 110 / 128, rel=1e-4)
