"""Colorization metrics: pure, batched functions on torch tensors, on any device.

Conventions: RGB is ``(N, 3, H, W)`` float in [0, 1]; Lab is ``(N, 3, H, W)`` and ab
``(N, 2, H, W)`` in Lab units (not normalised). Every metric returns one value per image,
``(N,)`` (CIEDE2000 returns the per-pixel map ``(N, H, W)``), so that callers choose how to
average.

* :func:`psnr`, :func:`ssim` — on RGB (SSIM: Wang et al. 2004, Gaussian window σ = 1.5,
  11×11, K1 = 0.01, K2 = 0.03, mean over channels; matches ``skimage.metrics.structural_similarity``
  with ``gaussian_weights=True, use_sample_covariance=False``).
* :func:`colourfulness` — Hasler & Süsstrunk (2003) with SIGNED opponents on 0..255:
  rg = R − G, yb = ½(R + G) − B, CF = sqrt(σ_rg² + σ_yb²) + 0.3·sqrt(μ_rg² + μ_yb²).
  (Codebases that take |rg|, |yb| first report a different number.)
* :func:`auc_ab` — Zhang et al.'s AuC of the ab-error CDF over thresholds 0..150, optionally
  pixel-weighted (the "rebalanced" variant).
* :func:`ciede2000` — ΔE00 (Sharma, Wu & Dalal 2005), kL = kC = kH = 1.
* :func:`keras_accuracy`, :func:`within_accuracy` — two readings of Benabla et al.'s undefined "acc" column
  (Tables 1–2) on two predicted chroma channels (their hint model's CbCr): what Keras logs as ``accuracy`` for such a
  model (categorical accuracy: the per-pixel argmax over the two channels agrees), and the fraction of
  pixels whose predicted chroma lies within a distance of the truth.
* LPIPS and FID need the optional extra ``colorlab-kit[metrics]`` (``lpips``, ``pytorch-fid``) and
  pretrained weights, fetched like every download (:mod:`colorlab.core.weights`: mirror, checksums,
  ``COLORLAB_OFFLINE``); :func:`lpips_available` / :func:`fid_available` say whether they can
  be had and, if not, why.
"""
from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

from colorlab.core.download import offline
from colorlab.core.errors import ColorlabError
from colorlab.core.filters import gaussian_kernel
from colorlab.core.logs import say_once
from colorlab.core.weights import obtain_weights, pretrained_mode

__all__ = ["psnr", "ssim", "colourfulness", "auc_ab", "ciede2000", "keras_accuracy", "within_accuracy",
           "lpips_available", "fid_available", "lpips_distance", "fid_features", "frechet_distance"]


def _check_pair(a: torch.Tensor, b: torch.Tensor, channels: int, what: str) -> None:
    if a.shape != b.shape or a.dim() != 4 or a.shape[1] != channels:
        raise ColorlabError(f"{what} expects two (N, {channels}, H, W) tensors of the same shape, "
                            f"got {tuple(a.shape)} and {tuple(b.shape)}")


