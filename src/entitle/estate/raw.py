"""Raw estate tables as read: header and rows of text, each row with the :class:`Source` it came
from, and what every reader of them shares (the header check, the columns of equal texts).

The CSV reader (:mod:`entitle.estate.reader`) and the workbook reader
(:mod:`entitle.estate.workbook`) both build these; neither imports the other's module back.
Imports only :mod:`entitle.source`, :mod:`entitle.estate.schema` and
:mod:`entitle.estate.spreadsheet`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from entitle.estate.schema import TABLES
from entitle.estate.spreadsheet import unquote
from entitle.source import Problem, Source


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
        even = even_table(table, lines, [values for _, values in rows], source)
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
    problems += header_problems(header, header_source)
    width = len(header)
    unnamed = [i for i, name in enumerate(header) if not name]
    warned_unnamed = False
    data: list[tuple[str, ...]] = []
    sources: list[Source] = []
    if workbook:  # a workbook's rows: openpyxl is loaded already (CSV alone does not load it)
        from openpyxl.utils import get_column_letter  # noqa: PLC0415
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
            problems.append(unnamed_warning(where))
        data.append(cells)
        sources.append(where)
    columns = (
        tuple(_shared(column) for column in zip(*data, strict=True)) if data else ((),) * width
    )
    return RawTable(table, header, header_source, columns, tuple(sources)), problems


def even_table(
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
    problems = header_problems(header, header_source)
    sources = tuple(map(source, lines[1:]))
    data = tuple(column[1:] for column in columns)
    unnamed = [
        next((row for row, value in enumerate(data[i]) if value), len(sources))
        for i, name in enumerate(header)
        if not name
    ]
    if unnamed and min(unnamed) < len(sources):
        problems.append(unnamed_warning(sources[min(unnamed)]))
    return RawTable(table, header, header_source, data, sources), problems


def header_problems(header: tuple[str, ...], where: Source) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if name and name in seen:
            message = f"the header names column '{name}' twice (column {position})"
            problems.append(Problem(where, message, "rename or remove one of the two"))
        seen.add(name)
    return problems


def unnamed_warning(where: Source) -> Problem:
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
