"""Benchmark: reducing daily UAL evidence into an estate's access.csv, against a bare DuckDB
GROUP BY over the same file.

    .venv/bin/python bench/bench_reduce.py [--rows 10000000] [--keep DIR]

A seeded generator (DuckDB SQL over ``range()``, deterministic hashes, no randomness) writes
``rows`` daily rows as ``Get-UalDailyAccess | Export-Csv`` would (quoted fields, en-US dates,
``PSComputerName``) and the same rows as Parquet (typed dates), 365 days ending 2025-08-31.
Each run is a child process, so its peak memory is its own (``os.wait4`` rusage ``ru_maxrss``):

- ``bare``: ``COPY (SELECT server, role, user, address, min(day), max(day), sum(count) …
  GROUP BY …) TO 'out.csv'`` with DuckDB's defaults;
- ``reduce``: ``entitle.importers.ual.import_ual`` (window: the last 90 days), then the access
  rows written as access.csv — the reduction the issue asks for;
- ``import``: the whole ``entitle import ual`` path: the reduction, the merge into an empty
  estate and the estate loader's check of every row before the swap.

Not part of ``make test``; run it by hand and copy the table into docs/importers.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVERS = 2_000
USERS = 20_000
GUIDS = (
    ("10a9226f-50ee-49d8-a393-9a501d47ce04", "File Server"),
    ("7fb09bd3-7fe6-435e-8348-7d8aefb6cea3", "Print and Document Services"),
    ("90e64afa-70db-4fef-878b-7eb8c868f091", "Remote Desktop Services"),
)

GENERATE = """
CREATE TABLE daily AS
SELECT
  CAST(hash(i, 11) % 100 + 1 AS BIGINT) AS AccessCount,
  DATE '2025-08-31' - CAST(hash(i, 13) % 365 AS INTEGER) AS day,
  '10.' || CAST(u // 65536 % 256 AS VARCHAR) || '.' || CAST(u // 256 % 256 AS VARCHAR) || '.'
    || CAST(u % 256 AS VARCHAR) AS IPAddress,
  'Windows Server 2019 Datacenter' AS ProductName,
  [{guids}][CAST(hash(i, 17) % 3 AS INTEGER) + 1] AS RoleGuid,
  [{names}][CAST(hash(i, 17) % 3 AS INTEGER) + 1] AS RoleName,
  '00000000-0000-0000-0000-000000000000' AS TenantIdentifier,
  CASE WHEN hash(i, 19) % 50 = 0 THEN 'CONTOSO\\SRV' || CAST(u % {servers} AS VARCHAR) || '$'
       ELSE 'CONTOSO\\user' || CAST(u AS VARCHAR) END AS UserName,
  'SRV' || lpad(CAST((u * 31 + hash(i, 23) % 5) % {servers} AS VARCHAR), 5, '0')
    || '.contoso.com' AS PSComputerName
FROM (SELECT i, CAST(hash(i, 7) % {users} AS BIGINT) AS u FROM range({rows}) t(i))
"""


def generate(folder: Path, rows: int) -> tuple[Path, Path]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        GENERATE.format(
            rows=rows,
            users=USERS,
            servers=SERVERS,
            guids=", ".join(f"'{g}'" for g, _ in GUIDS),
            names=", ".join(f"'{n}'" for _, n in GUIDS),
        )
    )
    csv_path, parquet_path = folder / "daily.csv", folder / "daily.parquet"
    columns = (
        "AccessCount, strftime(day, '%-m/%-d/%Y') || ' 12:00:00 AM' AS AccessDate, "
        "IPAddress, ProductName, RoleGuid, RoleName, TenantIdentifier, UserName, "
        "PSComputerName"
    )
    con.execute(
        f"COPY (SELECT {columns} FROM daily) TO '{csv_path}' "
        "(HEADER, DELIMITER ',', QUOTE '\"', FORCE_QUOTE *)"
    )
    con.execute(
        f"COPY (SELECT * EXCLUDE (day), day AS AccessDate FROM daily) TO "
        f"'{parquet_path}' (FORMAT PARQUET)"
    )
    con.close()
    return csv_path, parquet_path


BARE = """
import duckdb, sys
source = sys.argv[1]
relation = (f"read_parquet('{source}')" if source.endswith(".parquet") else f"read_csv('{source}')")
duckdb.execute(f'''COPY (SELECT PSComputerName, RoleGuid, UserName, IPAddress,
    min(AccessDate) AS first_seen, max(AccessDate) AS last_seen, sum(AccessCount) AS n
    FROM {relation} GROUP BY ALL) TO '{sys.argv[2]}' (HEADER)''')
"""

OURS = """
import csv, sys
from datetime import date
from pathlib import Path
from entitle.catalog import default_catalog
from entitle.importers.dates import Window
from entitle.importers.ual import import_ual
from entitle.importers.merge import merge, write_estate
catalog = default_catalog()
window = Window(date(2025, 6, 2), date(2025, 8, 31))
result = import_ual([Path(sys.argv[1])], catalog, window)
if not result.ok:
    sys.exit("; ".join(str(p) for p in result.problems))
access = result.rows["access"]
if sys.argv[3] == "reduce":
    with open(sys.argv[2], "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\\n")
        columns = ["ose", "product", "user", "device", "first_seen", "last_seen", "access_count"]
        writer.writerow(columns)
        writer.writerows([row.cells.get(c, "") for c in columns] for row in access)
else:
    tables, report = merge({}, result.rows)
    problems = write_estate(Path(sys.argv[2]), tables, catalog)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        sys.exit("; ".join(str(p) for p in errors[:5]))
print(len(access))
"""


def measure(code: str, *args: str) -> tuple[float, float, str]:
    """(seconds, peak resident MiB, standard output) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    out = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run failed: {args}")
    return seconds, usage.ru_maxrss / 1024, out.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="entitle-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        # In a child: Linux keeps a process's peak memory across fork and exec, so a parent
        # that had generated the data in-process would lend every run its own peak.
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); import bench_reduce as b; "
            "b.generate(b.Path(sys.argv[2]), int(sys.argv[3]))"
        )
        subprocess.run(
            [sys.executable, "-c", code, str(Path(__file__).parent), str(folder), str(args.rows)],
            check=True,
        )
        csv_path, parquet_path = folder / "daily.csv", folder / "daily.parquet"
        print(
            f"generated {args.rows:,} rows in {time.perf_counter() - t:.1f} s: "
            f"CSV {csv_path.stat().st_size / 2**20:,.0f} MiB, "
            f"Parquet {parquet_path.stat().st_size / 2**20:,.0f} MiB"
        )
        results = []
        for source in (csv_path, parquet_path):
            kind = source.suffix[1:]
            bare = measure(BARE, str(source), str(folder / f"bare-{kind}.csv"))
            reduce = measure(OURS, str(source), str(folder / f"access-{kind}.csv"), "reduce")
            full = measure(OURS, str(source), str(folder / f"estate-{kind}"), "import")
            for name, (seconds, peak, _) in (
                ("bare DuckDB GROUP BY", bare),
                ("entitle reduction → access.csv", reduce),
                ("entitle import (merge + check)", full),
            ):
                results.append((kind, name, seconds, peak, seconds / bare[0]))
            with (folder / f"bare-{kind}.csv").open() as fh:
                groups = sum(1 for _ in csv.reader(fh)) - 1
            print(f"{kind}: bare groups {groups:,}; access tuples {reduce[2]}")
        print()
        print("| input | run | seconds | rows/s | peak MiB | × bare |")
        print("|---|---|---:|---:|---:|---:|")
        for kind, name, seconds, peak, ratio in results:
            print(
                f"| {kind} | {name} | {seconds:.1f} | {args.rows / seconds:,.0f} | "
                f"{peak:,.0f} | {ratio:.2f} |"
            )


if __name__ == "__main__":
    main()
