"""Computing a position: rules → cheapest choices → owned entitlements matched → priced lines."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from entitle.catalog.model import Catalog
from entitle.estate.records import Access, Entitlement, Estate
from entitle.optimize.calmemo import CalPlans
from entitle.optimize.calplan import CalPlan, Holdings
from entitle.optimize.match import allocate
from entitle.optimize.plan import Progress, make_plan
from entitle.optimize.pricing import Pricing
from entitle.position.cloud import cloud_rows
from entitle.position.model import Allocation, Line, Position
from entitle.position.owned import counted_entitlements, processor_findings
from entitle.rules.cores import packs
from entitle.rules.demand import Need
from entitle.source import Finding

LICENSE_ORDER = (
    "core",
    "server",
    "instance",
    "server-ml",
    "user-cal",
    "device-cal",
    "external-connector",
    "client-ml-user",
    "client-ml-ose",
    "user-sl",
    "processor",
    "esu",
)

Key = tuple[str, str, str | None, str | None]


def compute_position(
    estate: Estate,
    catalog: Catalog,
    as_of: date | None = None,
    progress: Progress | None = None,
    memo: CalPlans | None = None,
) -> Position:
    """The effective license position of ``estate`` on ``as_of`` (default: today). ``memo``:
    CAL plans already found in this run (a what-if's baseline), reused where a problem is the
    same (:mod:`entitle.optimize.calmemo`)."""
    return _compute(estate, catalog, as_of or date.today(), progress, memo)


def _compute(
    estate: Estate,
    catalog: Catalog,
    as_of: date,
    progress: Progress | None,
    memo: CalPlans | None = None,
) -> Position:
    pricing = Pricing(catalog, estate.prices)
    se_installed = frozenset(
        s.product for s in estate.software if catalog.subscription_edition(s.product, s.version)
    )
    owned = counted_entitlements(estate.entitlements, catalog, as_of, se_installed)
    if owned.entitlements is not estate.entitlements:
        estate = replace(estate, entitlements=owned.entitlements)
    plan = make_plan(estate, catalog, pricing, as_of, progress, memo)
    cal_needs = cal_plan_needs(plan.cals)
    needs = plan.servers.needs + cal_needs
    ents = estate.entitlements
    hosts = {h.host: h for h in estate.hosts}
    matches = allocate(catalog, ents, needs, pricing, as_of, hosts)

    required: dict[Key, int] = defaultdict(int)
    billed: dict[Key, bool] = {}
    reasons: dict[Key, list[str]] = defaultdict(list)
    models: dict[Key, set[str]] = defaultdict(set)
    for n in needs:
        required[n.key] += n.quantity
        billed[n.key] = n.billed
        reasons[n.key].append(n.reason)
        models[n.key].add(n.model)
    covered: dict[Key, int] = defaultdict(int)
    used: dict[int, int] = defaultdict(int)
    allocations = []
    for i, j, units, spent in matches:
        covered[needs[j].key] += units
        used[i] += spent
        if units > 0:
            allocations.append(Allocation(_ent_id(ents[i]), needs[j], units))
    surplus: dict[Key, int] = defaultdict(int)
    for i, e in enumerate(ents):
        left = e.quantity - used[i]
        if left > 0:
            surplus[(e.product, e.license, e.edition, e.version)] += left

    findings = list(plan.findings) + list(owned.findings)
    findings += processor_findings(ents, needs, matches, hosts, catalog, owned.converted)
    findings += _cal_findings(plan.demand.exempt, plan.demand.partial)
    cloud, cloud_findings = cloud_rows(estate, catalog, as_of, ents, needs, matches)
    findings += cloud_findings
    findings += [f.as_finding() for f in estate.import_findings]  # what imports assumed
    findings += [p.as_finding("estate-warning") for p in estate.warnings]  # what loading said
    findings += _later_access(estate.access, as_of)
    if not estate.software:  # "compliant" would be true of nothing: say why it is empty
        findings.append(
            Finding(
                "warning",
                "nothing-installed",
                f"No installed software (software.csv is absent or empty) on the estate's "
                f"{len(estate.hosts)} host(s): no server product was counted, only what "
                "managed.csv and entitlements.csv say. Add software.csv (and oses.csv), or "
                "fill them with an import.",
                "software.csv",
            )
        )
    lines = []
    for key in sorted(set(required) | set(surplus), key=lambda k: _order(catalog, k)):
        lines.append(
            _line(
                key,
                required[key],
                covered[key],
                surplus[key],
                billed.get(key, False),
                sorted(models[key]),
                reasons[key],
                pricing,
                catalog,
                findings,
            )
        )
    return Position(
        as_of=as_of,
        currency=pricing.currency,
        lines=tuple(lines),
        choices=plan.servers.choices,
        needs=needs,
        cal_needs=cal_needs,
        lower_bound=sum((x.cost for x in lines), Decimal(0)) - (plan.cost - plan.lower_bound),
        optimality=plan.status,
        method=plan.cals.method,
        subscriptions=plan.demand.equivalency,
        allocations=tuple(allocations),
        findings=tuple(findings),
        cloud=tuple(cloud),
        estate=estate.name,
        catalog_version=catalog.meta.catalog_version,
    )


def _later_access(access: Sequence[Access], as_of: date) -> list[Finding]:
    """Access first seen after the position's day is counted all the same (the evidence is the
    estate's access, whatever its dates): say so, with the first such row and the last day."""
    later = [a for a in access if a.first_seen is not None and a.first_seen > as_of]
    if not later:
        return []
    last = max(a.first_seen for a in later if a.first_seen is not None)
    message = (
        f"{len(later):,} access row(s) were first seen after {as_of.isoformat()}, the position's "
        f"day (the last on {last.isoformat()}); they are counted as the estate's access. For the "
        "position of an earlier day, give the access seen by then."
    )
    return [Finding("warning", "access-after-as-of", message, str(later[0].source))]


def _ent_id(e: Entitlement) -> str:
    return e.id or str(e.source)


def _order(catalog: Catalog, key: Key) -> tuple[int, int, str, int]:
    product, license, edition, version = key
    products = list(catalog.products)
    p = products.index(product) if product in products else len(products)
    lic = LICENSE_ORDER.index(license) if license in LICENSE_ORDER else len(LICENSE_ORDER)
    v = -1
    if version is not None and version in catalog.product(product).version_ids:
        v = catalog.version_index(product, version)
    return (p, lic, edition or "", v)


def _line(
    key: Key,
    required: int,
    covered: int,
    surplus: int,
    billed: bool,
    models: list[str],
    reasons: list[str],
    pricing: Pricing,
    catalog: Catalog,
    findings: list[Finding],
) -> Line:
    product, license, edition, version = key
    unit = pricing.unit(product, license, edition)
    label = " ".join(x for x in (product, edition or "", version or "", license) if x)
    if billed and unit is not None and unit.period != "month" and edition != "payg":
        # A license's price is no monthly bill: SQL Server pay-as-you-go keeps its edition,
        # which finds the per-core license price (1,972.50), not a price a month.
        unit = None
        findings.append(
            Finding(
                "warning",
                "price-unknown",
                f"No monthly pay-as-you-go price is known for {label}; its monthly cost is "
                "shown as 0 (the license's price is not a month's bill).",
                "",
            )
        )
    price = unit.amount if unit is not None else None
    shortfall = 0 if billed else required - covered
    owned = required if billed else covered + surplus
    cost = (price or Decimal(0)) * shortfall
    if unit is None and shortfall > 0:
        findings.append(
            Finding(
                "warning",
                "price-unknown",
                f"No price is known for {label}; its "
                "shortfall is costed at 0. Add it to prices.csv.",
                "",
            )
        )
    elif unit is not None and unit.confidence == "low" and shortfall > 0:
        findings.append(
            Finding(
                "info",
                "indicative-price",
                f"{label}: the catalog's price "
                f"{unit.amount} is a low-confidence indicative figure; put your "
                "own price in prices.csv.",
                "catalog",
            )
        )
    if (
        unit is not None
        and unit.source == "catalog"
        and (shortfall > 0 or billed)
        and pricing.currency != catalog.meta.currency
    ):
        findings.append(
            Finding(
                "warning",
                "currency-mismatch",
                f"{label}: priced from the catalog, {unit.amount} {catalog.meta.currency}, "
                f"in a position in {pricing.currency} (the currency of prices.csv): the total "
                f"adds the two currencies. Put its price in {pricing.currency} in prices.csv.",
                "catalog",
            )
        )
    pack_rule = catalog.pack_rule(product)
    line_packs = (
        packs(shortfall, catalog.core_rule(pack_rule).pack_sizes)
        if license in ("core", "server-ml") and pack_rule and shortfall > 0
        else {}
    )
    return Line(
        product=product,
        license=license,
        edition=edition,
        version=version,
        required=required,
        owned=owned,
        shortfall=shortfall,
        surplus=surplus,
        unit_price=price,
        cost=cost,
        packs=line_packs,
        model=", ".join(m for m in models if m),
        reasons=tuple(reasons),
        price_source=unit.source if unit is not None else "",
        billed=billed,
        monthly_cost=(price or Decimal(0)) * required if billed else None,
    )


_NUMBERS = re.compile(r"(\d+)")


def source_order(text: str) -> tuple[str | int, ...]:
    """A source's sort key with its numbers compared as numbers: ``access.csv:9`` before
    ``access.csv:10`` (text order put 10 first). The text split at its runs of digits
    alternates text and number (text first, possibly blank), so keys compare position by
    position, text with text and number with number."""
    parts: list[str | int] = list(_NUMBERS.split(text))
    parts[1::2] = map(int, parts[1::2])
    return tuple(parts)


def cal_plan_needs(plan: CalPlan) -> tuple[Need, ...]:
    """The CAL plan's holdings as needs, one per license kind and version, naming the holders."""
    groups: dict[tuple[str, str, str | None, str | None, str | None], list[str]] = defaultdict(list)
    because: dict[tuple[str, str, str | None, str | None, str | None], set[str]] = defaultdict(set)
    held = Holdings.of(plan.holdings)  # read as columns: no record per holding
    kinds = {r: r.license() for r in set(held.resource)}
    for resource, holder, version, why in zip(*held.columns(), strict=True):
        product, license, edition = kinds[resource]
        host = holder if resource.holder == "ec" else None
        key = (product, license, edition, version, host)
        groups[key].append(holder)
        because[key].update(why)
    out = []
    for key in sorted(groups, key=lambda k: tuple(x or "" for x in k)):
        product, license, edition, version, host = key
        holders = tuple(sorted(groups[key]))
        if host is not None:
            reason = f"External Connector on {host}: covers every external user there"
        else:
            reason = f"{len(holders)} {license.replace('-', ' ')}(s) in the cheapest plan"
        out.append(
            Need(
                product,
                license,
                len(holders),
                edition,
                version,
                host=host,
                model="cal",
                reason=reason,
                evidence=tuple(sorted(because[key], key=source_order)),
                holders=holders,
            )
        )
    return tuple(out)


def _cal_findings(
    exempt: tuple[tuple[str, int], ...], partial: tuple[tuple[str, int], ...] = ()
) -> list[Finding]:
    out = [
        Finding("info", "cal-exempt", f"{count} access row(s) need no CAL: {reason}.", "access.csv")
        for reason, count in exempt
    ]
    out += [
        Finding(
            "info",
            "cal-exempt-product",
            f"{count} access row(s) need no CAL of their product: {reason}; they still need "
            "the Windows Server CAL of their OSE (indirect access, licensing-rules.md §1.1).",
            "access.csv",
        )
        for reason, count in partial
    ]
    return out
