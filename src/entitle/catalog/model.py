"""The catalog's records and the questions the rules ask of it.

Pure data (frozen dataclasses) built by :mod:`entitle.catalog.loader` from ``data/catalog.toml``.
Each record is declared once, here: the pydantic model that validates its rows in the file is
derived from it (:mod:`entitle.catalog.filemodel`), so a field's constraint or its form in the
file is written in its metadata (``rule``, ``KEY``, ``FILLED``). Imports only the standard
library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from entitle.catalog.fields import COMPONENTS, FILLED, KEY, rule

if TYPE_CHECKING:
    from entitle.catalog.cloud import CloudRights
    from entitle.catalog.sarights import SaRights

LICENSE_KINDS = (
    "core",
    "server",
    "instance",
    "user-cal",
    "device-cal",
    "external-connector",
    "server-ml",
    "client-ml-ose",
    "client-ml-user",
    "user-sl",
    "processor",
    "esu",  # Extended Security Updates, per core (docs/rules/cloud-and-hybrid.md)
)
MODELS = (
    "per-core-cal",
    "per-core",
    "server-cal",
    "specialty",
    "management",
    "cal-only",
    "suite",
    "free",
)
ESTATE_MODELS = ("per-core", "per-vm", "server-cal", "payg", "provider", "byol")
# The models a product's `allows` may name (provider and byol say where, not how: any product).
PRODUCT_MODELS = ("per-core", "per-vm", "server-cal", "payg")


@dataclass(frozen=True, slots=True)
class Meta:
    catalog_version: str
    currency: str = field(metadata=rule(pattern=r"^[A-Z]{3}$"))
    price_year: int
    price_source: str


@dataclass(frozen=True, slots=True)
class Roles:
    """The product that plays each part the engine's rules are written for (``[roles]``)."""

    server_os: str  # its cores (rules/windows.py) and its CAL, implied by every access (§1.1)
    database: str  # per core or Server + CAL, chosen with its CALs (rules/sql.py, §3.5)
    server_ml: str  # server MLs counted like the server OS's cores (rules/management.py, §5)


@dataclass(frozen=True, slots=True)
class CoreRule:
    id: str = field(metadata=KEY)
    min_per_processor: int = field(metadata=rule(ge=0))
    min_per_server: int = field(metadata=rule(ge=0))
    core_factor: bool
    pack_sizes: tuple[int, ...] = field(metadata=rule(min_length=1))
    per_vm_min: int = field(metadata=rule(ge=0))
    per_vm_customer_min: int = field(metadata=rule(ge=0))
    source: str


@dataclass(frozen=True, slots=True)
class CoreFactor:
    id: str
    factor: Decimal = field(metadata=rule(gt=0))
    source: str
    pattern: str | None = None
    min_cores: int | None = field(default=None, metadata=rule(ge=1))
    max_cores: int | None = field(default=None, metadata=rule(ge=1))
    since: str | None = None

    def matches(self, cpu_model: str | None, cores: int) -> bool:
        if self.min_cores is not None and cores < self.min_cores:
            return False
        if self.max_cores is not None and cores > self.max_cores:
            return False
        if self.pattern is not None:
            return cpu_model is not None and re.search(self.pattern, cpu_model, re.I) is not None
        return True


@dataclass(frozen=True, slots=True)
class CoreFactorScope:
    """The versions of a product the core factor table applies to: every version from
    ``applies_from`` on; ``published_for`` are those Microsoft published the table for (outside
    them applying it is the catalog's ``choice``)."""

    product: str = field(metadata=KEY)
    applies_from: str
    published_for: tuple[str, ...]
    choice: str
    source: str


@dataclass(frozen=True, slots=True)
class Version:
    version: str
    released: date
    cal_family: str | None = None


