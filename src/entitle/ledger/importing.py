"""Read an entitlements file for the ledger: the spec's ``entitlements.csv``, a workbook with an
``entitlements`` sheet, or a Microsoft License Statement entitlement summary (CSV or workbook),
told apart by their column headers. ``--map 'Their header=our header'`` renames a column first.

Returns ``(candidates, problems)``: every problem of every row, never an exception for bad data.
Cells are parsed by :mod:`entitle.estate.convert` (the same rules and messages as the estate
loader) and names checked against the catalog by :mod:`entitle.estate.checks`. Each candidate
carries a content hash of its canonical fields (plus which identical row of the file it is), so
importing the same file twice adds nothing. Imports entitle.source, entitle.catalog,
entitle.estate and :mod:`entitle.ledger.mls`; no database.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType

from entitle.catalog import Catalog
from entitle.estate import checks
from entitle.estate.convert import REQUIRED, Cells, Row, convert, known_columns
from entitle.estate.reader import decode
from entitle.estate.records import Entitlement
from entitle.estate.workbook import CellBudget, TooManyCells, open_workbook, sheet_rows
from entitle.ledger import keys, mls, rules
from entitle.source import Finding, Problem, Source

SPEC = REQUIRED["entitlements"]
KEY_KINDS = ("mak", "kms")
HEADER_SEARCH = 30  # an MLS tab has its header some rows down (row 10 of Pivot Data)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One entitlement to add: the spec record plus what only the ledger keeps."""

    entitlement: Entitlement
    content_hash: str
    sa_start: date | None = None
    product_key: str | None = None
    key_kind: str | None = None

    @property
    def ref(self) -> str:
        return self.entitlement.id or "E-" + self.content_hash[:10]


Grid = list[tuple[Source, list[str]]]


def read_file(
    path: Path, catalog: Catalog, mapping: Mapping[str, str], agreement: str | None = None
) -> tuple[list[Candidate], list[Problem]]:
    """The candidates of one file and every problem found in it."""
    mapping = {k.strip().lower(): v.strip().lower() for k, v in mapping.items()}
    where = Source(path.name)
    if not path.is_file():
        return [], [Problem(where, "no such file", "give an entitlements CSV or .xlsx file")]
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        grids, problems = _workbook(path)
    elif path.suffix.lower() == ".csv":
        grid, problems = _csv(path)
        grids = [grid] if grid is not None else []
    else:
        hint = "give entitlements.csv, a workbook, or an MLS summary saved as .csv or .xlsx"
        return [], [Problem(where, "not a .csv or .xlsx file", hint)]
    if problems:
        return [], problems
    found = _choose(grids, mapping)
    if found is None:
        return [], [_no_header(path, grids)]
    kind, grid, at = found
    header = [mapping.get(name, name) for name in (c.strip().lower() for c in grid[at][1])]
    rows: list[Row] = []
    problems = _header_problems(grid[at][0], header)
    for source, values in grid[at + 1 :]:
        if not any(v.strip() for v in values):
            continue
        if path.suffix.lower() == ".csv" and len(values) != len(header):
            problems.append(
                Problem(
                    source,
                    f"{len(values)} fields, but the header has {len(header)}",
                    "every row needs one field per column",
                )
            )
            continue
        raw = {name: value.strip() for name, value in zip(header, values, strict=False) if name}
        cells = keys.scrub(raw, source, problems)  # no product key outside product_key
        if kind == "mls":
            spec = mls.spec_cells(catalog, cells, source, problems, agreement)
            if spec is None:
                continue
            for name in (keys.FIELD, keys.KIND):
                if cells.get(name):
                    spec[name] = cells[name]
            cells = spec
        elif agreement and not cells.get("agreement"):
            cells["agreement"] = agreement
        rows.append(Row("entitlements", MappingProxyType(cells), source))
    records = convert(rows, problems)
    checks.check_catalog({"entitlements": rows}, catalog, problems)
    candidates = _candidates(records, problems)
    if any(p.severity == "error" for p in problems):
        return [], sorted(problems, key=lambda p: p.source)
    return candidates, sorted(problems, key=lambda p: p.source)


def _header_problems(where: Source, header: Sequence[str]) -> list[Problem]:
    names = [n for n in header if n]
    twice = sorted({n for n in names if names.count(n) > 1})
    return [
        Problem(where, f"the header names column '{n}' twice", "rename or remove one")
        for n in twice
    ]


