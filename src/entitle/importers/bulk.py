"""Merging a table an importer handed over as a file (:class:`BulkRows`), without a Python object
per row.

A large UAL reduction gives hundreds of thousands of access tuples. Held as rows, merged key by
key and checked by the estate loader's row path, they cost more than reading the evidence did,
and memory that grows with their number. When the estate has no ``access.csv`` yet (the first
import of evidence), the tuples go from the importer's Parquet file to the staged ``access.csv``
in DuckDB: rows whose product is not installed on their OSE are left out and counted (as
:func:`entitle.importers.merge.merge` does), and what the loader would check of them is checked
here, over their distinct values: each OSE, user and device defined by the merged tables, each
product one the catalog lets access.csv name, ``first_seen`` not after ``last_seen``, and no more
rows than an estate table may hold. A problem names the evidence file and the line of the merged
``access.csv``. Into an estate that already has ``access.csv``, the rows are read back as
:class:`NewRow` objects and merged key by key (:func:`as_rows`).
Imports :mod:`entitle.catalog`, :mod:`entitle.estate` limits and :mod:`entitle.importers` modules;
duckdb is imported when a bulk table is merged.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from entitle.catalog import Catalog
from entitle.estate.files import MAX_FILE_BYTES, MAX_ROWS, SPLIT_HINT, MiB
from entitle.importers.merge import COLUMNS, MergeReport, Table
from entitle.importers.result import BulkRows, NewRow
from entitle.source import Problem

ORDER = 'ose, product, "user", device'  # the order of the access rows, as the importer's
ACCESS_KINDS = ("server", "cal-only")  # products access.csv may name (estate/checks.py)
NUMBERED = f"SELECT row_number() OVER (ORDER BY {ORDER}) + 1 AS line, * FROM kept"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def as_rows(bulk: BulkRows) -> tuple[NewRow, ...]:
    """The rows of a bulk table as :class:`NewRow` objects (a blank cell left out)."""
    import duckdb

    con = duckdb.connect()
    try:
        found = con.execute(
            f"SELECT * FROM read_parquet({_literal(str(bulk.path))}) ORDER BY {ORDER}"
        ).fetchall()
    finally:
        con.close()
    return tuple(
        NewRow({c: v for c, v in zip(bulk.columns, row, strict=True) if v}, bulk.source)
        for row in found
    )


class BulkAccess:
    """The access tuples of one import, merged into an estate that has no access.csv."""

    def __init__(self, bulk: BulkRows, tables: Mapping[str, Table], catalog: Catalog):
        import duckdb

        self.bulk = bulk
        self.tables = tables
        self.catalog = catalog
        self.con: Any = duckdb.connect()
        self.kept = 0
        self.con.execute("SET memory_limit = '256MB'")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute(
            f"CREATE TEMP VIEW incoming AS SELECT * FROM read_parquet({_literal(str(bulk.path))})"
        )

    def close(self) -> None:
        self.con.close()

    def merge(self, report: MergeReport) -> None:
        """Keep the rows whose product is installed on their OSE (software.csv gives the version
        accessed); count the others by product, as the row-by-row merge does."""
        software = self.tables.get("software")
        installed = set(software.rows) if software else set()
        pairs = self.con.execute(
            "SELECT ose, product, count(*) FROM incoming GROUP BY ose, product ORDER BY 1, 2"
        ).fetchall()
        missing = [(ose, product) for ose, product, _ in pairs if (ose, product) not in installed]
        for ose, product, n in pairs:
            if (ose, product) not in installed:
                report.drop(
                    f"no {product} in software.csv on the OSE: the version accessed is "
                    "unknown (import SIL or add the row)",
                    self.bulk.source,
                    n,
                )
        where = ""
        if missing:
            path = self.bulk.path.with_name("not-installed.csv")
            with path.open("w", encoding="utf-8", newline="") as fh:
                csv.writer(fh, lineterminator="\n").writerows([("ose", "product"), *missing])
            self.con.execute(
                "CREATE TEMP TABLE missing AS SELECT * FROM read_csv("
                f"{_literal(str(path))}, header = true, auto_detect = false, "
                "columns = {'ose': 'VARCHAR', 'product': 'VARCHAR'}, quote = '\"', escape = '\"')"
            )
            where = (
                "WHERE NOT EXISTS (SELECT 1 FROM missing m "
                "WHERE m.ose = incoming.ose AND m.product = incoming.product)"
            )
        self.con.execute(f"CREATE TEMP TABLE kept AS SELECT * FROM incoming {where}")
        kept = sum(n for ose, product, n in pairs if (ose, product) in installed)
        self.kept = kept
        report.touched.add("access")
        report.added["access"] += kept

    def header(self) -> list[str]:
        """The access.csv columns: the format's, then the counts some row holds (in the order
        their first row shows them, as the row-by-row merge adds them)."""
        extras = [c for c in self.bulk.columns if c not in COLUMNS["access"]]
        if not extras:
            return list(COLUMNS["access"])
        key = "concat_ws(chr(1), " + ORDER + ")"  # sorts as the rows do
        found = self.con.execute(
            "SELECT "
            + ", ".join(f"min(CASE WHEN \"{c}\" <> '' THEN {key} END)" for c in extras)
            + " FROM kept"
        ).fetchone()
        first = {c: at for c, at in zip(extras, found, strict=True) if at is not None}
        return [*COLUMNS["access"], *sorted(first, key=lambda c: (first[c], extras.index(c)))]

    def write(self, path: Path) -> list[Problem]:
        """Write the kept rows as access.csv at ``path``; the problems the estate loader would
        find in them (see the module text)."""
        columns = ", ".join(
            f'nullif("{c}", \'\') AS "{c}"' if c in self.bulk.columns else f'NULL AS "{c}"'
            for c in self.header()
        )
        self.con.execute(
            f"COPY (SELECT {columns} FROM kept ORDER BY {ORDER}) TO {_literal(str(path))} "
            "(HEADER, DELIMITER ',', QUOTE '\"', ESCAPE '\"')"
        )
        problems = self._check()
        size = path.stat().st_size
        count = self.kept
        if count > MAX_ROWS or size > MAX_FILE_BYTES:
            message = (
                f"the access tuples make {count:,} rows ({size / MiB:,.0f} MiB), more than an "
                "estate table holds"
            )
            problems.append(
                Problem(
                    self.bulk.source, message, SPLIT_HINT.format(MAX_ROWS, MAX_FILE_BYTES // MiB)
                )
            )
        return problems

    def _check(self) -> list[Problem]:
        oses, users, devices = (
            {cells.get(column, "") for cells in table.rows.values()} if table else set()
            for table, column in (
                (self.tables.get("oses"), "ose"),
                (self.tables.get("users"), "user"),
                (self.tables.get("devices"), "device"),
            )
        )
        problems: list[Problem] = []
        for column, known, noun, where in (
            ("ose", oses, "OSE", "oses.csv"),
            ('"user"', users, "user", "users.csv"),
            ("device", devices | oses, "device or OSE", "devices.csv or oses.csv"),
        ):
            values = self.con.execute(
                f"SELECT DISTINCT {column} FROM kept WHERE coalesce({column}, '') <> ''"
            ).fetchall()
            unknown = sorted({v for (v,) in values} - known)
            name = column.strip('"')
            for value in unknown[:3]:
                line = self._line(f"{column} = {_literal(value)}")
                problems.append(
                    self._problem(
                        line,
                        f"{name} '{value}' is not a {noun} in {where}",
                        f"add {value} to {where.split(' ')[0]} or correct the {name}",
                    )
                )
        for (product,) in self.con.execute("SELECT DISTINCT product FROM kept").fetchall():
            found = self.catalog.products.get(product)
            if found is None or found.kind not in ACCESS_KINDS:
                line = self._line(f"product = {_literal(product)}")
                why = "unknown product" if found is None else f"{product} ({found.kind}) is not"
                problems.append(
                    self._problem(line, f"{why} '{product}' for access.csv", "see entitle products")
                )
        backwards = "first_seen <> '' AND last_seen <> '' AND first_seen > last_seen"
        rows: list[tuple[int, str, str]] = []
        # numbering the rows sorts them all: only when some row has its dates backwards
        if self.con.execute(f"SELECT 1 FROM kept WHERE {backwards} LIMIT 1").fetchall():
            rows = self.con.execute(
                f"SELECT line, first_seen, last_seen FROM ({NUMBERED}) WHERE {backwards} "
                "ORDER BY line LIMIT 3"
            ).fetchall()
        for line, first, last in rows:
            problems.append(
                self._problem(
                    line, f"last_seen {last} is before first_seen {first}", "swap the two dates"
                )
            )
        return problems

    def _line(self, condition: str) -> int:
        """The line in access.csv of the first row meeting ``condition`` (for a problem only:
        numbering the rows sorts them once more)."""
        found = self.con.execute(f"SELECT min(line) FROM ({NUMBERED}) WHERE {condition}")
        return int(found.fetchone()[0])

    def _problem(self, line: int, message: str, hint: str) -> Problem:
        return Problem(
            self.bulk.source, message, f"{hint}; access.csv line {line} of the merged estate"
        )
