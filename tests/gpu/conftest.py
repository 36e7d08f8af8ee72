"""GPU tests: collected everywhere, run only where CUDA is present.

Every test under ``tests/gpu/`` gets the ``gpu`` marker; where ``torch.cuda.is_available()`` is False they are
skipped with the reason "no CUDA device" — only then, so a failure anywhere else is never hidden as a skip.
``scripts/gpu_check.py`` runs them on a GPU machine.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    cuda = torch.cuda.is_available()
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.gpu)
            if not cuda:
                item.add_marker(pytest.mark.skip(reason="no CUDA device"))


@pytest.fixture
def cuda():
    return torch.device("cuda", 0)
