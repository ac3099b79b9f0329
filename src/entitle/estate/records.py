"""Immutable estate records, one class per table of the estate format.

Each record carries the :class:`~entitle.source.Source` of the row it was read from. Field names
are the columns of :mod:`entitle.estate.schema` (which says which column a renamed field holds);
optional blank cells are ``None`` ("unknown"). The table names and columns are re-exported from
there for the modules that read them here. Imports only :mod:`entitle.source` and the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Literal, get_args, get_type_hints

from entitle.estate.schema import FIELD_COLUMNS as FIELD_COLUMNS
from entitle.estate.schema import LISTED_PROVIDERS as LISTED_PROVIDERS
from entitle.estate.schema import PROVIDERS as PROVIDERS
from entitle.estate.schema import SPEC_COLUMNS as SPEC_COLUMNS
from entitle.estate.schema import TABLES as TABLES
from entitle.source import NO_SOURCE, Finding, Problem, Source

Environment = Literal["production", "dev-test"]
Model = Literal["per-core", "per-vm", "server-cal", "payg", "provider", "byol"]
# Version 2 (docs/estate-format.md, hosts.csv `provider`): the Listed Providers and any other
# service provider (`outsourcer`); blank = the organisation's own premises.
Provider = Literal["azure", "aws", "google", "alibaba", "outsourcer"]
# oses.csv `kind` (docs/rules/cloud-and-hybrid.md): blank = a machine (physical or VM);
# `container` = a process-isolated container, `hyperv-container` = a Hyper-V isolated one.
OseKind = Literal["container", "hyperv-container"]
Level = Literal["standard", "enterprise"]
Purpose = Literal["use", "admin"]

EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Host:
    """A physical server. ``processors`` and ``cores_per_processor`` are ``None`` only on a
    provider's shared host (version 2), where the hardware is unknown and no rule counts it."""

    host: str
    processors: int | None
    cores_per_processor: int | None
    cpu_model: str | None = None
    cluster: str | None = None
    source: Source = NO_SOURCE
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY, compare=False)
    # Version 2: whose hardware it is (None = the organisation's own) and whether a provider's
    # hardware is dedicated to the organisation.
    provider: Provider | None = None
    dedicated: bool = False

    @property
    def cores(self) -> int:
        """Physical cores; 0 where the hardware is unknown (a provider's shared host)."""
        if self.processors is None or self.cores_per_processor is None:
            return 0
        return self.processors * self.cores_per_processor

    @property
    def shared_cloud(self) -> bool:
        """A provider's shared hardware (licenses counted by the VMs' vCPUs, never by cores)."""
        return self.provider is not None and not self.dedicated

    @property
    def listed(self) -> bool:
        """At a Listed Provider (Azure, AWS, Google, Alibaba)."""
        return self.provider in LISTED_PROVIDERS


@dataclass(frozen=True, slots=True)
class Ose:
    ose: str
    host: str
    virtual: bool
    vcpus: int | None = None
    environment: Environment = "production"
    hosting_only: bool = False
    source: Source = NO_SOURCE
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY, compare=False)
    # Version 2 (docs/estate-format.md): this OSE relays its users' requests to the products it
    # reaches server-to-server (multiplexing); the hosts this VM may run on (blank: its cluster).
    front_end: bool = False
    hosts: tuple[str, ...] = ()
    # Version 2: the OSE whose workload this VM takes over in a migration (the 180-day overlap
    # of Azure Hybrid Benefit is counted from this VM's first placement).
    replaces: str | None = None
    # docs/rules/cloud-and-hybrid.md: a container (process- or Hyper-V isolated) and the OSE it
    # runs in (`runs_in`); blank kind = a machine.
    kind: OseKind | None = None
    runs_in: str | None = None


@dataclass(frozen=True, slots=True)
class Software:
    ose: str
    product: str
    version: str
    edition: str | None = None
    model: Model | None = None
    source: Source = NO_SOURCE
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY, compare=False)
    # Version 2: this installation is a passive failover copy of the same product on that OSE.
    passive_for: str | None = None
    # docs/rules/cloud-and-hybrid.md: Extended Security Updates are bought for this installation.
    esu: bool = False


