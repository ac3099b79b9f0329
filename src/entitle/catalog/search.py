"""Look products up in the catalog and describe how each one is licensed.

:func:`search_products` answers the question a user would otherwise look up by hand: for a
product, which licensing models apply (by edition and version), which CALs or MLs its users,
devices and managed servers need, whether an External Connector exists, which CAL Suites and
bridges include those rights, the core minimums, VM rights, limits, indicative prices, and the
documented choices on open questions, each with its source.

Pure functions over a :class:`~entitle.catalog.model.Catalog`; imports only entitle.catalog.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from entitle.catalog.facts import (
    AccessLicense,
    ModelLine,
    Note,
    access_licenses,
    model_lines,
    split_sources,
)
from entitle.catalog.model import Catalog, CatalogPrice, CoreFactor, CoreRule, Limit, Product
from entitle.money import json_number

__all__ = [
    "AccessLicense",
    "ExternalConnector",
    "ModelLine",
    "Note",
    "ProductLicensing",
    "SuiteContents",
    "describe_product",
    "search_products",
    "split_version",
    "suggest_products",
]


@dataclass(frozen=True, slots=True)
class ExternalConnector:
    """Whether an External Connector (EC) licenses external users of the product (per server)."""

    available: bool
    requires: str | None = None  # the product whose EC must also be on the server (RDS → WS)
    external_users_licensed_with_server_from: str | None = None

    def describe(self) -> str:
        if self.available:
            text = "available: one per licensed server covers any number of external users"
            if self.requires:
                text += f"; additive, needs the {self.requires} External Connector on that server"
            return text
        if self.external_users_licensed_with_server_from:
            return (
                "none; external users are licensed with the server from version "
                f"{self.external_users_licensed_with_server_from}"
            )
        return "none"

    def as_json(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "requires": self.requires,
            "external_users_licensed_with_server_from": (
                self.external_users_licensed_with_server_from
            ),
            "text": self.describe(),
        }


@dataclass(frozen=True, slots=True)
class SuiteContents:
    """For a suite product: every right it grants (nested suites expanded) and its bridges."""

    components: tuple[tuple[str, str | None], ...]  # ("windows-server:cal", via suite or None)
    bridges: tuple[str, ...]
    includes: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "components": [{"component": c, "via": via} for c, via in self.components],
            "bridges": list(self.bridges),
            "includes": self.includes,
        }


@dataclass(frozen=True, slots=True)
class ProductLicensing:
    """Everything the catalog says about licensing one product."""

    id: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    editions: tuple[str, ...]
    levels: tuple[str, ...]
    versions: tuple[str, ...]
    models: tuple[ModelLine, ...]
    access: tuple[AccessLicense, ...]
    external_connector: ExternalConnector
    core_rules: tuple[CoreRule, ...]
    core_factors: tuple[CoreFactor, ...]  # the core factor table, where a core rule uses it
    vm_rights: tuple[tuple[str, int | None], ...]  # (edition, OSEs; None = unlimited)
    limits: tuple[Limit, ...]
    prices: tuple[CatalogPrice, ...]
    suite: SuiteContents | None
    choices: tuple[Note, ...]
    sources: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "aliases": list(self.aliases),
            "editions": list(self.editions),
            "levels": list(self.levels),
            "versions": list(self.versions),
            "models": [m.as_json() for m in self.models],
            "access": [a.as_json() for a in self.access],
            "external_connector": self.external_connector.as_json(),
            "core_rules": [_core_rule_json(r) for r in self.core_rules],
            "core_factors": [_core_factor_json(f) for f in self.core_factors],
            "vm_rights": [{"edition": e, "oses": n} for e, n in self.vm_rights],
            "limits": [_limit_json(lim) for lim in self.limits],
            "prices": [_price_json(p) for p in self.prices],
            "suite": self.suite.as_json() if self.suite else None,
            "choices": [c.as_json() for c in self.choices],
            "sources": list(self.sources),
        }


# -- search --------------------------------------------------------------------------------------


def _terms(product: Product) -> tuple[str, ...]:
    return tuple(t.lower() for t in (product.id, product.name, *product.aliases))


VERSION_WORD = re.compile(r"\d{4}(?:\s?r2)?|se", re.IGNORECASE)


def split_version(catalog: Catalog, query: str | None) -> tuple[str, str | None]:
    """``query`` as a product name and a version: ``"SQL Server 2019"`` is ``("sql server",
    "2019")``, ``"windows 2012 R2"`` is ``("windows", "2012r2")``; a query naming no version
    any product has is ``(query, None)``."""
    q = " ".join((query or "").strip().lower().split())
    known = {v for p in catalog.products.values() for v in p.version_ids}
    match = re.search(r"(?:^|\s)v?(" + VERSION_WORD.pattern + r")$", q, re.IGNORECASE)
    if match is None:
        return q, None
    version = match.group(1).replace(" ", "").lower()
    if version not in known:
        return q, None
    return q[: match.start()].strip(), version


def search_products(catalog: Catalog, query: str | None) -> list[ProductLicensing]:
    """Products whose id, name or an alias contains ``query`` (case-insensitive), exact matches
    first, then in catalog order; every product when ``query`` is None or blank. A query that
    ends in a version (``SQL Server 2019``) finds the products of that name that have it."""

    def matching(q: str) -> list[Product]:
        found = [p for p in catalog.products.values() if not q or any(q in t for t in _terms(p))]
        found.sort(key=lambda p: q not in _terms(p))  # stable: exact matches first
        return found

    q = (query or "").strip().lower()
    found = matching(q)
    if not found:
        name, version = split_version(catalog, q)
        if version is not None and name:
            found = [p for p in matching(name) if version in p.version_ids]
    return [describe_product(catalog, p.id) for p in found]


def suggest_products(catalog: Catalog, query: str, limit: int = 3) -> list[str]:
    """Product ids whose id, name or alias is closest to ``query`` (for "did you mean")."""
    owner: dict[str, str] = {}
    for p in catalog.products.values():
        for term in _terms(p):
            owner.setdefault(term, p.id)
    q = query.strip().lower()
    close = difflib.get_close_matches(q, list(owner), n=limit * 3, cutoff=0.6)
    if not close:  # nothing close: offer the nearest names anyway
        close = difflib.get_close_matches(q, list(owner), n=limit * 3, cutoff=0.0)
    out: list[str] = []
    for term in close:
        if owner[term] not in out:
            out.append(owner[term])
    return out[:limit]


# -- describing one product ------------------------------------------------------------------


def describe_product(catalog: Catalog, product_id: str) -> ProductLicensing:
    """The licensing facts of one product, gathered from every table of the catalog."""
    product = catalog.product(product_id)
    models = model_lines(catalog, product)
    access = access_licenses(catalog, product, models)
    rule_ids = list(dict.fromkeys(m.core_rule for m in models if m.core_rule))
    rules = tuple(catalog.core_rule(r) for r in rule_ids)
    factors = catalog.core_factors if any(r.core_factor for r in rules) else ()
    vm_rows = [r for r in catalog.vm_rights if r.product == product_id]
    limits = tuple(lim for lim in catalog.limits if lim.product == product_id)
    prices = tuple(p for p in catalog.prices if p.product == product_id)
    suite = _suite_contents(catalog, product_id)

    choices: list[Note] = [Note(f"model {m.scope or 'all'}", m.choice) for m in models if m.choice]
    choices += [Note(f"VM rights {r.edition}", r.choice) for r in vm_rows if r.choice]
    choices += [
        Note(f"limits {lim.edition} {'/'.join(lim.versions)}", lim.choice)
        for lim in limits
        if lim.choice
    ]
    scope = catalog.core_factor_scopes.get(product_id) if factors else None
    if scope is not None:
        choices.append(Note(f"core factor from {scope.applies_from}", scope.choice))
    included = {inc.id for a in access for inc in a.included_in}
    if suite is not None:
        included.add(product_id)
        included.update(suite.bridges)
    for group in (catalog.suites, catalog.bridges):
        for row in group.values():
            if row.id in included and row.choice:
                choices.append(Note(row.id, row.choice))

    sources = split_sources(
        [product.source]
        + [m.source for m in models]
        + [r.source for r in rules]
        + ([f.source for f in factors])
        + ([scope.source] if scope is not None else [])
        + [r.source for r in vm_rows]
        + [lim.source for lim in limits]
        + [catalog.suites[i].source for i in sorted(included) if i in catalog.suites]
        + [catalog.bridges[i].source for i in sorted(included) if i in catalog.bridges]
        + [p.source for p in prices]
    )
    return ProductLicensing(
        id=product.id,
        name=product.name,
        kind=product.kind,
        aliases=product.aliases,
        editions=product.editions,
        levels=product.levels,
        versions=product.version_ids,
        models=models,
        access=access,
        external_connector=ExternalConnector(
            available=product.external_connector,
            requires=product.ec_requires,
            external_users_licensed_with_server_from=product.external_users_licensed_with_server_from,
        ),
        core_rules=rules,
        core_factors=factors,
        vm_rights=tuple((r.edition, r.oses) for r in vm_rows),
        limits=limits,
        prices=prices,
        suite=suite,
        choices=tuple(choices),
        sources=sources,
    )


def _suite_contents(catalog: Catalog, product_id: str) -> SuiteContents | None:
    suite = catalog.suites.get(product_id)
    if suite is None:
        return None
    own = {str(c) for c in suite.components}
    components = tuple(
        (str(c), None if str(c) in own else suite.includes)
        for c in catalog.suite_components(product_id)
    )
    bridges = tuple(b.id for b in catalog.bridges.values() if b.suite == product_id)
    return SuiteContents(components=components, bridges=bridges, includes=suite.includes)


# -- JSON helpers (a price as an exact number, money.py; a core factor as its exact text) -----


def _core_rule_json(rule: CoreRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "min_per_processor": rule.min_per_processor,
        "min_per_server": rule.min_per_server,
        "per_vm_min": rule.per_vm_min,
        "per_vm_customer_min": rule.per_vm_customer_min,
        "core_factor": rule.core_factor,
        "pack_sizes": list(rule.pack_sizes),
        "source": rule.source,
    }


def _core_factor_json(row: CoreFactor) -> dict[str, Any]:
    return {
        "id": row.id,
        "factor": str(row.factor),
        "pattern": row.pattern,
        "min_cores": row.min_cores,
        "max_cores": row.max_cores,
        "since": row.since,
        "source": row.source,
    }


def _limit_json(lim: Limit) -> dict[str, Any]:
    return {
        "edition": lim.edition,
        "versions": list(lim.versions),
        "max_users": lim.max_users,
        "max_devices": lim.max_devices,
        "max_processors": lim.max_processors,
        "max_cores": lim.max_cores,
        "source": lim.source,
    }


def _price_json(p: CatalogPrice) -> dict[str, Any]:
    return {
        "license": p.license,
        "edition": p.edition,
        "version": p.version,
        "price": json_number(p.price),
        "period": p.period,
        "confidence": p.confidence,
        "note": p.note,
        "source": p.source,
    }
