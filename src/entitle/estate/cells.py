"""Cells of raw rows, parsed by what their column holds.

:class:`Row` is one raw row as a mapping of column to text; :class:`Table` holds a whole table's
rows as columns (for the column-wise fast path of :mod:`entitle.estate.columns`); :class:`Cells`
parses the cells of one row by the type :mod:`entitle.estate.schema` gives their column (an id, a
whole number, a yes/no, a date, an amount, one of a few words), collecting a :class:`Problem`
for each bad cell. Imports only :mod:`entitle.source` and the estate's ``raw``, ``records`` and
``schema`` modules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from itertools import repeat
from types import MappingProxyType
from typing import Any, overload

from entitle.estate.raw import RawTable
from entitle.estate.records import EMPTY
from entitle.estate.schema import MAX_AMOUNT, MAX_COUNT, NOWORDS, TABLE, WORDS, Column
from entitle.source import Problem, Source

BOOLEAN = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
WHOLE = re.compile(r"[+-]?[0-9]+")
AMOUNT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_HINT = "write the date as YYYY-MM-DD, e.g. 2026-11-28"
ANY_WORDS = frozenset().union(*WORDS.values())  # a word column of some table


@cache
def known_columns(table: str) -> frozenset[str]:
    """The columns the format defines for a table; any other column is kept in ``extra``."""
    return frozenset(TABLE[table].names)


@dataclass(frozen=True, slots=True)
class Row:
    """One raw row as a mapping of column name to stripped text (absent column = "")."""

    table: str
    cells: Mapping[str, str]
    source: Source

    def get(self, column: str) -> str:
        value = self.cells.get(column, "")
        if column in ANY_WORDS and column in WORDS.get(self.table, NOWORDS):
            return value.lower()
        return value


class Table(Sequence[Row]):
    """The rows of one table as read, held as columns: a :class:`Row` is made only when one is
    looked at, while :meth:`column` gives what ``row.get(name)`` gives for every row at once (word
    columns lower-cased). The loader converts and checks big tables column by column this way."""

    def __init__(self, raw: RawTable):
        self.name = raw.name
        self.sources = raw.sources
        self.columns: dict[str, tuple[str, ...]] = {}
        for name, column in zip(raw.header, raw.columns, strict=True):
            if name:  # of a column named twice, the first one counts
                self.columns.setdefault(name, column)
        self._got: dict[str, Sequence[str]] = {}

    @classmethod
    def of_rows(cls, name: str, rows: Sequence[Row]) -> Table:
        """The rows (of table ``name``) as columns, so that they are converted and checked column
        by column; a column some rows lack is blank in them."""
        header: dict[str, None] = {}
        for row in rows:
            header.update(dict.fromkeys(row.cells))
        columns = tuple(tuple(row.cells.get(column, "") for row in rows) for column in header)
        sources = tuple(row.source for row in rows)
        where = sources[0] if sources else Source(f"{name}.csv")
        return cls(RawTable(name, tuple(header), where, columns, sources))

    def __len__(self) -> int:
        return len(self.sources)

    @overload
    def __getitem__(self, index: int) -> Row: ...
    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...
    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        cells = {name: column[index] for name, column in self.columns.items()}
        return Row(self.name, cells, self.sources[index])

    def __iter__(self) -> Iterator[Row]:
        return (self[i] for i in range(len(self)))

    def column(self, name: str) -> Sequence[str]:
        """``row.get(name)`` of every row, in order."""
        got = self._got.get(name)
        if got is None:
            column = self.columns.get(name)
            if column is None:
                got = ("",) * len(self)
            elif name in WORDS.get(self.name, NOWORDS):
                lowered = {value: value.lower() for value in set(column)}
                got = tuple(map(lowered.__getitem__, column))
            else:
                got = column
            self._got[name] = got
        return got

    def extras(self) -> Iterable[Mapping[str, str]]:
        """``Cells.extra()`` of every row, in order."""
        known = known_columns(self.name)
        kept = [(name, column) for name, column in self.columns.items() if name not in known]
        if not kept:
            return repeat(EMPTY, len(self))
        names = [name for name, _ in kept]
        values = zip(*(column for _, column in kept), strict=True)
        return (MappingProxyType(dict(zip(names, row, strict=True))) for row in values)


def rows_of(table: RawTable) -> Table:
    """The rows of a table (a sequence of :class:`Row`); of a column named twice, the first one
    counts."""
    return Table(table)


def column_of(rows: Sequence[Row], name: str) -> Sequence[str]:
    """``row.get(name)`` of every row: at once for a :class:`Table`, else row by row."""
    if isinstance(rows, Table):
        return rows.column(name)
    return [row.get(name) for row in rows]


def sources_of(rows: Sequence[Row]) -> Sequence[Source]:
    """The source of every row."""
    if isinstance(rows, Table):
        return rows.sources
    return [row.source for row in rows]


class Cells:
    """Parses the cells of one row, collecting a problem for each bad cell."""

    def __init__(self, row: Row, problems: list[Problem]):
        self.row = row
        self.problems = problems
        self.ok = True

    def fail(self, message: str, hint: str) -> None:
        self.ok = False
        self.problems.append(Problem(self.row.source, message, hint))

    def text(self, column: str) -> str | None:
        return self.row.get(column) or None

    def required(self, column: str) -> str:
        value = self.row.get(column)
        if not value:
            self.fail(f"{column} is blank", f"every {_noun(self.row.table)} needs a {column}")
        return value

    def boolean(self, column: str, *, required: bool = False) -> bool | None:
        value = self.row.get(column)
        if not value:
            if required:
                self.fail(f"{column} is blank", "write yes or no")
            return None
        parsed = BOOLEAN.get(value.lower())
        if parsed is None:
            self.fail(f"{column} '{value}' is not yes or no", "write yes/no, true/false or 1/0")
        return parsed

    def whole(
        self, column: str, minimum: int, *, required: bool = False, maximum: int = MAX_COUNT
    ) -> int | None:
        value = self.row.get(column)
        if (
            value
            and WHOLE.fullmatch(value)
            and len(value) < 19
            and minimum <= int(value) <= maximum
        ):
            return int(value)  # the usual case
        expected = f"write a whole number of at least {minimum}, e.g. {max(minimum, 2)}"
        if not value:
            if required:
                self.fail(f"{column} is blank", expected)
            return None
        if not WHOLE.fullmatch(value):
            kind = "a decimal" if AMOUNT.fullmatch(value) else "not a number"
            self.fail(f"{column} '{value}' is {kind}; a whole number is expected", expected)
            return None
        try:
            number = int(value)
        except ValueError:  # more digits than Python converts
            self.fail(f"{column} '{value[:20]}...' is too large", expected)
            return None
        if number < minimum:
            self.fail(f"{column} {number} is less than {minimum}", expected)
            return None
        if number > maximum:
            shown = value if len(value) <= 20 else value[:20] + "..."
            self.fail(
                f"{column} {shown} is too large (at most {maximum:,})",
                "check the cell: no estate has that many; a typo or a pasted id?",
            )
            return None
        return number

    def amount(self, column: str, *, required: bool = False) -> Decimal | None:
        value = self.row.get(column)
        expected = "write an amount of at least 0 with a dot for decimals, e.g. 73.50"
        if not value:
            if required:
                self.fail(f"{column} is blank", expected)
            return None
        try:
            number = Decimal(value) if AMOUNT.fullmatch(value) else None
        except InvalidOperation:
            number = None
        if number is None:
            self.fail(f"{column} '{value}' is not an amount", expected)
            return None
        if number < 0:
            self.fail(f"{column} {value} is negative", expected)
            return None
        if number > MAX_AMOUNT:
            shown = value if len(value) <= 20 else value[:20] + "..."
            self.fail(f"{column} {shown} is too large (at most {MAX_AMOUNT:,})", expected)
            return None
        return number

    def day(self, column: str, *, required: bool = False, hint: str = "") -> date | None:
        value = self.row.get(column)
        expected = DATE_HINT
        if not value:
            if required:
                self.fail(f"{column} is blank", hint or expected)
            return None
        try:
            parsed = date.fromisoformat(value) if DAY.fullmatch(value) else None
        except ValueError:
            self.fail(f"{column} '{value}' is not a real date", expected)
            return None
        if parsed is None:
            self.fail(f"{column} '{value}' is not a date", expected)
        return parsed

    def id_list(self, column: str) -> tuple[str, ...]:
        """A ``;``-separated list of ids, trimmed, blanks and repeats dropped, in order."""
        value = self.row.get(column)
        seen: dict[str, None] = {}
        for part in value.split(";"):
            if part.strip():
                seen.setdefault(part.strip(), None)
        return tuple(seen)

    def choice(self, column: str, allowed: Iterable[str], *, required: bool = False) -> str | None:
        """One of ``allowed`` (the column is compared without regard to case: see the schema)."""
        allowed = tuple(allowed)
        value = self.row.get(column)
        if value in allowed:
            return value  # the usual case
        hint = "write one of: " + ", ".join(allowed)
        if not value:
            if required:
                self.fail(f"{column} is blank", hint)
            return None
        if value not in allowed:
            self.fail(f"{column} '{value}' is not one of the allowed values", hint)
            return None
        return value

    def word_list(self, column: str) -> tuple[str, ...]:
        """A ``;``-separated list of catalog words: trimmed, lower-cased, sorted, once each."""
        parts = (part.strip().lower() for part in self.row.get(column).split(";"))
        return tuple(sorted({part for part in parts if part}))

    def value(self, column: str, *, required: bool | None = None) -> Any:
        """The cell of ``column`` parsed by its type in the schema, blank as the column's default
        (or ``None``); ``required`` overrides the schema's (a host's cores, on shared hardware)."""
        spec = TABLE[self.row.table].by_name[column]
        return reader(spec, spec.required if required is None else required)(self)

    def extra(self) -> Mapping[str, str]:
        known = known_columns(self.row.table)
        kept = {name: value for name, value in self.row.cells.items() if name not in known}
        return MappingProxyType(kept) if kept else EMPTY


@cache
def reader(column: Column, required: bool) -> Callable[[Cells], Any]:
    """What :meth:`Cells.value` does for ``column``, as one function (made once per column)."""
    name, kind = column.name, column.type
    if kind in ("id", "text", "word"):
        return (lambda c: c.required(name)) if required else (lambda c: c.row.get(name) or None)
    if kind == "choice":
        choices, default = column.choices, column.default or None
        return lambda c: c.choice(name, choices, required=required) or default
    if kind == "yes/no":
        if required:
            return lambda c: c.boolean(name, required=True)
        return lambda c: bool(c.boolean(name))
    if kind == "whole":
        low, high = column.minimum, column.maximum
        return lambda c: c.whole(name, low, required=required, maximum=high)
    if kind == "amount":
        return lambda c: c.amount(name, required=required)
    if kind == "date":
        hint = column.hint
        return lambda c: c.day(name, required=required, hint=hint)
    if kind == "id list":
        return lambda c: c.id_list(name)
    return lambda c: c.word_list(name)


@cache
def readers(table: str) -> tuple[tuple[str, Callable[[Cells], Any]], ...]:
    """Each column's record field and :func:`reader`, in the table's order."""
    return tuple((c.attribute, reader(c, c.required)) for c in TABLE[table].columns)


def _noun(table: str) -> str:
    """A row of ``table`` in a message ("every OSE needs a host")."""
    spec = TABLE.get(table)
    return spec.noun if spec is not None else table.rstrip("s")
