"""Merging imported rows into an estate folder, atomically.

Each table has a key, given by :mod:`entitle.estate.schema` (``hosts``: host; ``software``: ose
and product; ``access``: ose, product, user, device, level, purpose; ``entitlements``: id, or the
whole row when it has none …). An imported row with a new key is added; one with a known key
updates the cells it fills (a *weak* row only fills blank cells); the estate's own rows are all
kept. Access dates widen
(``first_seen`` the earliest, ``last_seen`` the latest), so importing the same file twice changes
nothing. A placeholder host (one an importer made up for an OSE whose host no export named) goes
away once no OSE runs on it. Access to a product with no ``software.csv`` row on its OSE is left
out and reported: the version accessed would be unknown.

:func:`write_estate` writes every table to a new folder beside the estate, checks it with
:func:`entitle.estate.loader.load_estate`, and only then swaps it in; on any error nothing is
written. The swap is one atomic exchange of the two folders on Linux (``renameat2``), so a process
killed at any point leaves the old estate or the new one; elsewhere it is two renames, and
:func:`recover` puts the old estate back if a kill fell between them. Imports :mod:`entitle.source`, :mod:`entitle.estate` and :mod:`entitle.importers.result`.
"""

from __future__ import annotations

import csv
import ctypes
import errno
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from entitle.catalog import Catalog
from entitle.estate.loader import load_estate
from entitle.estate.reader import read_csv_bytes
from entitle.estate.schema import FINDINGS, SCHEMA, TABLES
from entitle.faults import fault_point
from entitle.importers.result import NewRow
from entitle.source import Problem, Source

# Each table's key and header come from the estate's schema, as does the default a blank key
# cell stands for (an access row's level and purpose), so the merge takes every table the
# loader does, with every column.
SPECS = {spec.name: spec for spec in (*SCHEMA, FINDINGS)}
KEYS: dict[str, tuple[str, ...]] = {name: spec.key for name, spec in SPECS.items()}
COLUMNS: dict[str, tuple[str, ...]] = {spec.name: spec.names for spec in SCHEMA}
DEFAULTS: dict[str, dict[str, str]] = {
    name: {c.name: c.default for c in spec.columns if c.default and c.name in spec.key}
    for name, spec in SPECS.items()
}
PLACEHOLDER = "placeholder"  # extra hosts.csv column: yes for a host no export named


@dataclass
class Table:
    name: str
    header: list[str]
    rows: dict[tuple[str, ...], dict[str, str]] = field(default_factory=dict)
    # Where this import's rows came from (FILE:LINE or FILE:SHEET!ROW), by key: a problem the
    # estate loader finds in a merged row is shown there, not at a staged file that is gone.
    origins: dict[tuple[str, ...], Source] = field(default_factory=dict)

    def key(self, cells: Mapping[str, str]) -> tuple[str, ...]:
        """The row's key cells (a blank one with a default read as that default); a row whose
        key is all blank (an entitlement without an id) is keyed by all its cells, so only the
        same row imported again is the same row."""
        defaults = DEFAULTS[self.name]
        key = tuple(
            (cells.get(c, "") or defaults[c]).lower() if c in defaults else cells.get(c, "")
            for c in KEYS[self.name]
        )
        if any(key):
            return key
        return ("", *(f"{c}={v}" for c, v in sorted(cells.items()) if v))


@dataclass
class MergeReport:
    added: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[Source]] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)

    def drop(self, reason: str, source: Source, n: int = 1) -> None:
        self.dropped[reason] += n
        found = self.examples.setdefault(reason, [])
        if len(found) < 3:
            found.append(source)


def read_tables(folder: Path) -> tuple[dict[str, Table], list[Problem]]:
    """The tables of an existing estate folder (absent tables are empty)."""
    tables: dict[str, Table] = {}
    problems: list[Problem] = []
    for name in (*TABLES, FINDINGS.name):
        path = folder / f"{name}.csv"
        if not path.is_file():
            continue
        raw, found = read_csv_bytes(path.read_bytes(), name, path.name)
        errors = [p for p in found if p.severity == "error"]
        if raw is None or errors:
            problems.extend(errors or found)
            continue
        table = Table(name, list(raw.header))
        for row in raw.rows:
            cells = dict(zip(raw.header, row.values, strict=False))
            key = table.key(cells)
            if key in table.rows:  # the estate's own rows are kept, even two of one key
                key = (*key, f"#{len(table.rows)}")
            table.rows[key] = cells
        tables[name] = table
    return tables, problems


def _update(existing: dict[str, str], new: Mapping[str, str], weak: bool) -> bool:
    changed = False
    for column, value in new.items():
        if not value:
            continue
        old = existing.get(column, "")
        if column == "first_seen" and old:
            value = min(old, value)
        elif column == "last_seen" and old:
            value = max(old, value)
        elif weak and old:
            continue
        if old != value:
            existing[column] = value
            changed = True
    return changed


