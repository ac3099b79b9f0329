"""Applying changes to an estate: pure, and checked exactly as a loaded estate is.

The estate is turned back into rows of text (each keeping its source), every change edits those
rows in order — so a change may name a host an earlier change added — and the rows then go
through the estate loader's own conversion and checks. A problem in a row a change wrote is
reported at the change's line (``CHANGES.yaml:7: unknown product 'sql-sever'``).

Removing cascades by the references of :mod:`entitle.estate.schema`: a host takes its OSEs and
placements; an OSE its software, the access to it and from it, what manages it, its placements
and the containers in it; a user or a device the access rows that name them; software its access
rows. Other references are cleared: owned entitlements stay owned (their assignment to a removed
host is cleared), a user's managed rows lose the user.

Imports :mod:`entitle.source`, the catalog and the estate; nothing higher.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from entitle.catalog.model import Catalog
from entitle.estate import checks
from entitle.estate.convert import Row, Table, convert, known_columns
from entitle.estate.records import Estate
from entitle.estate.schema import SCHEMA, TABLE, TABLES
from entitle.source import Problem, Source
from entitle.whatif.changes import Change
from entitle.whatif.many import Uses, add_many

# The table a change's target names ("vm" is an OSE that is virtual), and the fields that pick
# the row(s) a `set` or `remove` acts on: from the estate's schema.
TABLE_OF = {spec.target: spec.name for spec in SCHEMA} | {"vm": "oses"}
KEYS = {spec.name: spec.key for spec in SCHEMA}
Rows = dict[str, list[Row]]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):  # a list cell, such as a user's subscriptions
        return ";".join(value)
    return str(value)


def estate_rows(estate: Estate) -> Rows:
    """Every record of ``estate`` as a row of text, keeping its source and extra columns."""
    out: Rows = {}
    for table in TABLES:
        rows = []
        columns = TABLE[table].columns
        for record in getattr(estate, table):
            cells = {column.name: _text(getattr(record, column.attribute)) for column in columns}
            cells.update(record.extra)
            rows.append(Row(table, cells, record.source))
        out[table] = rows
    return out


def apply_changes(
    estate: Estate, changes: tuple[Change, ...], catalog: Catalog, rows: Rows | None = None
) -> tuple[Estate | None, list[Problem]]:
    """The estate after ``changes``, or None and every problem found. ``rows``: the estate's
    :func:`estate_rows`, made once by a caller applying several sets of changes to it (they are
    not changed: each table's list is copied, and a change replaces a row, never edits it)."""
    rows = estate_rows(estate) if rows is None else {t: list(rs) for t, rs in rows.items()}
    problems: list[Problem] = []
    uses: Uses | None = None  # kept while changes only add users and devices (many.py)
    for change in changes:
        if change.verb == "add" and change.target in ("users", "devices"):
            uses = uses if uses is not None else Uses(rows)
            add_many(change, uses, problems)
        else:
            uses = None
            _apply(change, rows, problems)
    if problems:
        return None, problems
    after, said = _rebuild(rows, catalog, estate.name, {c.source for c in changes})
    if after is None:
        return None, said
    # what the estate's loading said and its imports assumed are still true of it after
    kept = replace(after, warnings=estate.warnings, import_findings=estate.import_findings)
    return kept, said


def _rebuild(
    rows: Rows, catalog: Catalog, name: str, written: set[Source]
) -> tuple[Estate | None, list[Problem]]:
    """The loader's checks and conversion, on rows instead of files. Only problems of rows the
    changes wrote count: the estate's own rows were accepted when it was loaded."""
    problems: list[Problem] = []
    tables = {table: Table.of_rows(table, rows[table]) for table in TABLES}  # column by column
    records = {table: tuple(convert(tables[table], problems)) for table in TABLES}
    ids: dict[str, set[str] | None] = {}
    for table in checks.ID_COLUMNS:
        ids[table] = set(checks.defined_ids(tables[table], table, problems))
    checks.check_references(tables, ids, problems)
    checks.check_shared_hosts(tables, problems)
    checks.check_catalog(tables, catalog, problems)
    checks.check_access_software(tables, ids["oses"], catalog, problems)
    checks.check_prices(tables["prices"], problems)
    errors = [p for p in problems if p.severity == "error" and p.source in written]
    if errors:
        return None, sorted(errors, key=lambda p: (p.source.file, p.source.line))
    return Estate(name=name, **records), [p for p in problems if p.source in written]


def _apply(change: Change, rows: Rows, problems: list[Problem]) -> None:
    handler: Callable[[Change, Rows, list[Problem]], None] = {
        "add": _add,
        "remove": _remove,
        "set": _set,
    }[change.verb]
    handler(change, rows, problems)


def _row(table: str, change: Change, cells: dict[str, str]) -> Row:
    return Row(table, cells, change.source)


def _unknown_fields(
    change: Change, table: str, extra: tuple[str, ...], problems: list[Problem]
) -> bool:
    allowed = set(known_columns(table)) | set(extra)
    bad = [name for name in change.fields if name not in allowed]
    for name in bad:
        problems.append(
            Problem(
                change.where(name),
                f"{change.target} has no field '{name}'",
                "fields: " + ", ".join(sorted(allowed)),
            )
        )
    return bool(bad)


def _add(change: Change, rows: Rows, problems: list[Problem]) -> None:
    if change.target in ("users", "devices"):
        add_many(change, Uses(rows), problems)
        return
    table = TABLE_OF[change.target]
    if _unknown_fields(change, table, (), problems):
        return
    cells = dict(change.fields)
    if change.target == "vm":
        cells.setdefault("virtual", "yes")
    if change.target == "ose" and "virtual" not in cells:
        problems.append(
            Problem(change.source, "add: ose needs virtual (yes or no)", "or write `add: vm`")
        )
        return
    rows[table].append(_row(table, change, cells))


def _select(change: Change, table: str, rows: Rows, problems: list[Problem]) -> list[int]:
    """Indexes of the rows a set/remove change names (a problem when none). The key fields a
    table requires (and the id of a table of ids) must be given; an optional one matches the
    rows whose cell is the same (blank, or the column's default, when not given). Software may
    leave out the OSE: every installation of the product."""
    spec = TABLE[table]
    wanted: dict[str, str] = {}
    for key in spec.key:
        column = spec.by_name[key]
        given = change.fields.get(key, "")
        given = given.lower() if column.word else given
        needed = column.required or key == spec.id
        if table == "software" and key == "ose" and not given:
            continue
        if needed and not given:
            example = "e.g. product: windows-server" if key == "product" else f"e.g. {key}: NAME"
            message = (
                "name the product" if table == "software" else f"name the {key} to {change.verb}"
            )
            problems.append(Problem(change.source, message, example))
            return []
        wanted[key] = given or column.default
    defaults = {key: spec.by_name[key].default for key in wanted}
    found = [
        i
        for i, row in enumerate(rows[table])
        if all((row.get(k) or defaults[k]) == v for k, v in wanted.items())
    ]
    if not found:
        what = ", ".join(f"{k} {v}" for k, v in wanted.items() if v)
        problems.append(
            Problem(
                change.source, f"no {change.target} with {what} to {change.verb}", "check the name"
            )
        )
    return found


def _set(change: Change, rows: Rows, problems: list[Problem]) -> None:
    table = TABLE_OF[change.target]
    if _unknown_fields(change, table, (), problems):
        return
    if table == "prices":  # setting a price adds it, replacing the same product/license/edition
        _remove_price(change, rows)
        rows[table].append(_row(table, change, dict(change.fields)))
        return
    keys = set(KEYS[table]) - (
        {"ose"} if table == "software" and "ose" not in change.fields else set()
    )
    for i in _select(change, table, rows, problems):
        old = rows[table][i]
        cells = dict(old.cells)
        cells.update({k: v for k, v in change.fields.items() if k not in keys})
        rows[table][i] = Row(table, cells, change.source)


def _remove_price(change: Change, rows: Rows) -> None:
    key = tuple(change.fields.get(k, "").lower() for k in ("product", "license", "edition"))
    rows["prices"] = [
        r for r in rows["prices"] if (r.get("product"), r.get("license"), r.get("edition")) != key
    ]


def _remove(change: Change, rows: Rows, problems: list[Problem]) -> None:
    table = TABLE_OF[change.target]
    extra = ("product",) if table == "software" else ()
    if _unknown_fields(change, table, extra, problems):
        return
    found = set(_select(change, table, rows, problems))
    if not found:
        return
    gone = [rows[table][i] for i in sorted(found)]
    rows[table] = [r for i, r in enumerate(rows[table]) if i not in found]
    for row in gone:
        _cascade(table, row, rows)


def _drop(rows: Rows, table: str, test: Callable[[Row], bool]) -> None:
    rows[table] = [r for r in rows[table] if not test(r)]


def _cascade(table: str, row: Row, rows: Rows) -> None:
    """What goes with a removed row: every row naming its id in a column the schema says is
    dropped with it (an OSE's software, the access to it ...), removed in turn; every other
    reference to it is blanked (an entitlement's assignment) or taken out of its list. Software
    takes the access to its product on its OSE."""
    if table == "software":
        pair = (row.get("ose"), row.get("product"))
        _drop(rows, "access", lambda r: (r.get("ose"), r.get("product")) == pair)
    spec = TABLE[table]
    value = row.get(spec.id) if spec.id else ""
    if not value:
        return
    for other in SCHEMA:
        for column in other.references:
            if table in column.refs:
                _unlink(other.name, column.name, column.type, column.removal, value, rows)


def _unlink(table: str, name: str, kind: str, removal: str, value: str, rows: Rows) -> None:
    if kind == "id list":
        rows[table] = [
            Row(
                r.table,
                {**r.cells, name: ";".join(p for p in _ids(r.get(name)) if p != value)},
                r.source,
            )
            if value in _ids(r.get(name))
            else r
            for r in rows[table]
        ]
    elif removal == "drop":
        gone = [r for r in rows[table] if r.get(name) == value]
        if gone:
            _drop(rows, table, lambda r: r.get(name) == value)
            for child in gone:
                _cascade(table, child, rows)
    else:
        rows[table] = [
            Row(r.table, {**r.cells, name: ""}, r.source) if r.get(name) == value else r
            for r in rows[table]
        ]


def _ids(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]
