"""Public names of a package imported on first use (PEP 562), so ``import colorlab`` stays light.

Every stage's ``__init__`` names its public API in ``__all__`` and says which module holds each name;
``from colorlab.core import save_image`` imports :mod:`colorlab.core.io` then, and nothing else. So
``colorlab --help`` or a data command never loads torch or fastai only because a package was imported.
"""
from __future__ import annotations

import importlib
import sys
import types

__all__ = ["lazy_exports"]


def lazy_exports(package: str, public: list[str], where: dict[str, str]):
    """``(__getattr__, __dir__)`` for ``package`` whose names live in its modules, imported when first asked for.

    Args:
        package: the package's ``__name__``.
        public: its ``__all__``; each name must be provided by a module in ``where``.
        where: module (relative to ``package``, e.g. ``"checkpoint"``) → its public names, space-separated.
    A name that is not in ``where`` but is a submodule (``colorlab.core.color``) is imported as one.
    """
    owner = {name: f"{package}.{module}" for module, names in where.items() for name in names.split()}
    missing = sorted(set(public) - set(owner))
    if missing:
        raise ImportError(f"{package}.__all__ names {missing}, which no module listed in its __init__ provides")

    def __getattr__(name: str):
        if name in owner:
            value = getattr(importlib.import_module(owner[name]), name)
        elif name.startswith("__"):
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        else:
            try:
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as e:
                if e.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        setattr(sys.modules[package], name, value)  # later look-ups are plain attribute reads
        return value

    def __dir__() -> list[str]:
        return sorted(set(owner) | set(vars(sys.modules[package])))

    clashes = {name for name, module in owner.items() if module == f"{package}.{name}"}
    if clashes:  # e.g. colorlab.data.prepare: the function and the module that holds it share a name
        sys.modules[package].__class__ = _clash_guard(clashes)
    return __getattr__, __dir__


def _clash_guard(names: set[str]) -> type:
    """A module class that keeps ``package.name`` the function when the submodule ``package.name`` is imported.

    Importing a submodule sets it as an attribute of its package; where the package exports a function
    of the same name (``from colorlab.data import prepare``), that would hide the function behind the
    module as soon as anything imported ``colorlab.data.prepare``. The eager ``__init__`` of old rebound
    the name after the import; this does the same, when the import happens.
    """

    class ClashGuard(types.ModuleType):
        def __setattr__(self, name, value):
            if (name in names and isinstance(value, types.ModuleType)
                    and value.__name__ == f"{self.__name__}.{name}" and hasattr(value, name)):
                value = getattr(value, name)
            super().__setattr__(name, value)

    return ClashGuard
