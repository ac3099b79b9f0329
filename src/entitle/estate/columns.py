"""Estate records column by column, for the big tables (access, devices, managed).

A fast converter builds the record of a row whose cells hold what a clean estate holds (ids
present, words allowed, dates valid and in order) directly from the table's columns, exactly as
its row converter in :mod:`entitle.estate.rowwise` would; any other row goes through that
converter, which reports its problems. So the records and the problems are the same, in the same
order, either way. Imports only :mod:`entitle.source` and the estate's ``cells``, ``records``,
``rowwise`` and ``schema`` modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any, cast

from entitle.estate.cells import DAY, Cells, Table
from entitle.estate.records import Access, Device, Level, Managed, Purpose
from entitle.estate.rowwise import CONVERTERS
from entitle.estate.schema import TABLE
from entitle.source import Problem

_BAD = object()  # a cell the fast path leaves to the converter


def _convert_each(table: Table, problems: list[Problem]) -> list[Any]:
    converter = CONVERTERS[table.name]
    records = []
    for i in range(len(table)):
        record = converter(Cells(table[i], problems))
        if record is not None:
            records.append(record)
    return records


def _days(column: Sequence[str]) -> Iterator[date | None | object]:
    """``Cells.day`` of every cell that is blank or a real date, ``_BAD`` for the others; each
    distinct text is parsed once."""
    parsed: dict[str, date | None | object] = {"": None}
    for value in set(column) - {""}:
        try:
            parsed[value] = date.fromisoformat(value) if DAY.fullmatch(value) else _BAD
        except ValueError:
            parsed[value] = _BAD
    return map(parsed.__getitem__, column)


def _fast_access(table: Table, problems: list[Problem]) -> list[Access]:
    columns = TABLE["access"].by_name
    levels, purposes = {"", *columns["level"].choices}, {"", *columns["purpose"].choices}
    records = []
    for i, (ose, product, user, device, level, purpose, first, last, source, extra) in enumerate(
        zip(
            *(table.column(name) for name in ("ose", "product", "user", "device")),
            *(table.column(name) for name in ("level", "purpose")),
            _days(table.column("first_seen")),
            _days(table.column("last_seen")),
            table.sources,
            table.extras(),
            strict=True,
        )
    ):
        if (
            ose
            and product
            and level in levels
            and purpose in purposes
            and first is not _BAD
            and last is not _BAD
            and not (first and last and last < first)
        ):
            records.append(
                Access(
                    ose,
                    product,
                    user or None,
                    device or None,
                    cast(Level, level or "standard"),
                    cast(Purpose, purpose or "use"),
                    cast(date | None, first),
                    cast(date | None, last),
                    source,
                    extra,
                )
            )
            continue
        record = CONVERTERS["access"](Cells(table[i], problems))
        if record is not None:
            records.append(record)
    return records


def _fast_device(table: Table, problems: list[Problem]) -> list[Device]:
    records = []
    for i, (device, kind, os, source, extra) in enumerate(
        zip(
            *(table.column(name) for name in ("device", "kind", "os")),
            table.sources,
            table.extras(),
            strict=True,
        )
    ):
        if device:
            records.append(Device(device, kind or None, os or None, source, extra))
            continue
        record = CONVERTERS["devices"](Cells(table[i], problems))
        if record is not None:
            records.append(record)
    return records


def _fast_managed(table: Table, problems: list[Problem]) -> list[Managed]:
    records = []
    for i, (product, ose, device, user, source, extra) in enumerate(
        zip(
            *(table.column(name) for name in ("product", "ose", "device", "user")),
            table.sources,
            table.extras(),
            strict=True,
        )
    ):
        if product and bool(ose) != bool(device):
            records.append(
                Managed(product, ose or None, device or None, user or None, source, extra)
            )
            continue
        record = CONVERTERS["managed"](Cells(table[i], problems))
        if record is not None:
            records.append(record)
    return records


FAST_CONVERTERS: dict[str, Callable[[Table, list[Problem]], list[Any]]] = {
    "access": _fast_access,
    "devices": _fast_device,
    "managed": _fast_managed,
}


def convert_table(table: Table, problems: list[Problem]) -> list[Any]:
    """Records of a whole table: column by column where a fast converter exists."""
    return FAST_CONVERTERS.get(table.name, _convert_each)(table, problems)