@dataclass(frozen=True, slots=True)
class Product:
    id: str = field(metadata=KEY)
    name: str
    kind: str = field(
        metadata=rule(pattern=r"^(server|cal-only|management|suite|subscription|step-up)$")
    )
    source: str
    aliases: tuple[str, ...] = ()
    editions: tuple[str, ...] = ()
    # the file writes it as a table {edition = rank}
    edition_rank: tuple[tuple[str, int], ...] = field(
        default=(), metadata=rule(type=dict[str, int], default_factory=dict)
    )
    levels: tuple[str, ...] = ()
    cal_requires: str | None = None
    external_connector: bool = False
    ec_requires: str | None = None
    external_users_licensed_with_server_from: str | None = None
    versions: tuple[Version, ...] = field(default=(), metadata=FILLED)  # from [versions]
    version_ids: tuple[str, ...] = field(default=(), metadata=FILLED)  # ids, oldest first


@dataclass(frozen=True, slots=True)
class ModelRule:
    product: str
    editions: tuple[str, ...]
    versions: tuple[str, ...] = field(metadata=rule(min_length=1))
    model: str
    allows: tuple[str, ...]
    source: str
    also: tuple[str, ...] = ()
    core_rule: str | None = None
    per_vm_from: str | None = None
    per_vm_needs_sa_from: str | None = None
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class VmRights:
    product: str
    edition: str
    source: str
    oses: int | None = field(default=None, metadata=rule(ge=1))  # None = unlimited
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class Limit:
    product: str
    edition: str
    versions: tuple[str, ...]
    source: str
    max_users: int | None = None
    max_devices: int | None = None
    max_processors: int | None = None
    max_cores: int | None = None
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class Component:
    """A right inside a suite or bridge: ``windows-server:cal``, ``exchange-server:cal-enterprise``,
    ``configuration-manager:ml``."""

    product: str
    right: str  # cal | cal-enterprise | ml

    def __str__(self) -> str:
        return f"{self.product}:{self.right}"


