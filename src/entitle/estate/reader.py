"""Raw estate tables: header and rows of text, each row with the :class:`Source` it came from.

An estate is a folder of ``<table>.csv`` files or one ``.xlsx`` workbook with a sheet per table
(see ``shared/spec/estate-format.md``). This module only reads: it decodes the text, splits it into
rows and reports malformed files (bad encoding, NUL bytes, a column named twice, a row with more or
fewer fields than its header) as :class:`Problem` values. Turning text into records is the job of
:mod:`entitle.estate.convert`. Imports only :mod:`entitle.source` and :mod:`entitle.estate.records`.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from entitle.estate.files import MAX_FILE_BYTES, MAX_ROWS, SPLIT_HINT, MiB, not_regular, read_input
from entitle.estate.records import TABLES
from entitle.estate.spreadsheet import unquote
from entitle.source import Problem, Source
from entitle.text import bom_encoding as _encoding

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
ENCODING_HINT = "save the file as UTF-8 (in Excel: 'CSV UTF-8 (Comma delimited)')"


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row: its cells (stripped text, one per header column) and where it starts."""

    values: tuple[str, ...]
    source: Source


@dataclass(frozen=True, slots=True)
class RawTable:
    """One table as read: lower-cased header names and the non-blank rows below the header, held
    as columns (one per header column, stripped text; a short row is padded with "") beside the
    :class:`Source` of each row. Equal texts in a column are one object, so an id repeated in
    600,000 access rows is stored once."""

    name: str
    header: tuple[str, ...]
    header_source: Source
    columns: tuple[tuple[str, ...], ...] = ()
    sources: tuple[Source, ...] = ()

    def column(self, name: str) -> int | None:
        """Index of the first column called ``name``, or ``None``."""
        return self.header.index(name) if name in self.header else None

    @property
    def rows(self) -> tuple[RawRow, ...]:
        """The data rows one by one, made from the columns."""
        values = zip(*self.columns, strict=True)
        return tuple(
            RawRow(cells, source) for cells, source in zip(values, self.sources, strict=True)
        )


@dataclass(frozen=True, slots=True)
class RawEstate:
    """Every table found. ``unreadable`` names tables whose file exists but could not be read, so
    that later checks do not pile "unknown id" problems on top of the real one."""

    name: str
    tables: dict[str, RawTable] = field(default_factory=dict)
    unreadable: frozenset[str] = frozenset()


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
        from entitle.estate.workbook import read_workbook  # noqa: PLC0415 (workbook imports this module)

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
            even = _even_table(table, range(1, len(rows) + 1), rows, source)
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


# -- shared: header and rows --------------------------------------------------------------------


def table_from_rows(
    table: str,
    rows: list[tuple[int, list[str]]],
    source: Callable[[int], Source],
    *,
    workbook: bool = False,
) -> tuple[RawTable | None, list[Problem]]:
    """Header (first non-blank row) and data rows; blank rows are skipped. ``source(line)``
    makes the Source of a line or sheet row."""
    if not workbook:
        lines = [line for line, _ in rows]
        even = _even_table(table, lines, [values for _, values in rows], source)
        if even is not None:
            return even
    problems: list[Problem] = []
    content = [(line, [v.strip() for v in values]) for line, values in rows]
    content = [(line, values) for line, values in content if any(values)]
    if not content:
        message = f"the {'sheet' if workbook else 'file'} is empty: no header row"
        return None, [Problem(source(1), message, f"the first row names the {table} columns")]
    header_line, header_cells = content[0]
    if workbook:  # a sheet pads every row to its widest row; trailing empty cells mean nothing
        while header_cells and not header_cells[-1]:
            header_cells.pop()
    header = tuple(name.lower() for name in header_cells)
    header_source = source(header_line)
    problems += _header_problems(header, header_source)
    width = len(header)
    unnamed = [i for i, name in enumerate(header) if not name]
    warned_unnamed = False
    data: list[tuple[str, ...]] = []
    sources: list[Source] = []
    if workbook:  # a workbook's rows: openpyxl is loaded already (CSV alone does not load it)
        from openpyxl.utils import get_column_letter
    for line, values in content[1:]:
        where = source(line)
        if workbook:
            extra = [
                get_column_letter(i + 1) for i, v in enumerate(values[width:], start=width) if v
            ]
            if extra:
                message = f"a value in column {extra[0]}, which has no name in the header row"
                hint = "name the column in the header row or clear the cell"
                problems.append(Problem(where, message, hint))
        elif len(values) != width:
            message = f"{len(values)} fields, but the header has {width}"
            hint = "quote a field that holds a comma; every row needs one field per header column"
            problems.append(Problem(where, message, hint))
        cells = tuple((values + [""] * width)[:width])
        if not warned_unnamed and any(cells[i] for i in unnamed):
            warned_unnamed = True
            problems.append(_unnamed_warning(where))
        data.append(cells)
        sources.append(where)
    columns = (
        tuple(_shared(column) for column in zip(*data, strict=True)) if data else ((),) * width
    )
    return RawTable(table, header, header_source, columns, tuple(sources)), problems


