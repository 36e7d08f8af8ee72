"""Options dataclasses: apply keyword options to a frozen dataclass of settings, naming the valid ones on a typo.

Functions with many knobs take one small frozen dataclass (``TrainConfig``, ``LoaderOptions``) plus
``**options`` — fields of that dataclass — so ``f(x, epochs=3)`` and ``f(x, config)`` both work.
"""
from __future__ import annotations

import dataclasses

from colorlab.core.errors import ColorlabError

__all__ = ["with_options"]


def with_options(base, options: dict, what: str):
    """``base`` (a dataclass instance) with ``options`` applied.

    An unknown option raises ``ColorlabError("unknown <what> option 'x'; valid options: ...")``.
    """
    names = [f.name for f in dataclasses.fields(base)]
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise ColorlabError(f"unknown {what} option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                            f"valid options: {', '.join(names)}")
    return dataclasses.replace(base, **options) if options else base
