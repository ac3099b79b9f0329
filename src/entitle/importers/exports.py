"""Reading the files users export: CSV as PowerShell's ``Export-Csv`` writes it, and workbooks.

``Export-Csv`` in Windows PowerShell starts with a ``#TYPE <class>`` line (PowerShell 7 leaves it
out), quotes every field, and ``>`` or ``Out-File`` save UTF-16 LE with a byte order mark; Excel
and ``-UseCulture`` may separate fields with ``;``. This module hides all that: an
:class:`Export` is the header as written, the rows as cells looked up by column name without
regard to case, and the :class:`~entitle.source.Source` of each row (its physical line).
:func:`sniff` reads only the head of a file (for evidence too large to hold), :func:`read_export`
all of it. Bad input becomes :class:`~entitle.source.Problem` values, never an exception.
Imports :mod:`entitle.source` and the decoding helpers of :mod:`entitle.estate.reader`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from entitle.estate.files import read_input
from entitle.estate.reader import decode
from entitle.source import Problem, Source
from entitle.text import bom_encoding as _encoding

if TYPE_CHECKING:
    from entitle.estate.workbook import Limits

# entitle.estate.workbook (openpyxl, 0.5-1 s to import) is loaded when a workbook is read.

DELIMITERS = (",", ";", "\t")
MAX_COLUMNS = 16_384  # Excel's limit: no export has more
HEAD_BYTES = 256 * 1024
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True, slots=True)
class ExportRow:
    cells: Mapping[str, str]  # lower-case column name -> stripped text
    source: Source

    def get(self, *names: str) -> str:
        """The first non-blank cell among ``names`` (lower-case), or ""."""
        for name in names:
            value = self.cells.get(name, "")
            if value:
                return value
        return ""


@dataclass(frozen=True, slots=True)
class Export:
    """One exported table: a CSV file or one sheet of a workbook."""

    file: str  # the name shown in problems
    path: Path
    header: tuple[str, ...]  # as written
    rows: tuple[ExportRow, ...] = ()
    type_name: str = ""  # what follows "#TYPE " on the first line, if any
    delimiter: str = ","
    encoding: str = "utf-8"
    skip: int = 0  # lines before the header line
    sheet: str | None = None

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(name.lower() for name in self.header)

    def has(self, *names: str) -> bool:
        return all(name.lower() in self.columns for name in names)

    def where(self, line: int) -> Source:
        return Source(self.file, line, self.sheet)

    @property
    def header_source(self) -> Source:
        return self.where(self.skip + 1)

    def missing(self, required: Iterable[str]) -> list[str]:
        return [name for name in required if name.lower() not in self.columns]


def _head_text(data: bytes, complete: bool, file: str) -> tuple[str | None, list[Problem]]:
    """Decode the head of a file; a cut in the middle of a character or line is fine."""
    if complete:
        return decode(data, file)
    encoding, bom = _encoding(data)
    body = data[bom:]
    if encoding.startswith("utf-16") and len(body) % 2:
        body = body[:-1]
    text = body.decode(encoding, errors="ignore")
    text = text[: text.rfind("\n") + 1] if "\n" in text else text
    if "\x00" in text:
        hint = "the file is binary, or UTF-16 without a byte order mark"
        return None, [Problem(Source(file, 1), "the text contains NUL bytes", hint)]
    return text, []


def _width(line: str, delimiter: str) -> int:
    """How many fields ``line`` splits into with ``delimiter`` (0 if it cannot be split)."""
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:  # e.g. one field over the csv module's size limit
        return 0


def _split(
    text: str, file: str, sheet_rows: bool = False
) -> tuple[str, str, int, list[tuple[int, list[str]]], list[Problem]]:
    """(type name, delimiter, lines before the header, [(line, fields)], problems)."""
    type_name, skip = "", 0
    lines = text.splitlines(keepends=True)
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    if skip < len(lines) and lines[skip].startswith("#TYPE"):
        type_name = lines[skip][len("#TYPE") :].strip()
        skip += 1
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    header_line = lines[skip] if skip < len(lines) else ""
    delimiter = max(DELIMITERS, key=lambda d: _width(header_line, d))
    body = "".join(lines[skip:])
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    start = skip + 1
    try:
        for fields in reader:
            rows.append((start, fields))
            start = skip + reader.line_num + 1
    except csv.Error as error:
        if "end of data" in str(error) or "EOF" in str(error):
            message = "a quoted field starts here and never ends: the file looks truncated"
            hint = "export the data again; the copy is cut short"
        elif "field limit" in str(error):
            message = f"a field longer than {csv.field_size_limit():,} characters"
            hint = "no export column holds that much: the file is damaged or not an export"
        elif start == skip + 1:
            message = f"cannot split the header into columns ({error})"
            hint = (
                "the fields seem separated by something other than , ; or tab; export "
                "again with Export-Csv"
            )
        else:
            message = f"malformed CSV: {error}"
            hint = "export the data again with Export-Csv"
        return type_name, delimiter, skip, rows, [Problem(Source(file, start), message, hint)]
    return type_name, delimiter, skip, rows, []


def _build(
    file: str,
    path: Path,
    parsed: Sequence[tuple[int, list[str]]],
    *,
    type_name: str = "",
    delimiter: str = ",",
    encoding: str = "utf-8",
    skip: int = 0,
    sheet: str | None = None,
    limit: int | None = None,
) -> tuple[Export | None, list[Problem]]:
    content = [(line, [v.strip() for v in values]) for line, values in parsed]
    content = [(line, values) for line, values in content if any(values)]
    if not content:
        what = "sheet" if sheet else "file"
        return None, [
            Problem(
                Source(file, 1, sheet),
                f"the {what} is empty: no header row",
                "export the data again",
            )
        ]
    header_line, header = content[0]
    while header and not header[-1]:
        header.pop()
    if len(header) > MAX_COLUMNS:
        message = f"the header has {len(header):,} columns; no export has more than {MAX_COLUMNS:,}"
        hint = "the file is damaged or not an export; export the data again"
        return None, [Problem(Source(file, header_line, sheet), message, hint)]
    names = [h.lower() for h in header]
    width = len(header)
    rows: list[ExportRow] = []
    problems: list[Problem] = []
    for line, values in content[1 : None if limit is None else limit + 1]:
        where = Source(file, line, sheet)
        if sheet is None and len(values) != width:
            message = f"{len(values)} fields, but the header has {width}"
            if len(values) < width:
                message += ": the row is cut short (a truncated export?)"
            problems.append(Problem(where, message, "export the data again", "warning"))
            continue
        cells = {name: value for name, value in zip(names, values, strict=False) if name}
        rows.append(ExportRow(cells, where))
    export = Export(
        file,
        path,
        tuple(header),
        tuple(rows),
        type_name,
        delimiter,
        encoding,
        header_line - 1 if sheet is None else skip,
        sheet,
    )
    return export, problems


def _not_csv(path: Path, file: str) -> list[Problem]:
    """A workbook given where only CSV is read (UAL, SIL): say so rather than "not UTF-8"."""
    if not is_workbook(path):
        return []
    hint = "this kind reads Export-Csv output: save the sheet as 'CSV UTF-8', or export again"
    return [Problem(Source(file), "a workbook, where a CSV export is expected", hint)]


def sniff(
    path: Path, file: str | None = None, limit: int = 200
) -> tuple[Export | None, list[Problem]]:
    """The header and the first ``limit`` rows of a CSV file, reading only its head."""
    file = file or path.name
    if _not_csv(path, file):
        return None, _not_csv(path, file)
    try:
        with path.open("rb") as fh:
            data = fh.read(HEAD_BYTES)
            complete = len(data) < HEAD_BYTES
    except OSError as error:
        return None, [
            Problem(
                Source(file),
                f"cannot read the file: {error.strerror}",
                "check the path and its permissions",
            )
        ]
    text, problems = _head_text(data, complete, file)
    if text is None:
        return None, problems
    type_name, delimiter, skip, parsed, split_problems = _split(text, file)
    if split_problems and complete:
        return None, split_problems
    encoding = _encoding(data)[0]
    return _build(
        file,
        path,
        parsed,
        type_name=type_name,
        delimiter=delimiter,
        encoding=encoding,
        skip=skip,
        limit=limit,
    )


def read_export(path: Path, file: str | None = None) -> tuple[Export | None, list[Problem]]:
    """A whole CSV export. Rows with the wrong number of fields are left out with a warning."""
    file = file or path.name
    if _not_csv(path, file):
        return None, _not_csv(path, file)
    data, refused = read_input(path, file)
    if data is None:
        return None, [refused] if refused else []
    return parse_export(data, path, file)


def parse_export(data: bytes, path: Path, file: str) -> tuple[Export | None, list[Problem]]:
    """The bytes of a whole CSV export (what :func:`read_export` reads; the fuzz target)."""
    text, problems = decode(data, file)
    if text is None:
        return None, problems
    type_name, delimiter, skip, parsed, split_problems = _split(text, file)
    if split_problems:
        return None, split_problems
    return _build(
        file,
        path,
        parsed,
        type_name=type_name,
        delimiter=delimiter,
        encoding=_encoding(data)[0],
        skip=skip,
    )


def is_workbook(path: Path) -> bool:
    return path.suffix.lower() in WORKBOOK_SUFFIXES


def read_workbook(
    path: Path, file: str | None = None, limits: Limits | None = None
) -> tuple[dict[str, Export], list[Problem]]:
    """Every sheet of a workbook as an :class:`Export`, keyed by lower-case sheet name (within
    the size limits of :mod:`entitle.estate.workbook`, its ``LIMITS`` unless given)."""
    from entitle.estate.workbook import LIMITS, CellBudget, TooManyCells, open_workbook, sheet_rows

    limits = limits or LIMITS
    file = file or path.name
    book, problem = open_workbook(path, file, limits, "save it again as an .xlsx workbook")
    if book is None:
        return {}, [problem] if problem else []
    sheets: dict[str, Export] = {}
    problems: list[Problem] = []
    budget = CellBudget(limits)
    try:
        for title in book.sheetnames:
            try:
                parsed = sheet_rows(book, title, budget)
            except TooManyCells as error:
                return {}, [error.problem(file)]
            except Exception as error:  # a damaged sheet inside a readable archive
                problems.append(
                    Problem(
                        Source(file, 1, title),
                        f"cannot read the sheet: {type(error).__name__}",
                        "save the workbook again as .xlsx",
                    )
                )
                continue
            export, sheet_problems = _build(file, path, parsed, sheet=title)
            problems.extend(p for p in sheet_problems if "empty" not in p.message)
            if export is not None:
                sheets[title.strip().lower()] = export
    finally:
        book.close()
    return sheets, problems


def read_any(path: Path) -> tuple[list[Export], list[Problem]]:
    """A CSV file as one export, or every sheet of a workbook."""
    if is_workbook(path):
        sheets, problems = read_workbook(path, str(path))
        return list(sheets.values()), problems
    export, problems = read_export(path, str(path))
    return ([export] if export is not None else []), problems


def require(export: Export, columns: Iterable[str], what: str) -> Problem | None:
    """A problem naming the missing columns, with a hint when the delimiter looks wrong."""
    missing = export.missing(columns)
    if not missing:
        return None
    word = "column" if len(missing) == 1 else "columns"
    if len(export.header) == 1 and any(d in export.header[0] for d in ";\t|"):
        hint = "the fields seem separated by something other than , ; or tab; export again"
    else:
        hint = (
            f"a {what} export has "
            + ", ".join(columns)
            + "; this file has "
            + (", ".join(export.header) or "no header")
        )
    return Problem(export.header_source, f"missing {word}: {', '.join(missing)}", hint)
