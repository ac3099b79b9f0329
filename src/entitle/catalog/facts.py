"""Derived licensing facts of one product: its model lines and the CALs and MLs it needs.

The catalog stores the rules as rows (a model per edition and version, CAL levels, suite
components); this module reads them the way a licensing specialist would: "SQL Server Standard
2012–2025 is per core, or Server+CAL with a SQL CAL per user or device", "an RDS CAL is additive
on the Windows Server CAL", "a Windows Server CAL is in the Core CAL Suite and, through it, in
the Enterprise CAL Suite". Used by :mod:`entitle.catalog.search`. Imports only entitle.catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from entitle.catalog.model import Catalog, Component, ModelRule, Product

# The license a server needs under each model (besides CALs or MLs for its users and devices).
_SERVER_LICENSE = {
    "per-core-cal": "core",
    "per-core": "core",
    "server-cal": "server",
    "specialty": "server",
}
_CAL_MODELS = ("per-core-cal", "server-cal", "cal-only")
_CALS = ("user-cal", "device-cal")
_CLIENT_MLS = ("client-ml-ose", "client-ml-user")


@dataclass(frozen=True, slots=True)
class Note:
    """A documented choice on an open question, and what it is about."""

    about: str
    text: str

    def as_json(self) -> dict[str, str]:
        return {"about": self.about, "text": self.text}


@dataclass(frozen=True, slots=True)
class ModelLine:
    """One licensing model row of a product, read for people."""

    product: str
    editions: tuple[str, ...]
    versions: tuple[str, ...]
    version_range: str  # "2016–2022" when the versions are consecutive releases
    model: str
    also: tuple[str, ...]
    core_rule: str | None
    allows: tuple[str, ...]
    server_licenses: tuple[str, ...]  # license kinds a server needs: core, server, server-ml
    per_vm_from: str | None
    per_vm_needs_sa_from: str | None
    choice: str | None
    source: str

    @property
    def scope(self) -> str:
        """``standard/datacenter 2016–2022`` (editions, then versions)."""
        return " ".join(x for x in ("/".join(self.editions), self.version_range) if x)

    @property
    def needs_cals(self) -> bool:
        return self.model in _CAL_MODELS or "server-cal" in self.also

    def summary(self) -> str:
        models = " or ".join((self.model, *self.also))
        text = f"{self.product} {self.scope}: {models}"
        if self.core_rule:
            text += f" ({self.core_rule} core rule)"
        text += f", estate models allowed: {', '.join(self.allows) or 'none'}"
        if self.per_vm_from:
            text += f"; per VM from {self.per_vm_from}"
        if self.per_vm_needs_sa_from:
            text += f"; per VM needs SA from {self.per_vm_needs_sa_from}"
        return text

    def as_json(self) -> dict[str, Any]:
        return {
            "editions": list(self.editions),
            "versions": list(self.versions),
            "model": self.model,
            "also": list(self.also),
            "core_rule": self.core_rule,
            "allows": list(self.allows),
            "server_licenses": list(self.server_licenses),
            "needs_cals": self.needs_cals,
            "per_vm_from": self.per_vm_from,
            "per_vm_needs_sa_from": self.per_vm_needs_sa_from,
            "summary": self.summary(),
            "choice": self.choice,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class SuiteInclusion:
    """A CAL Suite or bridge granting a right: ``enterprise-cal-suite`` via ``core-cal-suite``."""

    id: str
    type: str  # suite | bridge | subscription
    via: str | None = None  # the included suite that lists the right
    service: str | None = None  # for a bridge: the online service it pairs with

    def describe(self) -> str:
        if self.via:
            return f"{self.id} (via {self.via})"
        if self.service:
            return f"{self.id} (with {self.service})"
        return self.id

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "via": self.via, "service": self.service}


@dataclass(frozen=True, slots=True)
class AccessLicense:
    """A CAL or ML that users, devices or managed OSEs need because of the product."""

    product: str  # whose license it is (System Center server MLs for ConfigMgr-managed servers)
    licenses: tuple[str, ...]  # alternatives: user-cal or device-cal; client-ml-ose or -user
    level: str | None  # CAL level: standard (base) or enterprise (additive)
    who: str
    note: str
    scopes: tuple[str, ...]  # the model lines that need it; empty = always
    included_in: tuple[SuiteInclusion, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "licenses": list(self.licenses),
            "level": self.level,
            "who": self.who,
            "note": self.note,
            "scopes": list(self.scopes),
            "included_in": [i.as_json() for i in self.included_in],
        }


def split_sources(sources: Iterable[str]) -> tuple[str, ...]:
    """Every distinct source (URL or reference section) named in ``a ; b`` source fields."""
    out: dict[str, None] = {}
    for field in sources:
        for part in field.split(";"):
            if part.strip():
                out.setdefault(part.strip(), None)
    return tuple(out)


def version_range(product: Product, versions: tuple[str, ...]) -> str:
    """``2016–2022`` when ``versions`` are consecutive releases of the product, else a list."""
    order = product.version_ids
    if not versions:
        return ""
    if len(versions) == 1:
        return versions[0]
    if all(v in order for v in versions):
        idx = sorted(order.index(v) for v in versions)
        if idx == list(range(idx[0], idx[0] + len(idx))):
            return f"{order[idx[0]]}–{order[idx[-1]]}"
    return ", ".join(versions)


def model_lines(catalog: Catalog, product: Product) -> tuple[ModelLine, ...]:
    return tuple(_model_line(product, m) for m in catalog.models if m.product == product.id)


def _model_line(product: Product, rule: ModelRule) -> ModelLine:
    kinds = [_SERVER_LICENSE[m] for m in (rule.model, *rule.also) if m in _SERVER_LICENSE]
    if rule.model == "management" and rule.core_rule:
        kinds.append("server-ml")
    return ModelLine(
        product=product.id,
        editions=rule.editions,
        versions=rule.versions,
        version_range=version_range(product, rule.versions),
        model=rule.model,
        also=rule.also,
        core_rule=rule.core_rule,
        allows=rule.allows,
        server_licenses=tuple(dict.fromkeys(kinds)),
        per_vm_from=rule.per_vm_from,
        per_vm_needs_sa_from=rule.per_vm_needs_sa_from,
        choice=rule.choice,
        source=rule.source,
    )


def inclusions(catalog: Catalog, component: Component) -> tuple[SuiteInclusion, ...]:
    """The suites (nested suites expanded) and bridges whose components include ``component``."""
    found: list[SuiteInclusion] = []
    for suite in catalog.suites.values():
        if component in catalog.suite_components(suite.id):
            via = _listed_in(catalog, suite.id, component)
            found.append(SuiteInclusion(suite.id, "suite", via=None if via == suite.id else via))
    for bridge in catalog.bridges.values():
        if component in bridge.components:
            found.append(SuiteInclusion(bridge.id, "bridge", service=bridge.service))
    for sub in catalog.subscriptions.values():
        if component in sub.components:
            found.append(SuiteInclusion(sub.id, "subscription"))
    return tuple(found)


def _listed_in(catalog: Catalog, suite_id: str, component: Component) -> str:
    """The suite in ``suite_id``'s chain of ``includes`` that lists ``component`` itself."""
    suite = catalog.suites[suite_id]
    if component in suite.components or suite.includes is None:
        return suite_id
    return _listed_in(catalog, suite.includes, component)


