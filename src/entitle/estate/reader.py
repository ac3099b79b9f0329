"""Reading an estate as raw tables (:mod:`entitle.estate.raw`): a folder of CSV files, or one
workbook through :mod:`entitle.estate.workbook`.

An estate is a folder of ``<table>.csv`` files or one ``.xlsx`` workbook with a sheet per table
(see ``docs/estate-format.md``). This module only reads: it decodes the text, splits it into
rows and reports malformed files (bad encoding, NUL bytes, a column named twice, a row with more or
fewer fields than its header) as :class:`Problem` values. Turning text into records is the job of
:mod:`entitle.estate.convert`. Imports :mod:`entitle.source`, :mod:`entitle.text` and the estate's
``files``, ``raw``, ``schema`` and ``workbook`` modules (none of which imports this one).
"""

from __future__ import annotations

import csv
import io
from functools import partial
from pathlib import Path

from entitle.estate.files import MAX_FILE_BYTES, MAX_ROWS, SPLIT_HINT, MiB, not_regular, read_input
from entitle.estate.raw import RawEstate, RawTable, even_table, table_from_rows, unknown_table
from entitle.estate.schema import TABLES
from entitle.estate.workbook import read_workbook
from entitle.source import Problem, Source
from entitle.text import bom_encoding as _encoding

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
ENCODING_HINT = "save the file as UTF-8 (in Excel: 'CSV UTF-8 (Comma delimited)')"


def read_estate(path: str | Path) -> tuple[RawEstate, list[Problem]]:
    """Read a folder of CSV files or one workbook. Never raises on bad input."""
    path = Path(path)
    where = Source(str(path))
    if path.is_dir():
        return _read_folder(path)
    if not path.exists() and not path.is_symlink():
        return RawEstate(path.stem or "estate"), [
            Problem(where, "no such folder or workbook", "give an estate folder or an .xlsx file")
        ]
    refused = not_regular(path, str(path))
    if refused is not None:
        return RawEstate(path.stem or "estate"), [refused]
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        return read_workbook(path)
    if suffix == ".csv":
        hint = f"give the folder that holds the CSV files: {path.parent}"
        return RawEstate(path.stem), [Problem(where, "one CSV file is not an estate", hint)]
    hint = "give a folder of CSV files or an .xlsx workbook (save .xls or .ods as .xlsx)"
    return RawEstate(path.stem), [Problem(where, "not an estate folder or .xlsx workbook", hint)]


# -- a folder of CSV files ----------------------------------------------------------------------


def _read_folder(folder: Path) -> tuple[RawEstate, list[Problem]]:
    problems: list[Problem] = []
    found: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if entry.suffix.lower() != ".csv" or entry.is_dir():
            continue
        table = entry.stem.strip().lower()
        if table not in TABLES:
            unknown = unknown_table(Source(entry.name), entry.name, table)
            problems.extend([unknown] if unknown else [])
        elif table in found:
            message = f"{found[table].name} and {entry.name} both hold the {table} table"
            problems.append(Problem(Source(entry.name), message, "keep one of the two files"))
        else:
            found[table] = entry
    tables: dict[str, RawTable] = {}
    unreadable: set[str] = set()
    for table, file in found.items():
        data, refused = read_input(file, file.name)
        if data is None:
            problems.extend([refused] if refused else [])
            unreadable.add(table)
            continue
        raw, table_problems = read_csv_bytes(data, table, file.name)
        del data
        problems.extend(table_problems)
        if raw is None:
            unreadable.add(table)
        else:
            tables[table] = raw
    if "hosts" not in found:
        hint = "every estate needs hosts.csv (columns host, processors, cores_per_processor)"
        problems.append(Problem(Source(str(folder)), "the estate folder has no hosts.csv", hint))
    name = folder.resolve().name or "estate"
    return RawEstate(name, tables, frozenset(unreadable)), problems


def decode(data: bytes, file: str) -> tuple[str | None, list[Problem]]:
    """Text of a CSV file: UTF-8 with or without a BOM, or UTF-16 with a BOM."""
    encoding, skip = _encoding(data)
    body = data[skip:] if skip else data
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        good = body[: error.start].decode(encoding, errors="replace")
        line = good.count("\n") + 1
        message = f"not UTF-8 or UTF-16 text (undecodable byte at offset {error.start})"
        return None, [Problem(Source(file, line), message, ENCODING_HINT)]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        hint = "the file is binary, or UTF-16 without a byte order mark; " + ENCODING_HINT
        return None, [Problem(Source(file, line), "the text contains NUL bytes", hint)]
    return text, []


def _lines(data: bytes) -> io.TextIOWrapper:
    """The text of ``data`` (already checked by :func:`decode`), decoded a chunk at a time as
    the CSV reader asks for lines: ``io.StringIO`` of the whole text held four bytes a
    character beside it (a 200 MB file took 1.7 GB before its rows were read)."""
    encoding, skip = _encoding(data)
    raw = io.BytesIO(data)  # shares the bytes, no copy
    raw.seek(skip)
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


def read_csv_bytes(data: bytes, table: str, file: str) -> tuple[RawTable | None, list[Problem]]:
    """Decode and split one CSV file. ``None`` when nothing usable could be read."""
    text, problems = decode(data, file)
    if text is None:
        return None, problems
    source = partial(Source, file)
    lines = max(text.count("\n"), text.count("\r"))  # at least the rows, bar one
    quoted = '"' in text
    del text  # the rows are read from the bytes, a chunk at a time
    # no quote: no field spans lines, row k starts on line k + 1, and no quote is open
    if not quoted and lines <= MAX_ROWS + 1:
        try:
            rows = list(csv.reader(_lines(data), strict=True))
        except csv.Error:  # (a field over the size limit): the loop below says where
            rows = []
        if rows:
            even = even_table(table, range(1, len(rows) + 1), rows, source)
            if even is not None:
                return even
    reader = csv.reader(_lines(data), strict=True)
    numbered: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for fields in reader:
            if len(numbered) > MAX_ROWS:  # the header and MAX_ROWS rows are read
                message = f"the table has more than {MAX_ROWS:,} rows; reading stopped here"
                hint = SPLIT_HINT.format(MAX_ROWS, MAX_FILE_BYTES // MiB)
                return None, [Problem(Source(file, start), message, hint)]
            numbered.append((start, fields))
            start = reader.line_num + 1
    except csv.Error as error:
        if "end of data" in str(error):
            message = "a quoted field starts here and never ends"
            hint = 'close the quote, or double a quote inside a quoted field ("")'
        else:
            message = f"malformed CSV: {error}"
            hint = "quote a field that holds a comma, quote or line break, and double its quotes"
        return None, [Problem(Source(file, start), message, hint)]
    return table_from_rows(table, numbered, source)
