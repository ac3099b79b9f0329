"""One ``.xlsx`` workbook as raw estate tables: a sheet per table (see :mod:`entitle.estate.raw`).

Kept apart from the CSV reader because a workbook is a zip archive with limits of its own: before
openpyxl opens it, :func:`check_archive` reads the sizes the archive declares and refuses one that
would unpack to more than :attr:`Limits.max_bytes` or that is compressed suspiciously well (a zip
bomb); while reading, :func:`sheet_rows` stops at :attr:`Limits.max_cells`. Links to other
workbooks are never followed (``keep_links=False``). The importers and the ledger open their
workbooks with :func:`open_workbook` too.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from entitle.estate.raw import RawEstate, RawTable, table_from_rows, unknown_table
from entitle.estate.schema import TABLES
from entitle.source import Problem, Source

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

# openpyxl (and the NumPy it loads) is imported when a workbook is opened: the CSV readers and
# `entitle import` of CSV files import this module without opening one.

MiB = 2**20
SAVE_AGAIN = "save it from Excel or LibreOffice as an .xlsx workbook"


@dataclass(frozen=True, slots=True)
class Limits:
    """How big a workbook may be. The defaults are far above any real estate or export (an
    RVTools workbook of 10,000 VMs unpacks to about 60 MiB) and far below what would exhaust a
    machine."""

    max_bytes: int = 1024 * MiB  # unpacked size of every member of the archive together
    max_ratio: int = 250  # unpacked / packed size of one member (real sheets: 5 to 30) ...
    ratio_from: int = 16 * MiB  # ... checked for members that unpack to more than this
    max_cells: int = 20_000_000  # cells read, over every sheet (an empty row counts as one)
    # openpyxl builds the whole shared-strings table in memory before the first row is read (a
    # list of Python strings, about 9 bytes of memory per byte of XML): its unpacked size is
    # capped on its own. A 256 MiB table packed 229 to 1 took 2.4 GB and two minutes.
    max_shared_bytes: int = 64 * MiB
    max_text: int = 256 * MiB  # characters of cell text read, over every sheet


LIMITS = Limits()


class TooManyCells(Exception):
    """Raised by :func:`sheet_rows` when the workbook holds more cells (or more characters of
    text) than its limit."""

    def __init__(self, sheet: str, row: int, limit: int, what: str = "cells"):
        super().__init__(f"more than {limit:,} {what}")
        self.sheet, self.row, self.limit, self.what = sheet, row, limit, what

    def problem(self, file: str) -> Problem:
        message = f"the workbook holds more than {self.limit:,} {self.what}; reading stopped here"
        hint = "split it into CSV files, or delete the unused rows and columns"
        return Problem(Source(file, self.row, self.sheet), message, hint)


SHARED_STRINGS = "sharedstrings"  # xl/sharedStrings.xml, whatever the case or the folder


def check_archive(path: Path, file: str, limits: Limits = LIMITS) -> Problem | None:
    """A problem when the archive would unpack to too much, from the sizes it declares (which
    :mod:`zipfile`, and so openpyxl, never reads past), before anything is unpacked."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        message = (
            "cannot open the workbook: it is not a zip archive (as .xlsx is), or it is cut short"
        )
        return Problem(Source(file), message, SAVE_AGAIN)
    except Exception as error:  # zipfile raises more than BadZipFile on a damaged directory
        message = f"cannot open the workbook: {type(error).__name__}: {error}"
        return Problem(Source(file), message, SAVE_AGAIN)
    total = sum(member.file_size for member in members)
    if total > limits.max_bytes:
        message = (
            f"the workbook would unpack to {total / MiB:,.0f} MiB, over the limit of "
            f"{limits.max_bytes / MiB:,.0f} MiB"
        )
        return Problem(Source(file), message, "split it into CSV files, or several workbooks")
    for member in members:
        if Path(member.filename).stem.lower() == SHARED_STRINGS and (
            member.file_size > limits.max_shared_bytes
        ):
            message = (
                f"the workbook's table of shared strings ({member.filename}) would unpack to "
                f"{member.file_size / MiB:,.0f} MiB, over the limit of "
                f"{limits.max_shared_bytes / MiB:,.0f} MiB"
            )
            return Problem(Source(file), message, "export the tables as CSV files")
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > limits.ratio_from and ratio > limits.max_ratio:
            message = (
                f"{member.filename} is compressed {ratio:,.0f} to 1, more than any real "
                f"workbook (limit {limits.max_ratio} to 1): a zip bomb?"
            )
            return Problem(Source(file), message, SAVE_AGAIN + ", or export the tables as CSV")
    return None


