"""Side-by-side evaluation of colorizers against two baselines, as one pandas table.

Rows: each model, then ``"gray (ab=0)"`` (the gray photo itself) and ``"mean ab"`` (every
pixel gets the dataset's mean colour — of ``train`` when given, else of the evaluation set
itself; ``df.attrs["notes"]`` says which). Columns: see :data:`COLUMNS`. Every per-image
metric is averaged over images; FID is computed over the whole set. PSNR, SSIM, colourfulness
and CIEDE2000 compare the RGB images shown (predicted ab joined to the true L, clipped to
sRGB) with the originals; AuC compares the predicted ab with the true ab directly (Zhang).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from colorlab.evaluation import metrics
from colorlab.core.color import denormalize_ab, lab_to_rgb, normalize_l, rgb_to_lab
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.core.logs import progress_bar
from colorlab.data.batches import count_images, iter_batches
from colorlab.data.scenes import scene_groups
from colorlab.models.heads import predict_ab

__all__ = ["evaluate", "mean_ab", "batch_lab", "rarity_lookup", "GROUP_METRICS", "COLUMNS", "GRAY", "MEAN_AB"]

GRAY, MEAN_AB = "gray (ab=0)", "mean ab"
COLUMNS = ["PSNR (dB)", "SSIM", "colourfulness", "colourfulness gap", "AuC", "AuC rebalanced",
           "CIEDE2000", "LPIPS", "FID"]


def batch_lab(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch from :func:`colorlab.data.batches.iter_batches` → ``(rgb in [0, 1], Lab)``, both float ``(B, 3, H, W)``."""
    if batch.is_floating_point():
        lab = batch.float()
        return lab_to_rgb(lab), lab
    rgb = batch.float() / 255.0
    return rgb, rgb_to_lab(rgb)


@torch.no_grad()
def mean_ab(data, batch_size: int = 64, device: str | torch.device = "auto",
            max_images: int | None = None) -> torch.Tensor:
    """Mean ab ``(2,)`` in Lab units over every pixel of ``data`` (of its first ``max_images``)."""
    dev = get_device(device)
    total, count = torch.zeros(2, dtype=torch.float64, device=dev), 0
    for batch in iter_batches(data, batch_size, dev, max_images, exact_lab=True):
        ab = batch_lab(batch)[1][:, 1:]
        total += ab.double().sum(dim=(0, 2, 3))
        count += ab.shape[0] * ab.shape[2] * ab.shape[3]
    return (total / count).float()


def rarity_lookup(prior):
    """A function true ab ``(N, 2, H, W)`` → pixel weights ``(N, H, W)`` for Zhang's rebalanced AuC.

    Zhang et al. (2016) weigh each pixel by the inverse prior probability of its true colour:
    ``1 / p̃(q)`` on the 313 bins, with λ = 0 (not the λ = 0.5 weights used for *training*).
    ``prior`` is the training set's :class:`colorlab.rarity.prior.ABPrior` on the ``zhang313`` grid, so the
    number means the same in every lab. Any other object with ``bin_index(ab)`` and ``weights``
    (a tensor or a method) is used as it is.
    """
    p = getattr(prior, "p", None)
    if isinstance(p, torch.Tensor):
        if getattr(prior, "grid", "zhang313") != "zhang313":
            raise ColorlabError(f"the rebalanced AuC is defined on Zhang's 313 bins; got a prior on grid "
                                f"{prior.grid!r} (use colorlab.rarity.prior.prior_for(train) with the default grid)")
        floor = p[p > 0].min() if (p > 0).any() else torch.tensor(1.0)
        weights = 1.0 / p.clamp_min(float(floor))
    else:
        weights = getattr(prior, "weights", None)
        if callable(weights):
            weights = weights()

    on_device = {}  # the weights copied to each device once, not at every batch

    def lookup(ab: torch.Tensor) -> torch.Tensor:
        idx = prior.bin_index(ab)
        if ab.device not in on_device:
            on_device[ab.device] = weights.to(ab.device)
        return on_device[ab.device][idx].reshape(ab.shape[0], *ab.shape[-2:])
    return lookup


