"""`make bench`: run every bench script in turn; each prints its numbers and writes bench/results/<name>.json."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_train.py", "bench_kmeans.py", "bench_hints.py", "bench_colorize_cli.py", "bench_gpu.py"]

failed = []
for name in SCRIPTS:
    if not (HERE / name).exists():
        continue
    print(f"== {name}", flush=True)
    if subprocess.call([sys.executable, str(HERE / name)]) != 0:
        failed.append(name)
sys.exit(1 if failed else 0)