def _choose(grids: Sequence[Grid], mapping: Mapping[str, str]) -> tuple[str, Grid, int] | None:
    """The table to import: an ``entitlements`` sheet or spec header first, then an MLS summary
    (License Summary before Pivot Data: one of them, never both)."""
    found: list[tuple[int, str, Grid, int]] = []
    for grid in grids:
        sheet = (grid[0][0].sheet or "").strip().lower() if grid else ""
        for index, (_, values) in enumerate(grid[:HEADER_SEARCH]):
            header = [mapping.get(n, n) for n in (v.strip().lower() for v in values)]
            if all(name in header for name in SPEC):
                found.append((0 if sheet in ("entitlements", "") else 1, "spec", grid, index))
                break
            if mls.is_mls(header):
                rank = {"license summary": 2, "pivot data": 3}.get(sheet, 4)
                found.append((rank, "mls", grid, index))
                break
    if not found:
        return None
    _, kind, grid, index = min(found, key=lambda item: item[0])
    return kind, grid, index


def _no_header(path: Path, grids: Sequence[Grid]) -> Problem:
    """A problem at the row that looks most like a header (most names we know), saying what it
    has and what is missing."""
    known = known_columns("entitlements") | set(mls.KNOWN)
    best: tuple[int, Source, list[str]] | None = None
    for grid in grids:
        for source, values in grid[:HEADER_SEARCH]:
            names = [v.strip() for v in values if v.strip()]
            score = sum(n.lower() in known for n in names)
            if names and (best is None or score > best[0]):
                best = (score, source, names)
    if best is None:
        return Problem(Source(path.name), "the file holds no rows", "export the table again")
    _, where, names = best
    lowered = {n.lower() for n in names}
    if any(n in lowered for n in mls.KNOWN):
        missing = [
            n
            for n in ("License Product Family", "Effective License Quantity")
            if n.lower() not in lowered
        ]
    else:
        missing = [n for n in SPEC if n not in lowered]
    message = (
        "the header names neither the entitlements.csv columns (product, license, quantity) "
        "nor the MLS entitlement summary columns (License Product Family, Effective License "
        f"Quantity); it has: {', '.join(names)}; missing: {', '.join(missing)}"
    )
    hint = f"map a column of yours with --map 'Your Header={missing[0] if missing else 'quantity'}'"
    return Problem(where, message, hint)


def _csv(path: Path) -> tuple[Grid | None, list[Problem]]:
    text, problems = decode(path.read_bytes(), path.name)
    if text is None:
        return None, problems
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    grid: Grid = []
    start = 1
    try:
        for values in reader:
            grid.append((Source(path.name, start), values))
            start = reader.line_num + 1
    except csv.Error as error:
        return None, [
            Problem(
                Source(path.name, start),
                f"malformed CSV: {error}",
                "quote a field that holds a comma, quote or line break",
            )
        ]
    return grid, []


def _workbook(path: Path) -> tuple[list[Grid], list[Problem]]:
    """Every sheet as a grid, within the size limits of :mod:`entitle.estate.workbook`."""
    book, problem = open_workbook(
        path, path.name, hint="save it from Excel or LibreOffice as .xlsx"
    )
    if book is None:
        return [], [problem] if problem else []
    budget = CellBudget()
    grids: list[Grid] = []
    try:
        for title in book.sheetnames:
            try:
                rows = sheet_rows(book, title, budget)
            except TooManyCells as error:
                return [], [error.problem(path.name)]
            except Exception as error:  # a damaged sheet inside a readable archive
                message = f"cannot read the sheet: {type(error).__name__}: {error}"
                hint = "save the workbook again as .xlsx"
                return [], [Problem(Source(path.name, 1, title), message, hint)]
            grids.append([(Source(path.name, number, title), values) for number, values in rows])
    finally:
        book.close()
    return grids, []


