"""Running the lab notebooks: papermill runs, the staff table, and baselines to hold metrics against.

* :func:`run_notebooks` executes notebooks with papermill (one kernel each, in parallel), and
  :func:`format_table` prints the table course staff read: notebook, status, seconds, metrics.
* :func:`compare_to_baselines` holds ``metrics.json`` against stored values with tolerances.
* :func:`run_notebooks_command` is ``colorlab run-notebooks``; :func:`execute_cells` runs an
  in-memory notebook (what the exercise tests use).

papermill, nbclient and jupyter_client are imported where a notebook is run: they take a second to load.
"""
from __future__ import annotations

import ast
import json
import math
import os
import platform
import re
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

from colorlab.core.errors import ColorlabError
from colorlab.course.notebooks import list_notebooks

__all__ = ["KERNEL", "SMOKE", "run_notebook", "run_notebooks", "format_table", "check_relation",
           "compare_to_baselines", "make_baselines", "update_baselines", "parse_parameters",
           "run_notebooks_command", "execute_cells"]

#: The kernel ``make`` registers (``python -m ipykernel install --sys-prefix --name colorlab``).
KERNEL = "colorlab"
#: Parameters of a quick (smoke) run; each notebook then picks its own quick size (its cell tagged ``quick``).
SMOKE = {"quick": True, "device": "cpu", "seed": 0}


# --- papermill runs ----------------------------------------------------------------------------

def _error_of(nb) -> str | None:
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"cell {i}: {out.get('ename')}: {out.get('evalue', '')}".strip()
    return None


def _unexecuted(nb) -> list[int]:
    """Indices of code cells that did not run (no execution count; papermill's injected cells count too)."""
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip() and c.execution_count is None]


def _set_threads(threads: int | None) -> None:
    if threads:  # several kernels at once: one BLAS / torch thread pool each, not one per core each
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(threads)


def run_notebook(path: str | Path, out_root: str | Path = "runs/notebooks", parameters: dict | None = None,
                 kernel_name: str = KERNEL, start_timeout: int = 120, execution_timeout: int = 600,
                 threads: int | None = None) -> dict:
    """Execute one notebook with papermill into ``out_root/<stem>/`` (its ``out_dir`` parameter too).

    Returns ``{"notebook", "status" ("ok" | "failed"), "seconds", "metrics", "error", "unexecuted",
    "output"}``; never raises for a failing notebook (the error is in the result).
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    path = Path(path)
    out = Path(out_root).resolve() / path.stem
    out.mkdir(parents=True, exist_ok=True)
    params = {**(parameters or {}), "out_dir": str(out)}
    executed = out / path.name
    _set_threads(threads)
    t0 = time.time()
    error = None
    try:
        pm.execute_notebook(str(path), str(executed), parameters=params, kernel_name=kernel_name,
                            start_timeout=start_timeout, execution_timeout=execution_timeout,
                            progress_bar=False, cwd=str(path.parent), log_output=False)
    except PapermillExecutionError as e:
        error = f"cell {e.exec_count}: {e.ename}: {e.evalue}"
    except Exception as e:  # noqa: BLE001 - kernel death, timeouts: one line in the table, not a crash
        error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        if "timed out" in error.lower():
            error += f" (one cell may run {execution_timeout} s: `colorlab run-notebooks --cell-timeout` raises it)"
    seconds = time.time() - t0
    unexecuted = []
    if executed.is_file():
        nb = nbformat.read(executed, as_version=4)
        unexecuted = _unexecuted(nb)
        error = error or _error_of(nb)
    metrics = {}
    if (out / "metrics.json").is_file():
        metrics = json.loads((out / "metrics.json").read_text())
    elif error is None:
        error = "no metrics.json written"
    status = "ok" if error is None and not unexecuted else "failed"
    if status == "failed" and error is None:
        error = f"{len(unexecuted)} code cell(s) never ran"
    return {"notebook": path.stem, "status": status, "seconds": round(seconds, 1), "metrics": metrics,
            "error": error, "unexecuted": unexecuted, "output": str(executed)}


def run_notebooks(paths, out_root: str | Path = "runs/notebooks", parameters: dict | None = None,
                  workers: int = 2, kernel_name: str = KERNEL, start_timeout: int = 120,
                  execution_timeout: int = 600, log=None) -> list[dict]:
    """Run notebooks (``workers`` at a time, each in its own kernel); results in the order of ``paths``."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise ColorlabError(f"no Jupyter kernel named {kernel_name!r}: run `python -m ipykernel install "
                            f"--sys-prefix --name {kernel_name}` (make does it)") from None
    paths = [Path(p) for p in paths]
    kw = dict(out_root=out_root, parameters=parameters, kernel_name=kernel_name, start_timeout=start_timeout,
              execution_timeout=execution_timeout)
    results = []
    if workers <= 1 or len(paths) <= 1:
        for p in paths:
            results.append(run_notebook(p, **kw))
            if log:
                log(_row(results[-1]))
        return results
    threads = max(1, (os.cpu_count() or 2) // workers)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_notebook, p, threads=threads, **kw) for p in paths]
        for f in futures:
            results.append(f.result())
            if log:
                log(_row(results[-1]))
    return results


def execute_cells(nb, parameters: dict | None = None, kernel_name: str = KERNEL, cwd: str | Path = ".",
                  timeout: int = 600, start_timeout: int = 120, allow_errors: bool = True, threads: int | None = None):
    """Execute an in-memory notebook (parameters injected as papermill does) and return it with its outputs.

    With ``allow_errors`` every cell runs even after an error — what the exercise tests need to see
    that *only* the stubs fail.
    """
    from nbclient import NotebookClient
    from papermill.parameterize import parameterize_notebook

    _set_threads(threads)
    if parameters:
        for cell in nb.cells:  # papermill reads every cell's tags
            cell.metadata.setdefault("tags", [])
        nb.metadata.setdefault("papermill", {})
        nb = parameterize_notebook(nb, parameters, report_mode=False)
    NotebookClient(nb, kernel_name=kernel_name, timeout=timeout, startup_timeout=start_timeout,
                   allow_errors=allow_errors, resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


# --- the staff table ---------------------------------------------------------------------------

def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _row(r: dict, max_metrics: int = 4) -> str:
    keys = sorted(r["metrics"])[:max_metrics]
    shown = ", ".join(f"{k}={_fmt(r['metrics'][k])}" for k in keys)
    more = f" (+{len(r['metrics']) - len(keys)})" if len(r["metrics"]) > len(keys) else ""
    tail = shown + more if r["status"] == "ok" else (r["error"] or "")
    return f"{r['notebook']:<34} {r['status']:<6} {r['seconds']:>7.1f}  {tail}"


def format_table(results: list[dict], max_metrics: int = 4) -> str:
    """The staff table: notebook, status, seconds and the first key metrics (or the error)."""
    head = f"{'notebook':<34} {'status':<6} {'seconds':>7}  key metrics"
    lines = [head, "-" * len(head)] + [_row(r, max_metrics) for r in results]
    ok = sum(r["status"] == "ok" for r in results)
    lines.append(f"{ok}/{len(results)} ok in {sum(r['seconds'] for r in results):.0f} s of notebook time")
    return "\n".join(lines)


# --- baselines ---------------------------------------------------------------------------------

_OPS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}
_RELATION = re.compile(r"^(.+?)\s*(>=|<=|>|<)\s*(.+)$")


def _eval_side(expr: str, metrics: dict) -> float:
    """Evaluate one side of a relation: numbers, metric names, ``+ - * /`` and parentheses only."""
    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            got = metrics.get(node.id)
            if not isinstance(got, (int, float)) or isinstance(got, bool) or not math.isfinite(got):
                raise KeyError(node.id)
            return float(got)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            a, b = ev(node.left), ev(node.right)
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b, ast.Div: a / b if b else math.inf}[type(node.op)]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        raise ColorlabError(f"relation: unsupported expression {ast.dump(node)!r} in {expr!r}")
    return ev(ast.parse(expr.strip(), mode="eval"))