@dataclass(frozen=True, slots=True)
class Suite:
    id: str
    components: tuple[Component, ...] = field(metadata=COMPONENTS)
    source: str
    since: date | None = None
    includes: str | None = None
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class Bridge:
    id: str
    suite: str
    service: str
    components: tuple[Component, ...] = field(metadata=COMPONENTS)
    source: str
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    """An online-service user subscription (Microsoft 365, Office 365, EMS, Intune) whose
    holder has rights equivalent to some CALs and client MLs (licensing-rules.md §6.3)."""

    id: str
    components: tuple[Component, ...] = field(metadata=COMPONENTS)
    source: str
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class ProcessorLicense:
    """A license counted per physical processor, bought before per-core licensing (license kind
    ``processor``): one unit covers ``processors`` physical processors of a server and, once
    every processor of the server is covered, ``oses`` OSEs (None = unlimited) per full
    licensing (licensing-rules.md §3.0, §3.4, §3.5, §5)."""

    product: str
    edition: str
    versions: tuple[str, ...] = field(metadata=rule(min_length=1))
    processors: int = field(metadata=rule(ge=1))
    source: str
    oses: int | None = field(default=None, metadata=rule(ge=1))
    host_vms: bool = True  # a full licensing of the host covers VMs (False: the physical OSE only)
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class ProcessorConversion:
    """Processor licenses with Software Assurance active on the release date of version ``at``
    became core licenses: ``cores_per_unit`` per unit (the minimum grant), of ``to_edition``
    (default: the same edition)."""

    id: str
    product: str
    editions: tuple[str, ...] = field(metadata=rule(min_length=1))
    versions: tuple[str, ...] = field(metadata=rule(min_length=1))
    at: str
    cores_per_unit: int = field(metadata=rule(ge=1))
    source: str
    to_edition: str | None = None
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionEdition:
    """A version usable only with active Software Assurance or a subscription on the day
    (Exchange, SharePoint and Skype for Business Server SE; licensing-rules.md §1.4, §7.3)."""

    product: str
    version: str
    source: str
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class SuiteUpgrade:
    """A license that turns one owned suite into another (a step-up, an add-on): each unit,
    with one unit of ``base``, counts as one unit of ``to``."""

    id: str
    base: str
    to: str
    needs_sa: bool
    source: str
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogPrice:
    product: str
    license: str
    price: Decimal = field(metadata=rule(ge=0))
    confidence: str = field(metadata=rule(pattern=r"^(high|medium|low)$"))
    source: str
    edition: str | None = None
    version: str | None = None
    period: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Catalog:
    meta: Meta
    roles: Roles
    products: dict[str, Product]
    core_rules: dict[str, CoreRule]
    core_factors: tuple[CoreFactor, ...]
    models: tuple[ModelRule, ...]
    vm_rights: tuple[VmRights, ...]
    limits: tuple[Limit, ...]
    suites: dict[str, Suite]
    bridges: dict[str, Bridge]
    subscriptions: dict[str, Subscription]
    prices: tuple[CatalogPrice, ...]
    processor_licenses: tuple[ProcessorLicense, ...] = ()
    processor_conversions: tuple[ProcessorConversion, ...] = ()
    subscription_editions: tuple[SubscriptionEdition, ...] = ()
    suite_upgrades: dict[str, SuiteUpgrade] = field(default_factory=dict)
    core_factor_scopes: dict[str, CoreFactorScope] = field(default_factory=dict)
    source_file: str = field(default="catalog.toml", compare=False)
    version_positions: dict[str, dict[str, int]] = field(default_factory=dict, compare=False)
    # Software Assurance rights and the 90-day rule (table [sa_rights]; catalog/sarights.py).
    sa_rights: SaRights | None = field(default=None, compare=False)
    # Cloud and hybrid rights (table [cloud]; catalog/cloud.py, docs/rules/cloud-and-hybrid.md).
    cloud: CloudRights | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for pid, product in self.products.items():
            self.version_positions[pid] = {v: i for i, v in enumerate(product.version_ids)}

    # -- products, editions, versions -------------------------------------------------------
    def product(self, product_id: str) -> Product:
        return self.products[product_id]

    def version_index(self, product_id: str, version: str) -> int:
        """Position of ``version`` in the product's release order (0 = oldest)."""
        return self.version_positions[product_id][version]

    def latest_version(self, product_id: str) -> str | None:
        versions = self.products[product_id].versions
        return versions[-1].version if versions else None

    def newest_version(self, product_id: str, versions: list[str] | set[str]) -> str:
        return max(versions, key=lambda v: self.version_index(product_id, v))

    def version_covers(
        self, product_id: str, owned: str, needed: str, *, cal: bool = False
    ) -> bool:
        """A license of version ``owned`` covers a need of version ``needed`` (same or later; for
        CALs, versions of one ``cal_family`` are interchangeable: 2012 CALs cover 2012 R2)."""
        if cal:
            owned, needed = (
                self.cal_version(product_id, owned),
                self.cal_version(product_id, needed),
            )
        return self.version_index(product_id, owned) >= self.version_index(product_id, needed)

    def cal_version(self, product_id: str, version: str) -> str:
        for v in self.products[product_id].versions:
            if v.version == version:
                return v.cal_family or v.version
        return version

    def version_at(self, product_id: str, day: date) -> str | None:
        """The newest version of the product released on or before ``day``."""
        released = [v.version for v in self.products[product_id].versions if v.released <= day]
        return released[-1] if released else None

    def edition_covers(self, product_id: str, owned: str | None, needed: str | None) -> bool:
        """A license of edition ``owned`` covers a need of edition ``needed`` (Datacenter covers
        Standard; Enterprise covers Standard)."""
        if owned == needed or needed is None:
            return True
        ranks = dict(self.products[product_id].edition_rank)
        if owned is None or owned not in ranks or needed not in ranks:
            return False
        return ranks[owned] >= ranks[needed]

    # -- models ------------------------------------------------------------------------------
    def model_rule(self, product_id: str, edition: str | None, version: str) -> ModelRule | None:
        for mrule in self.models:
            if mrule.product != product_id or version not in mrule.versions:
                continue
            if mrule.editions and edition not in mrule.editions:
                continue
            return mrule
        return None

    def core_rule(self, rule_id: str) -> CoreRule:
        return self.core_rules[rule_id]

    def core_factor(self, cpu_model: str | None, cores: int) -> CoreFactor | None:
        for row in self.core_factors:
            if row.matches(cpu_model, cores):
                return row
        return None

    def core_factor_applies(self, product_id: str, version: str) -> bool:
        """Whether the core factor table applies to ``version`` of the product (the catalog's
        ``core_factor_scope``; a product without one: every version)."""
        scope = self.core_factor_scopes.get(product_id)
        if scope is None or version not in self.version_positions.get(product_id, {}):
            return scope is None
        return self.version_index(product_id, version) >= self.version_index(
            product_id, scope.applies_from
        )

    def vm_right(self, product_id: str, edition: str) -> VmRights | None:
        for row in self.vm_rights:
            if row.product == product_id and row.edition == edition:
                return row
        return None

    def limit(self, product_id: str, edition: str | None, version: str) -> Limit | None:
        for row in self.limits:
            if row.product == product_id and row.edition == edition and version in row.versions:
                return row
        return None

    def pack_rule(self, product_id: str) -> str | None:
        """The core rule whose pack sizes a product's core licenses are sold in: its models'
        ``core_rule`` (one per product, checked by the loader), None for a product without."""
        for mrule in self.models:
            if mrule.product == product_id and mrule.core_rule is not None:
                return mrule.core_rule
        return None

    def server_cal_products(self) -> tuple[str, ...]:
        """The products licensed only Server + CAL (one server license per OSE: Exchange,
        SharePoint, Skype for Business), in catalog order."""
        out: list[str] = []
        for mrule in self.models:
            if mrule.model == "server-cal" and mrule.product not in out:
                out.append(mrule.product)
        return tuple(out)

    def ec_products(self) -> tuple[str, ...]:
        """The products an External Connector exists for (``external_connector``), in catalog
        order (licensing-rules.md §2)."""
        return tuple(pid for pid, p in self.products.items() if p.external_connector)

    def database_right(self) -> str:
        """The CAL right of the database licensed Server + CAL (``sql-server:cal``)."""
        return f"{self.roles.database}:cal"

    def server_os_right(self) -> str:
        """The CAL right of the server OS (``windows-server:cal``), the base every access needs."""
        return f"{self.roles.server_os}:cal"

    # -- suites ------------------------------------------------------------------------------
    def suite_order(self) -> tuple[str, ...]:
        """The CAL Suites, each one that includes another before it (Enterprise, then Core)."""
        return tuple(sorted(self.suites, key=lambda s: self.suites[s].includes is None))

    def suite_components(self, suite_id: str) -> tuple[Component, ...]:
        """All components of a suite, including those of the suite it includes."""
        suite = self.suites[suite_id]
        inner = self.suite_components(suite.includes) if suite.includes else ()
        return inner + suite.components

    def equivalency(self, held_id: str) -> tuple[Component, ...] | None:
        """The CAL and ML rights a user subscription or CAL Suite Bridge (a user SL) carries,
        or ``None`` for an id that is neither."""
        if held_id in self.subscriptions:
            return self.subscriptions[held_id].components
        if held_id in self.bridges:
            return self.bridges[held_id].components
        return None

    # -- licenses bought before per-core licensing, Subscription Editions, step-ups ------------
    def processor_license(
        self, product_id: str, edition: str | None, version: str | None
    ) -> ProcessorLicense | None:
        """What one ``processor`` unit of this product, edition and version covers."""
        for row in self.processor_licenses:
            if row.product == product_id and row.edition == edition and version in row.versions:
                return row
        return None

    def processor_conversion(
        self, product_id: str, edition: str | None, version: str | None
    ) -> ProcessorConversion | None:
        for row in self.processor_conversions:
            if row.product == product_id and edition in row.editions and version in row.versions:
                return row
        return None

    def subscription_edition(
        self, product_id: str, version: str | None
    ) -> SubscriptionEdition | None:
        """The row saying ``version`` of the product needs active SA or a subscription."""
        for row in self.subscription_editions:
            if row.product == product_id and row.version == version:
                return row
        return None

    # -- prices ------------------------------------------------------------------------------
    def price(
        self, product_id: str, license: str, edition: str | None = None
    ) -> CatalogPrice | None:
        """The catalog price for a license unit: exact edition first, then an edition-less row;
        the newest version's price when several versions are listed."""
        rows = [p for p in self.prices if p.product == product_id and p.license == license]
        exact = [p for p in rows if p.edition == edition]
        pool = exact or [p for p in rows if p.edition is None]
        if not pool:
            return None
        return pool[-1]