def _candidates(records: Sequence[Entitlement], problems: list[Problem]) -> list[Candidate]:
    """Ledger candidates: the ledger's own columns parsed from ``extra``, hashes, unique ids."""
    seen: Counter[str] = Counter()
    ids: dict[str, Source] = {}
    out: list[Candidate] = []
    for record in records:
        row = Row("entitlements", record.extra, record.source)
        cells = Cells(row, problems)
        sa_start = cells.day("sa_start")
        key_kind = (cells.text("key_kind") or "").lower() or None
        if key_kind is not None and key_kind not in KEY_KINDS:
            cells.fail(f"key_kind '{key_kind}' is not MAK or KMS", "write MAK or KMS")
        key = cells.text("product_key")
        if key_kind and not key:
            cells.fail("key_kind is given but product_key is blank", "add the key or clear kind")
        if sa_start and record.sa_until and record.sa_until < sa_start:
            cells.fail(
                f"sa_until {record.sa_until} is before sa_start {sa_start}", "swap the two dates"
            )
        held_by_host = record.assigned_to and rules.holder_problem(record.license, "host")
        if held_by_host:
            cells.fail(
                f"assigned_to names a host, but {held_by_host}",
                "leave assigned_to blank and assign users or devices with ledger assign",
            )
        if record.id is not None:
            if record.id in ids:
                cells.fail(
                    f"id {record.id} is used twice (first at {ids[record.id]})",
                    "give every entitlement its own id",
                )
            ids.setdefault(record.id, record.source)
        if not cells.ok:
            continue
        body = canonical_fields(record, sa_start)
        seen[body] += 1
        digest = hashlib.sha256(f"{body}#{seen[body]}".encode()).hexdigest()
        kept = MappingProxyType({k: v for k, v in record.extra.items() if k != keys.FIELD})
        record = replace(record, extra=kept)  # the key travels only as Candidate.product_key
        out.append(Candidate(record, digest, sa_start, key, key_kind and key_kind.upper()))
    return out


def canonical_fields(record: Entitlement, sa_start: date | None) -> str:
    """The text the content hash covers: what the entitlement is, not where it was read."""
    fields = {
        "product": record.product,
        "license": record.license,
        "quantity": record.quantity,
        "id": record.id,
        "edition": record.edition,
        "version": record.version,
        "sa_start": sa_start and sa_start.isoformat(),
        "sa_until": record.sa_until and record.sa_until.isoformat(),
        "assigned_to": record.assigned_to,
        "agreement": record.agreement,
        "purchased": record.purchased and record.purchased.isoformat(),
        "unit_price": None if record.unit_price is None else str(record.unit_price.normalize()),
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def check_record(record: Entitlement, catalog: Catalog) -> list[Problem]:
    """The errors of one entitlement typed in (a form, the API) or read back from the ledger,
    found as a file's row is checked: the license kind by the estate's cell rules, the product,
    edition and version against the catalog, each with its did-you-mean. Each problem's source
    names the field (``product``, ``edition``, ``version``, ``license``)."""
    fields = {
        "product": record.product,
        "license": record.license,
        "edition": record.edition or "",
        "version": record.version or "",
    }
    problems: list[Problem] = []
    cells = {**fields, "quantity": str(record.quantity)}
    convert([Row("entitlements", MappingProxyType(cells), Source("license"))], problems)
    names = checks.CatalogNames(catalog, problems)

    def row(*columns: str) -> Row:
        cells = {c: fields[c] for c in ("product", *columns)}
        return Row("entitlements", MappingProxyType(cells), Source(columns[-1]))

    product = names.product(row("product"), bridges=True)
    if record.product in catalog.bridges:
        names.bridge(row("edition", "version"))
    elif product is not None:
        names.edition(row("edition"), product, required=False)
        names.version(row("version"), product)
    return [p for p in problems if p.severity == "error"]


def unknown_row(
    ref: str, problems: Sequence[Problem], units: int | None = None, note: str | None = None
) -> Finding:
    """The warning for a stored ledger row the catalog does not know, left out of a position
    (with its units, and the latest note an admin wrote on it, when known)."""
    what = "; ".join(p.message + (f" ({p.hint})" if p.hint else "") for p in problems)
    held = f" ({units} units)" if units is not None else ""
    message = f"ledger entitlement {ref}{held} is left out of this position: {what}"
    if note is not None:
        message += ". An admin can annotate it and retire it on the ledger page"
        message += f"; note: {note}" if note else ""
    return Finding("warning", "ledger-row-unknown", message, f"ledger:{ref}")


def known_records(
    records: Sequence[Entitlement], catalog: Catalog
) -> tuple[tuple[Entitlement, ...], tuple[Finding, ...]]:
    """The ledger's records the catalog knows, and a warning finding for each stored row it
    does not (an unknown product, edition or version): left out of a position, never a crash."""
    kept: list[Entitlement] = []
    findings: dict[str, Finding] = {}
    for record in records:
        bad = check_record(record, catalog)
        if bad:
            findings.setdefault(record.id or "?", unknown_row(record.id or "?", bad))
        else:
            kept.append(record)
    return tuple(kept), tuple(findings.values())
