"""One source for every time the course quotes: ``docs/times.json``.

The file (a JSON object)::

    {"machines": {"<key>": {"cpu": "...", "capability": "AVX2 | AVX512 ...", "cores": 2, "threads": 2,
                            "one_notebook_at_a_time": true, "load": "quiet | shared, load average N",
                            "date": "YYYY-MM-DD", "source": "how it was measured"}},
     "gpu_rule": "<the one rule every GPU estimate follows>",
     "labs": {"<notebook stem>": {"cpu_s": 14.0, "machine": "<key>", "gpu_s": null,
                                   "student_min": 60}}}

``cpu_s`` is a full-size run (``colorlab run-notebooks --full``) measured on ``machine``; ``gpu_s`` is a
measured GPU time or null, in which case every place quotes :func:`gpu_estimate` of ``cpu_s`` and calls it an
estimate; ``student_min`` is the time a student needs with the exercises.

Every place that quotes a time is *rendered* from the file: :func:`render_header` (a lab's first cell),
:func:`render_readme` (the README's two lab tables and the sentence above the first),
:func:`render_syllabus` (the block between the syllabus's ``times`` markers). A place is right when rendering
it changes nothing; ``tests/test_times.py`` checks exactly that, and ``scripts/update_lab_times.py`` writes
a fresh measurement into the file and renders every place.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from colorlab.core.errors import ColorlabError

__all__ = ["GPU_FLOOR_S", "GPU_RULE", "GPU_SPEEDUP", "fmt_duration", "gpu_estimate", "lab_times", "load_times",
           "missing_entries", "render_header", "render_readme", "render_syllabus", "validate_times", "header_span",
           "machine_line", "record_results", "render_places", "check_places", "lab_notebooks"]

GPU_SPEEDUP = 5.0
GPU_FLOOR_S = 10.0
GPU_RULE = ("GPU ≈ min(CPU, max(10 s, CPU / 5)): training is about 5× faster on a GPU, but data generation, "
            "evaluation, figures and the kernel's start-up stay, about 10 s of every lab; a lab shorter than that is "
            "all fixed cost and gains nothing (no GPU measured any of these)")
MACHINE_KEYS = ("cpu", "capability", "cores", "threads", "one_notebook_at_a_time", "load", "date")
LAB_KEYS = ("cpu_s", "machine", "gpu_s", "student_min")

# "about 45 min with the exercises; the full-size run takes 4 s on a 2-core CPU (measured) and about 10 s on a
# GPU (estimate)": the part of a lab's first cell the file owns ("with the exercises" is the lab's own words).
HEADER = re.compile(r"about (?P<min>\d+) min(?P<with>[^;·\n]*); the full-size run takes [^·\n]*? on a \d+-core CPU "
                    r"\(measured\) and (?:about )?[^·\n]*? on a GPU \((?:estimate|measured)\)")
BEGIN, END = "<!-- times: generated from docs/times.json by scripts/update_lab_times.py; edit that file -->", \
    "<!-- /times -->"


def fmt_duration(seconds: float) -> str:
    """``4 s``, ``114 s``, ``2.2 min``: seconds below two minutes, minutes with one decimal above."""
    return f"{seconds:.0f} s" if seconds < 119.5 else f"{seconds / 60:.1f} min"


def gpu_estimate(cpu_s: float) -> float:
    """The one rule of :data:`GPU_RULE`: ``min(cpu_s, max(10, cpu_s / 5))``."""
    return min(cpu_s, max(GPU_FLOOR_S, cpu_s / GPU_SPEEDUP))


def validate_times(data) -> list[str]:
    """Every problem of a times file's content, in words (empty: valid)."""
    if not isinstance(data, dict):
        return ["the times file must hold a JSON object"]
    problems = [f"missing top-level key {k!r}" for k in ("machines", "gpu_rule", "labs") if k not in data]
    if "gpu_rule" in data and data["gpu_rule"] != GPU_RULE:
        problems.append("gpu_rule must state the rule the estimates follow, colorlab.course.times.GPU_RULE (change both)")
    machines, labs = data.get("machines", {}), data.get("labs", {})
    for key, m in machines.items():
        problems += [f"machine {key!r}: missing {k!r}" for k in MACHINE_KEYS if k not in m]
        if not isinstance(m.get("threads", 0), int) or not isinstance(m.get("cores", 0), int):
            problems.append(f"machine {key!r}: threads and cores are whole numbers")
        if not re.fullmatch(r"\d{4}-\d\d-\d\d", str(m.get("date", ""))):
            problems.append(f"machine {key!r}: date {m.get('date')!r} is not YYYY-MM-DD")
    for stem, lab in labs.items():
        problems += [f"lab {stem!r}: missing {k!r}" for k in LAB_KEYS if k not in lab]
        if lab.get("machine") not in machines:
            problems.append(f"lab {stem!r}: machine {lab.get('machine')!r} is not described under 'machines'")
        for k in ("cpu_s", "gpu_s"):
            v = lab.get(k)
            if not (v is None and k == "gpu_s") and not (isinstance(v, (int, float)) and v > 0):
                problems.append(f"lab {stem!r}: {k} must be a positive number of seconds{' or null' * (k == 'gpu_s')}")
        if not (isinstance(lab.get("student_min"), int) and lab.get("student_min", 0) > 0):
            problems.append(f"lab {stem!r}: student_min must be a positive whole number of minutes")
    return problems


