"""Whether pausing Python's cyclic garbage collector speeds up ``compute_position`` (issue #13:
no process-wide switch in a request path, so only the CLI may pause it).

For one generated estate (``entitle.samples.generate --users N --seed 3``), each run in a fresh
process: load the estate, then compute its position with the collector enabled (as the library
and the web server now run it) or paused (as ``entitle position`` runs it, cli/common.py
``gc_paused``); prints the CPU time of the computation alone and the collections made.

    .venv/bin/python bench/bench_gc.py --users 100000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import gc, json, sys, time
from datetime import date
from entitle.catalog import default_catalog
from entitle.estate.loader import load_estate
from entitle.position import compute_position

catalog = default_catalog()
estate, _ = load_estate(sys.argv[1], catalog)
pause = sys.argv[2] == "paused"
before = sum(s["collections"] for s in gc.get_stats())
if pause:
    gc.disable()
start = time.process_time()
position = compute_position(estate, catalog, date(2026, 11, 28))
cpu = time.process_time() - start
gc.enable()
made = sum(s["collections"] for s in gc.get_stats()) - before
print(json.dumps({"cpu": cpu, "collections": made, "total": str(position.total_cost)}))
"""


def run(estate: Path, mode: str, src: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(estate), mode],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"},
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp/entitle-bench-gc")
    ap.add_argument("--src", default=str(Path(__file__).resolve().parents[1] / "src"))
    args = ap.parse_args(argv)
    estate = Path(args.workdir) / f"users-{args.users}"
    if not (estate / "access.csv").exists():
        subprocess.run(
            [sys.executable, "-m", "entitle.samples.generate", "--out", str(estate)]
            + ["--users", str(args.users), "--seed", "3"],
            check=True,
            env={"PYTHONPATH": args.src, "PATH": "/usr/bin:/bin"},
        )
    print(f"compute_position, {args.users:,} users, CPU seconds over {args.runs} fresh processes")
    print(f"{'gc':<8} {'median':>8} {'min':>8} {'max':>8} {'collections':>12}")
    totals = set()
    for mode in ("enabled", "paused"):
        runs = [run(estate, mode, args.src) for _ in range(args.runs)]
        cpu = [r["cpu"] for r in runs]
        totals |= {r["total"] for r in runs}
        print(
            f"{mode:<8} {statistics.median(cpu):8.2f} {min(cpu):8.2f} {max(cpu):8.2f} "
            f"{statistics.median(r['collections'] for r in runs):12.0f}"
        )
    print(f"total cost in every run: {', '.join(sorted(totals))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
