"""The package's shape (issue #14): stages import one way, modules stay small, functions take few parameters.

Everything is read from the source with :mod:`ast` — nothing is imported — so a failure names the
module, the line and the number that broke the rule.
"""
from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "colorlab"

#: The pipeline's stages, lowest first: a module may import its own stage or a lower one, never a higher one.
STAGES = ["core", "data", "rarity", "profiles", "hints", "models", "training", "inference", "evaluation",
          "viz", "widgets", "course", "cli"]
MAX_LINES, MAX_PARAMS, MAX_LOCAL_IMPORTS, MAX_FLAT = 400, 10, 10, 12


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    lines: int
    imports: list = field(default_factory=list)  # (target module, line, local?, comment)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(name: str) -> int:
    parts = name.split(".")
    if len(parts) == 1:                      # colorlab/__init__.py: the lowest layer's entry point
        return 0
    head = parts[1]
    return STAGES.index("cli") if head in ("cli", "__main__") else STAGES.index(head)


def _targets(mod: Module, node, modules: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in modules]
    if node.level:
        base = mod.name.split(".")
        if mod.path.name != "__init__.py":
            base = base[:-1]
        base = base[:len(base) - node.level + 1]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    if source not in modules:
        return []
    subs = [f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in modules]
    return subs or [source]


def _inside_function(node, parents) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return True
    return False


def _type_checking_only(node, parents) -> bool:
    parent = parents.get(node)
    return isinstance(parent, ast.If) and "TYPE_CHECKING" in ast.unparse(parent.test)


@pytest.fixture(scope="module")
def package() -> dict[str, Module]:
    mods = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        src = path.read_text()
        mods[_module_name(path)] = Module(_module_name(path), path, ast.parse(src), len(src.splitlines()))
    names = set(mods)
    for mod in mods.values():
        lines = mod.path.read_text().splitlines()
        parents = {c: p for p in ast.walk(mod.tree) for c in ast.iter_child_nodes(p)}
        for node in ast.walk(mod.tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and not _type_checking_only(node, parents):
                comment = lines[node.lineno - 1].partition("#")[2].strip()
                for target in _targets(mod, node, names):
                    if target != mod.name:
                        mod.imports.append((target, node.lineno, _inside_function(node, parents), comment))
    return mods


def test_no_module_over_400_lines(package):
    big = sorted(f"{m.name}: {m.lines} lines" for m in package.values() if m.lines > MAX_LINES)
    assert not big, f"modules over {MAX_LINES} lines (split them by what they hold): {big}"


def _param_count(fn: ast.FunctionDef) -> int:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args]
    n = len(names) + len(a.kwonlyargs) + bool(a.vararg) + bool(a.kwarg)
    return n - (bool(names) and names[0] in ("self", "cls"))


def test_no_function_over_10_parameters(package):
    wide = sorted(f"{m.name}.{fn.name} (line {fn.lineno}): {_param_count(fn)}"
                  for m in package.values() for fn in ast.walk(m.tree)
                  if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and _param_count(fn) > MAX_PARAMS)
    assert not wide, f"functions over {MAX_PARAMS} parameters (take a config object or **options): {wide}"


def test_imports_run_one_way_between_stages(package):
    up = sorted(f"{m.name}:{line} imports {t} ({STAGES[_stage(t)]} is above {STAGES[_stage(m.name)]})"
                for m in package.values() for t, line, _, _ in m.imports if _stage(t) > _stage(m.name))
    assert not up, "imports from a lower stage to a higher one:\n" + "\n".join(up)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]; counter[0] += 1; stack.append(root); on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]; counter[0] += 1; stack.append(w); on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop(); on.discard(w); comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_cycle(package):
    """Function-local imports count too: a lazy import hides a cycle, it does not remove it."""
    graph = {m.name: {t for t, _, _, _ in m.imports} for m in package.values()}
    assert not _cycles(graph), f"import cycles: {_cycles(graph)}"


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_own_imports_at_the_top(package):
    local = [(m.name, line, comment) for m in package.values() for _, line, is_local, comment in m.imports if is_local]
    unexplained = [f"{n}:{line}" for n, line, c in local if not c]
    assert len({(n, line) for n, line, _ in local}) <= MAX_LOCAL_IMPORTS, \
        f"{len(local)} function-local imports of the package's own modules (at most {MAX_LOCAL_IMPORTS}): {local}"
    assert not unexplained, f"function-local imports need a comment saying why: {unexplained}"


def test_at_most_12_flat_modules(package):
    flat = [m.name for m in package.values() if m.path.parent == PACKAGE and m.path.name != "__init__.py"]
    assert len(flat) <= MAX_FLAT, f"{len(flat)} modules directly in colorlab/: {flat}"
    stages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert stages == set(STAGES) - {"cli"}, f"stage subpackages differ from STAGES: {sorted(stages ^ set(STAGES))}"


def test_no_fastai_private_attributes(package):
    mangled = [f"{m.name}:{n.lineno} .{n.attr}" for m in package.values() for n in ast.walk(m.tree)
               if isinstance(n, ast.Attribute) and (n.attr.startswith("_DataLoader__") or n.attr == "fake_l")]
    assert not mangled, f"fastai private attributes used: {mangled}"


def test_no_class_shadows_a_fastai_name(package):
    import fastai.callback.all
    import fastai.data.all
    import fastai.learner
    fastai_names = {n for mod in (fastai.callback.all, fastai.data.all, fastai.learner)
                    for n, obj in vars(mod).items() if inspect.isclass(obj) and obj.__module__.startswith("fastai")}
    ours = {n.name: m.name for m in package.values() for n in ast.walk(m.tree) if isinstance(n, ast.ClassDef)}
    shadow = sorted(f"{mod}.{name}" for name, mod in ours.items() if name in fastai_names)
    assert not shadow, f"classes named like fastai's (rename them): {shadow}"


def test_every_stage_names_its_public_api(package):
    """Each stage's __init__ says what it offers (``__all__``), and every name in it exists."""
    import importlib
    for stage in STAGES[:-1]:
        mod = importlib.import_module(f"colorlab.{stage}")
        assert mod.__doc__ and getattr(mod, "__all__", None), f"colorlab.{stage} needs a docstring and __all__"
        missing = [n for n in mod.__all__ if not hasattr(mod, n)]
        assert not missing, f"colorlab.{stage}.__all__ names what it does not define: {missing}"
