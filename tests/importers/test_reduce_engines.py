"""The one reduction SQL gives the same tuples on DuckDB and on Spark (local mode).

Spark starts slowly, so this module holds the only Spark test: one import over a Parquet file
(typed dates, as a data lake holds them) and the fs01 CSV exports (text dates, #TYPE line).
Starting Spark's JVM takes 10-30 s of a core, so the test is in the long tier (make test-long,
which CI runs); the fast tier runs the same reduction SQL on DuckDB in every UAL import test.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from exportkit import AUGUST, EXPORTS, rows, skipped

from entitle.catalog import Catalog
from entitle.importers.ual import import_ual
from tiers import SLOW

FILE_SERVER = "10a9226f-50ee-49d8-a393-9a501d47ce04"
SQL_ENGINE = "bd7f7c0d-7c36-4721-afa8-0ba700e26d9e"


def lake_file(path: Path) -> Path:
    """Daily UAL rows as a data lake keeps them. By hand: on sql04, erin twice from .9 (one
    tuple, AccessCount 3 + 4 = 7), frank once in July (outside), SQL04$ (machine account);
    on fs01, gina from .31 on 8/30 (a new tuple next to the CSV's five)."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    data = [
        (
            "SQL04",
            SQL_ENGINE,
            "SQL Server 2022 Enterprise",
            "SQL Server Database Engine",
            "CONTOSO\\erin",
            "10.1.20.9",
            date(2025, 8, 3),
            3,
        ),
        (
            "SQL04",
            SQL_ENGINE,
            "SQL Server 2022 Enterprise",
            "SQL Server Database Engine",
            "CONTOSO\\erin",
            "10.1.20.9",
            date(2025, 8, 9),
            4,
        ),
        (
            "SQL04",
            SQL_ENGINE,
            "SQL Server 2022 Enterprise",
            "SQL Server Database Engine",
            "CONTOSO\\frank",
            "10.1.20.10",
            date(2025, 7, 9),
            1,
        ),
        (
            "SQL04",
            SQL_ENGINE,
            "SQL Server 2022 Enterprise",
            "SQL Server Database Engine",
            "CONTOSO\\SQL04$",
            "10.1.20.11",
            date(2025, 8, 9),
            90,
        ),
        (
            "FS01",
            FILE_SERVER,
            "Windows Server 2019 Datacenter",
            "File Server",
            "CONTOSO\\gina",
            "10.1.20.31",
            date(2025, 8, 30),
            2,
        ),
    ]
    names = [
        "PSComputerName",
        "RoleGuid",
        "ProductName",
        "RoleName",
        "UserName",
        "IPAddress",
        "AccessDate",
        "AccessCount",
    ]
    table = pa.table({n: [row[i] for row in data] for i, n in enumerate(names)})
    pq.write_table(table, path)
    return path


@SLOW
def test_duckdb_and_spark_agree(spark: Any, catalog: Catalog, tmp_path: Path) -> None:
    files = [
        lake_file(tmp_path / "daily.parquet"),
        *sorted((EXPORTS / "ual" / "fs01").glob("*.csv")),
        EXPORTS / "ual" / "dns" / "UalDns.csv",
    ]
    on_duckdb = import_ual(files, catalog, AUGUST, engine="duckdb")
    on_spark = import_ual(files, catalog, AUGUST, engine="spark", spark=spark)
    assert on_duckdb.ok and on_spark.ok, (on_duckdb.problems, on_spark.problems)
    duck = sorted(tuple(sorted(r.items())) for r in rows(on_duckdb, "access"))
    assert duck == sorted(tuple(sorted(r.items())) for r in rows(on_spark, "access"))
    assert len(duck) == 5 + 2  # fs01's five, erin on sql04, gina on fs01
    erin = next(r for r in rows(on_duckdb, "access") if r["user"] == "contoso\\erin")
    assert (erin["first_seen"], erin["last_seen"], erin["access_count"]) == (
        "2025-08-03",
        "2025-08-09",
        "7",
    )
    for counts in (skipped(on_duckdb), skipped(on_spark)):
        assert counts["machine account (a name ending in $)"] == 2  # FS02$, SQL04$
        assert counts["outside the evidence window (2025-08-01 to 2025-08-31)"] == 2
