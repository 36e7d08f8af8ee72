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
        elif isinstance(d, dict):  # the pip: section (packages conda-forge does not carry)
            names.update(_name(r) for r in d.get("pip", []) if not r.startswith("-"))
    return names


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, ver = line.split("==", 1)
            pins[_name(name)] = ver
    return pins


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


PLATFORM_SPECIFIC = re.compile(r"^(torch|torchvision|triton|nvidia-.*|cuda-.*)$")


def test_portable_constraints_agree_with_the_linux_pins_and_pyproject():
    """constraints-portable.txt (macOS, Windows, hosted Jupyter) = constraints.txt without torch,
    torchvision and the Linux CUDA packages; it pins every other direct dependency."""
    linux, portable = _pins(ROOT / "constraints.txt"), _pins(ROOT / "constraints-portable.txt")
    expected = {n: v for n, v in linux.items() if not PLATFORM_SPECIFIC.match(n)}
    assert portable == expected, (f"missing: {sorted(set(expected) - set(portable))}; extra: "
                                  f"{sorted(set(portable) - set(expected))}; differing: "
                                  f"{sorted(n for n in expected if n in portable and portable[n] != expected[n])}")
    unpinned = sorted(n for n in _pyproject() if n not in portable and not PLATFORM_SPECIFIC.match(n))
    assert not unpinned, f"constraints-portable.txt does not pin {unpinned}"


def test_metrics_extra_is_declared_pinned_and_installed_by_make():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extra = {_name(r) for r in data["project"]["optional-dependencies"]["metrics"]}
    assert extra == {"lpips", "pytorch-fid"}
    assert extra <= set(_pins(ROOT / "constraints.txt"))
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r'pip install .*-c constraints\.txt -e "\.\[[^]]*metrics[^]]*\]"', makefile)


def test_readme_documents_installing_off_linux_with_files_that_exist():
    readme = (ROOT / "README.md").read_text()
    for needle in ("constraints-portable.txt", "environment.yml", "macOS", "Windows", "Colab",
                   "COLORLAB_MIRROR", "COLORLAB_OFFLINE", "colorlab download"):
        assert needle in readme, f"README.md does not mention {needle}"
    for name in re.findall(r"-c (\S+\.txt)", readme):
        assert (ROOT / name).is_file(), f"README.md names {name}, which does not exist"
    # the extras the README installs are the ones pyproject declares
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = set(data["project"]["optional-dependencies"])
    for extras in re.findall(r'\.\[([a-z,]+)\]', readme):
        assert set(extras.split(",")) <= declared, f"README installs unknown extras [{extras}]"


def test_license_is_an_spdx_string_so_setuptools_does_not_warn():
    import tomllib
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert isinstance(data["project"]["license"], str), "use license = \"MIT\" (an SPDX expression), not a table"
    assert any(r.startswith("setuptools>=") and int(r.split(">=")[1].split(".")[0]) >= 77
               for r in data["build-system"]["requires"]), "SPDX license strings need setuptools >= 77"
