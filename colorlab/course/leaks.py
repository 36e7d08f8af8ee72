"""The one "no solution text" check: does anything students receive hold the course staff's text?

Used on the student bundle, on nbgrader's released assignments and on the student build of the course
website (an HTML page is read as markup and, line by line, as the text a reader sees, so that highlighted
code counts). The staff's text is every line, 20 characters or longer, that the solution notebooks hold
only in staff places — solution blocks, hidden tests, model answers (cells tagged ``answers``) and
instructor notes (``instructor``) — and nowhere a student sees. The kit's own package code (the wheel
in the bundle) is exempt: the labs need it.
"""
from __future__ import annotations

import html
import json
from html.parser import HTMLParser
from pathlib import Path

from colorlab.course.exercises import BEGIN, END, HIDDEN_BEGIN, HIDDEN_END
from colorlab.course.notebooks import list_notebooks

__all__ = ["MARKERS", "find_leaks", "private_lines", "staff_text"]

#: Markers that never belong in a student's file.
MARKERS = (BEGIN, END, HIDDEN_BEGIN, HIDDEN_END)
_STAFF_CELL_TAGS = {"answers", "instructor"}
_TEXT_SUFFIXES = {".ipynb", ".md", ".html", ".htm", ".txt", ".rst", ".json", ".csv"}


def _split(nb) -> tuple[set[str], set[str]]:
    """(lines in staff places, lines anywhere a student sees) of a solution notebook, stripped."""
    inside, outside = set(), set()
    for cell in nb.cells:
        staff_cell = bool(_STAFF_CELL_TAGS & set(cell.metadata.get("tags", [])))
        block = None
        for line in cell.source.splitlines():
            s = line.strip()
            if s in (BEGIN, HIDDEN_BEGIN):
                block = s
                continue
            if s in (END, HIDDEN_END):
                block = None
                continue
            (inside if block or staff_cell else outside).add(s)
    return inside, outside


def private_lines(nb, min_length: int = 20) -> set[str]:
    """Lines of ``nb`` (a solution notebook) that only staff places hold (stripped, ≥ ``min_length`` chars)."""
    inside, outside = _split(nb)
    return {s for s in inside - outside if len(s) >= min_length}


def staff_text(src: str | Path = "notebooks") -> dict[str, str]:
    """``{line: notebook name}`` for the private lines of every solution notebook in ``src``."""
    import nbformat  # noqa: PLC0415 - jsonschema is slow to import; only checks need it

    found, seen = {}, set()
    for path in list_notebooks(src):
        nb = nbformat.read(path, as_version=4)
        seen |= _split(nb)[1]
        for line in private_lines(nb):
            found.setdefault(line, path.name)
    return {line: name for line, name in found.items() if line not in seen}  # shown in another lab: public


def _text(path: Path) -> str:
    raw = path.read_text(errors="replace")
    if path.suffix == ".ipynb":
        try:  # the cells' text as a student sees it (JSON escapes undone)
            nb = json.loads(raw)
            return "\n".join("".join(c.get("source", "")) + "\n" + json.dumps(c.get("outputs", []))
                             for c in nb.get("cells", []))
        except json.JSONDecodeError:
            return raw
    if path.suffix in (".html", ".htm"):
        return html.unescape(raw)
    return raw


def _shown_lines(path: Path) -> set[str]:
    """An HTML page's lines as a reader sees them, without tags (stripped): a highlighted code line (one
    ``<span>`` per token) reads as the line it shows. Matched whole: inline markup (a hint's `call`) that
    the page drops must not make a longer sentence contain a staff line."""
    if path.suffix not in (".html", ".htm"):
        return set()
    return {s.strip() for s in _TextOf.of(path.read_text(errors="replace")).splitlines()}


class _TextOf(HTMLParser):
    """The text of an HTML page without its tags: a highlighted code line (one ``<span>`` per token)
    reads as the line it shows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @classmethod
    def of(cls, raw: str) -> str:
        parser = cls()
        parser.feed(raw)
        parser.close()
        return "".join(parser.parts)


def find_leaks(where: str | Path, src: str | Path = "notebooks") -> list[str]:
    """Every staff line or marker found in the text files under ``where`` (a folder or a file), as
    ``"file: text"``; empty when students may have it. Wheels, archives and images are not read."""
    where = Path(where)
    files = [where] if where.is_file() else sorted(p for p in where.rglob("*") if p.is_file())
    lines = staff_text(src)
    leaks = []
    for path in files:
        if path.suffix.lower() not in _TEXT_SUFFIXES:
            continue
        text = _text(path)
        rel = path.name if where.is_file() else str(path.relative_to(where))
        leaks += [f"{rel}: marker {m!r}" for m in MARKERS if m in text]
        shown = _shown_lines(path)
        leaks += [f"{rel}: {line[:80]!r} (from {nb})" for line, nb in lines.items() if line in text or line in shown]
    return leaks
