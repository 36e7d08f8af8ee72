"""Which datasets are on this machine, where the kit looks for them, and how to get the rest."""
from __future__ import annotations

from colorlab.core.config import data_root
from colorlab.data.registry import DATASETS
from colorlab.data.sample import SAMPLE_PHOTOS, sample_photos

__all__ = ["dataset_status", "format_status"]


def dataset_status() -> list[dict]:
    """One row per dataset in :data:`colorlab.data.DATASETS`.

    Each row: ``name``, ``path`` (where it looks when no ``root`` is given), ``present``
    (bool, a cheap layout check — nothing is decoded or downloaded) and ``how`` (one line).
    """
    rows = []
    for name, cls in DATASETS.items():
        if name == "sample":
            found = sample_photos("all")
            rows.append({"name": name, "path": str(found[0][1].parent) if found else "(installed packages)",
                         "present": len(found) > 0,
                         "how": f"built in: {len(found)}/{len(SAMPLE_PHOTOS)} photos shipped with "
                                "scikit-image, scikit-learn and matplotlib"})
            continue
        if name == "scenes":
            rows.append({"name": name, "path": "(generated on demand)", "present": True, "how": cls.how_to_get})
            continue
        root = cls.default_root()
        rows.append({"name": name, "path": str(root), "present": bool(cls.is_present(root)), "how": cls.how_to_get})
    return rows


def format_status(rows: list[dict] | None = None) -> str:
    """The status table as text (for the CLI and notebooks)."""
    rows = dataset_status() if rows is None else rows
    lines = [f"data folder: {data_root()}"]
    for r in rows:
        lines.append(f"  {'yes' if r['present'] else 'no ':3}  {r['name']:<14} {r['path']}")
        if not r["present"]:
            lines.append(f"       {'':<14} {r['how']}")
    return "\n".join(lines)
