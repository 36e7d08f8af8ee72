"""The GPU check: one command on a bare GPU machine (its own python3 + torch, no .venv), one JSON out.

    python3 scripts/gpu_check.py [--wheels bench/wheels] [--out bench/results/gpu_check.json] [--dry] [--no-lab]

1. Packages the machine lacks (fastai, fastcore, fastprogress, fasttransform, plum, tqdm, PyYAML, ...) are
   unpacked from the wheels brought along with the working tree (``bench/wheels/``: untracked and ignored,
   made with ``pip download --no-deps``; carry it with the tree) into a temporary folder put on
   ``PYTHONPATH`` — nothing is built, no ``.venv``, no network.
2. ``pytest tests/gpu`` (the GPU tests; on a machine without CUDA every one is skipped with "no CUDA device").
3. ``bench/bench_gpu.py``: steady-state training img/s through the kit's ``training_speed`` and the share of
   the device's measured matmul peak.
4. Lab 05's experiment at full size as a plain script (its code cells, no kernel; ``quick = False``).

Each step runs in its own process under a time limit and is recorded (exit status, seconds, the tail of its
output, its results) in one JSON. ``--dry`` (for a machine without a GPU, and the unit test): the same steps,
the bench at toy size on the CPU, lab 05 skipped; every GPU result then says "no CUDA".
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: import name → distribution, for what the kit needs beyond torch, torchvision, scikit-learn/-image, matplotlib,
#: pandas and pytest (a bare GPU machine's own python)
NEEDED = {"fastai": "fastai", "fastcore": "fastcore", "fastprogress": "fastprogress", "fastdownload": "fastdownload",
          "fasttransform": "fasttransform", "plum": "plum_dispatch", "beartype": "beartype", "rich": "rich",
          "markdown_it": "markdown_it_py", "mdurl": "mdurl", "pygments": "pygments", "tqdm": "tqdm",
          "yaml": "pyyaml", "requests": "requests", "certifi": "certifi", "charset_normalizer": "charset_normalizer",
          "idna": "idna", "urllib3": "urllib3", "cloudpickle": "cloudpickle", "psutil": "psutil",
          "fasthtml": "python_fasthtml", "starlette": "starlette", "anyio": "anyio", "itsdangerous": "itsdangerous",
          "multipart": "python_multipart", "narwhals": "narwhals"}
IPYTHON_STUB = '''"""Stand-in for IPython.display where IPython is not installed (a notebook run as a script)."""
def display(*objs, **kw):
    for o in objs:
        print(getattr(o, "filename", None) or repr(o)[:200])
class Image:
    def __init__(self, filename=None, data=None, **kw):
        self.filename = filename
class HTML(Image):
    pass
Markdown = HTML
'''


def unpack_missing(wheels: Path, target: Path) -> dict:
    """Unpack the wheels of every needed package that does not import here into ``target``."""
    missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
    files = {f.name.split("-")[0].lower(): f for f in wheels.glob("*.whl")} if wheels.is_dir() else {}
    unpacked, absent = [], []
    for module in missing:
        wheel = files.get(NEEDED[module].lower())
        if wheel is None:
            absent.append(module)
            continue
        with zipfile.ZipFile(wheel) as z:
            z.extractall(target)
        unpacked.append(wheel.name)
    if importlib.util.find_spec("IPython") is None:
        (target / "IPython").mkdir(exist_ok=True)
        (target / "IPython" / "__init__.py").write_text("")
        (target / "IPython" / "display.py").write_text(IPYTHON_STUB)
        unpacked.append("IPython.display stand-in")
    return {"missing": missing, "unpacked": unpacked, "no_wheel": absent}


def run(cmd: list[str], env: dict, timeout: int, cwd: Path = ROOT) -> dict:
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        rc, out = p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        partial = e.stdout or ""
        rc, out = "timeout", partial.decode(errors="replace") if isinstance(partial, bytes) else partial
    return {"cmd": " ".join(cmd[1:]), "rc": rc, "seconds": round(time.perf_counter() - t, 1), "tail": out[-3000:]}


def junit(path: Path) -> dict:
    if not path.exists():
        return {}
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    cases = []
    for case in suite.iter("testcase"):
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = tag if tag != "skipped" else f"skipped: {node.get('message', '')}"
        cases.append({"test": f"{case.get('classname')}.{case.get('name')}", "outcome": outcome,
                      "seconds": float(case.get("time", 0))})
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    return {**counts, "cases": cases}


def lab_script(notebook: Path, quick: bool, device: str, out_dir: str = "lab05") -> str:
    """The notebook's code cells as one script: magics dropped, ``quick``, ``device`` and ``out_dir`` set after its
    parameters."""
    nb = json.loads(notebook.read_text())
    parts = ["import matplotlib\nmatplotlib.use('Agg')\n"]
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        src = "\n".join(line for line in src.splitlines() if not re.match(r"\s*[%!]", line))
        parts.append(src)
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            parts.append(f"quick = {quick!r}\ndevice = {device!r}\nout_dir = {out_dir!r}")
    return "\n\n".join(parts) + "\n"


def machine() -> dict:
    import torch
    info = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.cuda.is_available(),
            "cpu_capability": str(torch.backends.cpu.get_cpu_capability())}
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        info.update(gpu=p.name, capability=f"{p.major}.{p.minor}", memory_gib=round(p.total_memory / 2**30, 1))
    return info


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheels", default=str(ROOT / "bench" / "wheels"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "gpu_check.json"))
    ap.add_argument("--dry", action="store_true", help="no GPU needed: toy bench on the CPU, lab 05 skipped")
    ap.add_argument("--no-lab", action="store_true", help="skip lab 05")
    ap.add_argument("--pytest-args", default="", help="more arguments for pytest tests/gpu")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    report = {"check": "colorlab GPU check (issue 23)", "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
              "dry": args.dry, "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="colorlab-gpu-check-") as tmp:
        tmp = Path(tmp)
        site = tmp / "site"
        site.mkdir()
        report["packages"] = unpack_missing(Path(args.wheels), site)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT), os.environ.get("PYTHONPATH", "")]),
               "COLORLAB_HOME": str(tmp / "home"), "COLORLAB_OFFLINE": "1", "MPLBACKEND": "Agg",
               "PYTHONDONTWRITEBYTECODE": "1"}
        xml = tmp / "gpu_tests.xml"
        step = run([sys.executable, "-m", "pytest", "tests/gpu", "-q", "-p", "no:cacheprovider", "-rs",
                    f"--junitxml={xml}", *args.pytest_args.split()], env, timeout=300)
        report["gpu_tests"] = {**step, **junit(xml)}
        bench_out = tmp / "bench.json"
        toy = ["--allow-cpu", "--images", "32", "--bs", "8", "--size", "16", "--rounds", "1", "--peak-n", "128"]
        step = run([sys.executable, "bench/bench_gpu.py", "--out", str(bench_out), *(toy if args.dry else [])], env,
                   timeout=240)
        report["bench_gpu"] = {**step, "result": json.loads(bench_out.read_text()) if bench_out.exists() else None}
        if args.dry or args.no_lab or not report["machine"]["cuda"]:
            report["lab05"] = {"status": "skipped" + (" (dry)" if args.dry else " (no CUDA)" if not
                                                      report["machine"]["cuda"] else "")}
        else:
            script = tmp / "lab05.py"
            script.write_text(lab_script(ROOT / "notebooks" / "05_unet_rarity_loss.ipynb", quick=False, device="cuda"))
            step = run([sys.executable, str(script)], {**env, "COLORLAB_QUICK": "0"}, timeout=420, cwd=tmp)
            metrics = sorted((tmp / "lab05").rglob("metrics*.json"))
            report["lab05"] = {**step, "metrics": json.loads(metrics[0].read_text()) if metrics else None}
    report["seconds"] = round(time.perf_counter() - t0, 1)
    report["ok"] = report["gpu_tests"].get("rc") == 0 and report["bench_gpu"].get("rc") == 0 and \
        report["lab05"].get("rc", 0) == 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(json.dumps({k: report[k] for k in ("machine", "seconds", "ok")}, indent=2))
    print(f"wrote {out}")
    return report


if __name__ == "__main__":
    main()
