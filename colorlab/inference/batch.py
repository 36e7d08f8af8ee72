"""Colorize many files: one clear line per bad file, the rest carry on, a summary at the end."""
from __future__ import annotations

import sys
from pathlib import Path

from colorlab.core.checkpoint import read_checkpoint
from colorlab.core.device import get_device
from colorlab.core.errors import ColorlabError
from colorlab.core.io import IMAGE_EXTENSIONS, save_image
from colorlab.inference.colorize import colorize, default_checkpoint, load_colorizer
from colorlab.models.checkpoint import load_checkpoint

__all__ = ["colorize_paths", "find_images", "describe_training"]


def find_images(inputs) -> list[Path]:
    """Files as given (whatever their suffix) plus image files found recursively in folders."""
    out = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS))
        else:
            out.append(p)
    return out


def describe_training(checkpoint, config: dict | None = None) -> str:
    """One line: which model a checkpoint holds and what it was trained on (from its config, read if not given)."""
    cfg = read_checkpoint(checkpoint)["config"] if config is None else config
    model = cfg.get("model", {})
    what = [f"{cfg['train_images']} images" if cfg.get("train_images") else None,
            f"{cfg['epochs']} epochs" if cfg.get("epochs") else None,
            f"{cfg['size']} px" if cfg.get("size") else None, f"loss {cfg['loss']}" if cfg.get("loss") else None]
    return (f"model: {model.get('name', '?')} from {checkpoint}, trained on {cfg.get('data') or 'unknown data'} "
            f"({', '.join(w for w in what if w)})")


def colorize_paths(inputs, out_dir, model=None, size=None, device="auto", log=print) -> int:
    """Colorize every input into ``out_dir`` (``<stem>_color.png``). Returns the exit status (1 if any failed)."""
    if model is None:
        model = default_checkpoint()
        if not Path(model).is_file():
            raise ColorlabError(f"no --model given and no demo model at {model}: run `make demo` "
                                "(or `colorlab demo`) first, or pass --model CHECKPOINT")
        log(f"using the demo model {model} (pass --model to choose another)")
    if isinstance(model, (str, Path)):
        net, cfg = load_checkpoint(model, device=get_device(device))  # read once: the model and what it learned from
        net, trained = net.eval(), int(cfg.get("size", 64))
        log(describe_training(model, cfg))
    else:
        net, trained = load_colorizer(model, device)
    files = find_images(inputs)
    if not files:
        raise ColorlabError(f"no image files found in {', '.join(map(str, inputs))}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ok = failed = 0
    for f in files:
        try:
            rgb = colorize(f, net, size=size or trained, device=device)
            save_image(out / f"{f.stem}_color.png", rgb)
            ok += 1
        except ColorlabError as e:
            print(f"colorlab: {e}", file=sys.stderr)
            failed += 1
    log(f"colorized {ok} file(s), {failed} failed; output in {out}")
    return 1 if failed else 0