#: Per-group metrics (columns ``"<metric> [<group>]"``), computed over every pixel of the group in the set.
GROUP_METRICS = ("PSNR (dB)", "AuC", "chroma ratio", "recall@20")


def _group_masks(groups, dataset):
    """``groups`` → a function (start, stop, device) → {name: bool mask (B, H, W)}.

    A group is a sequence of pixel-class ids (read from ``dataset.class_map``, e.g. the ``scenes``
    classes), a function ``(class_map, mode_map) → bool mask`` on a batch, or a bool array ``(N, H, W)``.
    """
    class_map = getattr(dataset, "class_map", None)
    mode_map = getattr(dataset, "mode_map", None)
    for name, g in groups.items():
        if not isinstance(g, np.ndarray) and class_map is None:
            raise ColorlabError(f"group {name!r} needs per-pixel classes: evaluate on a dataset with a class map "
                                "(e.g. colorlab.data.prepare('scenes', ...)) or pass a bool mask array (N, H, W)")

    def masks(start: int, stop: int, device) -> dict[str, torch.Tensor]:
        out = {}
        def load(arr):  # non-blocking: a blocking host-to-device copy would wait for the device's queue
            return torch.from_numpy(np.array(arr[start:stop])).to(device, non_blocking=True) if arr is not None else None
        cm, mm = load(class_map), load(mode_map)
        for name, g in groups.items():
            if isinstance(g, np.ndarray):
                out[name] = torch.from_numpy(np.asarray(g[start:stop], dtype=bool)).to(device, non_blocking=True)
            elif callable(g):
                out[name] = g(cm, mm).bool()
            else:
                out[name] = torch.isin(cm, torch.as_tensor(list(g), device=device, dtype=cm.dtype))
        return out
    return masks


def _read_once(sums: dict, gsums: dict, cf_true_sum: torch.Tensor):
    """The sums accumulated on the device, brought to the host in one transfer: ``(sums, gsums, cf_true_sum)``."""
    flat = [(d, r, k) for d in (sums, gsums) for r in d for k in d[r] if isinstance(d[r][k], torch.Tensor)]
    values = torch.stack([cf_true_sum.double()] + [d[r][k].double().reshape(()) for d, r, k in flat]).cpu().tolist()
    host = tuple({r: defaultdict(float, {k: v for k, v in d[r].items() if not isinstance(v, torch.Tensor)})
                  for r in d} for d in (sums, gsums))
    for (d, r, k), v in zip(flat, values[1:]):
        (host[0] if d is sums else host[1])[r][k] = v
    return host[0], host[1], values[0]


def _model_input(model: nn.Module, L_norm: torch.Tensor) -> torch.Tensor:
    """L plus zeros for any extra channels (a hint model evaluated with no hints)."""
    extra = getattr(model, "in_channels", 1) - 1
    return torch.cat([L_norm, L_norm.new_zeros(L_norm.shape[0], extra, *L_norm.shape[-2:])], 1) if extra else L_norm