def psnr(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image: ``10·log10(range² / MSE)``. Shapes ``(N, C, H, W)`` → ``(N,)``.

    Identical images give ``inf``.
    """
    _check_pair(pred, target, pred.shape[1] if pred.dim() == 4 else 3, "psnr")
    mse = (pred.float() - target.float()).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(data_range ** 2 / mse)


def ssim(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0, sigma: float = 1.5,
         win_size: int = 11, k1: float = 0.01, k2: float = 0.03) -> torch.Tensor:
    """Structural similarity per image, mean over channels and window positions. ``(N, C, H, W)`` → ``(N,)``.

    Only window positions fully inside the image are averaged (as skimage does), so H and W
    must be at least ``win_size``.
    """
    _check_pair(pred, target, pred.shape[1] if pred.dim() == 4 else 3, "ssim")
    if min(pred.shape[-2:]) < win_size:
        raise ColorlabError(f"ssim needs images of at least {win_size}x{win_size}, got {tuple(pred.shape[-2:])}")
    x, y = pred.float(), target.float()
    c = x.shape[1]
    g = gaussian_kernel(sigma, win_size, dtype=x.dtype, device=x.device)
    kh, kw = g.reshape(1, 1, -1, 1).repeat(c, 1, 1, 1), g.reshape(1, 1, 1, -1).repeat(c, 1, 1, 1)

    def blur(t: torch.Tensor) -> torch.Tensor:  # separable Gaussian, "valid" positions only
        return F.conv2d(F.conv2d(t, kh, groups=c), kw, groups=c)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx ** 2, blur(y * y) - my ** 2, blur(x * y) - mx * my
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1)


def colourfulness(rgb: torch.Tensor) -> torch.Tensor:
    """Hasler–Süsstrunk colourfulness per image (signed opponents, 0..255 scale). ``(N, 3, H, W)`` → ``(N,)``.

    0 for any gray image; about 185 for an image half pure red, half black.
    """
    if rgb.dim() != 4 or rgb.shape[1] != 3:
        raise ColorlabError(f"colourfulness expects RGB (N, 3, H, W), got {tuple(rgb.shape)}")
    x = rgb.float() * (1.0 if rgb.dtype == torch.uint8 else 255.0)
    r, g, b = x.flatten(2).unbind(1)
    rg, yb = r - g, 0.5 * (r + g) - b
    std = torch.sqrt(rg.var(1, correction=0) + yb.var(1, correction=0))
    mean = torch.sqrt(rg.mean(1) ** 2 + yb.mean(1) ** 2)
    return std + 0.3 * mean


def auc_ab(pred_ab: torch.Tensor, true_ab: torch.Tensor, pixel_weights: torch.Tensor | None = None,
           max_t: float = 150.0) -> torch.Tensor:
    """Area under the curve "fraction of pixels with ab error ≤ t" for t in [0, max_t], normalised to 1.

    Over continuous thresholds the area has a closed form: the (weighted) mean over pixels
    of ``max(0, 1 − e / max_t)``, with ``e`` the L2 ab error; a 0..150 sweep in steps of 1
    approximates the same number (to within 1/300).

    Args:
        pred_ab, true_ab: ``(N, 2, H, W)`` in Lab units.
        pixel_weights: optional ``(N, H, W)`` or ``(N, 1, H, W)`` weights (e.g. the rarity weight of
            each true colour's bin → Zhang's rebalanced AuC).
    Returns:
        ``(N,)`` in [0, 1]; 1 = every pixel exact.
    """
    _check_pair(pred_ab, true_ab, 2, "auc_ab")
    err = torch.linalg.vector_norm(pred_ab.float() - true_ab.float(), dim=1)
    score = (1.0 - err / max_t).clamp_min(0.0)
    if pixel_weights is None:
        return score.flatten(1).mean(1)
    w = pixel_weights.float().reshape(err.shape)
    return (w * score).flatten(1).sum(1) / w.flatten(1).sum(1)



def keras_accuracy(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per image, the fraction of pixels whose argmax over the two chroma channels agrees with the truth's.

    This is what Keras computes for ``metrics=["accuracy"]`` on a model with an MSE loss and a
    two-channel output (``compile`` resolves "accuracy" to ``categorical_accuracy`` when the output's
    last axis is neither 1 nor the target's class index): for CbCr, whether Cr > Cb is predicted right.
    Ties go to the first channel, as in ``tf.argmax``. Any encoding that shifts both channels alike
    (0..255, [0, 1], normalised) gives the same number. ``(N, 2, H, W)`` twice → ``(N,)`` in [0, 1].
    """
    _check_pair(pred, target, 2, "keras_accuracy")
    agree = pred.float().argmax(1) == target.float().argmax(1)
    return agree.flatten(1).float().mean(1)


def within_accuracy(pred: torch.Tensor, target: torch.Tensor, threshold: float = 0.05) -> torch.Tensor:
    """Per image, the fraction of pixels whose predicted chroma lies within ``threshold`` (L2) of the truth.

    ``pred``, ``target``: ``(N, 2, H, W)`` chroma in the units ``threshold`` is given in (the hint model's CbCr
    in [0, 1] for Benabla et al.'s tables: 0.05 is about 13 of 255 levels). → ``(N,)`` in [0, 1].
    """
    _check_pair(pred, target, 2, "within_accuracy")
    err = torch.linalg.vector_norm(pred.float() - target.float(), dim=1)
    return (err <= threshold).flatten(1).float().mean(1)

def ciede2000(lab1: torch.Tensor, lab2: torch.Tensor) -> torch.Tensor:
    """CIEDE2000 colour difference per pixel (Sharma et al. 2005). ``(..., 3, H, W)`` × 2 → ``(..., H, W)``.

    Computed in at least float32 (float64 inputs stay float64).
    """
    if lab1.shape != lab2.shape or lab1.dim() < 3 or lab1.shape[-3] != 3:
        raise ColorlabError(f"ciede2000 expects two (..., 3, H, W) Lab tensors, got {tuple(lab1.shape)} "
                            f"and {tuple(lab2.shape)}")
    dtype = torch.promote_types(lab1.dtype, torch.float32)
    L1, a1, b1 = lab1.to(dtype).unbind(-3)
    L2, a2, b2 = lab2.to(dtype).unbind(-3)
    c_bar7 = ((torch.hypot(a1, b1) + torch.hypot(a2, b2)) / 2) ** 7
    g = 0.5 * (1 - torch.sqrt(c_bar7 / (c_bar7 + 25.0 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = torch.hypot(a1p, b1), torch.hypot(a2p, b2)
    h1p = torch.rad2deg(torch.atan2(b1, a1p)) % 360
    h2p = torch.rad2deg(torch.atan2(b2, a2p)) % 360
    chroma0 = (c1p * c2p) == 0

    dh = h2p - h1p
    dh = torch.where(dh > 180, dh - 360, torch.where(dh < -180, dh + 360, dh))
    dh = torch.where(chroma0, torch.zeros_like(dh), dh)
    dL, dC = L2 - L1, c2p - c1p
    dH = 2 * torch.sqrt(c1p * c2p) * torch.sin(torch.deg2rad(dh) / 2)

    L_bar, c_bar = (L1 + L2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_bar = torch.where((h1p - h2p).abs() <= 180, h_sum / 2,
                        torch.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2))
    h_bar = torch.where(chroma0, h_sum, h_bar)
    rad = torch.deg2rad
    t = (1 - 0.17 * torch.cos(rad(h_bar - 30)) + 0.24 * torch.cos(rad(2 * h_bar))
         + 0.32 * torch.cos(rad(3 * h_bar + 6)) - 0.20 * torch.cos(rad(4 * h_bar - 63)))
    d_theta = 30 * torch.exp(-(((h_bar - 275) / 25) ** 2))
    r_c = 2 * torch.sqrt(c_bar ** 7 / (c_bar ** 7 + 25.0 ** 7))
    s_l = 1 + 0.015 * (L_bar - 50) ** 2 / torch.sqrt(20 + (L_bar - 50) ** 2)
    s_c = 1 + 0.045 * c_bar
    s_h = 1 + 0.015 * c_bar * t
    r_t = -torch.sin(rad(2 * d_theta)) * r_c
    tl, tc, th = dL / s_l, dC / s_c, dH / s_h
    return torch.sqrt((tl ** 2 + tc ** 2 + th ** 2 + r_t * tc * th).clamp_min(0))


# --- metrics that need pretrained networks ------------------------------------------------------
# LPIPS: richzhang's ``lpips`` package (the paper's reference code; it ships its small linear
# layers and builds torchvision's AlexNet, whose ImageNet weights we fetch). FID: ``pytorch-fid``
# (the standard port of the TensorFlow FID Inception, whose weights we fetch). Both weight files
# go through :func:`colorlab.core.weights.obtain_weights`: COLORLAB_MIRROR, checksums, and
# COLORLAB_OFFLINE (then only a file already in the torch hub cache is used).

ALEXNET_URL = "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"  # torchvision's AlexNet_Weights
FID_WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                   "pt_inception-2015-12-05-6726825d.pth")  # pytorch-fid's Inception (TF FID port)
_FID_WEIGHTS = FID_WEIGHTS_URL.rsplit("/", 1)[-1]
#: how LPIPS / FID weights are obtained: "download" (default; falls back to the disk when
#: offline), "disk" or "none"
METRIC_WEIGHTS = "download"


def _hub_file(name: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / name


def _installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


_DOWNLOAD_FAILED: set[str] = set()  # weight files whose download failed in this process: not tried again


def _weights_file(url: str, what: str, mode: str | None) -> tuple[Path | None, str]:
    mode = pretrained_mode(METRIC_WEIGHTS if mode is None else mode)
    if mode == "download" and url in _DOWNLOAD_FAILED:
        mode = "disk"
    with warnings.catch_warnings(record=True) as failed:  # a failed download is said once, in the line below
        warnings.simplefilter("always")
        path, why = obtain_weights(url, mode, what)
    if failed:
        _DOWNLOAD_FAILED.add(url)
    if path is None:
        name = url.rsplit("/", 1)[-1]
        if mode == "none":
            return None, f"unavailable: {what}: pretrained='none'"
        how = (" (download failed)" if failed or url in _DOWNLOAD_FAILED
               else " (COLORLAB_OFFLINE is set)" if offline() else "")
        return None, (f"unavailable: {name} not in {_hub_file('')}{how} — set COLORLAB_MIRROR to a folder or URL "
                      "that has it")
    return path, ""


def _say_unavailable(metric: str, why: str) -> None:
    say_once(f"colorlab: {metric} {why}")


def lpips_available(pretrained: str | None = None) -> tuple[bool, str]:
    """(True, "") if the ``lpips`` package and its AlexNet weights can be had, else (False, why).

    ``pretrained``: ``"download"`` / ``"disk"`` / ``"none"`` (default :data:`METRIC_WEIGHTS`). When LPIPS is
    unavailable, one line says so (once per process) and what fixes it.
    """
    if not _installed("lpips"):
        ok, why = False, "unavailable: package 'lpips' is not installed — pip install lpips pytorch-fid (the kit's metrics extra)"
    else:
        path, why = _weights_file(ALEXNET_URL, "AlexNet weights for LPIPS", pretrained)
        ok = path is not None
    if not ok:
        _say_unavailable("LPIPS", why)
    return ok, why


def fid_available(pretrained: str | None = None) -> tuple[bool, str]:
    """(True, "") if ``pytorch_fid`` and its Inception weights can be had, else (False, why), said once per process."""
    if not _installed("pytorch_fid"):
        ok, why = False, "unavailable: package 'pytorch-fid' is not installed — pip install lpips pytorch-fid (the kit's metrics extra)"
    else:
        path, why = _weights_file(FID_WEIGHTS_URL, "FID Inception weights", pretrained)
        ok = path is not None
    if not ok:
        _say_unavailable("FID", why)
    return ok, why


_NETS: dict[tuple[str, str], torch.nn.Module] = {}


def _lpips_net() -> torch.nn.Module:
    import lpips
    with warnings.catch_warnings():  # lpips 0.1.4 still passes torchvision's deprecated `pretrained=`
        warnings.simplefilter("ignore", UserWarning)
        net = lpips.LPIPS(net="alex", pnet_rand=True, verbose=False)  # linear layers from the package, AlexNet random
    state = torch.load(_hub_file(ALEXNET_URL.rsplit("/", 1)[-1]), map_location="cpu", weights_only=True)
    for part in net.net.children():  # slice1..5 hold AlexNet's `features` layers under their own indices
        for index, layer in part.named_children():
            own = {k: state[f"features.{index}.{k}"] for k in layer.state_dict()}
            layer.load_state_dict(own)
    return net


def _fid_net() -> torch.nn.Module:
    import pytorch_fid.inception as fid_inception
    path = _hub_file(_FID_WEIGHTS)
    # pytorch-fid fetches its weights itself; hand it the checked local file instead, so that
    # nothing here ever opens a connection.
    real = fid_inception.load_state_dict_from_url
    fid_inception.load_state_dict_from_url = lambda *a, **k: torch.load(path, map_location="cpu", weights_only=True)
    try:
        return fid_inception.InceptionV3([fid_inception.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
    finally:
        fid_inception.load_state_dict_from_url = real


def _cached_net(kind: str, device: torch.device) -> torch.nn.Module:
    key = (kind, str(device))
    if key not in _NETS:
        ok, why = lpips_available() if kind == "lpips" else fid_available()
        if not ok:
            raise ColorlabError(f"{kind.upper()} {why}")
        try:
            net = _lpips_net() if kind == "lpips" else _fid_net()
        except (RuntimeError, KeyError, OSError) as e:
            raise ColorlabError(f"{kind.upper()}: its weights file does not fit the network ({e}); delete it from "
                                f"{_hub_file('')} and fetch it again") from e
        _NETS[key] = net.eval().requires_grad_(False).to(device)
    return _NETS[key]


@torch.no_grad()
def lpips_distance(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """LPIPS (AlexNet) per image, ``(N, 3, H, W)`` RGB in [0, 1] → ``(N,)``. Needs :func:`lpips_available`.

    Images smaller than 32×32 are upsampled (bilinear) to 32 first: AlexNet's pooling needs the room.
    """
    _check_pair(pred, target, 3, "lpips_distance")
    net = _cached_net("lpips", pred.device)
    if min(pred.shape[-2:]) < 32:
        scale = 32 / min(pred.shape[-2:])
        size = (round(pred.shape[-2] * scale), round(pred.shape[-1] * scale))
        pred, target = (F.interpolate(t.float(), size=size, mode="bilinear", align_corners=False)
                        for t in (pred, target))
    return net(pred.float() * 2 - 1, target.float() * 2 - 1).flatten()


@torch.no_grad()
def fid_features(rgb: torch.Tensor) -> torch.Tensor:
    """Inception pool-3 features ``(N, 2048)`` of RGB in [0, 1], for :func:`frechet_distance`."""
    net = _cached_net("fid", rgb.device)
    return net(rgb.float())[0].flatten(1)


def frechet_distance(feats_a: torch.Tensor, feats_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets ``(N, D)`` (FID on Inception features).

    Needs at least 2 samples per set; with few samples (fewer than D) FID is strongly biased
    upwards — compare models only on the same evaluation set.
    """
    import numpy as np
    from scipy import linalg

    if feats_a.shape[0] < 2 or feats_b.shape[0] < 2:
        raise ColorlabError("FID needs at least 2 images per set")
    a, b = feats_a.double().cpu().numpy(), feats_b.double().cpu().numpy()
    mu1, mu2 = a.mean(0), b.mean(0)
    a0, b0 = a - mu1, b - mu2
    n1, n2, d = a.shape[0], b.shape[0], a.shape[1]
    trace1, trace2 = (a0 ** 2).sum() / (n1 - 1), (b0 ** 2).sum() / (n2 - 1)
    if n1 * n2 <= d * d:
        # Fewer images than dimensions: tr sqrt(S1 S2) is the sum of the singular values of
        # A0 B0ᵀ / sqrt((n1-1)(n2-1)) (S1 = A0ᵀA0/(n1-1), ...) — exact, and far cheaper than a
        # D×D matrix square root of two singular covariances.
        tr_covmean = np.linalg.svd(a0 @ b0.T, compute_uv=False).sum() / np.sqrt((n1 - 1) * (n2 - 1))
    else:
        s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        covmean = linalg.sqrtm(s1 @ s2)
        if not np.isfinite(covmean).all():  # near-singular covariances: regularise, as pytorch-fid does
            eps = np.eye(s1.shape[0]) * 1e-6
            covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
        tr_covmean = np.trace(covmean.real)
    return float(((mu1 - mu2) ** 2).sum() + trace1 + trace2 - 2 * tr_covmean)