def _even_table(
    table: str, lines: Sequence[int], rows: Sequence[list[str]], source: Callable[[int], Source]
) -> tuple[RawTable, list[Problem]] | None:
    """:func:`table_from_rows` of CSV rows (starting on ``lines``) that all have as many fields as
    the first and none blank (every file a program writes), done column by column; ``None`` for
    any other file, which the general path reads row by row."""
    if not rows or len({len(values) for values in rows}) != 1 or not rows[0]:
        return None
    columns = [_shared(column, strip=True) for column in zip(*rows, strict=True)]
    first = columns[0]
    for i in (i for i, value in enumerate(first) if not value):
        if not any(column[i] for column in columns):
            return None  # a blank row (only spaces or commas)
    header = tuple(column[0].lower() for column in columns)
    header_source = source(lines[0])
    problems = _header_problems(header, header_source)
    sources = tuple(map(source, lines[1:]))
    data = tuple(column[1:] for column in columns)
    unnamed = [
        next((row for row, value in enumerate(data[i]) if value), len(sources))
        for i, name in enumerate(header)
        if not name
    ]
    if unnamed and min(unnamed) < len(sources):
        problems.append(_unnamed_warning(sources[min(unnamed)]))
    return RawTable(table, header, header_source, data, sources), problems


def _header_problems(header: tuple[str, ...], where: Source) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if name and name in seen:
            message = f"the header names column '{name}' twice (column {position})"
            problems.append(Problem(where, message, "rename or remove one of the two"))
        seen.add(name)
    return problems


def _unnamed_warning(where: Source) -> Problem:
    message = "a value in a column with no name in the header is ignored"
    return Problem(where, message, "name the column", severity="warning")


def _shared(column: Iterable[str], *, strip: bool = False) -> tuple[str, ...]:
    """The column (stripped of surrounding spaces if ``strip``) with equal texts as one object.
    Each distinct text is stripped once; the per-cell work is done in C. A formula-looking text
    that a spreadsheet-safe CSV file wrote with a ``'`` before it (``'=x``) reads as ``=x``
    (:mod:`entitle.estate.spreadsheet`)."""
    column = tuple(column)
    if not strip:
        one = {value: unquote(value) for value in set(column)}
        return tuple(map(one.__getitem__, column))
    stripped: dict[str, str] = {}
    canonical: dict[str, str] = {}
    for value in set(column):
        text = unquote(value.strip())
        stripped[value] = canonical.setdefault(text, text)
    return tuple(map(stripped.__getitem__, column))


def unknown_table(where: Source, name: str, table: str) -> Problem | None:
    """A warning for a file or sheet whose name looks like a misspelt table (a typo would
    otherwise silently empty that table); other files and sheets are nobody's business."""
    close = difflib.get_close_matches(table, TABLES, n=1, cutoff=0.75)
    if not close:
        return None
    message = f"'{name}' is not an estate table and is ignored"
    return Problem(where, message, f"did you mean '{close[0]}'?", severity="warning")
