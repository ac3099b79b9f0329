"""Load and validate the catalog data file.

The TOML is parsed, checked field by field with pydantic (unknown keys are errors, so a typo is
caught at load time), then cross-checked (every product, edition, version, core rule and license
kind a row names must exist) and turned into the frozen records of :mod:`entitle.catalog.model`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from entitle.catalog import cloud as cloudrights
from entitle.catalog import sarights
from entitle.catalog.filemodel import Strict, file_model, record_of
from entitle.catalog.model import (
    LICENSE_KINDS,
    MODELS,
    PRODUCT_MODELS,
    Bridge,
    Catalog,
    CatalogPrice,
    Component,
    CoreFactor,
    CoreFactorScope,
    CoreRule,
    Limit,
    Meta,
    ModelRule,
    ProcessorConversion,
    ProcessorLicense,
    Product,
    Roles,
    Subscription,
    SubscriptionEdition,
    Suite,
    SuiteUpgrade,
    Version,
    VmRights,
)

R = TypeVar("R")


class CatalogError(Exception):
    """The catalog data file is invalid; ``problems`` lists every problem found."""

    def __init__(self, file: str, problems: list[str]):
        super().__init__("\n".join(f"{file}: {p}" for p in problems))
        self.file = file
        self.problems = problems


# The rows of the file, each derived from its record (catalog/filemodel.py): a field is
# declared once, on the record. The type checker reads a row as its record (same names).
if TYPE_CHECKING:
    _Meta = Meta
    _Roles = Roles
    _CoreRule = CoreRule
    _CoreFactor = CoreFactor
    _CoreFactorScope = CoreFactorScope
    _Product = Product
    _Version = Version
    _Model = ModelRule
    _VmRights = VmRights
    _Limit = Limit
    _Suite = Suite
    _Bridge = Bridge
    _Subscription = Subscription
    _Price = CatalogPrice
    _ProcessorLicense = ProcessorLicense
    _ProcessorConversion = ProcessorConversion
    _SubscriptionEdition = SubscriptionEdition
    _SuiteUpgrade = SuiteUpgrade
else:
    _Meta = file_model(Meta)
    _Roles = file_model(Roles)
    _CoreRule = file_model(CoreRule)
    _CoreFactor = file_model(CoreFactor)
    _CoreFactorScope = file_model(CoreFactorScope)
    _Product = file_model(Product)
    _Version = file_model(Version)
    _Model = file_model(ModelRule)
    _VmRights = file_model(VmRights)
    _Limit = file_model(Limit)
    _Suite = file_model(Suite)
    _Bridge = file_model(Bridge)
    _Subscription = file_model(Subscription)
    _Price = file_model(CatalogPrice)
    _ProcessorLicense = file_model(ProcessorLicense)
    _ProcessorConversion = file_model(ProcessorConversion)
    _SubscriptionEdition = file_model(SubscriptionEdition)
    _SuiteUpgrade = file_model(SuiteUpgrade)


class _CatalogFile(Strict):
    meta: _Meta
    roles: _Roles
    core_rules: dict[str, _CoreRule]
    core_factors: list[_CoreFactor]
    core_factor_scope: dict[str, _CoreFactorScope] = {}
    products: dict[str, _Product]
    versions: dict[str, list[_Version]]
    models: list[_Model]
    vm_rights: list[_VmRights]
    limits: list[_Limit]
    suites: list[_Suite]
    bridges: list[_Bridge]
    subscriptions: list[_Subscription] = []
    prices: list[_Price]
    sa_rights: sarights.SaRightsFile | None = None
    cloud: cloudrights.CloudFile | None = None
    processor_licenses: list[_ProcessorLicense] = []
    processor_conversions: list[_ProcessorConversion] = []
    subscription_editions: list[_SubscriptionEdition] = []
    suite_upgrades: list[_SuiteUpgrade] = []


def _pydantic_problems(error: ValidationError) -> list[str]:
    out = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        out.append(f"{where}: {item['msg']}")
    return out


def _cross_check(data: _CatalogFile) -> list[str]:
    problems: list[str] = []
    products = data.products

    def known_product(pid: str, where: str) -> bool:
        if pid not in products:
            problems.append(f"{where}: unknown product {pid!r}")
            return False
        return True

    def versions_of(pid: str) -> list[str]:
        return [v.version for v in data.versions.get(pid, [])]

    for role, pid in dataclasses.asdict(_record(Roles, data.roles)).items():
        known_product(pid, f"roles.{role}")
    for pid in products:
        rules = {m.core_rule for m in data.models if m.product == pid and m.core_rule}
        if len(rules) > 1:
            problems.append(
                f"models ({pid}): one core_rule per product (its packs), not {sorted(rules)}"
            )
    if len(data.suites) > 2:  # optimize/calbuild.py's cut has an Enterprise and a Core node
        problems.append("suites: at most two CAL Suites, one of which may include the other")
    for s in data.suites:
        if s.includes is not None and any(x.includes for x in data.suites if x.id == s.includes):
            problems.append(f"suites.{s.id}: a suite may include one that includes none")
    for pid, scope in data.core_factor_scope.items():
        where = f"core_factor_scope.{pid}"
        if known_product(pid, where):
            for named in [scope.applies_from, *scope.published_for]:
                if named not in versions_of(pid):
                    problems.append(f"{where}: {named!r} is not a version of {pid}")

    for pid, prod in products.items():
        where = f"products.{pid}"
        if pid not in data.versions:
            problems.append(f"{where}: no [versions] entry (write `{pid} = []` if it has none)")
        for ed in dict(prod.edition_rank):  # {edition: rank} in the file
            if ed not in prod.editions:
                problems.append(f"{where}.edition_rank: {ed!r} is not one of its editions")
        for ref in (prod.cal_requires, prod.ec_requires):
            if ref is not None:
                known_product(ref, where)
    for pid, versions in data.versions.items():
        known_product(pid, f"versions.{pid}")
        ids = [v.version for v in versions]
        if len(set(ids)) != len(ids):
            problems.append(f"versions.{pid}: a version is listed twice")
        dates = [v.released for v in versions]
        if dates != sorted(dates):
            problems.append(f"versions.{pid}: versions must be listed oldest first")
        for v in versions:
            if v.cal_family is not None and v.cal_family not in ids:
                problems.append(f"versions.{pid}.{v.version}: unknown cal_family {v.cal_family!r}")
    for rid, rule in data.core_rules.items():
        if any(s <= 0 for s in rule.pack_sizes):
            problems.append(f"core_rules.{rid}: pack sizes must be positive")
    for i, m in enumerate(data.models):
        where = f"models[{i}] ({m.product})"
        if not known_product(m.product, where):
            continue
        if m.model not in MODELS:
            problems.append(f"{where}: unknown model {m.model!r}; one of {', '.join(MODELS)}")
        for extra in m.also:
            if extra not in MODELS:
                problems.append(f"{where}: unknown model {extra!r} in `also`")
        for a in m.allows:
            if a not in PRODUCT_MODELS:
                problems.append(f"{where}: `allows` has {a!r}; one of {', '.join(PRODUCT_MODELS)}")
        for ed in m.editions:
            if ed not in products[m.product].editions:
                problems.append(f"{where}: unknown edition {ed!r}")
        known = versions_of(m.product)
        for ver in [*m.versions, *(x for x in (m.per_vm_from, m.per_vm_needs_sa_from) if x)]:
            if ver not in known:
                problems.append(f"{where}: unknown version {ver!r}")
        if m.core_rule is not None and m.core_rule not in data.core_rules:
            problems.append(f"{where}: unknown core_rule {m.core_rule!r}")
        if m.model in ("per-core-cal", "per-core") and m.core_rule is None:
            problems.append(f"{where}: a per-core model needs a core_rule")
    for i, r in enumerate(data.vm_rights):
        if (
            known_product(r.product, f"vm_rights[{i}]")
            and r.edition not in products[r.product].editions
        ):
            problems.append(f"vm_rights[{i}]: unknown edition {r.edition!r}")
    for i, lim in enumerate(data.limits):
        if known_product(lim.product, f"limits[{i}]"):
            for ver in lim.versions:
                if ver not in versions_of(lim.product):
                    problems.append(f"limits[{i}]: unknown version {ver!r}")
    suite_ids = {s.id for s in data.suites}
    groups: tuple[tuple[str, list[Any]], ...] = (
        ("suites", data.suites),
        ("bridges", data.bridges),
        ("subscriptions", data.subscriptions),
    )
    for group, rows in groups:
        for row in rows:
            where = f"{group}.{row.id}"
            for comp in row.components:
                pid, _, right = str(comp).partition(":")
                known_product(pid, where)
                if right not in ("cal", "cal-enterprise", "ml"):
                    problems.append(
                        f"{where}: component {comp!r} must end in :cal, :cal-enterprise or :ml"
                    )
    for s in data.suites:
        if s.id not in products:
            problems.append(f"suites.{s.id}: a suite must also be listed in [products]")
        if s.includes is not None and s.includes not in suite_ids:
            problems.append(f"suites.{s.id}: includes unknown suite {s.includes!r}")
    for b in data.bridges:
        if b.suite not in suite_ids:
            problems.append(f"bridges.{b.id}: unknown suite {b.suite!r}")
    held = [("bridges", b.id) for b in data.bridges]
    held += [("subscriptions", x.id) for x in data.subscriptions]
    seen_held: set[str] = set()
    for group, sid in held:
        if sid in seen_held:
            problems.append(f"{group}.{sid}: listed twice among bridges and subscriptions")
        seen_held.add(sid)
        if sid not in products or products[sid].kind != "subscription":
            problems.append(
                f'{group}.{sid}: must also be listed in [products] with kind = "subscription"'
            )
    if data.sa_rights is not None:
        problems += sarights.check(data.sa_rights, set(products))
    if data.cloud is not None:
        problems += cloudrights.check(
            data.cloud,
            {pid: {v.version for v in data.versions.get(pid, [])} for pid in products},
            {pid: set(p.editions) for pid, p in products.items()},
        )
    for i, p in enumerate(data.prices):
        where = f"prices[{i}] ({p.product} {p.license})"
        if not known_product(p.product, where):
            continue
        if p.license not in LICENSE_KINDS:
            problems.append(f"{where}: unknown license kind {p.license!r}")
        prod = products[p.product]
        # On a CAL row, `edition` may name a CAL level (the additive `enterprise` CAL).
        cal_levels = prod.levels if p.license in ("user-cal", "device-cal") else ()
        if p.edition is not None and p.edition not in (*prod.editions, *cal_levels, "payg"):
            problems.append(f"{where}: unknown edition {p.edition!r}")
        if p.version is not None and p.version not in versions_of(p.product):
            problems.append(f"{where}: unknown version {p.version!r}")
    problems += _legacy_problems(data)
    return problems


def _legacy_problems(data: _CatalogFile) -> list[str]:
    """Processor licenses, their conversions, Subscription Editions and suite step-ups name
    products, editions and versions that exist."""
    problems: list[str] = []
    products = data.products

    def check(where: str, pid: str, editions: Sequence[str], versions: Sequence[str]) -> None:
        if pid not in products:
            problems.append(f"{where}: unknown product {pid!r}")
            return
        known = [v.version for v in data.versions.get(pid, [])]
        problems.extend(
            f"{where}: unknown edition {e!r}" for e in editions if e not in products[pid].editions
        )
        problems.extend(f"{where}: unknown version {v!r}" for v in versions if v not in known)

    for i, p in enumerate(data.processor_licenses):
        check(f"processor_licenses[{i}]", p.product, [p.edition], p.versions)
    for c in data.processor_conversions:
        editions = [*c.editions, *([c.to_edition] if c.to_edition else [])]
        check(f"processor_conversions.{c.id}", c.product, editions, [*c.versions, c.at])
    for i, se in enumerate(data.subscription_editions):
        check(f"subscription_editions[{i}]", se.product, [], [se.version])
    suites = {s.id for s in data.suites}
    for u in data.suite_upgrades:
        where = f"suite_upgrades.{u.id}"
        if u.id not in products or products[u.id].kind != "step-up":
            problems.append(f'{where}: must also be listed in [products] with kind = "step-up"')
        for ref in (u.base, u.to):
            if ref not in suites:
                problems.append(f"{where}: unknown suite {ref!r}")
    return problems


def _record(record: type[R], row: Any, **filled: Any) -> R:
    return record_of(record, row, **filled)  # a row reads as its record to the type checker


def _build(data: _CatalogFile, file: str) -> Catalog:
    def comps(items: Sequence[Any]) -> tuple[Component, ...]:
        return tuple(Component(*str(c).split(":", 1)) for c in items)

    products = {}
    for pid, p in data.products.items():
        versions = tuple(_record(Version, v) for v in data.versions.get(pid, []))
        products[pid] = _record(
            Product,
            p,
            id=pid,
            edition_rank=tuple(sorted(dict(p.edition_rank).items())),
            versions=versions,
            version_ids=tuple(v.version for v in versions),
        )
    return Catalog(
        meta=_record(Meta, data.meta),
        roles=_record(Roles, data.roles),
        products=products,
        core_rules={rid: _record(CoreRule, r, id=rid) for rid, r in data.core_rules.items()},
        core_factors=tuple(_record(CoreFactor, f) for f in data.core_factors),
        models=tuple(_record(ModelRule, m) for m in data.models),
        vm_rights=tuple(_record(VmRights, r) for r in data.vm_rights),
        limits=tuple(_record(Limit, x) for x in data.limits),
        suites={s.id: _record(Suite, s, components=comps(s.components)) for s in data.suites},
        bridges={b.id: _record(Bridge, b, components=comps(b.components)) for b in data.bridges},
        subscriptions={
            x.id: _record(Subscription, x, components=comps(x.components))
            for x in data.subscriptions
        },
        prices=tuple(_record(CatalogPrice, p) for p in data.prices),
        processor_licenses=tuple(_record(ProcessorLicense, p) for p in data.processor_licenses),
        processor_conversions=tuple(
            _record(ProcessorConversion, c) for c in data.processor_conversions
        ),
        subscription_editions=tuple(
            _record(SubscriptionEdition, x) for x in data.subscription_editions
        ),
        suite_upgrades={u.id: _record(SuiteUpgrade, u) for u in data.suite_upgrades},
        core_factor_scopes={
            pid: _record(CoreFactorScope, x, product=pid)
            for pid, x in data.core_factor_scope.items()
        },
        source_file=file,
        sa_rights=sarights.build(data.sa_rights),
        cloud=cloudrights.build(data.cloud),
    )


def parse_catalog(text: str, file: str = "catalog.toml") -> Catalog:
    """Parse and validate catalog TOML text; raise :class:`CatalogError` listing every problem."""
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(file, [f"not valid TOML: {exc}"]) from None
    try:
        data = _CatalogFile.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(file, _pydantic_problems(exc)) from None
    problems = _cross_check(data)
    if problems:
        raise CatalogError(file, problems)
    return _build(data, file)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load a catalog file, or the one shipped in the package when ``path`` is None."""
    if path is None:
        return default_catalog()
    p = Path(path)
    return parse_catalog(p.read_text(encoding="utf-8"), str(p))


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The catalog shipped with entitle (parsed once per process)."""
    text = resources.files("entitle.catalog").joinpath("data/catalog.toml").read_text("utf-8")
    return parse_catalog(text, "entitle/catalog/data/catalog.toml")
