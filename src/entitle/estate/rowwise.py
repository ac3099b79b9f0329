"""Estate records from raw rows, one row at a time.

Every cell is parsed by the type :mod:`entitle.estate.schema` gives its column
(:meth:`Cells.value`); what is left here are each table's rules across the cells of one row
(:data:`RULES`: a VM's ``hosts``, a placement's dates in order, ...), which the column-wise path
of :mod:`entitle.estate.columns` applies too, and the hosts' converter, where whether a cell is
required depends on another (its rule, for the column-wise path, is :func:`_host`; the
converter reports). A row with a bad cell yields no record and a problem for each bad
cell. Checks that look across rows or tables (unknown ids, duplicates, the catalog) live in
:mod:`entitle.estate.checks`. Imports only :mod:`entitle.source` and the estate's ``cells``,
``records`` and ``schema`` modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from entitle.estate.cells import Cells, Row, readers
from entitle.estate.records import RECORDS, Host
from entitle.estate.schema import PROVIDERS, TABLE
from entitle.source import Problem

Values = dict[str, Any]


def parse(c: Cells) -> Values:
    """Every cell of the row, parsed in the order of the table's columns, by record field."""
    return {attribute: read(c) for attribute, read in readers(c.row.table)}


def record(c: Cells, values: Values) -> Any:
    """The row's record, or ``None`` when a cell of it was bad."""
    if not c.ok:
        return None
    return RECORDS[c.row.table](**values, source=c.row.source, extra=c.extra())


DEDICATED_ALONE = (
    "dedicated is yes but provider is blank",
    "dedicated says a provider's hardware is yours alone: name the provider "
    "(" + ", ".join(PROVIDERS) + "), or leave dedicated blank for your own servers",
)
BOTH_OR_NEITHER = "give both processors and cores_per_processor, or neither"


def to_host(c: Cells) -> Host | None:
    """A host row, problems in this order: its host, provider and dedicated cells, a dedicated
    host without a provider, its processors and cores (required but on a provider's shared
    host), one of the two blank. A rule is reported only on a row whose cells so far are good.
    :func:`_host` is the same test for the column-wise path."""
    host, provider, dedicated = c.value("host"), c.value("provider"), c.value("dedicated")
    # A provider's shared hardware is unknown to the organisation (estate format version 2):
    # its processors and cores may be blank there, and only there.
    shared = provider is not None and not dedicated
    if dedicated and provider is None and c.ok:
        c.fail(*DEDICATED_ALONE)
    processors = c.value("processors", required=not shared)
    cores = c.value("cores_per_processor", required=not shared)
    if (processors is None) != (cores is None) and c.ok:
        blank = "processors" if processors is None else "cores_per_processor"
        c.fail(f"{blank} is blank", BOTH_OR_NEITHER)
    values = {"host": host, "processors": processors, "cores_per_processor": cores}
    values |= {"provider": provider, "dedicated": dedicated}
    values |= {"cpu_model": c.value("cpu_model"), "cluster": c.value("cluster")}
    return record(c, values)


@dataclass(frozen=True, slots=True)
class Rule:
    """A table's rule across the cells of one row: ``check`` is given the parsed values of
    ``columns`` (record fields; ``None`` for a blank or bad cell) and yields a problem, as
    (message, hint), for each way they do not fit together."""

    columns: tuple[str, ...]
    check: Callable[..., Iterator[tuple[str, str]]]


def _ose(
    ose: str, virtual: bool | None, hosts: tuple[str, ...], replaces: str | None,
    kind: str | None, runs_in: str | None,
) -> Iterator[tuple[str, str]]:  # fmt: skip
    if hosts and not virtual:
        yield (
            "hosts is given for a physical OSE",
            "hosts names where a VM may run; leave it blank for a physical OSE (virtual = no)",
        )
    if replaces is not None and replaces == ose:
        yield (
            f"replaces names the row's own OSE '{ose}'",
            "replaces names the OSE whose workload this VM takes over in a migration",
        )
    if kind is not None and virtual is False:
        yield f"a {kind} is written with virtual = no", "a container is virtual: write yes"
    if runs_in is not None and kind is None:
        yield (
            "runs_in is given for an OSE that is not a container",
            "runs_in names the OSE a container runs in; write kind = container or "
            "hyperv-container, or leave runs_in blank",
        )
    if runs_in is not None and runs_in == ose:
        yield f"runs_in names the row's own OSE '{ose}'", "name the OSE the container runs in"