def access_licenses(
    catalog: Catalog, product: Product, models: tuple[ModelLine, ...]
) -> tuple[AccessLicense, ...]:
    """The CALs and MLs the product makes its users, devices and managed OSEs need."""
    if product.kind == "suite":
        return (
            AccessLicense(
                product=product.id,
                licenses=_CALS,
                level=None,
                who="each user or device, in place of the component CALs and MLs",
                note="one license per user or device covering every component of the suite",
                scopes=(),
            ),
        )
    rights = catalog.equivalency(product.id) if product.kind == "subscription" else None
    if rights is not None:
        return (
            AccessLicense(
                product=product.id,
                licenses=("user-sl",),
                level=None,
                who="each user who holds it (users.csv `subscriptions`)",
                note="the holder needs no CAL or ML for: " + ", ".join(str(c) for c in rights),
                scopes=(),
            ),
        )
    out: list[AccessLicense] = []
    cal_lines = [m for m in models if m.needs_cals]
    if cal_lines:
        out += _cals(catalog, product, cal_lines)
    mgmt = [m for m in models if m.model == "management"]
    if mgmt:
        out += _mls(catalog, product, mgmt)
    return tuple(out)


def _cal_scope(line: ModelLine) -> str:
    scope = line.scope or "all versions"
    if line.model not in _CAL_MODELS:
        return f"{scope} (Server+CAL option)"
    if "payg" in line.allows:
        return f"{scope} (not when billed pay-as-you-go)"
    return scope


def _cals(catalog: Catalog, product: Product, lines: list[ModelLine]) -> list[AccessLicense]:
    levels = product.levels or ("standard",)
    scopes = tuple(_cal_scope(m) for m in lines)
    out: list[AccessLicense] = []
    for i, level in enumerate(levels):
        if i == 0:
            right = "cal"
            if product.cal_requires:
                note = f"additive, needs the {product.cal_requires} base CAL"
            else:
                note = "base CAL"
        else:
            right = f"cal-{level}"
            note = f"additive, needs the {product.id} {levels[0]} CAL of the same user or device"
        out.append(
            AccessLicense(
                product=product.id,
                licenses=_CALS,
                level=level,
                who="each user or device that accesses it (user CAL or device CAL)",
                note=note,
                scopes=scopes,
                included_in=inclusions(catalog, Component(product.id, right)),
            )
        )
    return out


def _mls(catalog: Catalog, product: Product, lines: list[ModelLine]) -> list[AccessLicense]:
    per_core = [m for m in lines if m.core_rule]
    scopes = tuple(m.scope or "all versions" for m in lines)
    if per_core:
        rule = per_core[0].core_rule
        server = AccessLicense(
            product=product.id,
            licenses=("server-ml",),
            level=None,
            who=f"each managed server: all its physical cores, as the {rule} core rule",
            note="per edition, a full licensing of the server manages the OSEs its VM rights allow",
            scopes=tuple(m.scope for m in per_core),
        )
    else:
        server = AccessLicense(
            product="system-center",
            licenses=("server-ml",),
            level=None,
            who="each managed server OSE",
            note="servers it manages need System Center server MLs",
            scopes=scopes,
        )
    client = AccessLicense(
        product=product.id,
        licenses=_CLIENT_MLS,
        level=None,
        who="each managed client OSE, or the user of the managed client OSEs",
        note="client ML per managed OSE or per user",
        scopes=scopes,
        included_in=inclusions(catalog, Component(product.id, "ml")),
    )
    return [server, client]