def load_times(path: str | Path) -> dict:
    """Read and validate a times file; a :class:`ColorlabError` lists every problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ColorlabError(f"{path}: cannot read the times file ({e})") from e
    problems = validate_times(data)
    if problems:
        raise ColorlabError(f"{path}: " + "; ".join(problems))
    return data


def missing_entries(stems, data: dict) -> list[str]:
    """The notebook stems that have no entry in the times file."""
    return [s for s in stems if s not in data["labs"]]


def lab_times(data: dict, stem: str) -> dict:
    """One lab's quoted times: ``cpu``, ``gpu`` (formatted), ``gpu_measured``, ``student_min``, ``cores``."""
    if stem not in data["labs"]:
        raise ColorlabError(f"{stem}: no entry in the times file (docs/times.json); measure it with "
                            f"`colorlab run-notebooks --full --only {stem[:2]}` and run scripts/update_lab_times.py")
    lab = data["labs"][stem]
    measured = lab.get("gpu_s") is not None
    return {"cpu": fmt_duration(lab["cpu_s"]), "gpu": fmt_duration(lab["gpu_s"] if measured else gpu_estimate(lab["cpu_s"])),
            "gpu_measured": measured, "student_min": lab["student_min"],
            "cores": data["machines"][lab["machine"]]["cores"], "machine": lab["machine"]}


def header_span(data: dict, stem: str, with_text: str = " with the exercises") -> str:
    """The part of a lab's first cell that the times file owns."""
    t = lab_times(data, stem)
    gpu = f"{t['gpu']} on a GPU (measured)" if t["gpu_measured"] else f"about {t['gpu']} on a GPU (estimate)"
    return (f"about {t['student_min']} min{with_text}; the full-size run takes {t['cpu']} on a {t['cores']}-core CPU "
            f"(measured) and {gpu}")


def render_header(source: str, data: dict, stem: str) -> str:
    """A lab's first cell with its time sentence rendered from the file (error: no sentence, or no entry)."""
    m = list(HEADER.finditer(source))
    if len(m) != 1:
        raise ColorlabError(f"{stem}: its first cell needs exactly one time sentence like "
                            f"'**Time:** {header_span(data, stem) if stem in data['labs'] else 'about N min; ...'}' "
                            f"(found {len(m)})")
    return source[:m[0].start()] + header_span(data, stem, m[0]["with"]) + source[m[0].end():]


def machine_line(data: dict, key: str) -> str:
    """``2-core Intel Xeon (AVX512), 2 threads, one notebook at a time, quiet, 2026-11-25``."""
    m = data["machines"][key]
    at_once = "one notebook at a time" if m["one_notebook_at_a_time"] else "several notebooks at once"
    threads = f"{m['threads']} thread{'s' * (m['threads'] != 1)}"
    return f"{m['cores']}-core {m['cpu']} ({m['capability']}), {threads}, {at_once}, {m['load']}, {m['date']}"


