"""Times and numbers the course quotes in prose, checked against their one source.

:mod:`colorlab.course.times` renders every place that quotes a lab's time from ``docs/times.json``; two kinds of
quote are prose that is not rendered, and are checked here instead:

* the full-size times in the instructor's notes (cells tagged ``instructor``, printed by the instructor's guide):
  :func:`check_instructor_notes` against ``docs/times.json``;
* the training benchmark's matmul peaks and what follows from them, quoted by lab 11 and the README:
  :func:`check_peak_quotes` against ``bench/results/train.json`` (:func:`lab11_quotes` gives the strings).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from colorlab.course.times import fmt_duration, lab_notebooks

__all__ = ["check_instructor_notes", "check_peak_quotes", "lab11_quotes", "note_times"]


def lab11_quotes(bench: dict) -> dict:
    """The numbers lab 11 quotes from ``bench/results/train.json`` (the training benchmark's record), as the
    strings the lab prints: peaks, plain fp32 and bf16 + channels_last throughput, FLOP/s and fractions."""
    peak = bench["matmul_peak_tflops"]
    fp32_tflops = bench["plain_fp32_img_per_s"] * bench["train_flops_per_image"] / 1e12
    cand = bench["candidates_img_per_s"]
    return {"fp32_peak": f"{peak['fp32']:.2f}", "bf16_peak": f"{peak['bf16']:.2f}",
            "plain_fp32": f"{bench['plain_fp32_img_per_s']:.1f}", "gflop": f"{bench['train_flops_per_image'] / 1e9:.2f}",
            "fp32_tflops": f"{fp32_tflops:.2f}", "of_fp32_peak": f"{fp32_tflops / peak['fp32']:.0%}".replace("%", " %"),
            "of_bf16_peak": f"{fp32_tflops / peak['bf16']:.0%}".replace("%", " %"),
            "bf16_over_fp32": f"{peak['bf16'] / peak['fp32']:.1f}", "bf16_cl": f"{cand['bf16+cl']:.1f}",
            "fp32_nchw": f"{cand['fp32+NCHW']:.1f}", "size": str(bench["size"]), "batch": str(bench["batch"]),
            "threads": str(bench["threads"])}


# "Full-size run 14 s", "the full run about 130 s on a 2-core CPU", "(4 s full size on a quiet one)"
_NOTE_TIME = re.compile(r"[Ff]ull(?:-size)? run (?:takes )?(?:about )?(?P<a>\d+(?:\.\d+)?) s\b(?P<tail>[^.;()]*)"
                        r"|(?P<b>\d+(?:\.\d+)?) s full size(?P<tail_b>[^.;()]*)")


def note_times(text: str) -> list[tuple[float, str]]:
    """The full-size run times an instructor's note quotes, ``(seconds, the words)``; a quote for another
    condition ("… under load") is not one of them."""
    out = []
    for m in _NOTE_TIME.finditer(text):
        tail = m["tail"] if m["a"] else m["tail_b"]
        if "under load" not in tail:
            out.append((float(m["a"] or m["b"]), m[0].strip()))
    return out


def check_instructor_notes(root: str | Path, data: dict, stems=None) -> list[str]:
    """Full-size times quoted in the cells tagged ``instructor`` (the guide prints them) that disagree with the
    file's CPU time, rounded as the headers print it."""
    problems = []
    for path in lab_notebooks(Path(root) / "notebooks"):
        if (stems and path.stem not in stems) or path.stem not in data["labs"]:
            continue
        quoted = fmt_duration(data["labs"][path.stem]["cpu_s"])
        for cell in json.loads(path.read_text())["cells"]:
            if "instructor" in cell.get("metadata", {}).get("tags", []):
                src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                problems += [f"{path.name}: the instructor's note says '{words}', docs/times.json {quoted}"
                             for seconds, words in note_times(src) if fmt_duration(seconds) != quoted]
    return problems


def check_peak_quotes(root: str | Path, bench_path: str | Path | None = None) -> list[str]:
    """Lab 11 and the README quote the training benchmark's matmul peaks and what follows from them; every one
    must be the record's (``bench/results/train.json``): the numbers of :func:`lab11_quotes` all appear in lab 11,
    every "N TFLOP/s" in lab 11 is one of them, and the README's peak sentence quotes the same two peaks."""
    root = Path(root)
    bench = json.loads(Path(bench_path or root / "bench" / "results" / "train.json").read_text())
    q = lab11_quotes(bench)
    lab = next((p for p in lab_notebooks(root / "notebooks") if p.stem.endswith("_scaling_up")), None)
    if lab is None:
        return ["no scaling-up lab (NN_scaling_up.ipynb) found"]
    text = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                     for c in json.loads(lab.read_text())["cells"])
    problems = []
    needed = {"fp32_peak": f"{q['fp32_peak']} TFLOP/s", "bf16_peak": f"{q['bf16_peak']} TFLOP/s",
              "fp32_tflops": f"{q['fp32_tflops']} TFLOP/s", "of_fp32_peak": f"{q['of_fp32_peak']} of the fp32",
              "of_bf16_peak": f"{q['of_bf16_peak']} of the bf16", "plain_fp32": f"{q['plain_fp32']} img/s",
              "bf16_cl": q["bf16_cl"], "fp32_nchw": q["fp32_nchw"], "gflop": f"{q['gflop']} GFLOP"}
    problems += [f"{lab.name}: does not quote {k} as '{v}' (bench/results/train.json)" for k, v in needed.items()
                 if v not in text]
    allowed = {q["fp32_peak"], q["bf16_peak"], q["fp32_tflops"]}
    problems += [f"{lab.name}: quotes {n} TFLOP/s, which bench/results/train.json does not give ({sorted(allowed)})"
                 for n in re.findall(r"(\d+\.\d+) TFLOP/s", text) if n not in allowed]
    readme = (root / "README.md").read_text()
    peaks = f"{q['fp32_peak']} TFLOP/s fp32, {q['bf16_peak']} bf16"
    if peaks not in readme:
        problems.append(f"README.md: its training-bench paragraph should quote the matmul peaks as '{peaks}' "
                        f"(bench/results/train.json)")
    return problems
