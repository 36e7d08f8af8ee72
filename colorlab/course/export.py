"""``colorlab course export DIR``: the bundle students get.

The bundle holds the exercise notebooks (generated afresh from the solution notebooks: solution
blocks become stubs, model answers become an empty "Your answers" cell), every dataset's README
with its figures, and a README for students. Nothing else: no solution notebook, no test data.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from colorlab.core.errors import ColorlabError
from colorlab.course.exercises import make_exercise, notebook_text
from colorlab.course.notebooks import list_notebooks

__all__ = ["export_bundle"]

STUDENT_README = """\
# colorlab — the labs

Twelve notebooks, `exercises/00_…` to `exercises/11_…`, teach deep-learning image colorization
from the Lab colour space to a colorizer you can steer with colour hints. Work through them in order;
each lab's first cell says what it builds on and how long it takes.

## Set up once

    python -m venv .venv && . .venv/bin/activate     # Windows: .venv\\Scripts\\activate
    pip install "colorlab[metrics]"                   # or, from the course repository: pip install -e .
    jupyter lab                                        # open exercises/00_setup_and_data.ipynb

Everything runs on a laptop CPU with no network: the labs train on `scenes`, a drawn dataset the
kit generates (see `datasets/scenes/README.md`), and on a small embedded photo set. Real datasets
(Tiny ImageNet, Oxford Flowers, Places365, any folder of photos) are described in `datasets/`.

## How the exercises work

* A cell marked **Exercise** raises `NotImplementedError` until you replace that line with your code.
* The cell after it **checks** your answer against the kit's reference on inputs it builds itself, and
  tells you what differs. A check can be wrong only in your favour if you hard-code its inputs — don't.
* Each lab ends with **Think** questions: write your answers in the cell below them. Your course staff
  has the model answers.
* Cells that train print a progress bar; set `smoke = True` in the parameters cell for a seconds-long
  run while you debug, then back to `False` for the real experiment.
"""


def export_bundle(dst: str | Path, src: str | Path = "notebooks", datasets: str | Path = "datasets",
                  force: bool = False) -> list[Path]:
    """Write the student bundle into ``dst``; returns the files written.

    ``src``: the solution notebooks; ``datasets``: the folder of dataset READMEs (its figures are
    copied too). ``dst`` must not exist or be empty, unless ``force`` (its old files are then replaced).
    """
    import nbformat  # loads jsonschema (about a second): not for every `import colorlab.course`

    src, datasets, dst = Path(src), Path(datasets), Path(dst)
    notebooks = list_notebooks(src)  # a clear error when src is not a notebook folder
    if dst.exists() and any(dst.iterdir()) and not force:
        raise ColorlabError(f"{dst} exists and is not empty: choose a new folder, or pass --force to replace it")
    if not datasets.is_dir():
        raise ColorlabError(f"{datasets}: no datasets folder (run from the colorlab repository, or pass --datasets)")
    if dst.exists() and force:
        for sub in ("exercises", "datasets"):
            shutil.rmtree(dst / sub, ignore_errors=True)
    written = []
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
    (dst / "README.md").write_text(STUDENT_README)
    written.append(dst / "README.md")
    return written