def _lab_ranges(stems) -> str:
    nums = sorted(int(s[:2]) for s in stems)
    parts, start = [], None
    for i, n in enumerate(nums):
        start = n if start is None else start
        if i + 1 == len(nums) or nums[i + 1] != n + 1:
            parts.append(f"{start:02d}" if start == n else f"{start:02d}–{n:02d}")
            start = None
    return ("lab " if len(nums) == 1 else "labs ") + ", ".join(parts)


def _machines_sentence(data: dict) -> str:
    by_machine: dict[str, list[str]] = {}
    for stem, lab in sorted(data["labs"].items()):
        by_machine.setdefault(lab["machine"], []).append(stem)
    return "; ".join(f"{_lab_ranges(stems)} on a {machine_line(data, key)}" for key, stems in by_machine.items())


def _generated_block(text: str, block: str, where: str) -> str:
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ColorlabError(f"{where}: needs one '{BEGIN}' … '{END}' block for the generated times")
    head, rest = text.split(BEGIN, 1)
    return head + BEGIN + "\n" + block + "\n" + END + rest.split(END, 1)[1]


def _readme_note(data: dict) -> str:
    measured = [s for s, lab in data["labs"].items() if lab.get("gpu_s") is not None]
    gpu = ("GPU times are **estimates** by one rule, " + data["gpu_rule"] + "." if not measured else
           f"GPU times were measured for {_lab_ranges(measured)}; the others are **estimates** by one rule, "
           f"{data['gpu_rule']}.")
    return (f"CPU times are full-size runs (`colorlab run-notebooks --full`) measured on one machine per lab: "
            f"{_machines_sentence(data)}. {gpu}")


def _rows(text: str, header_has: str):
    """Indices of the rows ``| NN | …`` of the first table whose header row contains ``header_has``."""
    lines = text.split("\n")
    start = next((i for i, l in enumerate(lines) if l.startswith("|") and header_has in l), None)
    if start is None:
        raise ColorlabError(f"README: no table with a header containing {header_has!r}")
    rows = []
    for i in range(start + 2, len(lines)):
        if not lines[i].startswith("|"):
            break
        cells = lines[i].split("|")
        if re.fullmatch(r" \d\d ", cells[1]):
            rows.append(i)
    return lines, start, rows


def _stem(data: dict, num: str, where: str, problems: list | None) -> str | None:
    found = [s for s in data["labs"] if s[:2] == num]
    if len(found) == 1:
        return found[0]
    message = f"{where}: lab {num} has {'no' if not found else 'more than one'} entry in docs/times.json"
    if problems is None:
        raise ColorlabError(message)
    problems.append(message)
    return None


def render_readme(text: str, data: dict, problems: list | None = None) -> str:
    """The README with the labs table's CPU/GPU cells, the "What each lab shows" time column and the note
    above the labs table rendered from the file. A row whose lab has no entry is left alone and named in
    ``problems`` (raised when no list is given)."""
    text = _generated_block(text, _readme_note(data), "README")
    lines, head, rows = _rows(text, "CPU (measured)")
    any_measured = any(lab.get("gpu_s") is not None for lab in data["labs"].values())
    cells = lines[head].split("|")
    cells[-2] = " GPU (measured or estimate) " if any_measured else " GPU (estimate) "
    lines[head] = "|".join(cells)
    for i in rows:
        cells = lines[i].split("|")
        stem = _stem(data, cells[1].strip(), "README labs table", problems)
        if stem:
            t = lab_times(data, stem)
            cells[-3] = f" {t['cpu']} "
            cells[-2] = f" {t['gpu']} ({'measured' if t['gpu_measured'] else 'estimate'}) " if any_measured \
                else f" {t['gpu']} "
            lines[i] = "|".join(cells)
    text = "\n".join(lines)
    lines, _, rows = _rows(text, "| lab | effect |")
    for i in rows:
        cells = lines[i].split("|")
        stem = _stem(data, cells[1].strip(), "README what each lab shows", problems)
        if stem:
            cells[-2] = f" {lab_times(data, stem)['cpu']} "
            lines[i] = "|".join(cells)
    return "\n".join(lines)


def render_syllabus(text: str, data: dict) -> str:
    """The syllabus with its times table (between the markers) rendered from the file."""
    rows = ["| lab | in class, with the exercises | full-size run, CPU (measured) | GPU |", "|---|---|---|---|"]
    for stem in sorted(data["labs"]):
        t = lab_times(data, stem)
        rows.append(f"| {stem[:2]} `{stem}` | about {t['student_min']} min | {t['cpu']} | "
                    f"{t['gpu']} ({'measured' if t['gpu_measured'] else 'estimate'}) |")
    rows += ["", _readme_note(data)]
    return _generated_block(text, "\n".join(rows), "syllabus")


