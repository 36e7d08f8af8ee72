"""Every lab (01 onwards) reads like a course: a header with prerequisites and measured times, prose with formulas,
"Think" questions with model answers (left out of the exercise copy), a summary and references; no
paper is called by a file number; and `colorlab course export` gives students no solution or answer."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from colorlab.course import export_bundle
from colorlab.core.errors import ColorlabError
from colorlab.course.exercises import BEGIN, END, has_solution
from colorlab.course.notebooks import list_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = list_notebooks(ROOT / "notebooks")
LABS = [p for p in NOTEBOOKS if p.name[:2] != "00"]  # every lab after the set-up notebook
ITEM = re.compile(r"^\s*(\d+)\.\s", re.M)


def _tagged(nb, tag):
    return [i for i, c in enumerate(nb.cells) if tag in c.metadata.get("tags", [])]


def _read(path):
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem)
def test_header_gives_prerequisites_and_measured_times(path):
    head = _read(path).cells[0].source
    for pattern, what in [(r"\*\*Prerequisites:\*\*", "**Prerequisites:**"), (r"\*\*Time:\*\*", "**Time:**"),
                          (r"\d[\d.]*\s*(s|min)\b[^·\n]*2-core CPU \(measured\)", "the full-size time on a 2-core CPU (measured)"),
                          (r"GPU \(estimate", "a GPU time labelled (estimate)")]:
        assert re.search(pattern, head), f"{path.name}: the first cell should give {what}:\n{head}"


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem)
def test_questions_with_model_answers_summary_and_references(path):
    nb = _read(path)
    q, a = _tagged(nb, "questions"), _tagged(nb, "answers")
    assert len(q) == 1 and len(a) == 1 and a[0] == q[0] + 1, \
        f"{path.name}: one markdown cell tagged 'questions', the one after it tagged 'answers'"
    questions, answers = nb.cells[q[0]].source, nb.cells[a[0]].source
    assert questions.startswith("## Think"), f"{path.name}: the questions cell starts with '## Think'"
    n = len(ITEM.findall(questions))
    assert 3 <= n <= 6, f"{path.name}: {n} numbered questions (3 to 6 wanted)"
    assert len(ITEM.findall(answers)) == n, f"{path.name}: {n} questions but {len(ITEM.findall(answers))} answers"
    s = _tagged(nb, "summary")
    assert len(s) == 1 and nb.cells[s[0]].source.startswith("## Summary"), f"{path.name}: a '## Summary' cell"
    refs = nb.cells[-1]
    assert "references" in refs.metadata.get("tags", []) and refs.source.startswith("## References"), \
        f"{path.name}: the last cell is '## References' (tagged 'references')"
    items = [l for l in refs.source.splitlines() if l.lstrip().startswith(("-", "*", "1", "2", "3", "4", "5", "6"))]
    assert items, f"{path.name}: the references cell lists no source"
    for item in items:
        assert re.search(r"(19|20)\d\d|undated", item), f"{path.name}: a reference without a year: {item}"
        assert re.search(r"https?://|no public link", item), f"{path.name}: a reference without a link: {item}"


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem)
def test_prose_length_and_a_formula(path):
    nb = _read(path)
    skip = {i for tag in ("answers", "references", "instructor") for i in _tagged(nb, tag)}
    prose = "\n".join(c.source for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and i not in skip)
    # the explanation only: folded hints and contract tables are the exercises' own
    prose = re.sub(r"<details>.*?</details>", " ", prose, flags=re.S)
    prose = "\n".join(l for l in prose.splitlines() if not l.lstrip().startswith("|"))
    words = len(re.findall(r"[A-Za-z][A-Za-z'’-]*", re.sub(r"\$[^$]*\$", " ", prose)))
    assert 600 <= words <= 2000, f"{path.name}: {words} words of explanation (600–2,000 wanted)"
    assert "$" in prose, f"{path.name}: no formula (LaTeX between $ … $)"


@pytest.mark.parametrize("path", [p for p in LABS if "03" <= p.name[:2] <= "09"], ids=lambda p: p.stem)
def test_a_substantial_exercise_in_labs_03_to_09(path):
    nb = _read(path)
    sizes = []
    for cell in nb.cells:
        if has_solution(cell):
            body = cell.source.split(BEGIN, 1)[1].split(END, 1)[0]
            sizes.append(sum(1 for l in body.splitlines() if l.strip() and not l.strip().startswith("#")))
    assert sizes and max(sizes) >= 6, f"{path.name}: exercise sizes {sizes}; one should be ≥ 6 lines of code"


def test_no_paper_is_called_by_its_file_number():
    pattern = re.compile(r"seed[ _-]?00\d|seed 00\d", re.I)
    hits = []
    for folder, globs in [("notebooks", ["*.ipynb"]), ("exercises", ["*.ipynb"]), ("colorlab", ["**/*.py"]),
                          ("configs", ["*"]), ("datasets", ["**/*.md"]), (".", ["README.md"])]:
        for g in globs:
            for f in (ROOT / folder).glob(g):
                if f.is_file() and pattern.search(f.read_text(errors="ignore")):
                    hits.append(str(f.relative_to(ROOT)))
    assert not hits, f"'seed NNN' still names a paper in {hits}: cite its authors instead"


def test_course_export_refuses_to_mix_into_a_full_folder(tmp_path):
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(ColorlabError, match="not empty"):
        export_bundle(tmp_path, src=ROOT / "notebooks", datasets=ROOT / "datasets")
    with pytest.raises(ColorlabError, match="no such notebook folder"):
        export_bundle(tmp_path / "new", src=tmp_path / "nope", datasets=ROOT / "datasets")