def merge(
    tables: dict[str, Table], incoming: Mapping[str, Sequence[NewRow]]
) -> tuple[dict[str, Table], MergeReport]:
    """Tables with the incoming rows merged in (the given tables are changed in place);
    ``report.touched`` names the tables that changed."""
    report = MergeReport()
    for name in TABLES:
        rows = incoming.get(name, ())
        if not rows:
            continue
        table = tables.setdefault(name, Table(name, list(COLUMNS.get(name, ()))))
        report.touched.add(name)
        if name == "access":
            rows = _installed_only(tables, rows, report)
        oses = (
            {c.get("ose", "") for c in tables["oses"].rows.values()} if "oses" in tables else set()
        )
        for row in rows:
            cells = {c: v for c, v in row.cells.items() if v is not None}
            key = table.key(cells)
            table.origins.setdefault(key, row.source)
            existing = table.rows.get(key)
            if existing is None:
                if name == "devices" and row.weak and cells.get("device") in oses:
                    continue  # a server reaching a server: the OSE is its id
                for column in cells:
                    if column not in table.header:
                        table.header.append(column)
                table.rows[key] = dict(cells)
                report.added[name] += 1
                continue
            changed = _update(existing, cells, row.weak)
            for column in cells:
                if column not in table.header and existing.get(column):
                    table.header.append(column)
            if name == "hosts" and not row.weak and existing.get(PLACEHOLDER):
                existing[PLACEHOLDER] = ""
                changed = True
            report.updated[name] += changed
    _drop_placeholders(tables, report)
    _close_stays(tables, report)
    return tables, report


def _iso(text: str) -> bool:
    return len(text) == 10 and text[4] == "-" and text[7] == "-"


def _close_stays(tables: dict[str, Table], report: MergeReport) -> None:
    """A VM is on one host at a time: a stay left open (``until`` blank) that a later stay of the
    same VM follows ends the day that one starts (an import of newer migration events)."""
    table = tables.get("placements")
    if table is None:
        return
    stays: dict[str, list[dict[str, str]]] = {}
    for cells in table.rows.values():
        stays.setdefault(cells.get("ose", ""), []).append(cells)
    for rows in stays.values():
        rows.sort(key=lambda c: c.get("from", ""))
        for stay, after in zip(rows, rows[1:], strict=False):
            start, next_start = stay.get("from", ""), after.get("from", "")
            if not (_iso(start) and _iso(next_start)):
                continue  # a hand-written date in another style: left as written
            if not stay.get("until") and next_start > start:
                stay["until"] = after["from"]
                report.touched.add("placements")


def _installed_only(
    tables: dict[str, Table], rows: Sequence[NewRow], report: MergeReport
) -> list[NewRow]:
    """Access rows whose product is installed on their OSE (software.csv gives the version)."""
    software = tables.get("software")
    installed = set(software.rows) if software else set()
    kept: list[NewRow] = []
    for row in rows:
        if (row.cells.get("ose", ""), row.cells.get("product", "")) in installed:
            kept.append(row)
        else:
            product = row.cells.get("product", "")
            report.drop(
                f"no {product} in software.csv on the OSE: the version accessed is "
                "unknown (import SIL or add the row)",
                row.source,
            )
    return kept


def _drop_placeholders(tables: dict[str, Table], report: MergeReport) -> None:
    """A placeholder host goes once no OSE runs on it."""
    oses, hosts = tables.get("oses"), tables.get("hosts")
    if hosts is None:
        return
    used = {cells.get("host", "") for cells in oses.rows.values()} if oses else set()
    for key, cells in list(hosts.rows.items()):
        if cells.get(PLACEHOLDER, "").lower() == "yes" and cells.get("host") not in used:
            del hosts.rows[key]
            report.touched.add("hosts")


def _write_table(path: Path, table: Table) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(table.header)
        for cells in table.rows.values():
            writer.writerow([cells.get(c, "") for c in table.header])
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_estate(
    folder: Path,
    tables: Mapping[str, Table],
    catalog: Catalog,
    bulk: Mapping[str, Callable[[Path], list[Problem]]] | None = None,
) -> list[Problem]:
    """Write the tables as the estate at ``folder``: all of them or nothing. Returns the problems
    of the merged estate (then nothing was written) or its warnings. ``bulk`` writes tables that
    are not held as rows (:mod:`entitle.importers.bulk`): each writer writes its table at the path
    it is given and returns the problems of what it wrote; the loader checks the others (its
    file is put in place only after)."""
    bulk = bulk or {}
    folder = folder.absolute()
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover(folder)
    _sweep(folder)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.import-", dir=folder.parent))
    writing = _BulkWriters(bulk, staging)
    try:
        if folder.is_dir():
            for entry in folder.iterdir():
                if entry.name.lower() in {f"{t}.csv" for t in (*tables, *bulk)}:
                    continue
                target = staging / entry.name
                if entry.is_dir():
                    shutil.copytree(entry, target, symlinks=True)
                else:
                    shutil.copy2(entry, target, follow_symlinks=False)
        writing.start()  # beside the rows written and checked below (see _BulkWriters)
        if "hosts" not in tables and not (staging / "hosts.csv").exists():
            _write_table(staging / "hosts.csv", Table("hosts", list(COLUMNS["hosts"])))
        for name, table in tables.items():
            _write_table(staging / f"{name}.csv", table)
            fault_point("import.table")
        _fsync_dir(staging)
        fault_point("import.staged")
        estate, problems = load_estate(staging, catalog)
        found = writing.result()
        problems = [_renamed(p, staging, folder, tables) for p in problems] + found
        if estate is None or any(p.severity == "error" for p in found):
            shutil.rmtree(staging, ignore_errors=True)
            return problems
        if bulk:
            for name in bulk:
                os.replace(staging / f"{name}.csv.pending", staging / f"{name}.csv")
            _fsync_dir(staging)
        _swap(staging, folder)
        return problems
    except BaseException:
        writing.wait()  # it writes into the staging folder and uses its caller's connection
        shutil.rmtree(staging, ignore_errors=True)
        raise