def record_results(data: dict, record: dict, machine_key: str, machine: dict) -> tuple[dict, list[str]]:
    """Write the full-size times of a ``results.json`` record into ``data`` (measured on ``machine``);
    returns the new data and what was skipped, in words. A new notebook gets an entry (``student_min`` then
    must be filled in by hand: it is left out and validation names it)."""
    if record.get("smoke"):
        raise ColorlabError("a smoke run: the times file holds full-size times (run with --full)")
    data = json.loads(json.dumps(data))
    data["machines"][machine_key] = machine
    skipped = []
    for r in record["results"]:
        if r["status"] != "ok":
            skipped.append(f"{r['notebook']}: {r['status']}, time not recorded")
            continue
        lab = data["labs"].setdefault(r["notebook"], {"gpu_s": None})
        lab.update(cpu_s=round(float(r["seconds"]), 1), machine=machine_key)
        if "student_min" not in lab:
            skipped.append(f"{r['notebook']}: new entry; set its student_min (minutes with the exercises) by hand")
    used = {lab["machine"] for lab in data["labs"].values() if "machine" in lab}
    data["machines"] = {k: v for k, v in data["machines"].items() if k in used}
    return data, skipped


def lab_notebooks(folder: str | Path) -> list[Path]:
    """The ``NN_name.ipynb`` notebooks of ``folder``, in order (as :func:`colorlab.course.notebooks.list_notebooks`,
    without importing torch)."""
    return sorted(p for p in Path(folder).glob("[0-9][0-9]_*.ipynb") if re.fullmatch(r"\d\d_[\w-]+\.ipynb", p.name))


def _first_cell(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    src = cells[0]["source"] if cells else ""
    return "".join(src) if isinstance(src, list) else src


def render_places(root: str | Path, data: dict) -> tuple[list[tuple[Path, str, str]], list[str]]:
    """Every place under ``root`` that quotes a time, rendered from ``data``: ``(changes, problems)`` where a
    change is ``(path, old, new)`` (for a notebook: its first cell's source) and a problem is a place that
    cannot be rendered (a notebook without an entry or without a time sentence, a missing block)."""
    root = Path(root)
    out, problems = [], []
    for path in lab_notebooks(root / "notebooks"):
        old = _first_cell(path)
        try:
            out.append((path, old, render_header(old, data, path.stem)))
        except ColorlabError as e:
            problems.append(f"{path.relative_to(root)}: {e}")
    for name, render in (("README.md", render_readme), ("docs/syllabus.md", render_syllabus)):
        path = root / name
        old = path.read_text() if path.is_file() else ""
        found: list[str] = []
        try:
            out.append((path, old, render(old, data, found) if render is render_readme else render(old, data)))
            problems += [f"{name}: {p}" for p in found]
        except ColorlabError as e:
            problems.append(f"{name}: {e}")
    return out, problems


def _diff_line(quoted: str, wanted: str) -> str:
    """Where two lines differ, with some context: ``quoted: …| 22 s | 22 s |`` / ``file: …| 22 s | 10 s |``."""
    i = next((k for k, (x, y) in enumerate(zip(quoted, wanted)) if x != y), min(len(quoted), len(wanted)))
    start = max(0, i - 70)
    cut = "…" if start else ""
    return f"    quoted: {cut}{quoted[start:i + 50]}\n    file:   {cut}{wanted[start:i + 50]}"


def check_places(root: str | Path, times: str | Path | None = None) -> list[str]:
    """What disagrees with the times file (empty: every quoted time is the file's)."""
    root = Path(root)
    try:
        data = load_times(times or root / "docs" / "times.json")
    except ColorlabError as e:
        return [str(e)]
    changes, problems = render_places(root, data)
    for path, old, new in changes:
        if old != new:
            diff = [_diff_line(a, b) for a, b in zip(old.splitlines(), new.splitlines()) if a != b]
            problems.append(f"{path.relative_to(root)}: a time disagrees with docs/times.json\n" + "\n".join(diff))
    return problems
