"""One ``.xlsx`` workbook as raw estate tables: a sheet per table (see :mod:`entitle.estate.reader`).

Kept apart from the CSV reader because a workbook is a zip archive with limits of its own.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import openpyxl

from entitle.estate.reader import RawEstate, RawTable, table_from_rows, unknown_table
from entitle.estate.records import TABLES
from entitle.source import Problem, Source


def read_workbook(path: Path) -> tuple[RawEstate, list[Problem]]:
    file = path.name
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged or foreign file
        message = f"cannot open the workbook: {type(error).__name__}: {error}"
        hint = "save it from Excel or LibreOffice as an .xlsx workbook"
        return RawEstate(path.stem), [Problem(Source(file), message, hint)]
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    unreadable: set[str] = set()
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
                rows = [
                    (number, [cell_text(value) for value in values])
                    for number, values in enumerate(
                        book[title].iter_rows(min_row=1, values_only=True), start=1
                    )
                ]
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
    if "hosts" not in tables and "hosts" not in unreadable:
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
