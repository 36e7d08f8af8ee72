"""Write measured full-size times into the labs' headers.

    colorlab run-notebooks --full --out runs/full          # writes runs/full/results.json
    python scripts/update_lab_times.py runs/full/results.json

Each lab's first cell says "the full-size run takes <T> on a 2-core CPU (measured) and about <G> on
a GPU (estimate)". <T> comes from the results file; <G> = max(10 s, T / 5): once training runs on a
GPU, data generation, evaluation and figures dominate a lab (an estimate: no GPU measured it).
Regenerate exercises/ afterwards (scripts/make_exercises.py).
"""
import argparse
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
PATTERN = re.compile(r"the full-size run takes [^·\n]*? on a 2-core CPU \(measured\) and about [^·\n]*? on a GPU \(estimate\)")


def fmt(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", help="results.json written by `colorlab run-notebooks --full`")
    args = p.parse_args()
    record = json.loads(Path(args.results).read_text())
    if record.get("smoke"):
        sys.exit(f"{args.results}: a smoke run; the headers give full-size times (run with --full)")
    for r in record["results"]:
        path = ROOT / "notebooks" / f"{r['notebook']}.ipynb"
        if r["status"] != "ok" or not path.is_file():
            print(f"skipped {r['notebook']}: {r['status']}")
            continue
        nb = nbformat.read(path, as_version=4)
        text = (f"the full-size run takes {fmt(r['seconds'])} on a 2-core CPU (measured) and about "
                f"{fmt(max(10.0, r['seconds'] / 5))} on a GPU (estimate)")
        new, n = PATTERN.subn(text, nb.cells[0].source)
        if n != 1:
            print(f"skipped {path.name}: its first cell has no time sentence to update")
            continue
        nb.cells[0].source = new
        nbformat.write(nb, path)
        print(f"{path.name}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