def _software(ose: str, passive_for: str | None) -> Iterator[tuple[str, str]]:
    if passive_for is not None and passive_for == ose:
        yield (
            f"passive_for names the row's own OSE '{ose}'",
            "passive_for names the OSE of the primary (active) installation this copy fails over for",
        )


def _access(first_seen: date | None, last_seen: date | None) -> Iterator[tuple[str, str]]:
    if first_seen and last_seen and last_seen < first_seen:
        yield f"last_seen {last_seen} is before first_seen {first_seen}", "swap the two dates"


def _managed(ose: str | None, device: str | None) -> Iterator[tuple[str, str]]:
    if ose is None and device is None:
        yield (
            "neither ose nor device is given",
            "name a server in ose (server MLs) or a client in device (client MLs)",
        )
    elif ose is not None and device is not None:
        yield (
            "both ose and device are given",
            "a managed row names a server (ose) or a client (device); split it into two rows",
        )


def _host(
    provider: str | None, dedicated: bool, processors: int | None, cores: int | None
) -> Iterator[tuple[str, str]]:
    """:func:`to_host`'s rules, for a host row whose cells each parse (processors and cores read
    as optional, since they may be blank on a provider's shared host): it yields something
    exactly when :func:`to_host` would refuse the row. The column-wise path sends such a row to
    :func:`to_host`, which reports it in its own order."""
    if dedicated and provider is None:
        yield DEDICATED_ALONE
    if provider is None or dedicated:  # not a provider's shared host: both are required
        for name, value in (("processors", processors), ("cores_per_processor", cores)):
            if value is None:
                yield f"{name} is blank", "write a whole number of at least 1, e.g. 2"
    elif (processors is None) != (cores is None):
        blank = "processors" if processors is None else "cores_per_processor"
        yield f"{blank} is blank", BOTH_OR_NEITHER


def _placement(since: date | None, until: date | None) -> Iterator[tuple[str, str]]:
    if since and until and until < since:
        yield f"until {until} is before from {since}", "swap the two dates"


# Each table's rule across the cells of one row. The column-wise path applies every one; the row
# path applies them in :func:`by_rules`, but for hosts, whose :func:`to_host` applies the same
# rule (a parity test holds the two together) interleaved with its cells.
RULES: dict[str, Rule] = {
    "hosts": Rule(("provider", "dedicated", "processors", "cores_per_processor"), _host),
    "oses": Rule(("ose", "virtual", "hosts", "replaces", "kind", "runs_in"), _ose),
    "software": Rule(("ose", "passive_for"), _software),
    "access": Rule(("first_seen", "last_seen"), _access),
    "managed": Rule(("ose", "device"), _managed),
    "placements": Rule(("since", "until"), _placement),
}


def by_rules(c: Cells) -> Any:
    """Every cell parsed by its column's type, then the table's rule across them."""
    values = parse(c)
    rule = RULES.get(c.row.table)
    if rule is not None:
        for message, hint in rule.check(*(values[name] for name in rule.columns)):
            c.fail(message, hint)
    return record(c, values)


# One converter per table: the hosts' own (whether a cell is required depends on others), else
# the cells by type and the table's rule.
CONVERTERS: dict[str, Callable[[Cells], Any]] = {
    table: to_host if table == "hosts" else by_rules for table in TABLE
}


def convert_rows(rows: Iterable[Row], problems: list[Problem]) -> list[Any]:
    """Records of the rows that parse; a problem for every bad cell of the others."""
    records = []
    for row in rows:
        found = CONVERTERS[row.table](Cells(row, problems))
        if found is not None:
            records.append(found)
    return records
