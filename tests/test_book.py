"""The course website (colorlab.course.book), built from the smoke runs the notebook tests already make
(the session fixture ``notebook_runs``: no notebook runs again) and opened in Debian's chromium, driven by
Playwright as in tests/test_browser.py, through a loopback HTTP server on 127.0.0.1.

* the student site: every page loads without a console error and says it was built from smoke runs;
  every image renders (naturalWidth > 0) with meaningful alt text; every link to a page of the site
  (and to an anchor in it) resolves; the "no solution text" check (colorlab.course.leaks) finds nothing;
* the instructor build of one lab, from a copy whose first figure lost its alt text: the same checks
  find the solutions and the image without alt text (they can fail).

Screenshots of two pages are saved in the test's tmp folder (``$COLORLAB_BOOK_SHOTS`` to keep them).
"""
from __future__ import annotations

import functools
import os
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from colorlab.course.book import build_book, executed_notebooks, missing_alt_text
from colorlab.course.exercises import BEGIN
from colorlab.course.leaks import find_leaks
from test_browser import CHROMIUM_FLAGS, _chromium

ROOT = Path(__file__).resolve().parents[1]
# Sphinx 9 deprecations inside sphinx-book-theme and myst-parser (their releases, not this kit)
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:sphinx_book_theme.*",
                                        "ignore::PendingDeprecationWarning:myst_parser.*")
_FILE_NAME = re.compile(r"\.(png|jpe?g|gif|svg|webp)$", re.I)

_PAGE_JS = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = "eager"; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  return {
    images: imgs.map(i => ({src: i.getAttribute("src"), alt: (i.getAttribute("alt") || "").trim(),
                            width: i.naturalWidth})),
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
    smoke: !!document.querySelector(".colorlab-smoke-banner"),
    instructor: !!document.querySelector(".colorlab-instructor-banner"),
  };
}"""


def image_problems(images: list[dict]) -> list[str]:
    """Images that did not render or whose alt text says nothing (empty, a file name, fewer than 3 words)."""
    problems = []
    for im in images:
        alt, name = im["alt"], Path(urlsplit(im["src"] or "").path).name
        if im["width"] == 0:
            problems.append(f"{name}: does not render (naturalWidth 0)")
        if not alt or alt.endswith(name) or _FILE_NAME.search(alt) or len(alt.split()) < 3:
            problems.append(f"{name}: no meaningful alt text ({alt!r})")
    return problems


class _Site:
    """A built site served on 127.0.0.1 (a random free port) while the context is open."""

    def __init__(self, html: Path):
        self.html = html
        handler = functools.partial(_QuietHandler, directory=str(html))
        self.server = _QuietServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._ids: dict[Path, set[str]] = {}

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def pages(self) -> list[str]:
        return sorted(str(p.relative_to(self.html)) for p in self.html.rglob("*.html") if "_static" not in p.parts)

    def broken(self, link: str) -> str | None:
        """Why ``link`` (absolute) is broken, if it points into the site; None when fine or external."""
        if not link.startswith(self.url):
            return None
        parts = urlsplit(link)
        target = self.html / unquote(parts.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return f"{link}: no such file"
        if parts.fragment and target.suffix == ".html":
            if target not in self._ids:
                self._ids[target] = set(re.findall(r'\b(?:id|name)="([^"]+)"', target.read_text(errors="replace")))
            if unquote(parts.fragment) not in self._ids[target]:
                return f"{link}: no anchor #{parts.fragment}"
        return None


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a connection the browser dropped: not worth a traceback
        pass


@pytest.fixture(scope="module")
def browser():
    chromium = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing: `make test` installs it (pip install playwright)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS, timeout=30_000)
        try:
            yield b
        finally:
            b.close()


def _visit(browser, site: _Site, shots: dict[str, Path] | None = None, pages=None) -> dict[str, dict]:
    """Every page of ``site`` (or ``pages``) in Chromium: ``{page: {"errors", "images", "links", "smoke",
    "instructor"}}``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    # a request the browser cancels itself when the next page starts (net::ERR_ABORTED) is no failure; a missing
    # file is (the console reports its 404)
    page.on("requestfailed", lambda r: None if "ERR_ABORTED" in str(r.failure) else
            errors.append(f"request failed: {r.url} ({r.failure})"))
    seen = {}
    try:
        for rel in pages or site.pages():
            errors.clear()
            response = page.goto(site.url + rel, wait_until="load")
            redirect = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', (site.html / rel).read_text())
            if redirect:  # the entry page only forwards to the landing page: it must get there
                page.wait_for_url(site.url + redirect.group(1))
                page.wait_for_load_state("load")
            found = page.evaluate(_PAGE_JS)
            status = response.status if response else None
            seen[rel] = {**found, "errors": list(errors) + ([f"HTTP {status}"] if status != 200 else [])}
            if shots and rel in shots:
                figure = page.locator("div.cell_output img").first
                if figure.count():
                    figure.scroll_into_view_if_needed()
                    page.mouse.wheel(0, -250)
                    page.wait_for_timeout(200)
                page.screenshot(path=str(shots[rel]))
    finally:
        context.close()
    return seen


