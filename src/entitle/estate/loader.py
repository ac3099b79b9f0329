"""Load an estate: a folder of CSV files or one ``.xlsx`` workbook, as ``(Estate, problems)``.

The steps: :mod:`~entitle.estate.reader` reads the raw tables, this module checks each header for
its required columns, :mod:`~entitle.estate.convert` parses every cell, and
:mod:`~entitle.estate.checks` looks across tables and at the catalog. Every problem is collected
(not only the first) and returned sorted by table and line. Bad user data never raises.
Imports :mod:`entitle.source`, :mod:`entitle.catalog` and the estate modules, nothing higher.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from entitle.catalog import Catalog, default_catalog
from entitle.estate import checks
from entitle.estate.assumptions import read_import_findings
from entitle.estate.convert import Row, convert, rows_of
from entitle.estate.files import LIMITS, Limits
from entitle.estate.reader import RawEstate, RawTable, read_estate
from entitle.estate.records import Estate
from entitle.estate.schema import REQUIRED, TABLE, TABLES
from entitle.source import BadInput, Problem


def load_estate(
    path: str | Path, catalog: Catalog | None = None, limits: Limits = LIMITS
) -> tuple[Estate | None, list[Problem]]:
    """The estate at ``path`` and its warnings, or ``None`` and every problem when any is an
    error. Problems come sorted by table (in the format's order) and line. ``limits`` bound the
    rows and bytes of each CSV table (:mod:`entitle.estate.files`)."""
    catalog = catalog if catalog is not None else default_catalog()
    return _load(path, catalog, limits)  # the CLI pauses the garbage collector (cli.common)


def _load(
    path: str | Path, catalog: Catalog, limits: Limits
) -> tuple[Estate | None, list[Problem]]:
    raw, problems = read_estate(path, limits)
    rows = usable_rows(raw, problems)
    records = {table: tuple(convert(rows[table], problems)) for table in TABLES if table in rows}

    ids: dict[str, set[str] | None] = {}
    for table in checks.ID_COLUMNS:
        defined = checks.defined_ids(rows[table], table, problems) if table in rows else None
        ids[table] = set(defined) if defined is not None else None
    checks.check_references(rows, ids, problems)
    checks.check_shared_hosts(rows, problems)
    checks.check_catalog(rows, catalog, problems)
    checks.check_access_software(rows, ids["oses"], catalog, problems)
    checks.check_prices(rows.get("prices", ()), problems)

    assumed, more = read_import_findings(path) if Path(path).is_dir() else ((), [])
    problems.extend(more)
    problems = sorted(problems, key=_order)
    if any(p.severity == "error" for p in problems):
        return None, problems
    warnings = tuple(problems)  # none is an error here
    estate = Estate(**records, name=raw.name, import_findings=assumed, warnings=warnings)
    return estate, problems


def load_estate_or_raise(
    path: str | Path, catalog: Catalog | None = None
) -> tuple[Estate, list[Problem]]:
    """Like :func:`load_estate`, but raises :class:`BadInput` (with every problem) on errors."""
    estate, problems = load_estate(path, catalog)
    if estate is None:
        raise BadInput(problems)
    return estate, problems


def usable_rows(raw: RawEstate, problems: list[Problem]) -> dict[str, Sequence[Row]]:
    """Rows of every table whose header names its required columns; an absent table has no rows.
    A table that could not be read, or lacks a required column, is left out (and so skipped by
    the checks that would consult it)."""
    rows: dict[str, Sequence[Row]] = {}
    for table in TABLES:
        if table in raw.unreadable:
            continue
        found = raw.tables.get(table)
        if found is None:
            rows[table] = []
        elif header_ok(found, problems):
            rows[table] = rows_of(found)
    return rows


def header_ok(table: RawTable, problems: list[Problem]) -> bool:
    """The header names every required column (one problem for the header line if not)."""
    missing = [name for name in REQUIRED[table.name] if name not in table.header]
    one_of = TABLE[table.name].one_of
    if one_of and not any(name in table.header for name in one_of):
        missing.append(" or ".join(one_of))
    if not missing:
        return True
    named = ", ".join(missing)
    hint = f"{table.name} needs columns " + ", ".join(REQUIRED[table.name])
    if len(table.header) == 1 and any(sep in table.header[0] for sep in ";\t|"):
        hint = "the file seems separated by something other than commas; save it comma-separated"
    else:
        hint += "; the header has " + (", ".join(n for n in table.header if n) or "no names")
    word = "column" if len(missing) == 1 else "columns"
    problems.append(Problem(table.header_source, f"missing required {word}: {named}", hint))
    return False


def _order(problem: Problem) -> tuple[int, int]:
    """Folder or workbook problems first, then the tables in the format's order, by line."""
    source = problem.source
    name = (source.sheet or Path(source.file).stem).strip().lower()
    rank = TABLES.index(name) if name in TABLES else -1
    return rank, source.line
