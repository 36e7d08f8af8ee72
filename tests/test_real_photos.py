"""Lab 12's package code: the check that a dataset copy is the published one, the rare colours of a training set,
the comparison on held-out photos, the gallery; and the fake mirror that lets the lab run offline in the suite."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from colorlab.core.color import rgb_to_lab
from colorlab.core.errors import ColorlabError
from colorlab.data import remote
from colorlab.evaluation import real_photos
from colorlab.evaluation.evaluate import GRAY, MEAN_AB
from colorlab.evaluation.real_photos import (RARE, check_copy, compare_on_photos, findings, rare_bins,
                                             rare_colour_mask, rarest_photos)
from colorlab.rarity.prior import ABPrior, ab_prior
from test_evaluate import ConstantAB  # paints every pixel one ab colour

GREEN, MAGENTA = (70, 140, 60), (210, 40, 200)


def _photos(n: int, rare_rows: int) -> np.ndarray:
    """n green 16x16 photos whose first ``rare_rows`` rows are magenta (a rare colour when few)."""
    x = np.broadcast_to(np.array(GREEN, np.uint8), (n, 16, 16, 3)).copy()
    x[:, :rare_rows] = MAGENTA
    return x


def _ab(rgb) -> list[float]:
    lab = rgb_to_lab(torch.tensor(rgb, dtype=torch.float32).reshape(1, 3, 1, 1) / 255.0)
    return lab[0, 1:, 0, 0].tolist()


def test_rare_bins_are_the_least_probable_holding_at_most_the_share():
    counts = torch.zeros(313, dtype=torch.int64)
    counts[:10] = torch.tensor([500, 200, 100, 80, 50, 30, 20, 10, 6, 4])  # 1000 pixels
    prior = ABPrior.from_counts(counts, sigma=0.01)  # (almost) no smoothing: p follows the counts
    rare = rare_bins(prior, share=0.05)
    assert rare[counts == 0].all()                       # never seen: rare
    assert rare[[6, 7, 8, 9]].all()                     # 20 + 10 + 6 + 4 = 4 % ≤ 5 %; adding the 30 would pass it
    assert not rare[:6].any()
    wider = rare_bins(prior, share=0.1)
    assert wider[5] and not wider[4]                      # 70 pixels = 7 % ≤ 10 %, 120 = 12 % is not
    with pytest.raises(ColorlabError, match="share"):
        rare_bins(prior, share=1.5)


def test_rare_colour_mask_marks_the_rare_pixels_and_the_comparison_measures_their_chroma():
    train = _photos(20, rare_rows=0)
    train[:2, :2] = MAGENTA                        # magenta: 64 of 5120 training pixels
    valid = _photos(4, rare_rows=4)                # a quarter of each held-out photo is magenta
    prior = ab_prior(train, device="cpu")
    mask = rare_colour_mask(valid, prior, share=0.05, device="cpu")
    assert mask.shape == (4, 16, 16) and mask[:, :4].all() and not mask[:, 4:].any()
    models = {"paints magenta": ConstantAB(_ab(MAGENTA)), "paints green": ConstantAB(_ab(GREEN))}
    table = compare_on_photos(models, valid, train, prior, mask, device="cpu")
    col = f"chroma ratio [{RARE}]"
    assert table.loc["paints magenta", col] == pytest.approx(1.0, abs=0.02)
    assert table.loc[GRAY, col] == 0.0
    assert table.loc["paints green", col] < 0.6
    assert table.attrs["rare share"] == pytest.approx(0.25) and table.attrs["rare photos"] == 4
    assert table.loc["paints magenta", f"recall@20 [{RARE}]"] == pytest.approx(1.0)
    lines = findings(table, "paints green", "paints magenta")
    assert "25.0%" in lines[0]
    green_vs_gray = table.loc["paints green", "PSNR (dB)"] - table.loc[GRAY, "PSNR (dB)"]
    assert f"vs gray: {green_vs_gray:+.2f} dB ({'above' if green_vs_gray > 0 else 'below'})" in lines[1]
    assert "paints magenta 1.00" in lines[-1]
    with pytest.raises(ColorlabError, match="covers 3 images"):
        compare_on_photos(models, valid, train, prior, mask[:3], device="cpu")


def test_rarest_photos_orders_by_rare_share():
    mask = np.zeros((5, 4, 4), bool)
    mask[3, :3] = True
    mask[1, :1] = True
    mask[4, :2] = True
    assert rarest_photos(mask, 2).tolist() == [3, 4]
    assert rarest_photos(mask, 9).tolist() == [0, 1, 2, 3, 4]


def test_check_copy_tells_a_fake_copy_from_the_published_one(tmp_path, make_flowers102, monkeypatch):
    base = make_flowers102(tmp_path)
    fake = check_copy("flowers102", tmp_path)
    assert not fake.real and fake.photos == 12 and fake.published == 8189
    assert fake.mismatched == ("imagelabels.mat", "setid.mat")
    assert str(fake).startswith("NOT THE REAL DATASET") and "12 photos" in str(fake)
    # the same copy, with the published count and checksums made to match it, passes
    monkeypatch.setitem(real_photos.PUBLISHED, "flowers102", (("train", "val", "test"), 12))
    r = remote.RECIPES["flowers102"]
    files = {s: tuple(type(x)(x.url, x.size, md5=hashlib.md5((base / x.filename).read_bytes()).hexdigest())
                      if (base / x.filename).is_file() else x for x in xs) for s, xs in r.files.items()}
    monkeypatch.setitem(remote.RECIPES, "flowers102", remote.Recipe(files, r.extracted_factor, r.archives_hold))
    assert check_copy("flowers102", base).real and "the real dataset" in str(check_copy("flowers102", base))
    with pytest.raises(ColorlabError, match="check_copy knows"):
        check_copy("sample")


def test_photo_gallery_has_a_row_per_model():
    from colorlab.viz.photos import photo_gallery
    fig = photo_gallery({"a": ConstantAB([20.0, 10.0]), "b": ConstantAB([0.0, 0.0])}, _photos(3, 2), [0, 2])
    assert fig.axes[0].get_ylabel() == "gray input" and len(fig.axes) == 4 * 2
    assert [fig.axes[2 * r].get_ylabel() for r in range(4)] == ["gray input", "a", "b", "truth"]


def test_the_fake_mirror_patches_the_kernel_and_lifts_offline_only_for_the_loopback(tmp_path, monkeypatch,
                                                                                      make_flowers102):
    import fake_mirror
    from loopback_server import LoopbackServer

    from colorlab.core.download import DownloadError
    blobs = fake_mirror.flowers_blobs(make_flowers102(tmp_path / "src"))
    for k, v in fake_mirror.kernel_env(tmp_path / "env", {"flowers102": blobs}).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(remote, "RECIPES", dict(remote.RECIPES))
    monkeypatch.setattr(remote, "fetch", remote.fetch)
    monkeypatch.setenv("COLORLAB_OFFLINE", "1")
    assert (tmp_path / "env" / "ipython" / "profile_default" / "startup" / "00_fake_mirror.py").is_file()
    fake_mirror.install_in_kernel()
    assert remote.RECIPES["flowers102"].files["all"][0].md5 == hashlib.md5(blobs["102flowers.tgz"]).hexdigest()
    monkeypatch.setenv("COLORLAB_MIRROR", "https://mirror.example.org/colorlab")
    with pytest.raises(DownloadError, match="COLORLAB_OFFLINE"):   # not the loopback: still offline
        remote.download_dataset("flowers102", tmp_path / "data", progress=False, verbose=False)
    with LoopbackServer() as server:
        server.files.update(blobs)
        monkeypatch.setenv("COLORLAB_MIRROR", server.url)
        dest = remote.download_dataset("flowers102", tmp_path / "data", progress=False, verbose=False)
    assert (dest / "jpg" / "image_00012.jpg").is_file()
    assert check_copy("flowers102", dest).photos == 12
    import os
    assert os.environ["COLORLAB_OFFLINE"] == "1"  # restored after the download


def test_offline_quick_run_gets_a_stand_in_that_says_so_and_a_full_run_is_refused(monkeypatch, tmp_path):
    """COLORLAB_OFFLINE is set in the suite: Flowers 102 cannot be fetched. A quick run gets a small stand-in in the
    cache (never in the data folder, where it would pass for the real dataset), which check_copy calls not real;
    a full-size run gets the download's error, with the offline way out named."""
    from colorlab.core.config import data_root
    from colorlab.core.download import DownloadError

    monkeypatch.setenv("COLORLAB_DATA", str(tmp_path / "data"))
    root = real_photos.download_or_stand_in("flowers102", quick=True, n=30, progress=False)
    assert len(list(root.glob("jpg/image_*.jpg"))) == 30 and data_root() not in root.parents
    copy = check_copy("flowers102", root)
    assert not copy.real and str(copy).startswith("NOT THE REAL DATASET") and copy.photos == 30
    from colorlab.data import prepare
    train = prepare("flowers102", root=root, split="train90", size=16, n=8, seed=0, progress=False,
                    cache_dir=tmp_path / "cache")
    assert 6 <= len(train) <= 8  # a crop with almost no colour may be dropped, as from real photos
    with pytest.raises(DownloadError, match="quick run alone"):
        real_photos.download_or_stand_in("flowers102", quick=False, progress=False)
