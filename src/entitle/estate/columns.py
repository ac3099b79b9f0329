"""Estate records column by column: the loader's fast path for whole tables.

Each column is parsed once per distinct text, by the same :class:`Cells` code the row converter
uses and the type :mod:`entitle.estate.schema` gives it; the table's rule across a row's cells
(:data:`entitle.estate.rowwise.RULES`) is tried once per distinct combination of the cells it
reads. A row whose cells all parse and fit together becomes its record directly; any other row
goes through its row converter, which reports its problems. So the records and the problems are
the same, in the same order, either way. A required column with an exception (the schema's
``when``: a host's processors and cores, blank on a provider's shared host) is parsed as optional
here, and the table's rule says which blanks are wrong. Imports only :mod:`entitle.source` and
the estate's ``cells``, ``records``, ``rowwise`` and ``schema`` modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any

from entitle.estate.cells import Cells, Row, Table
from entitle.estate.records import RECORDS
from entitle.estate.rowwise import CONVERTERS, RULES
from entitle.estate.schema import TABLE, Column
from entitle.source import NO_SOURCE, Problem


def _parsed(table: Table, column: Column) -> tuple[Sequence[Any], set[str]]:
    """``Cells.value`` of every cell of ``column``, and the texts that are bad (each distinct
    text is parsed once). A column required but where ``when`` says is read as optional."""
    texts = table.column(column.name)
    distinct = set(texts)
    required = column.required and not column.when
    if column.type in ("id", "text", "word"):  # no parsing: only a required one may be bad
        bad = {""} if required and "" in distinct else set()
        return ([text or None for text in texts] if "" in distinct else texts), bad
    value: dict[str, Any] = {}
    bad = set()
    for text in distinct:
        scratch: list[Problem] = []
        cells = Cells(Row(table.name, {column.name: text}, NO_SOURCE), scratch)
        value[text] = cells.value(column.name, required=required)
        if scratch:
            bad.add(text)
    return tuple(map(value.__getitem__, texts)), bad


def convert_table(table: Table, problems: list[Problem]) -> list[Any]:
    """Records of a whole table, with a problem for every bad cell of the rows that yield none."""
    converter = CONVERTERS[table.name]
    if not len(table):
        return [r for r in (converter(Cells(row, problems)) for row in table) if r is not None]
    spec = TABLE[table.name]
    parsed: dict[str, Sequence[Any]] = {}
    bad_rows: set[int] = set()
    for column in spec.columns:
        values, bad = _parsed(table, column)
        parsed[column.attribute] = values
        if bad:
            texts = table.column(column.name)
            bad_rows.update(i for i, text in enumerate(texts) if text in bad)
    rule = RULES.get(table.name)
    if rule is not None:
        keys = list(zip(*(parsed[name] for name in rule.columns), strict=True))
        unfit = {key for key in set(keys) if next(rule.check(*key), None) is not None}
        if unfit:
            bad_rows.update(i for i, key in enumerate(keys) if key in unfit)
    record = RECORDS[table.name]
    by_field: dict[str, Iterable[Any]] = {**parsed, "source": table.sources}
    by_field["extra"] = table.extras()
    columns = [by_field[f.name] for f in fields(record)]
    if not bad_rows:  # the usual case: every record at once
        return list(map(record, *columns))
    records = []
    for i, args in enumerate(zip(*columns, strict=True)):
        if i in bad_rows:
            found = converter(Cells(table[i], problems))
            if found is not None:
                records.append(found)
        else:
            records.append(record(*args))
    return records
