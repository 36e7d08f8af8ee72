"""Benchmark: `colorlab colorize` of one 1024×768 photo from a cold start (a fresh interpreter each time).

What a user waits for: start-up (Python, torch, the kit's inference modules — never fastai or the
training stage), reading the checkpoint, the photo, the model at its working size, the full-resolution
L and RGB, and writing the PNG. Timed like hyperfine: ``--warmup`` runs first (so the files are in the
page cache, as they are for a user's second command), then ``--runs`` timed runs of the whole command as
a subprocess; min / median / mean / max wall time, and the median CPU time (user + sys) of the process,
which other programs' load inflates much less than the wall time (the load average is recorded too). For reference it also times ``python -c "import torch"`` (the
floor nothing in the kit can lower) and ``colorlab --help``. The model is the kit's default U-Net
(1.93M parameters, trained size 64, random weights: the time does not depend on them). Target ≤ 3 s.

    python bench/bench_colorize_cli.py             # writes bench/results/colorize_cli.json
    python bench/bench_colorize_cli.py --runs 5
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import RESULTS, machine, write  # noqa: E402

TARGET_S = 3.0
#: after the command, in the same interpreter: what did colorizing import?
_IMPORTED = ("import sys; from colorlab.cli import main; code = main(sys.argv[1:]); "
             "print({m: m in sys.modules for m in ('torch', 'torchvision', 'fastai', 'colorlab.training')})")


def _timed(cmd: list[str], runs: int, warmup: int, env: dict) -> dict:
    for _ in range(warmup):
        subprocess.run(cmd, check=True, capture_output=True, env=env)
    times, cpu = [], []
    for _ in range(runs):
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - t)
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(now.ru_utime - used.ru_utime + now.ru_stime - used.ru_stime)
    return {"runs": runs, "min_s": round(min(times), 3), "median_s": round(statistics.median(times), 3),
            "mean_s": round(statistics.fmean(times), 3), "max_s": round(max(times), 3),
            "cpu_median_s": round(statistics.median(cpu), 3)}  # user + sys: less sensitive to other programs' load


def _inputs(folder: Path) -> tuple[Path, Path]:
    import torch
    from PIL import Image

    from colorlab.core.checkpoint import save_checkpoint
    from colorlab.core.io import load_image
    from colorlab.data.sample import sample_photos
    from colorlab.models import count_parameters, create

    photo = folder / "photo.jpg"
    Image.fromarray(load_image(dict(sample_photos("all"))["astronaut"])).resize((1024, 768)).save(photo, quality=92)
    torch.manual_seed(0)
    model = create("unet")
    ckpt = save_checkpoint(folder / "unet.pt", model, {"model": model.config, "size": 64})
    print(f"model: default U-Net, {count_parameters(model):,} parameters; photo 1024x768 JPEG", flush=True)
    return photo, ckpt


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--out", default=None, help="JSON path (default bench/results/colorize_cli.json)")
    args = p.parse_args()
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photo, ckpt = _inputs(tmp)
        env = {**os.environ, "COLORLAB_HOME": str(tmp / "home"), "PYTHONPATH": str(ROOT)}
        env.pop("COLORLAB_PRECISION", None)
        py = sys.executable
        colorize = [py, "-m", "colorlab", "colorize", str(photo), "--out", str(tmp / "out"), "--model", str(ckpt)]
        load_start = os.getloadavg()
        result = {
            "what": "`colorlab colorize` of one 1024x768 photo, a fresh interpreter per run (start-up included)",
            "machine": {**machine(), "cpu_capability": torch.backends.cpu.get_cpu_capability(), "cores": os.cpu_count()},
            "colorize": _timed(colorize, args.runs, args.warmup, env),
            "import_torch": _timed([py, "-c", "import torch"], args.runs, 1, env),
            "help": _timed([py, "-m", "colorlab", "--help"], args.runs, 1, env),
        }
        imported = subprocess.run([py, "-c", _IMPORTED] + colorize[3:], check=True, capture_output=True, text=True,
                                  env=env).stdout.strip().splitlines()[-1]
    result["imported_by_colorize"] = imported
    result["load_average"] = {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in os.getloadavg()]}
    result["target_s"] = TARGET_S
    result["met"] = result["colorize"]["median_s"] <= TARGET_S
    write("colorize_cli", result, args.out)


if __name__ == "__main__":
    main()
