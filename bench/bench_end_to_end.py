"""End to end against a bare baseline (issue #18, item 5).

For one generated estate (``python -m entitle.samples.generate --users N``) this runs, each in a
fresh process:

* ``entitle position ESTATE --json --out FILE --as-of 2026-11-28``: the whole product;
* the **baseline**: a bare script doing only the core of the job with the same libraries — load
  ``access.csv`` with DuckDB, build the user/device cover graph with NumPy and solve it with
  SciPy's ``maximum_flow`` — the graph shape of the optimizer's cut (``optimize/calgraph.py``,
  ``calbuild.py``): per product with CALs, ``s → user`` at the user CAL's price, ``device → t``
  at the device CAL's price, and an infinite edge for each access (``user → device``; ``user →
  t`` when no device is known, ``s → device`` when no user is). The minimum cut is the cheapest
  cover of every access by user or device CALs, priced from the catalog's list prices read with
  ``tomllib``. No suites, External Connectors, server licenses, ownership or reports: this is
  the floor that entitle's time is compared with.

It prints entitle's time, the baseline's time and their ratio side by side, wall and CPU, with
the peak memory of each process (``os.wait4``'s rusage of the child).

    .venv/bin/python bench/bench_end_to_end.py                     # 10k and 100k users
    .venv/bin/python bench/bench_end_to_end.py --users 10000       # one size
    .venv/bin/python bench/bench_end_to_end.py --million           # adds 1M users (6M access
                                                                   # rows): a quiet, large machine

``--src DIR`` measures another source tree (e.g. ``git archive HEAD src | tar -x -C /tmp/snap``
then ``--src /tmp/snap/src``); ``--workdir`` holds the estates (kept, reused when the same size
and seed exist) and the logs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
AS_OF = "2026-11-28"
INT32_MAX = 2**31 - 1
SOURCE, SINK = 0, 1


# ------------------------------------------------------------------------------------------------
# The baseline (run in a child process).
# ------------------------------------------------------------------------------------------------


def cal_prices(catalog: Path) -> dict[str, tuple[int, int]]:
    """Per product, the list price in cents of its base user CAL and device CAL (the newest
    version's; an edition on a CAL row names an additive level, which the baseline leaves out)."""
    data = tomllib.loads(catalog.read_text(encoding="utf-8"))
    best: dict[tuple[str, str], tuple[str, int]] = {}
    for row in data["prices"]:
        if row["license"] not in ("user-cal", "device-cal") or row.get("edition"):
            continue
        key = (row["product"], row["license"])
        version = str(row.get("version", ""))
        cents = int(Decimal(row["price"]) * 100)
        if key not in best or version > best[key][0]:
            best[key] = (version, cents)
    return {
        product: (best[(product, "user-cal")][1], best[(product, "device-cal")][1])
        for product, kind in best
        if kind == "user-cal" and (product, "device-cal") in best
    }


def baseline(estate: Path, catalog: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    import duckdb
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order, maximum_flow

    prices = cal_prices(catalog)
    products = sorted(prices)
    t_import = time.perf_counter()

    # Load: the distinct (user, device, product) accesses of products with CALs, each user and
    # device numbered per product (a node is a holder of one product's CAL).
    con = duckdb.connect()
    con.execute("CREATE TABLE product (id INTEGER, name VARCHAR)")
    con.executemany("INSERT INTO product VALUES (?, ?)", list(enumerate(products)))
    cols = con.execute(
        """
        WITH a AS (
            SELECT DISTINCT NULLIF(TRIM("user"), '') AS u, NULLIF(TRIM(device), '') AS d, p.id AS p
            FROM read_csv(?, header = true, all_varchar = true) r
            JOIN product p ON p.name = r.product
        )
        SELECT p,
               CASE WHEN u IS NULL THEN -1
                    ELSE DENSE_RANK() OVER (ORDER BY p, u) - 1 END AS ui,
               CASE WHEN d IS NULL THEN -1
                    ELSE DENSE_RANK() OVER (ORDER BY p, d) - 1 END AS di
        FROM a WHERE u IS NOT NULL OR d IS NOT NULL
        """,
        [str(estate / "access.csv")],
    ).fetchnumpy()
    p = np.asarray(cols["p"], dtype=np.int64)
    ui = np.asarray(cols["ui"], dtype=np.int64)
    di = np.asarray(cols["di"], dtype=np.int64)
    # DENSE_RANK counts the NULL rows' rank too: renumber the ranks that occur, densely
    _, ui_dense = np.unique(np.where(ui >= 0, ui, -1), return_inverse=True)
    _, di_dense = np.unique(np.where(di >= 0, di, -1), return_inverse=True)
    has_u, has_d = ui >= 0, di >= 0
    ui = np.where(has_u, ui_dense - (0 if has_u.all() else 1), -1)
    di = np.where(has_d, di_dense - (0 if has_d.all() else 1), -1)
    t_load = time.perf_counter()

    # Build: node ids s=0, t=1, then user nodes, then device nodes.
    n_u = int(ui.max()) + 1 if has_u.any() else 0
    n_d = int(di.max()) + 1 if has_d.any() else 0
    n = 2 + n_u + n_d
    user_price = np.asarray([prices[x][0] for x in products], dtype=np.int64)
    device_price = np.asarray([prices[x][1] for x in products], dtype=np.int64)
    u_prod = np.zeros(n_u, dtype=np.int64)
    u_prod[ui[has_u]] = p[has_u]
    d_prod = np.zeros(n_d, dtype=np.int64)
    d_prod[di[has_d]] = p[has_d]
    u_node = 2 + np.arange(n_u)
    d_node = 2 + n_u + np.arange(n_d)
    both, only_u, only_d = has_u & has_d, has_u & ~has_d, ~has_u & has_d
    tails = np.concatenate(
        [np.full(n_u, SOURCE), d_node, 2 + ui[both], 2 + ui[only_u], np.full(only_d.sum(), SOURCE)]
    )
    heads = np.concatenate(
        [u_node, np.full(n_d, SINK), 2 + n_u + di[both], np.full(only_u.sum(), SINK)]
        + [2 + n_u + di[only_d]]
    )
    finite = n_u + n_d
    caps = np.concatenate(
        [user_price[u_prod], device_price[d_prod], np.full(len(tails) - finite, INT32_MAX)]
    )
    graph = csr_matrix((caps.astype(np.int32), (tails, heads)), shape=(n, n))
    t_build = time.perf_counter()

    # Solve: Dinic, then the source side of the cut (what the source reaches in the residual).
    flow = maximum_flow(graph, SOURCE, SINK, method="dinic")
    residual = (graph - flow.flow).tocsr()
    residual.data[residual.data < 0] = 0
    residual.eliminate_zeros()
    reached = np.zeros(n, dtype=bool)
    reached[breadth_first_order(residual, SOURCE, directed=True, return_predecessors=False)] = True
    cut = reached[tails[:finite]] & ~reached[heads[:finite]]
    assert not (reached[tails[finite:]] & ~reached[heads[finite:]]).any()  # no rule is cut
    cost = int(caps[:finite][cut].sum())
    if cost <= INT32_MAX:  # max-flow = min-cut (SciPy's flow value is an int32 sum)
        assert flow.flow_value == cost, (flow.flow_value, cost)
    t_solve = time.perf_counter()
    return {
        "access_pairs": len(p),
        "nodes": n,
        "edges": len(tails),
        "user_cals": int(cut[:n_u].sum()),
        "device_cals": int(cut[n_u:].sum()),
        "cost_cents": cost,
        "import_s": t_import - t0,
        "load_s": t_load - t_import,
        "build_s": t_build - t_load,
        "solve_s": t_solve - t_build,
    }


# ------------------------------------------------------------------------------------------------
# The parent: makes the estates, runs both children, prints the table.
# ------------------------------------------------------------------------------------------------


@dataclass
class Run:
    ok: bool
    wall_s: float
    cpu_s: float
    peak_mb: float
    note: str = ""
    data: dict[str, Any] | None = None


def spawn(cmd: list[str], env: dict[str, str], timeout: float, log: Path) -> Run:
    """Run ``cmd`` in its own session; its own rusage (os.wait4) gives CPU time and peak RSS."""
    t0 = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - t0
                cpu = usage.ru_utime + usage.ru_stime
                return Run(
                    False, wall, cpu, usage.ru_maxrss / 1024, f"killed after {timeout:.0f} s"
                )
            time.sleep(0.05)
    code = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    note = "" if code == 0 else f"exit {code}, see {log}"
    return Run(code == 0, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, note)


def env_for(src: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    return env


def make_estate(users: int, args: argparse.Namespace) -> tuple[Path, int]:
    """The seeded estate of ``users`` users (reused when already written); not timed."""
    estate = Path(args.workdir) / f"estate-{users}-seed{args.seed}"
    if not (estate / ".complete").exists():
        gen = ["-m", "entitle.samples.generate", "--out", str(estate), "--seed", str(args.seed)]
        subprocess.run(
            [sys.executable, *gen, "--users", str(users)],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env_for(args.src),
        )
        (estate / ".complete").touch()
    with (estate / "access.csv").open() as f:
        return estate, sum(1 for _ in f) - 1


def run_entitle(estate: Path, users: int, args: argparse.Namespace) -> Run:
    out = Path(args.workdir) / f"position-{users}.json"
    cmd = [sys.executable, "-m", "entitle.cli.main", "position", str(estate), "--json"]
    cmd += ["--out", str(out), "--as-of", AS_OF]
    run = spawn(cmd, env_for(args.src), args.timeout, Path(args.workdir) / f"position-{users}.log")
    if run.ok:
        position = json.loads(out.read_text())
        run.data = {"total_cost": position["total_cost"]}
    return run


def run_baseline(estate: Path, users: int, args: argparse.Namespace) -> Run:
    result = Path(args.workdir) / f"baseline-{users}.json"
    result.unlink(missing_ok=True)
    cmd = [sys.executable, str(HERE), "--child", str(estate), "--out", str(result)]
    cmd += ["--catalog", str(args.src / "entitle" / "catalog" / "data" / "catalog.toml")]
    run = spawn(cmd, env_for(args.src), args.timeout, Path(args.workdir) / f"baseline-{users}.log")
    if run.ok:
        run.data = json.loads(result.read_text())
    return run


def commit_of(src: Path) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(src), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--users", default="10000,100000", help="estate sizes (comma-separated)")
    ap.add_argument(
        "--million",
        action="store_true",
        help="also 1,000,000 users (6M access rows; several GB, minutes: not on a shared machine)",
    )
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp/entitle-bench-e2e")
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="source tree to measure")
    ap.add_argument("--timeout", type=float, default=1800, help="per process, seconds")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--catalog", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        args.out.write_text(json.dumps(baseline(args.child, args.catalog)))
        return 0

    args.src = args.src.resolve()
    sizes = [int(x) for x in args.users.split(",") if x]
    if args.million and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    print(f"entitle at {commit_of(args.src)} ({args.src}); seed {args.seed}; as of {AS_OF}")
    rows = []
    for users in sizes:
        estate, access = make_estate(users, args)
        load_before = os.getloadavg()[0]
        ent = run_entitle(estate, users, args)
        base = run_baseline(estate, users, args)
        load = max(load_before, os.getloadavg()[0])
        rows.append((users, access, ent, base, load))
        print_rows(rows[-1:], header=len(rows) == 1)
    return 0 if all(r[2].ok and r[3].ok for r in rows) else 1


def print_rows(rows: list[tuple[int, int, Run, Run, float]], header: bool) -> None:
    cols = (
        ("users", 9),
        ("access rows", 11),
        ("entitle s", 9),
        ("cpu s", 7),
        ("MB", 6),
        ("baseline s", 10),
        ("cpu s", 7),
        ("MB", 6),
        ("wall ×", 7),
        ("cpu ×", 7),
        ("load", 5),
    )
    if header:
        print("  ".join(name.rjust(w) for name, w in cols))
    for users, access, ent, base, load in rows:
        cells = [
            f"{users:,}",
            f"{access:,}",
            f"{ent.wall_s:.1f}",
            f"{ent.cpu_s:.1f}",
            f"{ent.peak_mb:,.0f}",
            f"{base.wall_s:.1f}",
            f"{base.cpu_s:.1f}",
            f"{base.peak_mb:,.0f}",
            f"{ent.wall_s / base.wall_s:.1f}×",
            f"{ent.cpu_s / base.cpu_s:.1f}×",
            f"{load:.1f}",
        ]
        print("  ".join(c.rjust(w) for c, (_, w) in zip(cells, cols, strict=True)), flush=True)
        for name, run in (("entitle", ent), ("baseline", base)):
            if not run.ok:
                print(f"    {name}: {run.note}")
        if ent.data:
            print(f"    entitle total_cost {ent.data['total_cost']:,.2f}")
        if base.data:
            b = base.data
            stages = ", ".join(f"{k[:-2]} {b[k]:.2f} s" for k in b if k.endswith("_s"))
            print(
                f"    baseline: {b['access_pairs']:,} distinct accesses, {b['nodes']:,} nodes, "
                f"{b['edges']:,} edges; {b['user_cals']:,} user + {b['device_cals']:,} device "
                f"CALs, {b['cost_cents'] / 100:,.2f} (CALs only); {stages}"
            )


if __name__ == "__main__":
    sys.exit(main())