def check_relation(relation: str, metrics: dict) -> str | None:
    """``"colourfulness_rarity > 1.15 * colourfulness_mse"`` against ``metrics``: None when it holds,
    else the problem in words (with the numbers)."""
    m = _RELATION.match(relation.strip())
    if not m:
        return f"{relation!r}: not a relation (want 'left OP right' with OP one of > >= < <=)"
    left, op, right = m.groups()
    try:
        a, b = _eval_side(left, metrics), _eval_side(right, metrics)
    except KeyError as e:
        return f"{relation}: metric {e.args[0]} missing or not a number"
    if _OPS[op](a, b):
        return None
    return f"{relation}: does not hold ({left.strip()} = {a:.4g}, {right.strip()} = {b:.4g})"


def compare_to_baselines(metrics: dict, baseline: dict) -> list[str]:
    """Problems of ``metrics`` against one notebook's baseline (empty list = no regression).

    A baseline entry is ``{"value": v, "tol": t, "better": "higher" | "lower" | "same"}``:
    "higher" fails below ``v − t``, "lower" above ``v + t``, "same" outside ``v ± t``.
    A missing or non-numeric metric is a problem too. The entry ``"relations"`` is a list of
    relations between metrics that must hold whatever the values (the lab's *effect*, e.g.
    ``"rare_recall_rarity > rare_recall_mse"``; see :func:`check_relation`).
    """
    problems = []
    for name, spec in sorted(baseline.items()):
        if name == "relations":
            problems += [p for p in (check_relation(r, metrics) for r in spec) if p]
            continue
        v, tol, better = float(spec["value"]), float(spec["tol"]), spec.get("better", "same")
        got = metrics.get(name)
        if not isinstance(got, (int, float)) or isinstance(got, bool) or not math.isfinite(got):
            problems.append(f"{name}: missing or not a number ({got!r})")
            continue
        if better == "higher" and got < v - tol:
            problems.append(f"{name}: {got:.4g} is worse than the baseline {v:.4g} (at most {tol:g} lower)")
        elif better == "lower" and got > v + tol:
            problems.append(f"{name}: {got:.4g} is worse than the baseline {v:.4g} (at most {tol:g} higher)")
        elif better == "same" and abs(got - v) > tol:
            problems.append(f"{name}: {got:.4g} differs from the baseline {v:.4g} by more than {tol:g}")
        elif better not in ("higher", "lower", "same"):
            problems.append(f"{name}: unknown direction {better!r}")
    return problems


