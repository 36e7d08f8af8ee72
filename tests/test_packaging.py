"""The three dependency lists (pyproject ranges, environment.yml, pinned constraints) agree."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda's names for the few packages that are called differently on PyPI
CONDA_TO_PYPI = {"pytorch": "torch"}


def _name(req: str) -> str:
    return re.split(r"[<>=!~ ;\[]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    deps = data["project"]["dependencies"] + sum(data["project"]["optional-dependencies"].values(), [])
    return {_name(d) for d in deps}


def _environment() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for d in env["dependencies"]:
        if isinstance(d, str):
            n = _name(d)
            if n not in ("python", "pip"):
                names.add(CONDA_TO_PYPI.get(n, n))
    return names


def test_environment_yml_lists_the_same_packages_as_pyproject():
    py, conda = _pyproject(), _environment()
    assert py == conda, f"only in pyproject: {sorted(py - conda)}; only in environment.yml: {sorted(conda - py)}"


def test_constraints_pin_every_direct_dependency():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, ver = line.split("==", 1)
            pins[_name(name)] = ver
    missing = sorted(n for n in _pyproject() if n not in pins)
    assert not missing, f"constraints.txt does not pin {missing}"


def test_console_script_is_declared():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["scripts"]["colorlab"] == "colorlab.cli:main"