class _BulkWriters:
    """The bulk writers of :func:`write_estate`, run in one thread beside the main one: each
    writes its table as ``NAME.csv.pending`` in the staging folder (the loader does not read
    it) and checks it, in DuckDB, which releases the GIL while a query runs; the main thread
    meanwhile writes the other tables and the loader checks them. Their problems come in the
    writers' order, as when they ran one after the other."""

    def __init__(self, bulk: Mapping[str, Callable[[Path], list[Problem]]], staging: Path):
        self.bulk = bulk
        self.staging = staging
        self.found: list[Problem] = []
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.bulk:
            self.thread = threading.Thread(target=self._run, name="entitle-bulk", daemon=True)
            self.thread.start()

    def _run(self) -> None:
        try:
            for name, write in self.bulk.items():
                pending = self.staging / f"{name}.csv.pending"
                self.found.extend(write(pending))
                _fsync_file(pending)
        except BaseException as error:  # raised again in the caller's thread (result())
            self.error = error

    def wait(self) -> None:
        if self.thread is not None:
            self.thread.join()

    def result(self) -> list[Problem]:
        """The writers' problems, once they are done; what one of them raised, raised here."""
        self.wait()
        if self.error is not None:
            raise self.error
        return self.found


def _renamed(
    problem: Problem, staging: Path, folder: Path, tables: Mapping[str, Table] | None = None
) -> Problem:
    """A problem of the staged estate, at the export row it came from when this import wrote
    that row (``FILE:SHEET!ROW``), else at the estate file it will be in."""
    path = Path(problem.source.file)
    staged = path.parent == staging or os.sep not in problem.source.file
    table = (tables or {}).get(path.stem) if staged and path.suffix == ".csv" else None
    if table is not None and problem.source.line >= 2 and problem.source.sheet is None:
        keys = list(table.rows)
        index = problem.source.line - 2  # the header is line 1; _write_table writes every row
        origin = table.origins.get(keys[index]) if index < len(keys) else None
        if origin is not None:
            where = f"{path.name} line {problem.source.line} of the merged estate"
            hint = f"{problem.hint}; {where}" if problem.hint else where
            return Problem(origin, problem.message, hint, problem.severity)
    file = problem.source.file.replace(str(staging), str(folder))
    if file == problem.source.file and os.sep not in file:
        file = str(folder / file)
    source = Source(file, problem.source.line, problem.source.sheet)
    return Problem(source, problem.message, problem.hint, problem.severity)


def _swap(staging: Path, folder: Path) -> None:
    """Replace ``folder`` by ``staging`` (a reader, or a kill, never sees half an estate)."""
    if not folder.exists():
        os.replace(staging, folder)
    elif _exchange(staging, folder):
        fault_point("import.swapped")
        shutil.rmtree(staging, ignore_errors=True)  # it holds the old estate now
    else:
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
        old.rmdir()
        os.replace(folder, old)  # a kill right here leaves no estate: recover() mends that
        fault_point("import.half-swapped")
        try:
            os.replace(staging, folder)
        except BaseException:
            os.replace(old, folder)
            raise
        shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(folder.parent)


RENAME_EXCHANGE = 2  # linux/fs.h
AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2``). False where the system or the
    file system cannot; then nothing happened."""
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # a C library older than glibc 2.28
        return False
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


STALE_SECONDS = 24 * 3600  # no import runs for a day: a staging folder this old was abandoned


def _sweep(folder: Path) -> None:
    """Remove what killed imports left beside the estate (their hidden staging and old copies),
    once they are a day old, so that nothing still running is touched."""
    cutoff = time.time() - STALE_SECONDS
    for pattern in (f".{folder.name}.import-*", f".{folder.name}.old-*"):
        for left in folder.parent.glob(pattern):
            try:
                if left.is_dir() and left.stat().st_mtime < cutoff:
                    shutil.rmtree(left, ignore_errors=True)
            except OSError:
                continue


def recover(folder: Path) -> None:
    """Put the old estate back when a swap by two renames was killed between them (the estate
    is missing and its ``.NAME.old-*`` copy is whole: it was complete before the first rename)."""
    if folder.exists():
        return
    olds = sorted(
        folder.parent.glob(f".{folder.name}.old-*"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    if olds:
        os.replace(olds[0], folder)


def table_names(tables: Iterable[str]) -> list[str]:
    return [t for t in TABLES if t in set(tables)]
