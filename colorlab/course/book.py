"""The course website: the labs with their executed outputs, the syllabus, the capstone brief and the
dataset cards, as a static Sphinx site (MyST-NB reads the notebooks; nothing is executed again).

:func:`build_book` assembles a Sphinx source folder that mirrors the repository — ``docs/`` (the
configuration ``docs/conf.py``, the landing page, syllabus, capstone brief), ``notebooks/`` (one page per
lab) and ``datasets/<name>/README.md`` — so a relative link written for the repository works on the site
too, then runs ``sphinx-build`` on it (in this process, pages in parallel). The pages of the labs come from
executed copies (``colorlab run-notebooks --out DIR`` writes ``DIR/<stem>/<stem>.ipynb``):

* the **student** build shows each lab as a student receives it (:func:`student_page`: the
  transformation of :func:`colorlab.course.exercises.make_exercise` — solution blocks become stubs,
  hidden tests, model answers and staff cells go), with the executed run's outputs on every cell that
  survives unchanged in its code;
* the **instructor** build shows the solution notebooks as they ran (solutions, model answers,
  instructor notes): for course staff only.

A site built from smoke runs says so in a banner on every page. Figures take their alt text from
their cell's metadata (``{"mystnb": {"image": {"alt": ...}}}``, MyST-NB's own per-cell image
option): :func:`missing_alt_text` lists the figure cells without one.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import re
import shutil
from pathlib import Path

from colorlab.core.errors import ColorlabError
from colorlab.course.exercises import STAFF_TAGS, has_solution, make_exercise

__all__ = ["VARIANT_FILE", "build_book", "executed_notebooks", "is_smoke", "missing_alt_text", "page_notebook",
           "student_page", "WIDGET_NOTE"]

#: Written next to the copied docs/conf.py: which build this is (read by conf.py).
VARIANT_FILE = "_book_variant.json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ("*An interactive widget is shown here when the lab runs in JupyterLab "
               "(a static page cannot run it).*")
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")


def executed_notebooks(folder: str | Path) -> dict[str, Path]:
    """``{stem: executed copy}`` of a ``colorlab run-notebooks`` output folder (``DIR/<stem>/<stem>.ipynb``;
    a flat folder of ``NN_*.ipynb`` works too)."""
    folder = Path(folder)
    found = {p.stem: p for p in sorted(folder.glob("[0-9][0-9]_*/[0-9][0-9]_*.ipynb")) if p.parent.name == p.stem}
    for p in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        found.setdefault(p.stem, p)
    return dict(sorted(found.items()))


def is_smoke(nb) -> bool:
    """Did papermill run ``nb`` with the smoke parameters (``quick=True``)?"""
    return bool(nb.metadata.get("papermill", {}).get("parameters", {}).get("quick"))


def _has_image(cell) -> bool:
    return any(t in out.get("data", {}) for out in cell.get("outputs", []) for t in _IMAGE_TYPES)


def missing_alt_text(nb) -> list[str]:
    """The ids of the code cells of ``nb`` that show an image but hold no alt text for it (``"#i"``, the
    cell's index, for a cell without an id)."""
    return [c.get("id") or f"#{i}" for i, c in enumerate(nb.cells) if c.cell_type == "code" and _has_image(c)
            and not str(c.metadata.get("mystnb", {}).get("image", {}).get("alt", "")).strip()]


_PROGRESS_BAR = re.compile(r"\d+%\|")  # tqdm's text: "prepare …:  40%|████      | 26/64 [00:01<…]"


def _static_outputs(cell) -> None:
    """Widget views need a kernel: a progress bar goes, any other widget becomes a sentence saying so (no remote
    widget scripts on the site)."""
    kept = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if WIDGET_VIEW in data:
            if _PROGRESS_BAR.search(str(data.get("text/plain", ""))):
                continue
            out["data"] = {"text/markdown": WIDGET_NOTE}
            out.get("metadata", {}).pop(WIDGET_VIEW, None)
        kept.append(out)
    cell["outputs"] = kept


def student_page(nb, name: str = "notebook"):
    """The student version of an executed solution notebook, with the outputs of the cells it keeps.

    A cell whose code the student version changes into a stub loses its outputs (they came from the
    solution); every other kept cell keeps what it printed and drew in the executed run.
    """
    ex = make_exercise(nb, name)  # drops the staff's cells, outputs cleared
    kept = [c for c in nb.cells if not set(c.metadata.get("tags", [])) & set(STAFF_TAGS)]
    if len(kept) != len(ex.cells):
        raise ColorlabError(f"{name}: the student version has {len(ex.cells)} cells, expected {len(kept)}")
    for ran, cell in zip(kept, ex.cells):
        if cell.cell_type == "code" and not has_solution(ran):
            cell.outputs = copy.deepcopy(ran.get("outputs", []))
            cell.execution_count = ran.get("execution_count")
    return ex


def page_notebook(nb, name: str = "notebook", instructor: bool = False):
    """The page of one executed lab: the student version (default) or the solution as it ran."""
    page = copy.deepcopy(nb) if instructor else student_page(nb, name)
    page.cells = [c for c in page.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for cell in page.cells:
        if cell.cell_type == "code":
            _static_outputs(cell)
    page.metadata.pop("widgets", None)
    return page


def _copy_docs(src: Path, root: Path) -> None:
    """docs/ (conf.py, pages, _static) and the dataset cards (datasets/<name>/: README.md and its figures)."""
    ignore = shutil.ignore_patterns("_build", "__pycache__", "*.pyc", VARIANT_FILE)
    shutil.copytree(src / "docs", root / "docs", ignore=ignore)
    for card in sorted((src / "datasets").glob("*/README.md")):
        shutil.copytree(card.parent, root / "datasets" / card.parent.name, ignore=ignore)


_LINK = re.compile(r"\]\(([^)\s#:]+)(?:#[^)\s]*)?\)")


def _copy_linked_files(repo: Path, root: Path) -> None:
    """Files of the repository that the copied pages link to (a starter config, a figure) go into the source
    folder at their own path, so the site offers them for download and the link works as in the repository.
    Notebooks and Markdown files are pages or nothing: never copied this way (a solution notebook that is
    not a page must not become a download)."""
    for page in sorted(root.rglob("*.md")):
        where = repo / page.parent.relative_to(root)
        for target in _LINK.findall(page.read_text(errors="replace")):
            path = (where / target).resolve()
            if (path.suffix in (".md", ".ipynb") or not path.is_file() or not path.is_relative_to(repo)
                    or path.stat().st_size > 2_000_000):
                continue
            dest = root / path.relative_to(repo)
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)


def _copy_mathjax(static: Path) -> None:
    """MathJax 3 from the installed wheel ``django-static-mathjax`` (its files only, no Django) into the site's
    _static/mathjax: the pages typeset their formulas without fetching a script from a CDN."""
    spec = importlib.util.find_spec("mathjax")
    es5 = Path(spec.origin).parent / "static" / "mathjax" / "es5" if spec and spec.origin else None
    if es5 is None or not (es5 / "tex-mml-chtml.js").is_file():
        raise ColorlabError("MathJax is missing: install the book extra (pip install -c constraints.txt -e \".[book]\")")
    (static / "mathjax").mkdir(parents=True, exist_ok=True)
    shutil.copy2(es5 / "tex-mml-chtml.js", static / "mathjax" / "tex-mml-chtml.js")
    for part in ("output/chtml", "input/tex/extensions", "ui", "a11y"):
        shutil.copytree(es5 / part, static / "mathjax" / part)


def _write_labs(executed: dict[str, Path], root: Path, instructor: bool, log) -> bool:
    """The lab pages under ``root/notebooks/``; True when any of them ran at smoke size."""
    import nbformat  # noqa: PLC0415 - jsonschema is slow to import

    smoke = False
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    for stem, path in executed.items():
        nb = nbformat.read(path, as_version=4)
        smoke |= is_smoke(nb)
        page = page_notebook(nb, path.name, instructor=instructor)
        missing = missing_alt_text(page)
        if missing:
            log(f"warning: {stem}: the cells with ids {missing} show a figure without alt text "
                "(cell metadata mystnb.image.alt)")
        nbformat.write(page, root / "notebooks" / f"{stem}.ipynb")
    return smoke


def _sphinx_build(src: Path, html: Path, warnings: Path, jobs: int) -> None:
    """sphinx-build in this process (nbformat and jsonschema are loaded once, not again in a subprocess);
    ``jobs`` > 1 reads and writes pages in forked workers."""
    from sphinx.cmd.build import build_main  # noqa: PLC0415 - Sphinx is the book extra's, loaded for a build only

    args = ["-b", "html", "-j", str(jobs), "-q", "-c", str(src / "docs"), str(src), str(html), "-w", str(warnings)]
    status = build_main(args)
    if status:
        tail = warnings.read_text()[-3000:] if warnings.is_file() else ""
        raise ColorlabError(f"sphinx-build failed (exit status {status}); its warnings:\n{tail}")


def build_book(out: str | Path, executed: str | Path, instructor: bool = False, quick: bool | None = None,
               only=None, repo: str | Path = ".", jobs: int = 2, log=print) -> Path:
    """Build the site into ``out/html`` (sources in ``out/src``) from the executed labs under ``executed``.

    ``quick``: the banner saying the outputs are from smoke runs; by default shown when any lab ran with
    smoke parameters. ``only``: lab numbers or stems to include (default: every executed lab).
    Returns the site's entry page ``out/html/index.html``.
    """
    out, repo = Path(out).resolve(), Path(repo).resolve()
    labs = executed_notebooks(executed)
    if only:
        labs = {s: p for s, p in labs.items() if any(s == o or s.startswith(f"{o}_") for o in map(str, only))}
    if not labs:
        raise ColorlabError(f"no executed lab notebooks under {executed} (run `colorlab run-notebooks --out DIR`)")
    if not (repo / "docs" / "conf.py").is_file():
        raise ColorlabError(f"{repo}/docs/conf.py not found: run from the repository root (or pass repo=)")
    src, html = out / "src", out / "html"
    for folder in (src, html):
        shutil.rmtree(folder, ignore_errors=True)
    _copy_docs(repo, src)
    _copy_linked_files(repo, src)
    _copy_mathjax(src / "docs" / "_static")
    smoke = _write_labs(labs, src, instructor, log)
    variant = {"instructor": instructor, "quick": smoke if quick is None else quick}
    (src / "docs" / VARIANT_FILE).write_text(json.dumps(variant) + "\n")
    _sphinx_build(src, html, out / "warnings.txt", jobs)
    # the entry page: the landing page lives at docs/index (the source mirrors the repository)
    (html / "index.html").write_text('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                                     '<meta http-equiv="refresh" content="0; url=docs/index.html">'
                                     '<link rel="icon" href="_static/favicon.png">'
                                     '<title>colorlab course</title></head><body>'
                                     '<a href="docs/index.html">colorlab course</a></body></html>\n')
    log(f"{'instructor' if instructor else 'student'} site{' (smoke runs)' if variant['quick'] else ''} "
        f"of {len(labs)} labs: {html / 'index.html'}")
    return html / "index.html"
