"""Where `entitle position` spends its CPU, stage by stage (issue #18 item 2).

Runs ``entitle position ESTATE --json`` in process, the way the CLI does (the garbage collector
paused), with ``time.process_time`` around each stage: the functions the position calls are
wrapped where their callers look them up, so the code measured is the code given by
``PYTHONPATH`` (this tree, or a ``git archive`` of another commit). Stages nest (the SQL CAL
pricing is inside the search); each line is the CPU spent inside that stage's calls.

    PYTHONPATH=src .venv/bin/python bench/bench_stages.py /tmp/estate-100000 --out /tmp/pos.json
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

SPENT: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


def timed(name: str, fn: Callable[..., Any], when: Callable[..., bool] | None = None) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        label = name if when is None or not when(*args, **kwargs) else name + " (final)"
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            SPENT[label] += time.process_time() - start
            CALLS[label] += 1

    return wrapper


def patch(module: str, attr: str, name: str, when: Callable[..., bool] | None = None) -> None:
    """Wrap ``module.attr`` (a function, or ``Class.method``) if this tree has it."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return
    owner: Any = mod
    *path, last = attr.split(".")
    for part in path:
        owner = getattr(owner, part, None)
        if owner is None:
            return
    if hasattr(owner, last):
        setattr(owner, last, timed(name, getattr(owner, last), when))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("estate", type=Path)
    ap.add_argument("--out", type=Path, help="write the position's JSON here")
    ap.add_argument("--as-of", default="2026-11-28")
    args = ap.parse_args(argv)

    from entitle.catalog import default_catalog
    from entitle.cli.common import to_json
    from entitle.estate.loader import load_estate

    patch("entitle.optimize.plan", "server_demand", "rules: server demand")
    patch("entitle.optimize.plan", "cal_demand", "rules: CAL demand")
    patch("entitle.optimize.plan", "plan_cals", "CAL plan of the non-SQL rights")
    patch("entitle.optimize.plan", "PlanSearch.run", "Server + SQL choices search")
    patch(
        "entitle.optimize.sqlcals",
        "SqlCals.plan",
        "  SQL CAL plans",
        when=lambda *a, **k: bool(k.get("final")),
    )
    patch("entitle.optimize.sqlcals", "SqlCals.needs", "  SqlCals.needs (take)")
    patch("entitle.optimize.sqlcals", "SqlCals.exact_apart", "  SQL CAL costs apart")
    patch("entitle.position.build", "cal_plan_needs", "CAL plan → needs")
    patch("entitle.position.build", "allocate", "matching owned licenses")
    patch("entitle.position.build", "cloud_rows", "cloud rows")
    from entitle.position import compute_position

    catalog = default_catalog()
    gc.disable()
    t0 = time.process_time()
    estate, problems = load_estate(args.estate, catalog)
    SPENT["load the estate"] = time.process_time() - t0
    assert estate is not None, problems
    t1 = time.process_time()
    position = compute_position(estate, catalog, date.fromisoformat(args.as_of))
    SPENT["position (all)"] = time.process_time() - t1
    t2 = time.process_time()
    text = to_json(position.as_json())
    SPENT["JSON"] = time.process_time() - t2
    total = time.process_time() - t0
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(f"{'stage':<36} {'CPU s':>8} {'calls':>7}")
    for name in SPENT:
        print(f"{name:<36} {SPENT[name]:8.2f} {CALLS.get(name, 1):7,}")
    print(f"{'total':<36} {total:8.2f}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