@torch.no_grad()
def evaluate(models: dict[str, nn.Module], dataset, prior=None, train=None, device: str | torch.device = "auto",
             batch_size: int = 32, max_images: int | None = None, progress: bool = True,
             groups: dict | str | None = "auto", **decode) -> pd.DataFrame:
    """Evaluate ``models`` on ``dataset`` next to the gray and mean-ab baselines.

    Args:
        models: name → colorizer (moved to ``device``, used in eval mode; models with extra
            input channels get zeros there, i.e. "no hints").
        dataset: a ``Prepared`` (``.images`` uint8 ``(N, H, W, 3)``), such an array, or a uint8
            tensor ``(N, 3, H, W)``. H, W must suit every model's stride.
        prior: an ab prior (:class:`colorlab.rarity.prior.ABPrior`: ``bin_index(ab)`` and Zhang's rarity
            ``weights()``) → the "AuC rebalanced" column; NaN without.
        train: data whose mean ab the "mean ab" baseline uses (default: the evaluation set's).
        max_images: evaluate on the first ``max_images`` only.
        groups: break the table down by per-pixel masks: ``{name: class ids | fn | bool array}``
            (see :func:`_group_masks`); ``"auto"`` (default): the ``scenes`` groups
            (:func:`colorlab.data.scenes.scene_groups`) when the dataset has a class map, else none. Adds the columns ``"<metric> [<name>]"`` for each of :data:`GROUP_METRICS`, pooled
            over every pixel of the group in the set: PSNR of the shown RGB, AuC, *chroma ratio*
            (mean predicted chroma ``|ab|`` / mean true chroma: 1 = as vivid as the truth, 0 = gray)
            and *recall@20* (share of pixels whose ab error is ≤ 20).
        psnr (keyword, taken out of ``decode``): the per-image PSNR of the "PSNR (dB)" column, ``psnr(pred, target)`` on RGB ``(N, 3, H, W)`` in
            [0, 1] → ``(N,)`` dB (default :func:`colorlab.evaluation.metrics.psnr`; lab 10: the student's).
        **decode: ``T``, ``bin_centers``: decoding of classification heads (see :func:`colorlab.models.heads.predict_ab`).
    Returns:
        DataFrame, index = model names + ``"gray (ab=0)"`` + ``"mean ab"``, columns :data:`COLUMNS`;
        ``df.attrs["notes"]`` explains baselines and unavailable metrics.
    """
    psnr = decode.pop("psnr", None)
    dev = get_device(device)
    if not isinstance(models, dict):
        raise ColorlabError("models must be a dict {name: model}")
    clash = {GRAY, MEAN_AB} & set(models)
    if clash:
        raise ColorlabError(f"model names {sorted(clash)} are reserved for the baselines")
    for m in models.values():
        m.to(dev)
    has_lpips, lpips_why = metrics.lpips_available()
    has_fid, fid_why = metrics.fid_available()
    weigh = rarity_lookup(prior) if prior is not None else None
    mean = (mean_ab(train, batch_size, dev) if train is not None
            else mean_ab(dataset, batch_size, dev, max_images)).reshape(1, 2, 1, 1)

    rows = list(models) + [GRAY, MEAN_AB]
    sums: dict[str, dict[str, float]] = {r: defaultdict(float) for r in rows}
    if isinstance(groups, str):
        if groups != "auto":
            raise ColorlabError(f"groups must be a dict, None or 'auto', got {groups!r}")
        groups = scene_groups() if getattr(dataset, "class_map", None) is not None else None
    group_masks = _group_masks(groups, dataset) if groups else None
    gsums: dict[str, dict[tuple, float]] = {r: defaultdict(float) for r in rows}
    fid_feats: dict[str, list[torch.Tensor]] = defaultdict(list)  # kept on the device until the end
    n_images, cf_true_sum = 0, torch.zeros((), dtype=torch.float64, device=dev)
    n_total = count_images(dataset, max_images) or 0
    for batch in progress_bar(iter_batches(dataset, batch_size, dev, max_images, exact_lab=True), total=-(-n_total // batch_size),
                      desc="evaluate", disable=not progress):
        rgb, lab = batch_lab(batch)
        L, ab_true = lab[:, :1], lab[:, 1:]
        L_norm = normalize_l(L)
        cf_true = metrics.colourfulness(rgb)
        cf_true_sum += cf_true.double().sum()
        w = weigh(ab_true) if weigh is not None else None
        gm = group_masks(n_images, n_images + batch.shape[0], dev) if group_masks is not None else None
        chroma_true = torch.linalg.vector_norm(ab_true, dim=1) if gm is not None else None
        preds = {name: denormalize_ab(predict_ab(m, _model_input(m, L_norm), **decode))
                 for name, m in models.items()}
        preds[GRAY] = torch.zeros_like(ab_true)
        preds[MEAN_AB] = mean.expand_as(ab_true)
        if has_fid:
            fid_feats["__real__"].append(metrics.fid_features(rgb))
        for name, ab in preds.items():
            ab = ab.float()
            lab_pred = torch.cat([L, ab], 1)
            rgb_pred = lab_to_rgb(lab_pred)
            cf = metrics.colourfulness(rgb_pred)
            per_image = {
                "PSNR (dB)": torch.as_tensor((psnr or metrics.psnr)(rgb_pred, rgb)),
                "SSIM": metrics.ssim(rgb_pred, rgb),
                "colourfulness": cf,
                "colourfulness gap": cf - cf_true,
                "AuC": metrics.auc_ab(ab, ab_true),
                # ΔE00 of the colours actually shown (out-of-gamut predictions clipped by lab_to_rgb)
                "CIEDE2000": metrics.ciede2000(rgb_to_lab(rgb_pred), lab).flatten(1).mean(1),
            }
            if w is not None:
                per_image["AuC rebalanced"] = metrics.auc_ab(ab, ab_true, pixel_weights=w)
            if has_lpips:
                per_image["LPIPS"] = metrics.lpips_distance(rgb_pred, rgb)
            if has_fid:
                fid_feats[name].append(metrics.fid_features(rgb_pred))
            for col, v in per_image.items():
                sums[name][col] = sums[name][col] + v.double().sum()  # on the device: read once, at the end
            if group_masks is not None:
                err = torch.linalg.vector_norm(ab - ab_true, dim=1)
                per_pixel = {"sq": (rgb_pred - rgb).pow(2).mean(1), "auc": (1.0 - err / 150.0).clamp_min(0),
                             "chroma": torch.linalg.vector_norm(ab, dim=1), "chroma_true": chroma_true,
                             "hit": (err <= 20.0).float()}
                acc = gsums[name]
                for g, m in gm.items():
                    acc[g, "n"] = acc[g, "n"] + m.sum()
                    for key, v in per_pixel.items():  # a product with the mask, not a (syncing) boolean index
                        acc[g, key] = acc[g, key] + torch.where(m, v.double(), 0.0).sum()
        n_images += batch.shape[0]

    sums, gsums, cf_true_sum = _read_once(sums, gsums, cf_true_sum)
    table = pd.DataFrame({r: {c: sums[r][c] / n_images if c in sums[r] else np.nan for c in COLUMNS}
                          for r in rows}).T[COLUMNS]
    for g in (groups or {}):
        for r in rows:
            a = gsums[r]
            n = a[g, "n"]
            table.loc[r, f"PSNR (dB) [{g}]"] = 10 * np.log10(n / a[g, "sq"]) if n and a[g, "sq"] > 0 else np.nan
            table.loc[r, f"AuC [{g}]"] = a[g, "auc"] / n if n else np.nan
            table.loc[r, f"chroma ratio [{g}]"] = a[g, "chroma"] / a[g, "chroma_true"] if a[g, "chroma_true"] else np.nan
            table.loc[r, f"recall@20 [{g}]"] = a[g, "hit"] / n if n else np.nan
    if has_fid and n_images >= 2:
        real = torch.cat(fid_feats["__real__"])
        for r in rows:
            table.loc[r, "FID"] = metrics.frechet_distance(torch.cat(fid_feats[r]), real)
    table.attrs["notes"] = {
        "images": n_images,
        MEAN_AB: "mean ab of the train set passed as `train`" if train is not None
        else "mean ab of the evaluation set itself (pass train= to use the training set's)",
        "colourfulness": "Hasler–Süsstrunk, signed rg/yb on 0..255; gap = prediction − ground truth "
                         f"(ground truth: {cf_true_sum / n_images:.2f})",
        "AuC": "area under the ab-error CDF for thresholds 0..150, normalised to 1",
        "groups": {g: int(gsums[rows[0]].get((g, "n"), 0)) for g in (groups or {})},
        "AuC rebalanced": "Zhang's: pixels weighted by 1/p̃ of their true colour's bin (313 bins, λ = 0)"
        if prior is not None
        else "unavailable: pass prior= (an ab prior with bin_index and rarity weights)",
        "LPIPS": "AlexNet LPIPS" if has_lpips else lpips_why,
        "FID": "Inception pool-3 Fréchet distance over the whole set" if has_fid and n_images >= 2
        else (fid_why or "unavailable: needs at least 2 images"),
    }
    return table