def open_workbook(
    path: Path, file: str, limits: Limits = LIMITS, hint: str = SAVE_AGAIN
) -> tuple[Workbook | None, Problem | None]:
    """The workbook opened read-only, values only and without its external links, or the
    problem that stops it (checked by :func:`check_archive` first)."""
    problem = check_archive(path, file, limits)
    if problem is not None:
        return None, problem
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as error:  # openpyxl raises many kinds on a damaged or foreign file
        message = f"cannot open the workbook: {type(error).__name__}: {error}"
        return None, Problem(Source(file), message, hint)
    return book, None


class CellBudget:
    """The cells and characters of text a workbook may still hold, counted down by
    :func:`sheet_rows`."""

    def __init__(self, limits: Limits = LIMITS):
        self.limit = limits.max_cells
        self.left = limits.max_cells
        self.text_limit = limits.max_text
        self.text_left = limits.max_text


def sheet_rows(
    book: Workbook, title: str, budget: CellBudget, text: Callable[[Any], str] | None = None
) -> list[tuple[int, list[str]]]:
    """``(row number, cell texts)`` of every row of a sheet with cells, up to its last cell. The size the
    sheet declares is ignored (it may claim a million rows); raises :class:`TooManyCells`."""
    text = text or cell_text
    sheet = book[title]
    sheet.reset_dimensions()  # pad rows to the cells they hold, not to the declared width
    rows: list[tuple[int, list[str]]] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        budget.left -= max(1, len(values))
        if budget.left < 0:
            raise TooManyCells(title, number, budget.limit)
        if values:  # the rows between two rows with cells come empty: blank, so left out
            texts = [text(value) for value in values]
            budget.text_left -= sum(map(len, texts))
            if budget.text_left < 0:
                raise TooManyCells(title, number, budget.text_limit, "characters of text")
            rows.append((number, texts))
    return rows


def read_workbook(path: Path, limits: Limits = LIMITS) -> tuple[RawEstate, list[Problem]]:
    file = path.name
    book, problem = open_workbook(path, file, limits)
    if book is None:
        return RawEstate(path.stem), [problem] if problem else []
    budget = CellBudget(limits)
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    unreadable: set[str] = set()
    stopped = False
    try:
        for title in book.sheetnames:
            table = title.strip().lower()
            if table not in TABLES:
                unknown = unknown_table(Source(file, 1, title), title, table)
                problems.extend([unknown] if unknown else [])
                continue
            if table in tables or table in unreadable:
                message = f"two sheets hold the {table} table"
                problems.append(Problem(Source(file, 1, title), message, "keep one of them"))
                continue
            try:
                rows = sheet_rows(book, title, budget)
            except TooManyCells as error:
                problems.append(error.problem(file))
                unreadable.add(table)
                stopped = True
                break
            except Exception as error:  # a damaged sheet inside a readable archive
                message = f"cannot read the sheet: {type(error).__name__}: {error}"
                problems.append(
                    Problem(Source(file, 1, title), message, "save the workbook again as .xlsx")
                )
                unreadable.add(table)
                continue
            where = partial(_sheet_source, file, title)
            raw, sheet_problems = table_from_rows(table, rows, where, workbook=True)
            problems.extend(sheet_problems)
            if raw is None:
                unreadable.add(table)
            else:
                tables[table] = raw
    finally:
        book.close()
    if "hosts" not in tables and "hosts" not in unreadable and not stopped:
        hint = "add a sheet named hosts (columns host, processors, cores_per_processor)"
        problems.append(Problem(Source(file), "the workbook has no hosts sheet", hint))
    return RawEstate(path.stem, tables, frozenset(unreadable)), problems


def _sheet_source(file: str, sheet: str, row: int) -> Source:
    return Source(file, row, sheet)


def cell_text(value: Any) -> str:
    """A workbook cell as the text a CSV file would hold: 2.0 → "2", a date → "2026-11-28"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)