@pytest.fixture(scope="module")
def runs_folder(notebook_runs) -> Path:
    """The folder the suite's smoke runs wrote (``<stem>/<stem>.ipynb``, as ``colorlab run-notebooks``)."""
    folders = {Path(r["output"]).parents[1] for r in notebook_runs.values()}
    assert len(folders) == 1, folders
    return folders.pop()


def test_student_site_in_chromium(runs_folder, browser, tmp_path):
    import nbformat

    built = build_book(tmp_path / "student", runs_folder, repo=ROOT, log=lambda *a: None)
    html = built.parent
    labs = executed_notebooks(runs_folder)
    pages = {p.stem for p in (html / "notebooks").glob("*.html")}
    assert pages == set(labs), f"lab pages {sorted(pages)} != executed labs {sorted(labs)}"
    for stem in labs:  # the source of every alt text: the figure cells' metadata (names the cell to fix)
        nb = nbformat.read(tmp_path / "student" / "src" / "notebooks" / f"{stem}.ipynb", as_version=4)
        assert not missing_alt_text(nb), (f"{stem}: the cells with ids {missing_alt_text(nb)} show a figure without "
                                          f"alt text: set their metadata mystnb.image.alt in notebooks/{stem}.ipynb")
    for doc in ("docs/syllabus.html", "docs/capstone.html", "datasets/scenes/README.html"):
        assert (html / doc).is_file() or not (ROOT / doc.replace(".html", ".md")).is_file(), f"{doc} missing"

    shot_dir = Path(os.environ.get("COLORLAB_BOOK_SHOTS") or tmp_path)
    shot_dir.mkdir(parents=True, exist_ok=True)
    lab = next(s for s in labs if s.startswith("05_")) if any(s.startswith("05_") for s in labs) else next(iter(labs))
    shots = {"docs/index.html": shot_dir / "book_landing.png", f"notebooks/{lab}.html": shot_dir / "book_lab.png"}
    with _Site(html) as site:
        seen = _visit(browser, site, shots)
        broken = sorted({b for info in seen.values() for b in map(site.broken, info["links"]) if b})
    print(f"screenshots: {', '.join(map(str, shots.values()))}")

    assert len(seen) >= len(labs) + 3, sorted(seen)
    problems = [f"{rel}: {e}" for rel, info in seen.items() for e in info["errors"]]
    problems += [f"{rel}: {p}" for rel, info in seen.items() for p in image_problems(info["images"])]
    assert not problems, "\n".join(problems)
    assert not broken, "broken links:\n" + "\n".join(broken)
    content = [rel for rel in seen if rel != "index.html"]  # index.html only redirects to docs/index.html
    assert [rel for rel in content if not seen[rel]["smoke"]] == [], "pages without the smoke-build banner"
    assert not any(info["instructor"] for info in seen.values())
    figures = sum(len(seen[f"notebooks/{s}.html"]["images"]) for s in labs)
    assert figures >= len(labs), f"only {figures} figures on {len(labs)} lab pages"
    assert find_leaks(html, src=ROOT / "notebooks") == []
    assert all(p.stat().st_size > 20_000 for p in shots.values())


def test_instructor_build_shows_solutions_and_the_checks_catch_them(runs_folder, browser, tmp_path):
    """One lab, instructor build, from a copy whose first figure cell lost its alt text: the leak check
    finds the solution blocks, the image check finds the image without alt text."""
    import nbformat

    stem = next(s for s in executed_notebooks(runs_folder) if s.startswith("01_"))
    nb = nbformat.read(runs_folder / stem / f"{stem}.ipynb", as_version=4)
    figure = next(c for c in nb.cells if c.cell_type == "code" and c.metadata.get("mystnb"))
    figure.metadata.pop("mystnb")
    assert any(BEGIN in c.source for c in nb.cells)
    (tmp_path / "executed").mkdir()
    nbformat.write(nb, tmp_path / "executed" / f"{stem}.ipynb")

    built = build_book(tmp_path / "instructor", tmp_path / "executed", instructor=True, repo=ROOT, log=lambda *a: None)
    html = built.parent
    leaks = find_leaks(html, src=ROOT / "notebooks")
    assert any(f"notebooks/{stem}.html" in leak for leak in leaks), leaks
    with _Site(html) as site:
        page = _visit(browser, site, pages=[f"notebooks/{stem}.html"])[f"notebooks/{stem}.html"]
    assert page["instructor"] and page["smoke"]
    assert any("no meaningful alt text" in p for p in image_problems(page["images"])), page["images"]
