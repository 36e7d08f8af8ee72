"""Sphinx configuration of the course website (built by ``make book`` / ``colorlab course book``).

colorlab.course.book assembles the source folder (it mirrors the repository: docs/, notebooks/,
datasets/<name>/README.md) and writes ``_book_variant.json`` beside this file: which build it is
(student or instructor) and whether the labs ran at smoke size. Nothing is executed here: the
notebooks come already run.
"""
import json
from pathlib import Path

_variant_file = Path(__file__).with_name("_book_variant.json")
_variant = json.loads(_variant_file.read_text()) if _variant_file.is_file() else {}
INSTRUCTOR = bool(_variant.get("instructor"))
QUICK = bool(_variant.get("quick"))

project = "colorlab: deep-learning image colorization" + (" (instructor build)" if INSTRUCTOR else "")
author = "the colorlab course staff"
copyright = "the colorlab authors, MIT licence"
language = "en"

extensions = ["myst_nb"]
root_doc = "docs/index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "**/__pycache__"]
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

# the notebooks are executed by `colorlab run-notebooks` before the build: never again here
nb_execution_mode = "off"
nb_merge_streams = True
nb_output_stderr = "remove"  # progress bars and library warnings: noise on a page
nb_ipywidgets_js = {}  # no widget scripts from a CDN: widget outputs become a sentence (colorlab.course.book)

# MathJax 3 served by the site itself (colorlab.course.book copies it into _static/mathjax): no CDN
if Path(__file__).with_name("_static").joinpath("mathjax", "tex-mml-chtml.js").is_file():
    mathjax_path = "mathjax/tex-mml-chtml.js"

html_theme = "sphinx_book_theme"
html_title = "colorlab course" + (" — instructor build" if INSTRUCTOR else "")
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_context = {"default_mode": "light"}  # the figures are drawn on white
html_favicon = "_static/favicon.png"
html_copy_source = False  # no _sources/ copies of the pages
html_show_sourcelink = False
_banners = []
if QUICK:
    _banners.append('<span class="colorlab-smoke-banner">Smoke build: every output on this site comes from a '
                    "quick run (tiny data, a few training steps), so its numbers and pictures are not the "
                    "labs' results. <code>make book</code> builds the site from full-size runs.</span>")
if INSTRUCTOR:
    _banners.append('<span class="colorlab-instructor-banner">Instructor build: solutions, hidden tests and '
                    "model answers are shown. Never publish it to students.</span>")
html_theme_options = {
    "announcement": " ".join(_banners),
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": False,
}
