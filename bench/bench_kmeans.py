"""Benchmark: Dominant Colour Descriptors with the batched torch k-means vs scikit-learn per image.

Both cluster the same Lab pixels of N images (64×64 by default) with the same k, the same
number of Lloyd iterations and k-means++ seeding; we report images/s for each, the speed
ratio and the mean inertia ratio (cluster quality, both scored on all pixels). The kit's
k-means iterates over a weighted colour histogram of each image (cells of ``--step`` Lab units,
``colorlab.profiles.descriptors.DCD_STEP``, as the dominant colours use); ``--step 0`` clusters raw pixels.
Target on a 2-core CPU: ≥ 10× faster with inertia within 1 %.

Timing on a shared machine: the images are split into ``--rounds`` chunks and the two sides take
turns chunk by chunk; each side's speed is its best chunk (a burst of other programs' work hits
one chunk, not the result). The totals over all chunks are reported too, with the CPU's model name
and the load average (1, 5, 15 min) at the start and at the end of the run.

    python bench/bench_kmeans.py            # 10,000 images, writes bench/results/kmeans.json
    python bench/bench_kmeans.py --n 200    # a quick run
    python bench/bench_kmeans.py --threads 1   # both sides single-threaded (fair on a busy machine)

On a shared 2-core machine, 2-thread torch runs on small tensors collapse when other jobs
compete for the cores (OpenMP threads wait for each other); ``--threads 1`` limits torch and
scikit-learn's OpenMP/BLAS pools alike, so the comparison stays like for like.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from colorlab.core.color import rgb_to_lab  # noqa: E402
from colorlab.core.device import describe_device, get_device  # noqa: E402
from colorlab.profiles.descriptors import DCD_STEP  # noqa: E402
from colorlab.profiles.kmeans import batched_kmeans  # noqa: E402
from colorlab.training.speed import cpu_model  # noqa: E402


def synthetic_images(n: int, size: int = 64, seed: int = 0) -> torch.Tensor:
    """Photo-like uint8 images ``(n, 3, size, size)``: smooth blobs of 6 random colours plus noise."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for s in range(0, n, 1000):
        m = min(1000, n - s)
        palette = torch.rand(m, 6, 3, generator=g)
        layout = torch.randint(0, 6, (m, 8, 8), generator=g)
        img = palette[torch.arange(m)[:, None, None], layout].permute(0, 3, 1, 2)
        img = torch.nn.functional.interpolate(img, size=(size, size), mode="bilinear", align_corners=False)
        img = img + 0.04 * torch.randn(img.shape, generator=g)
        out.append((img.clamp(0, 1) * 255).round().to(torch.uint8))
    return torch.cat(out)


def run(n: int, size: int, k: int, iters: int, batch_size: int, device: str, sklearn_n: int | None, seed: int,
        threads: int = 0, step: float = DCD_STEP, rounds: int = 5) -> dict:
    from contextlib import nullcontext

    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    if threads > 0:
        torch.set_num_threads(threads)
    limit = threadpool_limits(threads) if threads > 0 else nullcontext()

    dev = get_device(device)
    load_start = list(_loadavg())
    imgs = synthetic_images(n, size, seed)
    lab = rgb_to_lab(imgs).permute(0, 2, 3, 1).reshape(n, size * size, 3).contiguous()
    m = n if sklearn_n is None else min(n, sklearn_n)
    pts = lab[:m].numpy().astype(np.float32)

    def ours_on(lo, hi):
        out = []
        for s in range(lo, hi, batch_size):
            out.append(batched_kmeans(lab[s:min(s + batch_size, hi)].to(dev), k, iters, seed=seed + s,
                                      step=step or None).inertia.cpu())
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return out

    def sklearn_on(lo, hi):
        with limit:
            return [KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=iters, tol=0.0, algorithm="lloyd",
                           random_state=seed + i).fit(pts[i]).inertia_ for i in range(lo, hi)]

    ours_on(0, min(batch_size, n))  # warm-up (Lab points are computed beforehand for both sides)
    sklearn_on(0, min(2, m))
    ours, ref, t_torch, t_sk = [], [], [], []
    # torch chunks hold whole batches (the batches one pass would run); scikit-learn's are as many
    t_edges = sorted({(n * r // rounds) // batch_size * batch_size for r in range(rounds)} | {n})
    chunks = len(t_edges) - 1
    s_edges = [m * r // chunks for r in range(chunks + 1)]
    for r in range(chunks):
        t0 = time.perf_counter()
        ours += ours_on(t_edges[r], t_edges[r + 1])
        t_torch.append((t_edges[r + 1] - t_edges[r], time.perf_counter() - t0))
        t0 = time.perf_counter()
        ref += sklearn_on(s_edges[r], s_edges[r + 1])
        t_sk.append((s_edges[r + 1] - s_edges[r], time.perf_counter() - t0))
    ours = torch.cat(ours).double()
    ref = np.asarray(ref)

    torch_ips = max(c / t for c, t in t_torch if c)
    sk_ips = max(c / t for c, t in t_sk if c)
    torch_total = n / sum(t for _, t in t_torch)
    sk_total = m / sum(t for _, t in t_sk)
    inertia_ratio = float(ours[:m].mean() / ref.mean())
    return {
        "benchmark": "dominant colours: batched torch k-means vs scikit-learn KMeans per image",
        "images": n, "sklearn_images": m, "size": size, "k": k, "iters": iters, "init": "k-means++",
        "batch_size": batch_size, "histogram_step": step or None, "device": describe_device(dev),
        "torch_threads": torch.get_num_threads(),
        "threads_limit": threads or "library defaults",
        "load_average": load_start, "load_average_end": list(_loadavg()),
        "cpu": cpu_model(), "cpu_capability": torch.backends.cpu.get_cpu_capability(), "torch": torch.__version__,
        "rounds": rounds, "timing": "best chunk of each side, chunks interleaved",
        "torch_images_per_s": round(torch_ips, 1), "sklearn_images_per_s": round(sk_ips, 1),
        "speedup": round(torch_ips / sk_ips, 2),
        "torch_images_per_s_overall": round(torch_total, 1), "sklearn_images_per_s_overall": round(sk_total, 1),
        "speedup_overall": round(torch_total / sk_total, 2),
        "torch_mean_inertia": float(ours[:m].mean()), "sklearn_mean_inertia": float(ref.mean()),
        "inertia_ratio": round(inertia_ratio, 4),
        "targets": {"speedup_ge_10": torch_ips / sk_ips >= 10, "inertia_within_1pct": abs(inertia_ratio - 1) <= 0.01},
    }


def _loadavg():
    try:
        import os
        return tuple(round(x, 2) for x in os.getloadavg())
    except (OSError, AttributeError):
        return ()


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="number of images (default 10,000)")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--k", type=int, default=5, help="dominant colours per image")
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=64, help="images per torch k-means call")
    ap.add_argument("--threads", type=int, default=0,
                    help="limit torch and scikit-learn to this many threads (0: library defaults)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--sklearn-n", type=int, default=None,
                    help="time scikit-learn on only the first N images (default: all of them)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--step", type=float, default=DCD_STEP,
                    help=f"histogram cell size in Lab units (default {DCD_STEP}, the kit's; 0: raw pixels)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved chunks; each side's best chunk counts")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "kmeans.json"))
    a = ap.parse_args(argv)
    res = run(a.n, a.size, a.k, a.iters, a.batch_size, a.device, a.sklearn_n, a.seed, a.threads, a.step, a.rounds)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    print(f"wrote {out}")
    return res


if __name__ == "__main__":
    main()
