"""Do the labs' effects hold for any seed? Run the smoke notebooks 03–10 for seeds 0–4 and check the
relations stored in tests/notebooks/baselines.json (e.g. "rare_recall_rarity > rare_recall_mse").

    .venv/bin/python scripts/check_effects.py                 # seeds 0-4, notebooks 03-10
    .venv/bin/python scripts/check_effects.py --seeds 5 6 --only 05 07

Writes runs/effects/effects.md and effects.json (one row per notebook and seed: the metrics and each relation,
held or not) and exits 1 when any relation fails. The test suite runs seed 0; this script is for the others.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from colorlab.course.notebooks import list_notebooks  # noqa: E402
from colorlab.course.runner import SMOKE, check_relation, run_notebooks  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--only", nargs="+", default=["03", "04", "05", "06", "07", "08", "09", "10"])
    ap.add_argument("--out", default=str(ROOT / "runs" / "effects"))
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)

    baselines = json.loads((ROOT / "tests" / "notebooks" / "baselines.json").read_text())
    paths = list_notebooks(ROOT / "notebooks", args.only)
    out = Path(args.out)
    rows, failed = [], 0
    t0 = time.time()
    for seed in args.seeds:
        results = run_notebooks(paths, out / f"seed{seed}", {**SMOKE, "seed": seed}, workers=args.workers,
                                start_timeout=180, execution_timeout=600)
        for r in results:
            relations = baselines.get(r["notebook"], {}).get("relations", [])
            checks = {rel: check_relation(rel, r["metrics"]) for rel in relations}
            ok = r["status"] == "ok" and all(v is None for v in checks.values())
            failed += not ok
            rows.append({"notebook": r["notebook"], "seed": seed, "status": r["status"], "seconds": r.get("seconds"),
                         "holds": ok, "problems": [p for p in checks.values() if p] or ([r["error"]] if r.get("error") else []),
                         "metrics": r["metrics"]})
            print(f"seed {seed}  {r['notebook']:<40} {'holds' if ok else 'FAILS'}  "
                  + "; ".join(p for p in rows[-1]["problems"]), flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "effects.json").write_text(json.dumps(rows, indent=2, default=str))
    lines = ["| notebook | seed | effect holds | key metrics | problems |", "|---|---|---|---|---|"]
    for r in rows:
        keys = ", ".join(f"{k} {v:.3g}" for k, v in r["metrics"].items() if isinstance(v, (int, float)))
        lines.append(f"| {r['notebook']} | {r['seed']} | {'yes' if r['holds'] else '**no**'} | {keys} | "
                     f"{'; '.join(r['problems'])} |")
    (out / "effects.md").write_text("\n".join(lines) + "\n")
    print(f"\n{len(rows) - failed}/{len(rows)} notebook runs hold their effect ({time.time() - t0:.0f} s); "
          f"table: {out / 'effects.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
