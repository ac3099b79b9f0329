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

from entitle.estate import files
from entitle.estate.files import (
    FOLLOW_SYMLINKS,
    LIMITS,
    MAX_FILE_BYTES,
    SPLIT_HINT,
    Limits,
    MiB,
    not_regular,
    open_input,
    read_input,
    too_big,
)
from entitle.estate.raw import RawEstate, RawTable, even_table, table_from_rows, unknown_table
from entitle.estate.schema import TABLES
from entitle.estate.stream import ENCODING_HINT, malformed, over_rows, read_stream, scan
from entitle.estate.workbook import read_workbook
from entitle.source import Problem, Source
from entitle.text import bom_encoding as _encoding

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
MAX_ROWS = files.MAX_ROWS  # of read_csv_bytes when not told (a test may set it lower)


def read_estate(path: str | Path, limits: Limits = LIMITS) -> tuple[RawEstate, list[Problem]]:
    """Read a folder of CSV files (each table within ``limits``) or one workbook. Never raises
    on bad input."""
    path = Path(path)
    where = Source(str(path))
    if path.is_dir():
        return _read_folder(path, limits)
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


def _read_folder(folder: Path, limits: Limits) -> tuple[RawEstate, list[Problem]]:
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
    if "hosts" not in found:
        hint = "every estate needs hosts.csv (columns host, processors, cores_per_processor)"
        problems.append(Problem(Source(str(folder)), "the estate folder has no hosts.csv", hint))
    name = folder.resolve().name or "estate"
    # Fail fast: a table over its bounds is refused before any other is read (reading the rest
    # of a 1,000,000-user estate took 43 s), the bulk tables' rows first of all.
    oversized = [_oversized(file, table, limits) for table, file in found.items()]
    refused = [problem for problem in oversized if problem is not None]
    if refused:
        return RawEstate(name, {}, frozenset(found)), problems + refused
    tables: dict[str, RawTable] = {}
    unreadable: set[str] = set()
    for table in sorted(found, key=lambda table: table not in limits.bulk):
        file = found[table]
        if table in limits.bulk:
            raw, table_problems = _read_bulk(file, table, limits)
            if raw is None and any(p.hint == limits.hint(table) for p in table_problems):
                return RawEstate(name, {}, frozenset(found)), problems + table_problems
        else:
            data, refusal = read_input(file, file.name, limits.bytes, limits.hint(table))
            if data is None:
                raw, table_problems = None, [refusal] if refusal else []
            else:
                raw, table_problems = read_csv_bytes(
                    data, table, file.name, limits.rows, limits.hint(table)
                )
                del data
        problems.extend(table_problems)
        if raw is None:
            unreadable.add(table)
        else:
            tables[table] = raw
    return RawEstate(name, tables, frozenset(unreadable)), problems


def _oversized(file: Path, table: str, limits: Limits) -> Problem | None:
    """The problem with a file bigger than its table may be, from its metadata alone."""
    try:
        info = file.stat() if FOLLOW_SYMLINKS.get() else file.lstat()
    except OSError:
        return None  # said when it is read
    if info.st_size > limits.max_bytes(table):
        return too_big(file.name, info.st_size, limits.max_bytes(table), limits.hint(table))
    return None


def _read_bulk(file: Path, table: str, limits: Limits) -> tuple[RawTable | None, list[Problem]]:
    """A bulk table (``access.csv``): a UTF-8 file streamed into columns within the bulk bounds
    (:mod:`entitle.estate.stream`), a UTF-16 one read whole within the others."""
    hint = limits.hint(table)
    handle, refusal = open_input(file, file.name, limits.bulk_bytes, hint)
    if handle is None:
        return None, [refusal] if refusal else []
    with handle:
        try:
            found = scan(handle, file.name, limits.bulk_bytes, hint)
            if found.utf8:
                if found.problem is not None:
                    return None, [found.problem]
                return read_stream(handle, found, table, file.name, limits.bulk_rows, hint)
            handle.seek(0)
            data = handle.read(limits.bytes + 1)
        except OSError as error:
            return None, [Problem(Source(file.name), f"cannot read the file: {error.strerror}")]
    if len(data) > limits.bytes:
        utf16 = f"a UTF-16 file is read whole, within {limits.bytes // MiB:,} MiB; {ENCODING_HINT}"
        return None, [too_big(file.name, len(data), limits.bytes, utf16)]
    return read_csv_bytes(
        data, table, file.name, limits.rows, SPLIT_HINT.format(limits.rows, limits.bytes // MiB)
    )


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


def read_csv_bytes(
    data: bytes, table: str, file: str, max_rows: int | None = None, hint: str | None = None
) -> tuple[RawTable | None, list[Problem]]:
    """Decode and split one CSV file of at most ``max_rows`` data rows (:data:`MAX_ROWS`
    unless told; ``hint`` says what to do with more). ``None`` when nothing usable could be
    read."""
    max_rows = MAX_ROWS if max_rows is None else max_rows
    hint = SPLIT_HINT.format(max_rows, MAX_FILE_BYTES // MiB) if hint is None else hint
    text, problems = decode(data, file)
    if text is None:
        return None, problems
    source = partial(Source, file)
    lines = max(text.count("\n"), text.count("\r"))  # at least the rows, bar one
    quoted = '"' in text
    del text  # the rows are read from the bytes, a chunk at a time
    # no quote: no field spans lines, row k starts on line k + 1, and no quote is open
    if not quoted and lines <= max_rows + 1:
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
            if len(numbered) > max_rows:  # the header and max_rows rows are read
                return None, [over_rows(file, start, max_rows, hint)]
            numbered.append((start, fields))
            start = reader.line_num + 1
    except csv.Error as error:
        return None, [malformed(file, start, error)]
    return table_from_rows(table, numbered, source)
