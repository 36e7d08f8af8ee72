"""The course-staff commands of the ``colorlab`` CLI: ``course release``, ``course autograde``, ``course guide``,
``course book``."""
from __future__ import annotations

from colorlab.course.book import build_book
from colorlab.course.grading import autograde, release
from colorlab.course.guide import write_guide

__all__ = ["cmd_autograde", "cmd_book", "cmd_guide", "cmd_release"]


def cmd_release(args) -> int:
    files = release(args.dir, labs=args.labs, src=args.src, timeout=args.timeout)
    print(f"released {len(files)} notebooks under {args.dir}/release/ (no solutions, hidden tests or model answers):")
    for f in files:
        print(f"  {f}")
    return 0


def cmd_autograde(args) -> int:
    rows = autograde(args.dir, args.lab, args.submissions)
    width = max(len(r["student"]) for r in rows)
    for r in rows:
        print(f"{r['student']:<{width}}  {r['score']:5.1f} / {r['max_score'] or 0:.0f}  {r['status']}")
    print(f"gradebook: {args.dir}/grades.csv; feedback pages: {args.dir}/feedback/<student>/")
    return 0 if all(r["status"] == "graded" for r in rows) else 1


def cmd_guide(args) -> int:
    path = write_guide(args.out, src=args.src, answers=args.answers)
    print(f"wrote the instructor's guide to {path} (for course staff only: it holds every solution)")
    return 0


def cmd_book(args) -> int:
    build_book(args.out, args.executed, instructor=args.instructor, quick=True if args.quick else None)
    if args.instructor:
        print("the instructor build holds every solution and model answer: for course staff only")
    return 0
