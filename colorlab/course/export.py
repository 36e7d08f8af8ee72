"""``colorlab course export DIR``: the bundle students get, and all they need.

* ``wheels/colorlab_kit-<version>-py3-none-any.whl`` — the package, built from the source tree (the
  distribution is ``colorlab-kit``; the bare name ``colorlab`` on the public index is an unrelated
  library: never install it);
* ``exercises/`` — the student notebooks (solutions become stubs, hidden tests and model answers are
  gone, and so are the staff's cells), with nbgrader's cell metadata so a copy can be autograded;
* ``datasets/`` — every dataset's card (README and figures);
* ``constraints-portable.txt`` — the tested versions, for machines that bring their own PyTorch;
* ``README.md`` — install lines for Linux, macOS/Windows and hosted Jupyter, and how grading works.

No solution notebook, model answer, instructor note or stored answer: :func:`colorlab.course.leaks.find_leaks`
checks the bundle by content.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from colorlab.core.errors import ColorlabError
from colorlab.course.exercises import make_exercise, notebook_text
from colorlab.course.notebooks import list_notebooks

__all__ = ["DISTRIBUTION", "STUDENT_README", "build_wheel", "export_bundle"]

DISTRIBUTION = "colorlab-kit"

STUDENT_README = """\
# colorlab — the labs

Twelve notebooks, `exercises/00_…` to `exercises/11_…`, teach deep-learning image colorization
from the Lab colour space to a colorizer you can steer with colour hints. Work through them in order;
each lab's first cell says what it builds on and how long it takes.

## Set up once

The kit is the wheel in `wheels/` ({wheel}). Install that file, never a package called "colorlab"
from the public package index: that name belongs to an unrelated colour library, which would even hide
this kit's `import colorlab`.

**Linux** (Python 3.11 or newer):

    python3 -m venv .venv && . .venv/bin/activate
    pip install "./wheels/{wheel}[metrics]"       # PyTorch comes with it (a few GB)
    jupyter lab exercises/00_setup_and_data.ipynb

**macOS, Windows**: install PyTorch for your machine first, then the wheel with the tested versions of
everything else:

    python -m venv .venv
    . .venv/bin/activate                  # Windows: .venv\\Scripts\\activate
    pip install torch torchvision
    pip install -c constraints-portable.txt "./wheels/{wheel}[metrics]"
    jupyter lab exercises/00_setup_and_data.ipynb

**Hosted Jupyter** (JupyterHub, Colab and the like: PyTorch is usually there already): upload
`wheels/{wheel}` and the `exercises/` notebooks, then in the first cell of a notebook:

    %pip install ./{wheel}

and restart the kernel once.

Everything runs on a laptop CPU with no network: the labs train on `scenes`, a drawn dataset the
kit generates (see `datasets/scenes/README.md`), and on a small embedded photo set. Real datasets
(Tiny ImageNet, Oxford Flowers, Places365, any folder of photos) are described in `datasets/`.

## How the exercises work

* A cell marked **Exercise** says what to write and gives its contract (what goes in, what comes out);
  the hints below it are folded: open one at a time, only when you are stuck.
* The exercise cell raises `NotImplementedError` until you replace that line with your code.
* The cell after it **checks** your answer on inputs it builds itself and tells you what is wrong.
* Your code is not only checked: the lab's experiment then runs on it. While it is missing or fails its
  check, the lab says so in one line and uses the kit's own version, so the notebook still runs.
* Before each training run you are asked to **predict** a number; the run then shows yours beside the result.
* Each lab ends with **Think** questions: write your answers in the cell below them.
* `quick = True` in a lab's parameters cell runs every experiment small and fast (seconds) — handy for a
  first pass; set it back to `False` for the real experiment.

## How you are graded

Your course staff grade the notebooks with nbgrader:

* every exercise is worth its stars (★ = 1 point, ★★ = 2, ★★★ = 3); its check cell is run again on
  your submission, together with **hidden tests** on inputs you have not seen — so make your code
  right, not just right for the visible check;
* the Think answers are read and graded by hand;
* an exercise answered by handing back the kit's own function (`my_x = colorlab…x`) gets no points: the
  kit is there to compare with and to fall back on, the exercise is to write it yourself;
* deleting or editing a check cell changes nothing: the grader puts the original back.
"""


def build_wheel(dst: str | Path, root: str | Path | None = None) -> Path:
    """Build the kit's wheel from the source tree ``root`` (default: the checkout this package runs from)
    into ``dst``; returns its path. Offline: the build uses the setuptools already installed."""
    root = Path(root) if root else Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or not (root / "colorlab" / "__init__.py").is_file():
        raise ColorlabError(f"{root}: not a colorlab source tree (no pyproject.toml): export from a checkout")
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:  # a clean copy: no build/ or egg-info left in the checkout
        tree = Path(tmp) / "src"
        tree.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (root / name).is_file():
                shutil.copyfile(root / name, tree / name)
        shutil.copytree(root / "colorlab", tree / "colorlab",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                               "--quiet", "-w", str(dst), str(tree)], capture_output=True, text=True)
    wheels = sorted(dst.glob("colorlab_kit-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise ColorlabError(f"building the wheel failed:\n{(proc.stderr or proc.stdout)[-1500:]}")
    return wheels[-1]


def export_bundle(dst: str | Path, src: str | Path = "notebooks", datasets: str | Path = "datasets",
                  force: bool = False, root: str | Path | None = None) -> list[Path]:
    """Write the student bundle into ``dst``; returns the files written.

    ``src``: the solution notebooks; ``datasets``: the folder of dataset cards (their figures are
    copied too); ``root``: the source tree the wheel is built from. ``dst`` must not exist or be empty,
    unless ``force`` (its old files are then replaced).
    """
    import nbformat  # loads jsonschema (about a second): not for every `import colorlab.course`

    src, datasets, dst = Path(src), Path(datasets), Path(dst)
    notebooks = list_notebooks(src)  # a clear error when src is not a notebook folder
    if dst.exists() and any(dst.iterdir()) and not force:
        raise ColorlabError(f"{dst} exists and is not empty: choose a new folder, or pass --force to replace it")
    if not datasets.is_dir():
        raise ColorlabError(f"{datasets}: no datasets folder (run from the colorlab repository, or pass --datasets)")
    if dst.exists() and force:
        for sub in ("exercises", "datasets", "wheels"):
            shutil.rmtree(dst / sub, ignore_errors=True)
    written = [build_wheel(dst / "wheels", root)]
    (dst / "exercises").mkdir(parents=True, exist_ok=True)
    for p in notebooks:
        out = dst / "exercises" / p.name
        out.write_text(notebook_text(make_exercise(nbformat.read(p, as_version=4), p.name)))
        written.append(out)
    for folder in sorted(d for d in datasets.iterdir() if d.is_dir()):
        for f in sorted(folder.iterdir()):
            if f.is_file() and (f.name == "README.md" or f.suffix.lower() in (".png", ".jpg", ".svg")):
                out = dst / "datasets" / folder.name / f.name
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, out)
                written.append(out)
    source_root = Path(root) if root else Path(__file__).resolve().parents[2]
    if (source_root / "constraints-portable.txt").is_file():
        shutil.copyfile(source_root / "constraints-portable.txt", dst / "constraints-portable.txt")
        written.append(dst / "constraints-portable.txt")
    (dst / "README.md").write_text(STUDENT_README.format(wheel=written[0].name))
    written.append(dst / "README.md")
    return written
