"""The kit's GPU paths against its CPU results, and no device-to-host sync where the kit promises none."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from gpu_helpers import TINY, photos

from colorlab.models import create


@contextlib.contextmanager
def no_syncs():
    """Any device-to-host sync inside raises (torch.cuda.set_sync_debug_mode("error"))."""
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")


def _model(in_channels=1, head="regression"):
    torch.manual_seed(0)
    return create("unet", in_channels=in_channels, head=head, **TINY).eval()


def test_evaluate_on_the_gpu_matches_the_cpu_and_reads_back_once(cuda):
    from colorlab.evaluation.evaluate import COLUMNS, evaluate
    imgs = photos(12, 32)
    cpu = evaluate({"m": _model()}, imgs, device="cpu", batch_size=4, progress=False, groups=None)
    models = {"m": _model().to(cuda)}
    gpu = evaluate(models, imgs, device=cuda, batch_size=4, progress=False, groups=None)
    cols = [c for c in COLUMNS if c not in ("LPIPS", "FID") and np.isfinite(cpu.loc["m", c])]
    np.testing.assert_allclose(gpu.loc[:, cols].to_numpy(float), cpu.loc[:, cols].to_numpy(float), rtol=1e-3, atol=1e-3)


def test_evaluation_loop_has_no_sync_per_batch(cuda, monkeypatch):
    """Everything per batch runs under sync-debug "error"; only the one read at the end is allowed."""
    import colorlab.evaluation.evaluate as ev
    from colorlab.evaluation.evaluate import evaluate
    imgs = photos(8, 32)
    models = {"m": _model().to(cuda)}
    evaluate(models, imgs[:4], device=cuda, batch_size=4, progress=False, groups=None)
    real = ev._read_once

    def read_outside(*a):
        torch.cuda.set_sync_debug_mode("default")  # the one read of the whole evaluation
        return real(*a)
    monkeypatch.setattr(ev, "_read_once", read_outside)
    monkeypatch.setattr(ev, "mean_ab", lambda *a, **k: torch.zeros(2, device=cuda))  # one-time, before the loop
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        evaluate(models, imgs, device=cuda, batch_size=4, progress=False, groups=None)
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_hint_sampling_and_encoding_never_sync(cuda):
    from colorlab.hints.sampling import HintSampler, random_hints
    ab = torch.rand(16, 2, 32, 32, device=cuda) * 2 - 1
    gen = torch.Generator(device=cuda).manual_seed(0)
    sampler = HintSampler(reveal_p=0.5)
    sampler(ab, generator=gen)
    with no_syncs():
        out = sampler(ab, generator=gen)
        sampler(ab, generator=gen, n=10)
        HintSampler(colour="gaussian")(ab, generator=gen)
        random_hints(ab, 10, size=2, generator=gen)
    assert out.shape == (16, 3, 32, 32) and out.is_cuda


def test_soft_encoding_on_the_gpu_matches_the_cpu_without_syncs(cuda):
    from colorlab.rarity.bins import zhang_bins
    from colorlab.rarity.soft_encoding import soft_encode_sparse
    centers = zhang_bins()
    ab = torch.rand(4, 2, 16, 16) * 220 - 110
    idx_cpu, w_cpu = soft_encode_sparse(ab, centers)
    c_gpu, ab_gpu = centers.to(cuda), ab.to(cuda)
    soft_encode_sparse(ab_gpu, c_gpu)
    with no_syncs():
        idx, w = soft_encode_sparse(ab_gpu, c_gpu)
    assert (idx.cpu() == idx_cpu).float().mean() > 0.999  # ties at equal distance may order differently
    torch.testing.assert_close(w.cpu(), w_cpu, atol=1e-4, rtol=1e-4)


def test_kmeans_labels_on_the_gpu_match_the_cpu_without_syncs(cuda):
    from sklearn.metrics import adjusted_rand_score
    from colorlab.profiles.kmeans import batched_kmeans
    g = torch.Generator().manual_seed(0)
    planted = torch.rand(6, 4, 3, generator=g) * 100
    truth = torch.arange(4).repeat_interleave(50)
    x = planted[:, truth] + torch.randn(6, 200, 3, generator=g)
    cpu = batched_kmeans(x, 4, iters=10, init="first")
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = True  # the kit must turn it off for its packed keys
    try:
        with no_syncs():
            gpu = batched_kmeans(x.to(cuda), 4, iters=10, init="first")
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before
    for b in range(6):
        assert adjusted_rand_score(cpu.labels[b].numpy(), gpu.labels[b].cpu().numpy()) == 1.0
    torch.testing.assert_close(gpu.centers.cpu(), cpu.centers, atol=1e-3, rtol=1e-4)


def test_ce_loss_on_the_gpu_matches_the_cpu(cuda):
    from colorlab.rarity.losses import make_loss
    from colorlab.rarity.prior import ab_prior
    prior = ab_prior(photos(8, 32), device="cpu")
    torch.manual_seed(0)
    logits = torch.randn(2, 313, 16, 16)
    target = torch.rand(2, 2, 16, 16) * 1.6 - 0.8
    cpu = make_loss("ce", prior=prior)(logits, target)
    gpu = make_loss("ce", prior=prior).to(cuda)(logits.to(cuda), target.to(cuda))
    assert torch.isfinite(gpu) and gpu.item() == pytest.approx(cpu.item(), rel=1e-4)


def test_colorize_on_the_gpu_matches_the_cpu(cuda):
    from colorlab.inference.colorize import colorize
    img = photos(1, 48)[0]
    cpu = colorize(img, _model(), size=32, device="cpu", precision="fp32")
    gpu = colorize(img, _model(), size=32, device=cuda, precision="fp32")
    assert gpu.shape == cpu.shape == img.shape
    assert np.abs(gpu.astype(int) - cpu.astype(int)).max() <= 2


def test_the_hint_painter_updates_on_the_gpu(cuda):
    from colorlab.widgets.hint_painter import HintPainter
    painter = HintPainter(_model(in_channels=4).to(cuda), image=photos(1, 64)[0], photo_size=64, device=cuda)
    before = painter.update().copy()
    painter.add_hint(20, 20, color=(220, 30, 30), size=8)
    after = painter.update()
    assert after.shape == before.shape and after.dtype == np.uint8
    assert painter.hint_channels().is_cuda and not np.array_equal(before, after)
