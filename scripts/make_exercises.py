"""Stamp nbgrader's metadata into notebooks/ (solutions) and regenerate exercises/ (student versions).

    python scripts/make_exercises.py           # stamp notebooks/, write exercises/
    python scripts/make_exercises.py --check   # exit 1 if either is out of date
"""
import argparse
import sys
from pathlib import Path

import nbformat

from colorlab.course.exercises import notebook_text, sync_exercises
from colorlab.course.nbgrader_cells import stamp_nbgrader
from colorlab.course.notebooks import list_notebooks

ROOT = Path(__file__).resolve().parents[1]


def stamp(check: bool) -> list[Path]:
    """The solution notebooks whose nbgrader metadata is missing or stale (re-stamped unless ``check``)."""
    stale = []
    for path in list_notebooks(ROOT / "notebooks"):
        text = notebook_text(stamp_nbgrader(nbformat.read(path, as_version=4), f"lab{path.name[:2]}"))
        if path.read_text() != text:
            stale.append(path)
            if not check:
                path.write_text(text)
    return stale


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only report files that are out of date")
    args = p.parse_args()
    changed = stamp(args.check) + sync_exercises(ROOT / "notebooks", ROOT / "exercises", check=args.check)
    for path in changed:
        print(("out of date: " if args.check else "wrote: ") + str(path.relative_to(ROOT)))
    sys.exit(1 if args.check and changed else 0)
