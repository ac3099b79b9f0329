"""Owned entitlements as the position counts them on its day, with a finding for each change.

- Processor licenses (license kind ``processor``) whose Software Assurance was active on the
  release date of the first per-core version became core licenses then: ``cores_per_unit`` per
  unit under the catalog's conversion rule (licensing-rules.md §3.1 "SA transition 2016"; the
  SQL Server 2012 transition, §3.5). The others stay processor licenses, which cover their own
  version and earlier ones (:mod:`entitle.optimize.processor`).
- Subscription Edition licenses (Exchange, SharePoint, Skype for Business Server SE) without
  active SA or subscription on the day count for nothing (§1.4, §7.3).
- Step-ups and Enterprise CAL add-ons, each paired with one owned Core CAL Suite of the same kind,
  count as Enterprise CAL Suites (§6.1); the Core CAL Suites they consume are no longer counted.

See docs/rules/processor-licenses-and-subscription-editions.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from entitle.catalog.model import Catalog, SuiteUpgrade
from entitle.estate.records import Entitlement, Host
from entitle.rules.demand import Need
from entitle.rules.versions import effective_version, sa_active, subscription_lapsed
from entitle.source import Finding


@dataclass(frozen=True, slots=True)
class Owned:
    entitlements: tuple[Entitlement, ...]
    findings: tuple[Finding, ...]
    converted: Mapping[str, str] = field(default_factory=dict)  # entitlement id → rule id


def ent_id(e: Entitlement) -> str:
    return e.id or str(e.source)


def counted_entitlements(
    entitlements: tuple[Entitlement, ...],
    catalog: Catalog,
    as_of: date,
    se_installed: frozenset[str] = frozenset(),
) -> Owned:
    """``entitlements`` as they count on ``as_of`` (see the module's docstring).
    ``se_installed``: the products installed in a Subscription Edition, where a license that
    lost SE with its SA gets a warning."""
    if not any(
        e.license == "processor"
        or e.product in catalog.suite_upgrades
        or catalog.subscription_edition(e.product, e.version) is not None
        or (e.sa_until is not None and e.sa_until < as_of)
        for e in entitlements
    ):
        return Owned(entitlements, ())
    findings: list[Finding] = []
    out: list[Entitlement] = []
    upgrades: list[Entitlement] = []
    converted: dict[str, str] = {}
    for e in entitlements:
        if e.product not in catalog.products:
            out.append(e)
        elif e.product in catalog.suite_upgrades:
            upgrades.append(e)
        elif e.license == "processor":
            kept, rule = _processor(e, catalog, as_of, findings)
            out.append(kept)
            if rule is not None:
                converted[ent_id(e)] = rule
        elif subscription_lapsed(catalog, e, as_of):
            findings.append(_lapsed(e, catalog, as_of, bought_se=True))
        else:
            if e.product in se_installed and _lost_se(e, catalog, as_of):
                findings.append(_lapsed(e, catalog, as_of, bought_se=False))
            out.append(e)
    if upgrades:
        out = _step_ups(out, upgrades, catalog, findings)
    return Owned(tuple(out), tuple(findings), converted)


def _processor(
    e: Entitlement, catalog: Catalog, as_of: date, findings: list[Finding]
) -> tuple[Entitlement, str | None]:
    """``e`` as it counts: converted into core licenses (with the rule's id), or as it is."""
    version = e.version or (catalog.version_at(e.product, e.purchased) if e.purchased else None)
    name = catalog.product(e.product).name
    label = f"{ent_id(e)} ({e.quantity} × {name} {e.edition or ''} {version or ''} processor)"
    label = " ".join(label.split())
    row = catalog.processor_license(e.product, e.edition, version)
    if row is None:
        known = sorted(
            {f"{r.product} {r.edition} {'/'.join(r.versions)}" for r in catalog.processor_licenses}
        )
        findings.append(
            Finding(
                "warning",
                "processor-license-unknown",
                f"{label}: the catalog knows no per-processor licensing of this product, edition "
                f"and version{' (its edition is blank)' if e.edition is None else ''} (it knows: "
                f"{'; '.join(known)}); it covers nothing.",
                str(e.source),
            )
        )
        return e, None
    conv = catalog.processor_conversion(e.product, e.edition, version)
    if conv is not None and e.sa_until is not None:
        released = next(
            v.released for v in catalog.product(e.product).versions if v.version == conv.at
        )
        if e.sa_until >= released:
            cores = e.quantity * conv.cores_per_unit
            edition = conv.to_edition or e.edition
            findings.append(
                Finding(
                    "info",
                    "processor-converted",
                    f"{label}: Software Assurance was active on {released} ({name} {conv.at}'s "
                    f"release), so they count as {cores} {edition} core licenses of {conv.at} "
                    f"({conv.cores_per_unit} per license, rule {conv.id}: the minimum grant; "
                    "record a larger documented grant as core entitlements).",
                    str(e.source),
                )
            )
            converted = replace(e, license="core", quantity=cores, edition=edition, version=conv.at)
            return converted, conv.id
    return e, None


def _lost_se(e: Entitlement, catalog: Catalog, as_of: date) -> bool:
    """SA reached a Subscription Edition's release but is not active on ``as_of``."""
    if sa_active(e, as_of) or e.sa_until is None or e.license == "processor":
        return False
    product = catalog.product(e.product)
    reached = catalog.version_at(e.product, e.sa_until) if product.versions else None
    return reached is not None and catalog.subscription_edition(e.product, reached) is not None


def _lapsed(e: Entitlement, catalog: Catalog, as_of: date, *, bought_se: bool) -> Finding:
    name = catalog.product(e.product).name
    ended = f"ended on {e.sa_until}" if e.sa_until else "is not recorded (sa_until blank)"
    if bought_se:
        what = "counts for nothing"
    else:
        what = f"counts for {effective_version(catalog, e, as_of) or 'no version'} only"
    return Finding(
        "warning",
        "subscription-lapsed",
        f"{ent_id(e)} ({e.quantity} × {name} {e.license}): {name} SE needs active Software "
        f"Assurance or a subscription on {as_of} (licensing-rules.md §7.3), but its SA or "
        f"subscription {ended}; it {what}.",
        str(e.source),
    )


def _step_ups(
    owned: list[Entitlement],
    upgrades: list[Entitlement],
    catalog: Catalog,
    findings: list[Finding],
) -> list[Entitlement]:
    """Pair each step-up or add-on unit with one Core CAL Suite unit of the same kind."""
    left = {i: e.quantity for i, e in enumerate(owned)}
    added: list[Entitlement] = []
    unpaired: list[Entitlement] = []  # kept, so the report shows them as surplus
    for u in upgrades:
        rule: SuiteUpgrade = catalog.suite_upgrades[u.product]
        need = u.quantity
        paired: list[str] = []
        unsure = False
        for i, base in enumerate(owned):
            if need == 0:
                break
            if base.product != rule.base or base.license != u.license or left[i] == 0:
                continue
            if rule.needs_sa and not _sa_at(base, u.purchased):
                continue
            unsure = unsure or (rule.needs_sa and (base.sa_until is None or u.purchased is None))
            take = min(need, left[i])
            left[i] -= take
            need -= take
            paired.append(f"{take} of {ent_id(base)}")
        used = u.quantity - need
        if used:
            added.append(
                replace(
                    u,
                    product=rule.to,
                    quantity=used,
                    edition=None,
                    version=None,
                    id=f"{ent_id(u)}+core-cal-suite",
                )
            )
            text = (
                f"{ent_id(u)} ({u.quantity} × {catalog.product(u.product).name}, {u.license}): "
                f"{used} paired with Core CAL Suites ({', '.join(paired)}) count as {used} "
                f"Enterprise CAL Suite(s) (licensing-rules.md §6.1)."
            )
            if unsure:
                text += (
                    " A step-up needs active SA on the Core CAL Suite when bought; sa_until or "
                    "purchased is blank, so that is assumed."
                )
            findings.append(Finding("info", "step-up-counted", text, str(u.source)))
        if need:
            unpaired.append(replace(u, quantity=need))
            findings.append(
                Finding(
                    "warning",
                    "step-up-unpaired",
                    f"{ent_id(u)}: {need} {catalog.product(u.product).name} unit(s) ({u.license}) "
                    "have no owned Core CAL Suite of the same kind"
                    + (" with SA active when they were bought" if rule.needs_sa else "")
                    + " to step up from; they count for nothing.",
                    str(u.source),
                )
            )
    kept = [
        replace(e, quantity=left[i]) if left[i] != e.quantity else e
        for i, e in enumerate(owned)
        if left[i] > 0
    ]
    return kept + added + unpaired


def _sa_at(base: Entitlement, day: date | None) -> bool:
    """The base license had SA on ``day`` (unknown either way: assumed so)."""
    return base.sa_until is None or day is None or base.sa_until >= day


def processor_findings(
    entitlements: tuple[Entitlement, ...],
    needs: tuple[Need, ...],
    matches: list[tuple[int, int, int, int]],
    hosts: Mapping[str, Host],
    catalog: Catalog,
    converted: Mapping[str, str],
) -> list[Finding]:
    """One info finding per need that processor licenses cover (converted ones included): which
    licenses, which host, how many processors and OSEs they cover, and what is left short."""
    by_need: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for i, j, covered, spent in matches:
        e = entitlements[i]
        if (e.license == "processor" or ent_id(e) in converted) and spent > 0:
            by_need[j].append((i, covered, spent))
    out = []
    for j, rows in sorted(by_need.items()):
        n = needs[j]
        host = hosts.get(n.host or "")
        covered = sum(c for _, c, _ in rows)
        parts = []
        for i, _, spent in rows:
            e = entitlements[i]
            if e.license != "processor":
                parts.append(
                    f"{spent} core licenses of {ent_id(e)} (converted under rule "
                    f"{converted[ent_id(e)]})"
                )
                continue
            row = catalog.processor_license(e.product, e.edition, e.version)
            oses = "unlimited OSEs" if row is None or row.oses is None else f"{row.oses} OSE(s)"
            parts.append(
                f"{spent} of {ent_id(e)} ({e.edition} {e.version}, each {row.processors if row else '?'} "
                f"processor(s) and {oses})"
            )
        where = (
            f"{host.host} ({host.processors} processor(s) × {host.cores_per_processor} cores)"
            if host
            else n.host
        )
        label = " ".join(x for x in (n.product, n.edition or "", n.version or "", n.license) if x)
        short = n.quantity - covered
        out.append(
            Finding(
                "info",
                "processor-license-coverage",
                f"Per-processor licenses {'; '.join(parts)} cover {where}: {covered} of the "
                f"{n.quantity} {label} licenses it needs"
                + (f" ({short} short)" if short > 0 else "")
                + " (licensing-rules.md §3.4, §3.5, §5, §7.4).",
                str(entitlements[rows[0][0]].source),
            )
        )
    return out