@dataclass(frozen=True, slots=True)
class User:
    user: str
    external: bool = False
    name: str | None = None
    department: str | None = None
    # User subscriptions with CAL equivalency rights held by this user (catalog `equivalency`
    # ids such as ``microsoft-365-e3``), from the optional `subscriptions` column, `;`-separated.
    subscriptions: tuple[str, ...] = ()
    source: Source = NO_SOURCE
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY, compare=False)


@dataclass(frozen=True, slots=True)
class Device:
    device: str
    kind: str | None = None
    os: str | None = None
    source: Source = NO_SOURCE
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY, compare=False)


@dataclass(frozen=True, slots=True)
class Access:
    ose: str
    product: str
    user: str | None = None
    device: str | None = None
    level: Level = "standard"
    purpose: Purpose = "use"
    first_seen: date | None = None
    last_seen: date | None = None
    source: Source = NO_SOURCE
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY, compare=False)


@dataclass(frozen=True, slots=True)
class Managed:
    product: str
    ose: str | None = None
    device: str | None = None
    user: str | None = None
    source: Source = NO_SOURCE
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY, compare=False)


@dataclass(frozen=True, slots=True)
class Entitlement:
    product: str
    license: str
    quantity: int
    id: str | None = None
    edition: str | None = None
    version: str | None = None
    sa_until: date | None = None
    assigned_to: str | None = None
    agreement: str | None = None
    purchased: date | None = None
    unit_price: Decimal | None = None
    source: Source = NO_SOURCE
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY, compare=False)


@dataclass(frozen=True, slots=True)
class Price:
    product: str
    license: str
    price: Decimal
    edition: str | None = None
    currency: str | None = None
    source: Source = NO_SOURCE
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY, compare=False)


@dataclass(frozen=True, slots=True)
class Placement:
    """Version 2: VM ``ose`` ran on ``host`` from ``since`` (the column ``from``) until ``until``
    (blank: it is still there), from vMotion, Live Migration or DRS history."""

    ose: str
    host: str
    since: date
    until: date | None = None
    source: Source = NO_SOURCE
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY, compare=False)


@dataclass(frozen=True, slots=True)
class ImportFinding:
    """A row of the optional ``import-findings.csv``: something an import assumed
    (:mod:`entitle.estate.assumptions`)."""

    kind: str
    code: str
    message: str
    where: str = ""
    accepted: bool = False
    source: Source = NO_SOURCE

    def as_finding(self) -> Finding:
        """As a finding of the position: a warning until accepted, then a note."""
        state = "accepted" if self.accepted else "not accepted"
        message = f"import {self.kind} assumed: {self.message} ({state}: {self.source})"
        return Finding("info" if self.accepted else "warning", self.code, message, self.where)


@dataclass(frozen=True, slots=True)
class Estate:
    """A whole estate: every table as a tuple of records (an absent table is empty)."""

    hosts: tuple[Host, ...] = ()
    oses: tuple[Ose, ...] = ()
    software: tuple[Software, ...] = ()
    users: tuple[User, ...] = ()
    devices: tuple[Device, ...] = ()
    access: tuple[Access, ...] = ()
    managed: tuple[Managed, ...] = ()
    entitlements: tuple[Entitlement, ...] = ()
    prices: tuple[Price, ...] = ()
    placements: tuple[Placement, ...] = ()
    name: str = "estate"
    # What imports assumed (optional import-findings.csv; not one of TABLES).
    import_findings: tuple[ImportFinding, ...] = ()
    # The loader's warnings (a file that is no table, a value under an unnamed column): the
    # format keeps them in the report, as ``estate-warning`` findings.
    warnings: tuple[Problem, ...] = ()


# Each table's record class (derived from Estate's fields, whose names are the tables').
RECORDS: dict[str, type] = {
    name: get_args(hint)[0] for name, hint in get_type_hints(Estate).items() if name in TABLES
}
