"""``make demo``: the whole story on the embedded sample set, offline, in a few minutes on a CPU.

prepare → figures of the Lab split → ab prior → a U-Net trained with plain MSE and one with the
blended rarity loss (same budget) → both evaluated with the baselines on held-out photos →
``gallery.png``, ``metrics.json``, ``report.html`` and the metrics table on stdout.
"""
from __future__ import annotations

import base64
import html
import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from .checkpoint import atomic_write
from .device import describe_device, get_device

__all__ = ["run_demo"]


def _say(msg: str) -> None:
    print(msg, flush=True)


def _channels_figure(out: Path, size: int = 192) -> Path:
    from .data.sample import sample_photos
    from .io import load_image
    from .viz.lab import channels_figure, save_figure
    from PIL import Image, ImageOps

    photos = sample_photos("val")
    arrs = [np.asarray(ImageOps.fit(Image.fromarray(load_image(p)), (size, size))) for _, p in photos]
    return save_figure(channels_figure(np.stack(arrs), names=[n for n, _ in photos]), out / "channels.png")


def _gallery(out: Path, models: dict, valid, device, n: int = 8) -> Path:
    from .color import denormalize_ab, denormalize_l, lab_to_rgb, split_lab
    from .loaders import uint8_to_rgb
    from .models import predict_ab
    from .viz.lab import save_figure, to_hwc
    import matplotlib.pyplot as plt

    idx = np.linspace(0, len(valid) - 1, min(n, len(valid))).astype(int)
    rgb = uint8_to_rgb(torch.from_numpy(np.ascontiguousarray(valid.images[idx]))).to(device)
    L, ab = split_lab(rgb)
    Lu = denormalize_l(L)
    rows = {"gray input": Lu.repeat(1, 3, 1, 1) / 100}
    for name, m in models.items():
        rows[name] = lab_to_rgb(torch.cat([Lu, denormalize_ab(predict_ab(m, L))], 1))
    rows["truth"] = rgb
    fig, axes = plt.subplots(len(rows), len(idx), figsize=(1.5 * len(idx), 1.6 * len(rows)), squeeze=False)
    for r, (name, imgs) in enumerate(rows.items()):
        for c in range(len(idx)):
            ax = axes[r, c]
            ax.imshow(to_hwc(imgs[c]))
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, fontsize=8)
    fig.suptitle("held-out sample photos (never seen in training)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out / "gallery.png")


def _img_tag(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" style="max-width:100%">'


def _report(out: Path, table, info: dict, figures: list[Path]) -> Path:
    rows = table.to_html(float_format=lambda v: f"{v:.4g}", border=0, classes="metrics", na_rep="unavailable")
    rows += "<ul>" + "".join(f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>"
                             for k, v in table.attrs.get("notes", {}).items()) + "</ul>"
    figs = "\n".join(f"<h3>{html.escape(p.stem)}</h3>{_img_tag(p)}" for p in figures if p.exists())
    meta = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(str(v))}</li>" for k, v in info.items())
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>colorlab demo report</title>
<style>body{{font-family:sans-serif;max-width:980px;margin:2em auto;line-height:1.4}}
table.metrics{{border-collapse:collapse}} .metrics td,.metrics th{{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}}</style>
</head><body><h1>colorlab demo</h1>
<p>Two U-Nets trained with the same budget on patches of the embedded sample photos — one with plain MSE,
one with the blended rarity loss (0.65·MSE + 0.35·rarity-weighted MSE) — evaluated on held-out photos
next to two baselines: gray (ab = 0) and the training set's mean ab.</p>
<h2>Metrics</h2>{rows}
<p>PSNR/SSIM on RGB; colourfulness is Hasler–Süsstrunk's; AuC: fraction of pixels with ab error ≤ t, t = 0…150,
plain and rarity-rebalanced; ΔE00 = mean CIEDE2000.</p>
<h2>Run</h2><ul>{meta}</ul><h2>Figures</h2>{figs}</body></html>"""
    return atomic_write(out / "report.html", lambda tmp: Path(tmp).write_text(page))


def run_demo(out_dir: str | Path = "runs/demo", epochs: int | None = None, n_train: int | None = None,
             size: int = 64, device="auto", quick: bool = False, seed: int = 0) -> dict:
    """Run the demo and return ``{"table": DataFrame, "out": Path, ...}`` (also printed and written)."""
    from .colorize import default_checkpoint
    from .data import prepare
    from .evaluate import evaluate
    from .stats import prior_for
    from .train import train_colorizer
    from .viz.lab import patch_grid, save_figure

    t0 = time.time()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dev = get_device(device)
    epochs = epochs or (1 if quick else 6)
    n_train = n_train or (64 if quick else 1024)
    _say(f"colorlab demo on the embedded sample set — device: {describe_device(dev)}")

    _say(f"[1/5] preparing {n_train} training patches and the held-out photos at {size}x{size}")
    train = prepare("sample", split="train", size=size, n=n_train, seed=seed)
    valid = prepare("sample", split="val", size=size, n=16 if quick else 48, seed=seed)
    figs = [_channels_figure(out),
            save_figure(patch_grid(train.images[:32], cols=8, title="training patches (random crops at several zooms)"),
                        out / "patches.png")]

    _say("[2/5] the ab prior of the training patches (Zhang's 313 bins)")
    prior = prior_for(train)

    models, histories = {}, {}
    for i, (name, loss) in enumerate([("U-Net MSE", "mse"), ("U-Net blend", "blend")]):
        _say(f"[{3 + i}/5] training {name} for {epochs} epochs")
        res = train_colorizer(train, valid, model="unet", loss=loss, prior=prior if loss != "mse" else None,
                              epochs=epochs, bs=32, lr=3e-3, device=dev, out_dir=out / loss, seed=seed,
                              progress=True)
        models[name] = res.model.eval()
        histories[name] = res.history

    _say("[5/5] evaluating on the held-out photos")
    table = evaluate(models, valid, prior=prior, train=train, device=dev)
    figs.insert(0, _gallery(out, models, valid, dev))
    info = {"device": describe_device(dev), "epochs": epochs, "train patches": len(train),
            "held-out patches": len(valid), "size": size, "seconds": round(time.time() - t0, 1)}
    metrics = {"models": json.loads(table.to_json(orient="index")), "notes": table.attrs.get("notes", {}),
               "history": histories, **info}
    atomic_write(out / "metrics.json", lambda tmp: Path(tmp).write_text(json.dumps(metrics, indent=2)))
    _report(out, table, info, figs)
    default = default_checkpoint()
    default.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(out / "blend" / "checkpoint.pt", default)
    shutil.copy2(out / "blend" / "checkpoint.json", default.with_suffix(".json"))

    _say("")
    _say(table.to_string(float_format=lambda v: f"{v:.4g}"))
    for name, why in table.attrs.get("notes", {}).items():
        if name in ("LPIPS", "FID", "colourfulness", "mean ab"):
            _say(f"  {name}: {why}")
    _say("")
    _say(f"wrote {out}/: gallery.png, channels.png, patches.png, metrics.json, report.html "
         f"({time.time() - t0:.0f} s); `colorlab colorize` now uses {default}")
    return {"table": table, "out": out, **info}
