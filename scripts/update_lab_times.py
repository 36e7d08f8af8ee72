"""Record measured full-size times in docs/times.json and render every place that quotes a time.

    colorlab run-notebooks --full --workers 1 --out runs/full        # writes runs/full/results.json
    python scripts/update_lab_times.py runs/full/results.json --load "quiet, load average 0.3"
    python scripts/update_lab_times.py                                # only render from docs/times.json
    python scripts/update_lab_times.py --check                        # exit 1 when a place disagrees

docs/times.json is the one source (format: colorlab.course.times). A results file updates the entries of the
notebooks it ran, measured on the machine it describes (CPU name and cores from the results file, the
capability from torch on this machine, threads = cores / workers as the runner sets them, the load you give:
the results file does not record it). Then every place is rendered from the file: each lab's first cell, the
README's labs table (CPU and GPU columns, the note above it) and its "What each lab shows" time column, and
the syllabus's times table; then scripts/make_exercises.py regenerates exercises/ from the notebooks.
A notebook without an entry, or without a time sentence in its first cell, is reported and left alone.
"""
import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from colorlab.core.errors import ColorlabError  # noqa: E402
from colorlab.course.times import check_places, load_times, record_results, render_places, validate_times  # noqa: E402

TIMES = ROOT / "docs" / "times.json"


def describe_machine(record: dict, results: Path, load: str) -> tuple[str, dict]:
    """The machine of a results file: its key and its entry for the times file."""
    import torch  # noqa: PLC0415 - only when recording

    cores, workers = int(record.get("cores") or 1), int(record.get("workers") or 1)
    date = dt.date.fromtimestamp(results.stat().st_mtime).isoformat()
    cpu = " ".join(str(record.get("cpu", "unknown CPU")).replace("(R)", "").replace("(TM)", "").split())
    key = f"{cpu.split()[0].lower() if cpu else 'cpu'}-{cores}core-{date}"
    return key, {"cpu": cpu, "capability": torch.backends.cpu.get_cpu_capability(), "cores": cores,
                 "threads": max(1, cores // workers), "one_notebook_at_a_time": workers == 1, "load": load,
                 "date": date, "source": f"`colorlab run-notebooks --full --workers {workers}` ({results.name})"}


def write_places(changes) -> list[str]:
    import nbformat  # noqa: PLC0415 - jsonschema is slow to import

    from colorlab.course.exercises import notebook_text  # noqa: PLC0415 - the repository's notebook format

    written = []
    for path, old, new in changes:
        if old == new:
            continue
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            nb.cells[0].source = new
            path.write_text(notebook_text(nb))
        else:
            path.write_text(new)
        written.append(str(path.relative_to(ROOT)))
    return written


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="?", help="results.json written by `colorlab run-notebooks --full`")
    p.add_argument("--load", help="the machine's load during the run, e.g. 'quiet, load average 0.3' "
                                  "(required with a results file: it does not record the load)")
    p.add_argument("--machine", help="key for the machine in docs/times.json (default: cpu-cores-date)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 when a place disagrees")
    p.add_argument("--no-exercises", action="store_true", help="do not run scripts/make_exercises.py afterwards")
    args = p.parse_args()
    if args.check:
        problems = check_places(ROOT)
        print("\n".join(problems) or "every quoted time agrees with docs/times.json")
        return 1 if problems else 0
    data = json.loads(TIMES.read_text())
    if args.results:
        if not args.load:
            p.error("--load is required with a results file (say e.g. 'shared, load average 3.2')")
        results = Path(args.results)
        record = json.loads(results.read_text())
        key, machine = describe_machine(record, results, args.load)
        try:
            data, notes = record_results(data, record, args.machine or key, machine)
        except ColorlabError as e:
            sys.exit(f"{results}: {e}")
        for note in notes:
            print(f"note: {note}")
        problems = validate_times(data)
        TIMES.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        if problems:
            sys.exit(f"{TIMES.relative_to(ROOT)} written but incomplete: " + "; ".join(problems))
        print(f"{TIMES.relative_to(ROOT)}: {len(record['results'])} notebook(s) recorded on {args.machine or key}")
    changes, problems = render_places(ROOT, load_times(TIMES))
    for path in write_places(changes):
        print(f"rendered {path}")
    for problem in problems:
        print(f"NOT RENDERED {problem}")
    if not args.no_exercises:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_exercises.py")], check=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
