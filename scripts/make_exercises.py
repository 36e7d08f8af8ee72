"""Regenerate exercises/ (student versions) from notebooks/ (solutions).

    python scripts/make_exercises.py           # write exercises/
    python scripts/make_exercises.py --check   # exit 1 if exercises/ is out of sync
"""
import argparse
import sys
from pathlib import Path

from colorlab.course.exercises import sync_exercises

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only report files that are out of sync")
    args = p.parse_args()
    changed = sync_exercises(ROOT / "notebooks", ROOT / "exercises", check=args.check)
    for path in changed:
        print(("out of sync: " if args.check else "wrote: ") + str(path.relative_to(ROOT)))
    sys.exit(1 if args.check and changed else 0)