def make_baselines(results: list[dict], specs: dict) -> dict:
    """Fresh baselines from run results: ``specs`` maps notebook → metric → ``{"tol", "better"}``."""
    out = {}
    for r in results:
        for name, spec in specs.get(r["notebook"], {}).items():
            if name in r["metrics"]:
                out.setdefault(r["notebook"], {})[name] = {"value": r["metrics"][name], **spec}
    return out


def update_baselines(path: str | Path, results: list[dict]) -> dict:
    """Refresh the stored ``value`` of every baseline metric from run results (tolerances and directions kept)."""
    path = Path(path)
    stored = json.loads(path.read_text()) if path.is_file() else {}
    for r in results:
        for name, spec in stored.get(r["notebook"], {}).items():
            if name != "relations" and name in r["metrics"]:  # relations are the lab's claims: never rewritten
                spec["value"] = r["metrics"][name]
    path.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
    return stored


# --- colorlab run-notebooks --------------------------------------------------------------------

def parse_parameters(pairs) -> dict:
    """``["epochs=3", "dataset=flowers102", "quick=false"]`` → a dict (values read as JSON when they parse)."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ColorlabError(f"parameter {pair!r}: write NAME=VALUE, e.g. epochs=3")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = {"True": True, "False": False}.get(value, value)
    return out


# A cell's time limit: it stops a hung cell. A full-size training cell on a 2-core CPU takes minutes (lab 12's, two
# U-Nets on 5,000 photos, took 10 minutes with one thread while another lab ran beside it), so full size gets an hour.
CELL_TIMEOUT = {"smoke": 600, "full": 3600}


def longest_first(paths, times_file: str | Path | None) -> list[Path]:
    """``paths`` with the labs that take longest first, by the measured CPU times of ``times_file``
    (docs/times.json), so that the kernels finish together instead of the longest lab starting last; labs
    without a time keep their order after them. Without the file, the order is unchanged."""
    paths = [Path(p) for p in paths]
    try:
        labs = json.loads(Path(times_file).read_text())["labs"] if times_file else {}
    except (OSError, ValueError, KeyError, TypeError):
        labs = {}
    seconds = {p.stem: float(labs.get(p.stem, {}).get("cpu_s") or 0) for p in paths}
    return sorted(paths, key=lambda p: -seconds[p.stem])  # sorted() is stable: untimed labs keep their order


def run_notebooks_command(folder="notebooks", out="runs/notebooks", parameters: dict | None = None, smoke=True,
                          only=None, workers: int = 2, baselines: str | Path | None = None, kernel_name: str = KERNEL,
                          cell_timeout: int | None = None, log=print) -> int:
    """``colorlab run-notebooks``: run, print the staff table, optionally check baselines; exit status 0 / 1.

    ``cell_timeout``: seconds one cell may run (default :data:`CELL_TIMEOUT`: 600 at smoke size, 3600 full)."""
    params = {**(SMOKE if smoke else {}), **(parameters or {})}
    if cell_timeout is not None and cell_timeout <= 0:
        raise ColorlabError(f"--cell-timeout {cell_timeout}: give the seconds one cell may run, e.g. 3600")
    cell_timeout = cell_timeout or CELL_TIMEOUT["smoke" if smoke else "full"]
    notebooks = list_notebooks(folder, only)
    t0 = time.time()
    log(f"running {len(notebooks)} notebooks from {folder} into {out} "
        f"({'smoke' if smoke else 'full'} parameters {params}, {workers} at a time, {cell_timeout} s per cell at most)")
    order = longest_first(notebooks, Path(folder).resolve().parent / "docs" / "times.json")
    by_stem = {r["notebook"]: r for r in run_notebooks(order, out, params, workers=workers, kernel_name=kernel_name,
                                                           execution_timeout=cell_timeout)}
    results = [by_stem[p.stem] for p in notebooks]  # the table in the labs' order
    log(format_table(results))
    log(f"wall time {time.time() - t0:.0f} s")
    record = {"smoke": smoke, "parameters": params, "workers": workers, "cpu": _cpu_name(), "cores": os.cpu_count(),
              "results": [{k: r[k] for k in ("notebook", "status", "seconds")} for r in results]}
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "results.json").write_text(json.dumps(record, indent=1) + "\n")
    failed = [r for r in results if r["status"] != "ok"]
    if baselines:
        stored = json.loads(Path(baselines).read_text())
        for r in results:
            for problem in compare_to_baselines(r["metrics"], stored.get(r["notebook"], {})):
                log(f"regression in {r['notebook']}: {problem}")
                failed.append(r)
    return 1 if failed else 0


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
