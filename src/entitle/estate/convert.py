"""Turn raw rows of text into estate records, one row at a time.

Each cell is parsed by what its column holds (an id, a whole number, a yes/no, a date, an amount,
one of a few words); every bad cell becomes a :class:`Problem` that says what was expected, and a
row with a bad cell yields no record. Checks that look across rows or tables (unknown ids,
duplicates, the catalog) live in :mod:`entitle.estate.checks`.
Imports only :mod:`entitle.source`, :mod:`entitle.estate.records` and the catalog model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from itertools import repeat
from types import MappingProxyType
from typing import Any, cast, overload

from entitle.catalog.model import ESTATE_MODELS, LICENSE_KINDS
from entitle.estate.reader import RawTable
from entitle.estate.records import (
    EMPTY,
    FIELD_COLUMNS,
    PROVIDERS,
    Access,
    Device,
    Entitlement,
    Environment,
    Host,
    Level,
    Managed,
    Model,
    Ose,
    OseKind,
    Placement,
    Price,
    Provider,
    Purpose,
    Software,
    User,
)
from entitle.source import Problem, Source

# Columns a table's header must name (shared/spec/estate-format.md, "Tables"). managed.csv also
# needs one of `ose` or `device`; software.csv needs `edition` only for products with editions.
REQUIRED: dict[str, tuple[str, ...]] = {
    "hosts": ("host", "processors", "cores_per_processor"),
    "oses": ("ose", "host", "virtual"),
    "software": ("ose", "product", "version"),
    "users": ("user",),
    "devices": ("device",),
    "access": ("ose", "product"),
    "managed": ("product",),
    "entitlements": ("product", "license", "quantity"),
    "prices": ("product", "license", "price"),
    "placements": ("ose", "host", "from"),
}
RECORD_TYPES: dict[str, type] = {
    "hosts": Host,
    "oses": Ose,
    "software": Software,
    "users": User,
    "devices": Device,
    "access": Access,
    "managed": Managed,
    "entitlements": Entitlement,
    "prices": Price,
    "placements": Placement,
}
# Columns holding catalog words (product ids, editions, ...): compared without regard to case.
WORD_COLUMNS = frozenset(
    {
        "product",
        "edition",
        "version",
        "license",
        "model",
        "level",
        "purpose",
        "environment",
        "provider",
    }
)
BOOLEAN = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
WHOLE = re.compile(r"[+-]?[0-9]+")
AMOUNT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
# Upper bounds that keep every count and amount far inside what the optimizer's integer
# capacities and the reports' exact money (28 significant digits) can hold; no real estate
# comes near them, so a value above one is a typo or a pasted id.
MAX_CORES = 4096  # processors per host, cores per processor, vCPUs per VM
MAX_COUNT = 10**9  # any other count, such as an entitlement's quantity
MAX_AMOUNT = 10**12  # a unit price
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@cache
def known_columns(table: str) -> frozenset[str]:
    """The columns the format defines for a table; any other column is kept in ``extra``."""
    renamed = FIELD_COLUMNS.get(table, {})
    names = {renamed.get(f.name, f.name) for f in fields(RECORD_TYPES[table])}
    return frozenset(names - {"source", "extra"})


@dataclass(frozen=True, slots=True)
class Row:
    """One raw row as a mapping of column name to stripped text (absent column = "")."""

    table: str
    cells: Mapping[str, str]
    source: Source

    def get(self, column: str) -> str:
        value = self.cells.get(column, "")
        return value.lower() if column in WORD_COLUMNS else value


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
            elif name in WORD_COLUMNS:
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
            self.fail(f"{column} is blank", f"every {_singular(self.row.table)} needs a {column}")
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

    def day(self, column: str) -> date | None:
        value = self.row.get(column)
        if not value:
            return None
        expected = "write the date as YYYY-MM-DD, e.g. 2026-11-28"
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

    def choice(
        self, column: str, allowed: Iterable[str], *, required: bool = False, lower: bool = False
    ) -> str | None:
        """One of ``allowed``; ``lower`` compares a column that is not a catalog word (such as
        ``oses.kind``, while ``devices.kind`` is free text) without regard to case."""
        allowed = tuple(allowed)
        value = self.row.get(column).lower() if lower else self.row.get(column)
        hint = "write one of: " + ", ".join(allowed)
        if not value:
            if required:
                self.fail(f"{column} is blank", hint)
            return None
        if value not in allowed:
            self.fail(f"{column} '{value}' is not one of the allowed values", hint)
            return None
        return value

    def extra(self) -> Mapping[str, str]:
        known = known_columns(self.row.table)
        kept = {name: value for name, value in self.row.cells.items() if name not in known}
        return MappingProxyType(kept) if kept else EMPTY


def _singular(table: str) -> str:
    return {
        "oses": "OSE",
        "software": "software row",
        "access": "access row",
        "managed": "managed row",
        "entitlements": "entitlement",
        "prices": "price",
        "placements": "placement",
    }.get(table, table.rstrip("s"))


# -- one converter per table ---------------------------------------------------------------------


def to_host(c: Cells) -> Host | None:
    host = c.required("host")
    provider = c.choice("provider", PROVIDERS)
    dedicated = c.boolean("dedicated") or False
    # A provider's shared hardware is unknown to the organisation (estate format version 2):
    # its processors and cores may be blank there, and only there.
    shared = provider is not None and not dedicated
    if dedicated and provider is None and c.ok:
        c.fail(
            "dedicated is yes but provider is blank",
            "dedicated says a provider's hardware is yours alone: name the provider "
            "(" + ", ".join(PROVIDERS) + "), or leave dedicated blank for your own servers",
        )
    processors = c.whole("processors", 1, required=not shared, maximum=MAX_CORES)
    cores = c.whole("cores_per_processor", 1, required=not shared, maximum=MAX_CORES)
    if (processors is None) != (cores is None) and c.ok:
        blank = "processors" if processors is None else "cores_per_processor"
        c.fail(f"{blank} is blank", "give both processors and cores_per_processor, or neither")
    if not c.ok or (not shared and (processors is None or cores is None)):
        return None
    return Host(
        host,
        processors,
        cores,
        c.text("cpu_model"),
        c.text("cluster"),
        c.row.source,
        c.extra(),
        cast(Provider | None, provider),
        dedicated,
    )


def to_ose(c: Cells) -> Ose | None:
    ose, host = c.required("ose"), c.required("host")
    virtual = c.boolean("virtual", required=True)
    vcpus = c.whole("vcpus", 1, maximum=MAX_CORES)
    environment = c.choice("environment", ("production", "dev-test")) or "production"
    hosting_only = c.boolean("hosting_only") or False
    front_end = c.boolean("front_end") or False
    hosts = c.id_list("hosts")
    if hosts and not virtual:
        c.fail(
            "hosts is given for a physical OSE",
            "hosts names where a VM may run; leave it blank for a physical OSE (virtual = no)",
        )
    replaces = c.text("replaces")
    if replaces is not None and replaces == ose:
        c.fail(
            f"replaces names the row's own OSE '{ose}'",
            "replaces names the OSE whose workload this VM takes over in a migration",
        )
    kind = c.choice("kind", ("container", "hyperv-container"), lower=True)
    runs_in = c.text("runs_in")
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
    if not c.ok or virtual is None:
        return None
    return Ose(
        ose,
        host,
        virtual,
        vcpus,
        cast(Environment, environment),
        hosting_only,
        c.row.source,
        c.extra(),
        front_end,
        hosts,
        replaces,
        cast(OseKind | None, kind),
        runs_in,
    )


def to_software(c: Cells) -> Software | None:
    ose, product, version = c.required("ose"), c.required("product"), c.required("version")
    model = c.choice("model", ESTATE_MODELS)
    passive_for = c.text("passive_for")
    esu = c.boolean("esu") or False
    if passive_for is not None and passive_for == ose:
        c.fail(
            f"passive_for names the row's own OSE '{ose}'",
            "passive_for names the OSE of the primary (active) installation this copy fails over for",
        )
    if not c.ok:
        return None
    return Software(
        ose,
        product,
        version,
        c.text("edition"),
        cast(Model | None, model),
        c.row.source,
        c.extra(),
        passive_for,
        esu,
    )


def to_user(c: Cells) -> User | None:
    user = c.required("user")
    external = c.boolean("external") or False
    if not c.ok:
        return None
    subscriptions = tuple(
        sorted({s.strip().lower() for s in (c.text("subscriptions") or "").split(";") if s.strip()})
    )
    return User(
        user,
        external,
        c.text("name"),
        c.text("department"),
        subscriptions,
        c.row.source,
        c.extra(),
    )


def to_device(c: Cells) -> Device | None:
    device = c.required("device")
    if not c.ok:
        return None
    return Device(device, c.text("kind"), c.text("os"), c.row.source, c.extra())


def to_access(c: Cells) -> Access | None:
    ose, product = c.required("ose"), c.required("product")
    level = c.choice("level", ("standard", "enterprise")) or "standard"
    purpose = c.choice("purpose", ("use", "admin")) or "use"
    first_seen, last_seen = c.day("first_seen"), c.day("last_seen")
    if first_seen and last_seen and last_seen < first_seen:
        c.fail(f"last_seen {last_seen} is before first_seen {first_seen}", "swap the two dates")
    if not c.ok:
        return None
    return Access(
        ose,
        product,
        c.text("user"),
        c.text("device"),
        cast(Level, level),
        cast(Purpose, purpose),
        first_seen,
        last_seen,
        c.row.source,
        c.extra(),
    )


def to_managed(c: Cells) -> Managed | None:
    product = c.required("product")
    ose, device = c.text("ose"), c.text("device")
    if ose is None and device is None:
        c.fail(
            "neither ose nor device is given",
            "name a server in ose (server MLs) or a client in device (client MLs)",
        )
    elif ose is not None and device is not None:
        c.fail(
            "both ose and device are given",
            "a managed row names a server (ose) or a client (device); split it into two rows",
        )
    if not c.ok:
        return None
    return Managed(product, ose, device, c.text("user"), c.row.source, c.extra())


def to_entitlement(c: Cells) -> Entitlement | None:
    product = c.required("product")
    license = c.choice("license", LICENSE_KINDS, required=True)
    quantity = c.whole("quantity", 0, required=True)
    sa_until, purchased = c.day("sa_until"), c.day("purchased")
    unit_price = c.amount("unit_price")
    if not c.ok or license is None or quantity is None:
        return None
    return Entitlement(
        product,
        license,
        quantity,
        c.text("id"),
        c.text("edition"),
        c.text("version"),
        sa_until,
        c.text("assigned_to"),
        c.text("agreement"),
        purchased,
        unit_price,
        c.row.source,
        c.extra(),
    )


def to_price(c: Cells) -> Price | None:
    product = c.required("product")
    license = c.choice("license", LICENSE_KINDS, required=True)
    price = c.amount("price", required=True)
    if not c.ok or license is None or price is None:
        return None
    return Price(
        product, license, price, c.text("edition"), c.text("currency"), c.row.source, c.extra()
    )


def to_placement(c: Cells) -> Placement | None:
    ose, host = c.required("ose"), c.required("host")
    since, until = c.day("from"), c.day("until")
    if since is None and c.ok:
        c.fail("from is blank", "write the first day the VM ran on that host, as YYYY-MM-DD")
    if since and until and until < since:
        c.fail(f"until {until} is before from {since}", "swap the two dates")
    if not c.ok or since is None:
        return None
    return Placement(ose, host, since, until, c.row.source, c.extra())


CONVERTERS: dict[str, Callable[[Cells], Any]] = {
    "hosts": to_host,
    "oses": to_ose,
    "software": to_software,
    "users": to_user,
    "devices": to_device,
    "access": to_access,
    "managed": to_managed,
    "entitlements": to_entitlement,
    "prices": to_price,
    "placements": to_placement,
}


def convert(rows: Iterable[Row], problems: list[Problem]) -> list[Any]:
    """Records of the rows that parse; a problem for every bad cell of the others."""
    if isinstance(rows, Table):
        from entitle.estate.columns import convert_table  # noqa: PLC0415 (it imports this module)

        return convert_table(rows, problems)
    records = []
    for row in rows:
        record = CONVERTERS[row.table](Cells(row, problems))
        if record is not None:
            records.append(record)
    return records
