"""Estate records from raw rows, one row at a time.

Every cell is parsed by the type :mod:`entitle.estate.schema` gives its column
(:meth:`Cells.value`); what is left here are each table's rules across the cells of one row (a
VM's ``hosts``, a placement's dates in order, ...). A row with a bad cell yields no record and a
problem for each bad cell. Checks that look across rows or tables (unknown ids, duplicates, the
catalog) live in :mod:`entitle.estate.checks`; the column-wise fast path for big tables in
:mod:`entitle.estate.columns`. Imports only :mod:`entitle.source` and the estate's ``cells``,
``records`` and ``schema`` modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from entitle.estate.cells import Cells, Row
from entitle.estate.records import RECORDS, Host
from entitle.estate.schema import PROVIDERS, TABLE
from entitle.source import Problem

Values = dict[str, Any]


def parse(c: Cells) -> Values:
    """Every cell of the row, parsed in the order of the table's columns, by record field."""
    return {column.attribute: c.value(column.name) for column in TABLE[c.row.table].columns}


def record(c: Cells, values: Values) -> Any:
    """The row's record, or ``None`` when a cell of it was bad."""
    if not c.ok:
        return None
    return RECORDS[c.row.table](**values, source=c.row.source, extra=c.extra())


def to_host(c: Cells) -> Host | None:
    host, provider, dedicated = c.value("host"), c.value("provider"), c.value("dedicated")
    # A provider's shared hardware is unknown to the organisation (estate format version 2):
    # its processors and cores may be blank there, and only there.
    shared = provider is not None and not dedicated
    if dedicated and provider is None and c.ok:
        c.fail(
            "dedicated is yes but provider is blank",
            "dedicated says a provider's hardware is yours alone: name the provider "
            "(" + ", ".join(PROVIDERS) + "), or leave dedicated blank for your own servers",
        )
    processors = c.value("processors", required=not shared)
    cores = c.value("cores_per_processor", required=not shared)
    if (processors is None) != (cores is None) and c.ok:
        blank = "processors" if processors is None else "cores_per_processor"
        c.fail(f"{blank} is blank", "give both processors and cores_per_processor, or neither")
    values = {"host": host, "processors": processors, "cores_per_processor": cores}
    values |= {"provider": provider, "dedicated": dedicated}
    values |= {"cpu_model": c.value("cpu_model"), "cluster": c.value("cluster")}
    return record(c, values)


def to_ose(c: Cells) -> Any:
    v = parse(c)
    ose, virtual, kind, runs_in = v["ose"], v["virtual"], v["kind"], v["runs_in"]
    if v["hosts"] and not virtual:
        c.fail(
            "hosts is given for a physical OSE",
            "hosts names where a VM may run; leave it blank for a physical OSE (virtual = no)",
        )
    if v["replaces"] is not None and v["replaces"] == ose:
        c.fail(
            f"replaces names the row's own OSE '{ose}'",
            "replaces names the OSE whose workload this VM takes over in a migration",
        )
    if kind is not None and virtual is False:
        c.fail(f"a {kind} is written with virtual = no", "a container is virtual: write yes")
    if runs_in is not None and kind is None:
        c.fail(
            "runs_in is given for an OSE that is not a container",
            "runs_in names the OSE a container runs in; write kind = container or "
            "hyperv-container, or leave runs_in blank",
        )
    if runs_in is not None and runs_in == ose:
        c.fail(f"runs_in names the row's own OSE '{ose}'", "name the OSE the container runs in")
    return record(c, v)


def to_software(c: Cells) -> Any:
    v = parse(c)
    if v["passive_for"] is not None and v["passive_for"] == v["ose"]:
        c.fail(
            f"passive_for names the row's own OSE '{v['ose']}'",
            "passive_for names the OSE of the primary (active) installation this copy fails over for",
        )
    return record(c, v)


def to_access(c: Cells) -> Any:
    v = parse(c)
    first_seen, last_seen = v["first_seen"], v["last_seen"]
    if first_seen and last_seen and last_seen < first_seen:
        c.fail(f"last_seen {last_seen} is before first_seen {first_seen}", "swap the two dates")
    return record(c, v)


def to_managed(c: Cells) -> Any:
    v = parse(c)
    if v["ose"] is None and v["device"] is None:
        c.fail(
            "neither ose nor device is given",
            "name a server in ose (server MLs) or a client in device (client MLs)",
        )
    elif v["ose"] is not None and v["device"] is not None:
        c.fail(
            "both ose and device are given",
            "a managed row names a server (ose) or a client (device); split it into two rows",
        )
    return record(c, v)


def to_placement(c: Cells) -> Any:
    v = parse(c)
    since, until = v["since"], v["until"]
    if since and until and until < since:
        c.fail(f"until {until} is before from {since}", "swap the two dates")
    return record(c, v)


def plain(c: Cells) -> Any:
    """A table with no rule across its cells (users, devices, entitlements, prices)."""
    return record(c, parse(c))


CONVERTERS: dict[str, Callable[[Cells], Any]] = {
    "hosts": to_host,
    "oses": to_ose,
    "software": to_software,
    "access": to_access,
    "managed": to_managed,
    "placements": to_placement,
}
CONVERTERS |= {table: plain for table in TABLE if table not in CONVERTERS}


def convert_rows(rows: Iterable[Row], problems: list[Problem]) -> list[Any]:
    """Records of the rows that parse; a problem for every bad cell of the others."""
    records = []
    for row in rows:
        found = CONVERTERS[row.table](Cells(row, problems))
        if found is not None:
            records.append(found)
    return records
