"""Checks that look across rows and tables: duplicate ids, references to ids no table defines,
and product, edition and version names the catalog does not know.

They work on raw rows (:class:`~entitle.estate.cells.Row`), so a row with a bad number still has
its references checked, and one bad row does not hide the problems of another. A table that could
not be read at all is left out of every check that would consult it, so one broken file does not
bury the real problem under a pile of "unknown id" ones.
Which tables define ids and which columns name them comes from :mod:`entitle.estate.schema`.
Imports only :mod:`entitle.source`, the catalog model and the estate's ``cells``, ``idnames`` and
``schema`` modules.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import cast

from entitle.catalog.model import Catalog, Product
from entitle.estate.cells import BOOLEAN, Row, column_of, sources_of
from entitle.estate.idnames import FOLDED, id_key, lookalike_warnings
from entitle.estate.schema import ID_COLUMNS as ID_COLUMNS
from entitle.estate.schema import ID_NAMES, SCHEMA, Column
from entitle.source import Problem, Source


def did_you_mean(
    value: str, choices: Iterable[str], aliases: Mapping[str, str] | None = None
) -> str:
    """``did you mean 'sql-server'?`` for a close match (or a known alias), else the choices."""
    choices = list(choices)
    aliases = aliases or {}
    if value in aliases:
        return f"did you mean '{aliases[value]}'?"
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    if not close:
        by_alias = difflib.get_close_matches(value, list(aliases), n=1, cutoff=0.8)
        close = [aliases[by_alias[0]]] if by_alias else []
    if close:
        return f"did you mean '{close[0]}'?"
    return "known: " + ", ".join(choices) if choices else ""


def defined_ids(rows: Sequence[Row], table: str, problems: list[Problem]) -> dict[str, Source]:
    """The ids a table defines, with the row of their first definition; a problem for each
    repeated id, naming where it was first defined."""
    column, noun = ID_COLUMNS[table], ID_NAMES[table]
    values = column_of(rows, column)
    lookalike_warnings(values, sources_of(rows), noun, problems)
    distinct = set(values) - {""}
    keys = {value: id_key(value, table) for value in distinct}
    if len(distinct) == len(values) - values.count("") and len(set(keys.values())) == len(
        distinct
    ):  # no id twice, even ignoring case: the usual case
        first = dict(zip(values, sources_of(rows), strict=True))
        first.pop("", None)
        return first
    first = {}
    by_key: dict[str, tuple[str, Source]] = {}
    hint = f"give each {noun} its own id, or delete the repeated row"
    for value, source in zip(values, sources_of(rows), strict=True):
        if not value:
            continue
        if value in first:
            message = f"{noun} '{value}' is defined twice (first at {first[value]})"
            problems.append(Problem(source, message, hint))
            continue
        first[value] = source
        seen = by_key.setdefault(keys[value], (value, source))
        if seen[0] != value:
            how = "case or Unicode form" if table in FOLDED else "Unicode form"
            message = (
                f"{noun} '{value}' is '{seen[0]}' (first at {seen[1]}) written in another "
                f"{how}: {noun} names are compared {'ignoring case' if table in FOLDED else 'as one form'}"
            )
            problems.append(Problem(source, message, hint))
    return first


class References:
    """Checks that the ids a row names are defined. A ``None`` set of ids means the defining table
    could not be read, so nothing is checked against it."""

    def __init__(self, ids: Mapping[str, set[str] | None], problems: list[Problem]):
        self.ids = ids
        self.problems = problems
        self._known: dict[tuple[str, ...], tuple[list[str], dict[str, str]]] = {}

    def table(self, rows: Sequence[Row], columns: Sequence[Column]) -> None:
        """:meth:`check` each of ``columns`` (each naming ids of its ``refs`` tables; an ``id
        list`` column several) on every row, in the order of the rows. Only rows naming an id
        that no table defines are looked at one by one: the others are known good from the
        distinct values of each column."""
        suspects: set[int] = set()
        for column in columns:
            sets = [self.ids[table] for table in column.refs]
            if any(ids is None for ids in sets):
                continue
            values = column_of(rows, column.name)
            distinct = set(values)
            distinct.discard("")
            if column.type == "id list":
                named = {value: set(_parts(value)) for value in distinct}
                distinct = set().union(*named.values()) if named else set()
            unknown = distinct
            for ids in sets:
                unknown = unknown.difference(cast(set[str], ids))
            if column.type == "id list" and unknown:
                unknown = {value for value, parts in named.items() if parts & unknown}
            if unknown:
                suspects.update(i for i, value in enumerate(values) if value in unknown)
        for i in sorted(suspects):
            row = rows[i]
            for column in columns:
                if column.type == "id list":
                    for part in _parts(row.get(column.name)):
                        self.check(row, column.name, column.refs, part)
                else:
                    self.check(row, column.name, column.refs)

    def check(self, row: Row, column: str, tables: Sequence[str], value: str | None = None) -> None:
        value = row.get(column) if value is None else value
        if not value:
            return
        sets = [self.ids[table] for table in tables]
        if any(ids is None or value in ids for ids in sets):
            return  # defined (or its table unreadable): the usual case stays O(1)
        known, folded = self._names(tuple(tables))
        where = " or ".join(f"{t}.csv" for t in tables)
        noun = " or ".join(ID_NAMES[t] for t in tables)
        if value.lower() in folded:
            hint = f"did you mean '{folded[value.lower()]}'? ids are case-sensitive"
        else:
            close = difflib.get_close_matches(value, known, n=1, cutoff=0.8)
            hint = f"add {value} to {tables[0]}.csv or correct the {column}"
            hint = f"did you mean '{close[0]}'? If not, {hint}" if close else hint
        message = f"{column} '{value}' is not a {noun} in {where}"
        self.problems.append(Problem(row.source, message, hint))

    def _names(self, tables: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
        """The ids ``tables`` define, sorted, and by their lower-case form (made once)."""
        if tables not in self._known:
            sets = [self.ids[table] for table in tables]
            known: set[str] = set().union(*(ids for ids in sets if ids is not None))
            self._known[tables] = sorted(known), {k.lower(): k for k in known}
        return self._known[tables]


def check_references(
    rows: Mapping[str, Sequence[Row]], ids: Mapping[str, set[str] | None], problems: list[Problem]
) -> None:
    """Every id a row names is defined by its table (an ``ose`` on a known host, ...): the
    reference columns of :mod:`entitle.estate.schema`, table by table."""
    ref = References(ids, problems)
    for spec in SCHEMA:
        if spec.references:
            ref.table(rows.get(spec.name, ()), spec.references)


def _parts(value: str) -> list[str]:
    """The ids of a ``;``-separated list cell (such as ``oses.hosts``), trimmed, blanks dropped."""
    return [part.strip() for part in value.split(";") if part.strip()]


def check_shared_hosts(rows: Mapping[str, Sequence[Row]], problems: list[Problem]) -> None:
    """Every OSE on a provider's shared host (``provider`` set, ``dedicated`` no) is a VM that
    gives its ``vcpus``: the hardware is unknown there, so its licenses are counted by them
    (estate format version 2). Read column by column: a :class:`Table` makes no :class:`Row`."""
    hosts = rows.get("hosts", ())
    shared = {
        host
        for host, provider, dedicated in zip(
            column_of(hosts, "host"),
            column_of(hosts, "provider"),
            column_of(hosts, "dedicated"),
            strict=True,
        )
        if provider and not BOOLEAN.get(dedicated.lower(), False)
    }
    if not shared:
        return
    oses = rows.get("oses", ())
    columns = [column_of(oses, name) for name in ("ose", "host", "virtual", "vcpus")]
    sources = sources_of(oses)
    for i, (ose, host, virtual, vcpus) in enumerate(zip(*columns, strict=True)):
        if host not in shared:
            continue
        if BOOLEAN.get(virtual.lower()) is False:
            problems.append(
                Problem(
                    sources[i],
                    f"{ose} is a physical OSE on {host}, a provider's shared host",
                    "only VMs run on a provider's shared hardware: write virtual = yes, or mark "
                    f"{host} dedicated = yes and give its processors and cores",
                )
            )
        elif not vcpus:
            problems.append(
                Problem(
                    sources[i],
                    f"vcpus is blank for {ose} on {host}, a provider's shared host",
                    "give the VM's virtual cores: on shared hardware licenses are counted by them",
                )
            )


class CatalogNames:
    """Checks product, edition and version names against the catalog."""

    def __init__(self, catalog: Catalog, problems: list[Problem]):
        self.catalog = catalog
        self.problems = problems
        self.aliases = {alias: p.id for p in catalog.products.values() for alias in p.aliases}

    def reporting_to(self, problems: list[Problem]) -> CatalogNames:
        """The same checks, reporting to another list."""
        other = copy.copy(self)
        other.problems = problems
        return other

    def fail(self, row: Row, message: str, hint: str) -> None:
        self.problems.append(Problem(row.source, message, hint))

    def product(
        self, row: Row, kinds: Sequence[str] | None = None, bridges: bool = False
    ) -> Product | None:
        """The catalog product a row names, or ``None`` (with a problem unless it is blank or a
        bridge). ``kinds`` limits which kinds of product the table may name."""
        value = row.get("product")
        if not value or (bridges and value in self.catalog.bridges):
            return None
        found = self.catalog.products.get(value)
        if found is None:
            choices = [
                p.id for p in self.catalog.products.values() if kinds is None or p.kind in kinds
            ]
            choices += list(self.catalog.bridges) if bridges else []
            self.fail(
                row,
                f"unknown product '{value}'",
                did_you_mean(value, choices, self.aliases) or "see the catalog",
            )
            return None
        if kinds is not None and found.kind not in kinds:
            allowed = ", ".join(p.id for p in self.catalog.products.values() if p.kind in kinds)
            self.fail(
                row,
                f"{value} ({found.kind}) does not belong in {row.table}.csv",
                f"{row.table}.csv names one of: {allowed}",
            )
            return None
        return found

    def edition(self, row: Row, product: Product, *, required: bool) -> None:
        value = row.get("edition")
        allowed = list(product.editions)
        # An edition the catalog prices (windows-server `payg`) is a fair name for a price or a
        # purchase, though nothing is installed under it.
        if row.table in ("entitlements", "prices"):
            allowed += [
                p.edition
                for p in self.catalog.prices
                if p.product == product.id and p.edition and p.edition not in allowed
            ]
        if not value:
            if required and allowed:
                self.fail(
                    row,
                    f"{product.id} needs an edition",
                    "write one of: " + ", ".join(product.editions),
                )
            return
        if not allowed:
            self.fail(
                row,
                f"{product.id} has no editions, but edition is '{value}'",
                "leave edition blank",
            )
        elif value not in allowed:
            self.fail(
                row, f"'{value}' is not an edition of {product.id}", did_you_mean(value, allowed)
            )

    def bridge(self, row: Row) -> None:
        """A CAL bridge is bought as it is: no edition, no version."""
        for column in ("edition", "version"):
            if row.get(column):
                message = f"{row.get('product')} is a CAL bridge; it has no {column}"
                self.fail(row, message, f"leave {column} blank")

    def version(self, row: Row, product: Product) -> None:
        value = row.get("version")
        versions = product.version_ids
        if not value:
            return
        if not versions:
            self.fail(
                row,
                f"{product.id} has no versions, but version is '{value}'",
                "leave version blank",
            )
        elif value not in versions:
            self.fail(
                row,
                f"'{value}' is not a version of {product.id}",
                did_you_mean(value.replace(" ", ""), versions),
            )


def check_catalog(
    rows: Mapping[str, Sequence[Row]], catalog: Catalog, problems: list[Problem]
) -> None:
    """Products, editions and versions every table names exist in the catalog."""
    names = CatalogNames(catalog, problems)
    installable = ("server", "cal-only", "management")

    def software(names: CatalogNames, row: Row) -> None:
        product = names.product(row, installable)
        if product is not None:
            # A blank Windows Server edition is an unknown one (VMware names none): the rules
            # license it as the cheaper of Standard and Datacenter, with a finding (§3.1).
            names.edition(row, product, required=product.id != catalog.roles.server_os)
            names.version(row, product)

    def access(names: CatalogNames, row: Row) -> None:
        product = names.product(row, ("server", "cal-only"))
        if (
            product is not None
            and row.get("level") == "enterprise"
            and ("enterprise" not in product.levels)
        ):
            names.fail(
                row, f"{product.id} has no enterprise level", "leave level blank or write standard"
            )

    def managed(names: CatalogNames, row: Row) -> None:
        names.product(row, ("management",))

    def owned(names: CatalogNames, row: Row) -> None:
        product = names.product(row, bridges=True)
        if row.get("product") in catalog.bridges:
            names.bridge(row)
        elif product is not None:
            names.edition(row, product, required=False)
            names.version(row, product)

    words = ("product", "edition", "version")
    _by_distinct(rows.get("software", ()), words, names, software)
    _by_distinct(rows.get("access", ()), ("product", "level"), names, access)
    _by_distinct(rows.get("managed", ()), ("product",), names, managed)
    for table in ("entitlements", "prices"):
        _by_distinct(rows.get(table, ()), words, names, owned)


def _by_distinct(
    rows: Sequence[Row],
    columns: Sequence[str],
    names: CatalogNames,
    check: Callable[[CatalogNames, Row], None],
) -> None:
    """``check`` every row, in order, where ``check`` reads nothing of a row but ``columns``: it
    is tried once per distinct combination of their values (on a scratch list of problems), and
    only the rows of a combination that finds something are checked one by one."""
    keys = list(zip(*(column_of(rows, column) for column in columns), strict=True))
    first = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))
    scratch = names.reporting_to([])
    bad = set()
    for key, i in first.items():
        check(scratch, rows[i])
        if scratch.problems:
            bad.add(key)
            scratch.problems.clear()
    if bad:
        for i, key in enumerate(keys):
            if key in bad:
                check(names, rows[i])


def check_access_software(
    rows: Mapping[str, Sequence[Row]],
    oses: set[str] | None,
    catalog: Catalog,
    problems: list[Problem],
) -> None:
    """An access row's product is installed on its OSE: software.csv gives the version accessed
    (estate-format.md, access.csv). Skipped when oses.csv or software.csv could not be read, and
    for an unknown product (already a problem of its own)."""
    if oses is None or "software" not in rows:
        return
    software = rows["software"]
    installed = set(zip(column_of(software, "ose"), column_of(software, "product"), strict=True))
    access = rows.get("access", ())
    pairs = list(zip(column_of(access, "ose"), column_of(access, "product"), strict=True))
    missing = {
        (ose, product)
        for ose, product in set(pairs)
        if ose in oses and product in catalog.products and (ose, product) not in installed
    }
    if not missing:
        return
    sources = sources_of(access)
    for (ose, product), source in zip(pairs, sources, strict=True):
        if (ose, product) in missing:
            problems.append(
                Problem(
                    source,
                    f"{ose} has no {product} in software.csv",
                    "add it so the version accessed is known",
                )
            )


def check_prices(rows: Sequence[Row], problems: list[Problem]) -> None:
    """One price per product, license and edition: two would leave the price to chance. One
    currency: a total adding two would mean nothing (the report has one)."""
    first: dict[tuple[str, str, str], Source] = {}
    currency: tuple[str, Source] | None = None
    for row in rows:
        said = (row.get("currency") or "").strip()
        if said and currency is None:
            currency = (said, row.source)
        elif said and currency is not None and said.upper() != currency[0].upper():
            problems.append(
                Problem(
                    row.source,
                    f"currency '{said}', but {currency[1]} is in '{currency[0]}'",
                    "write every price in one currency (entitle does not convert them)",
                )
            )
        key = (row.get("product"), row.get("license"), row.get("edition"))
        if key in first:
            what = " ".join(k for k in key if k)
            problems.append(
                Problem(
                    row.source,
                    f"a second price for {what} (first at {first[key]})",
                    "keep one of the two rows",
                )
            )
        else:
            first[key] = row.source
