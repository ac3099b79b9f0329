"""The report model: one value computed from a position, rendered by every report face.

:func:`build_report` turns a :class:`~entitle.position.model.Position` into plain rows — the
summary, the lines, the top shortfalls, the plan (who or what holds which license), the evidence
behind each line, the findings, the assumptions (prices, catalog version, dates), and the series
the charts draw. Renderers (terminal, xlsx, html, pdf) only lay these rows out, so the four faces
always say the same thing. Money stays :class:`~decimal.Decimal`.

May import source, catalog, estate, rules, optimize, position and whatif; never the faces.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from entitle.catalog.loader import default_catalog
from entitle.catalog.model import Catalog
from entitle.estate.records import Entitlement
from entitle.optimize.servers import Choice
from entitle.position.cloud import CloudRow
from entitle.position.model import Line, Position
from entitle.rules.demand import Need
from entitle.source import Finding

if TYPE_CHECKING:  # the what-if package loads the estate's checks and workbook reader
    from entitle.whatif.diff import PositionDiff

TOP_SHORTFALLS = 5
EVIDENCE_SHOWN = 40  # sources listed per need; the rest are counted
HOLDER_KIND = {
    "user-cal": "user",
    "device-cal": "device",
    "client-ml-user": "user",
    "client-ml-ose": "device",
    "user-sl": "user",
}


def label(product: str, edition: str | None, version: str | None, license: str) -> str:
    return " ".join(x for x in (product, edition or "", version or "", license) if x)


def line_label(line: Line) -> str:
    return label(line.product, line.edition, line.version, line.license)


@dataclass(frozen=True, slots=True)
class Summary:
    estate: str
    as_of: date
    currency: str
    total_cost: Decimal
    compliant: bool
    optimality: str
    lower_bound: Decimal | None
    lines: int
    lines_short: int
    units_short: int
    findings: tuple[tuple[str, int], ...]  # (severity, count)
    catalog_version: str
    generated_at: datetime


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One holder of licenses: a host or OSE (server licenses) or a user, device or host (CALs,
    client MLs, connectors)."""

    section: str  # "server" | "cal"
    holder_kind: str
    holder: str
    product: str
    license: str
    edition: str | None
    version: str | None
    quantity: int
    model: str
    reason: str


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    line: str
    quantity: int
    where: str
    reason: str
    evidence: str  # sources, comma-separated (the first EVIDENCE_SHOWN, then "and N more")


@dataclass(frozen=True, slots=True)
class ChoiceRow:
    decision: str
    chosen: str
    cost: Decimal
    alternatives: str
    why: str


@dataclass(frozen=True, slots=True)
class PriceRow:
    line: str
    unit_price: Decimal | None
    source: str
    confidence: str


@dataclass(frozen=True, slots=True)
class CalSplit:
    """The CAL plan by product: license units held per user, per device, and as suites."""

    product: str
    user: int
    device: int
    suite: bool


@dataclass(frozen=True, slots=True)
class History:
    """Owned license units over time, per product and license kind, from purchase dates."""

    dates: tuple[date, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]  # (label, units on each date)
    undated: int  # units with no purchase date (counted from the first date)


@dataclass(frozen=True, slots=True)
class Report:
    summary: Summary
    lines: tuple[Line, ...]
    top_shortfalls: tuple[Line, ...]
    choices: tuple[ChoiceRow, ...]
    plan: tuple[PlanRow, ...]
    cal_groups: tuple[tuple[str, int, str], ...]  # (license, holders, first holders) for display
    evidence: tuple[EvidenceRow, ...]
    findings: tuple[Finding, ...]
    assumptions: tuple[tuple[str, str], ...]
    prices: tuple[PriceRow, ...]
    cost_by_product: tuple[tuple[str, Decimal], ...]
    cal_split: tuple[CalSplit, ...]
    history: History | None
    what_if: PositionDiff | None = None
    changes: tuple[str, ...] = ()
    # At providers, by provider: which owned license covers which VM under which right.
    cloud: tuple[CloudRow, ...] = ()

    @property
    def currency(self) -> str:
        return self.summary.currency


def build_report(
    position: Position,
    generated_at: datetime,
    *,
    catalog: Catalog | None = None,
    entitlements: tuple[Entitlement, ...] = (),
    what_if: PositionDiff | None = None,
    changes: tuple[str, ...] = (),
) -> Report:
    """The report of ``position``; ``entitlements`` (with purchase dates) give the owned-over-time
    series, ``what_if`` the difference a change file made (``changes`` describe it)."""
    lines = position.lines
    severities: dict[str, int] = defaultdict(int)
    for f in position.findings:
        severities[f.severity] += 1
    summary = Summary(
        estate=position.estate or "estate",
        as_of=position.as_of,
        currency=position.currency,
        total_cost=position.total_cost,
        compliant=not position.has_shortfall,
        optimality=position.optimality,
        lower_bound=position.lower_bound,
        lines=len(lines),
        lines_short=sum(1 for x in lines if x.shortfall > 0),
        units_short=sum(x.shortfall for x in lines),
        findings=tuple(
            (s, severities[s]) for s in ("error", "warning", "info") if severities.get(s)
        ),
        catalog_version=position.catalog_version,
        generated_at=generated_at,
    )
    short = sorted(
        (x for x in lines if x.shortfall > 0), key=lambda x: (-x.cost, -x.shortfall, line_label(x))
    )
    return Report(
        summary=summary,
        lines=lines,
        top_shortfalls=tuple(short[:TOP_SHORTFALLS]),
        choices=tuple(r for c in position.choices for r in _choice_rows(c)),
        plan=tuple(_plan_rows(position)),
        cal_groups=tuple(_cal_groups(position.cal_needs)),
        evidence=tuple(_evidence(position.needs)),
        findings=position.findings,
        assumptions=_assumptions(position, generated_at),
        prices=tuple(_prices(lines, catalog)),
        cost_by_product=_cost_by_product(lines),
        cal_split=_cal_split(position.cal_needs, catalog or default_catalog()),
        history=owned_history(entitlements),
        what_if=what_if,
        changes=changes,
        cloud=cloud_sorted(position.cloud),
    )


def cloud_sorted(rows: tuple[CloudRow, ...]) -> tuple[CloudRow, ...]:
    """The cloud rows by provider, then OSE and product (shortfalls after the covered units)."""
    return tuple(sorted(rows, key=lambda r: (r.provider, r.ose, r.product, r.short > 0)))


def cloud_text(r: CloudRow) -> str:
    """One cloud row as a sentence: what covers ``r.ose``'s product, or what is short and why."""
    what = " ".join(x for x in (r.product, r.edition or "", r.version or "") if x)
    if r.model == "provider":
        return f"{r.ose}: {what} — in the provider's bill (no owned license needed)"
    if r.short:
        return f"{r.ose}: {what} — {r.short} short: {r.note}"
    note = f"; {r.note}" if r.note else ""
    return f"{r.ose}: {what} — {r.quantity} of {r.entitlement} under {r.right}{note}"


def _choice_rows(c: Choice, depth: int = 0) -> list[ChoiceRow]:
    others = ", ".join(f"{lbl} {cost:,.2f}" for lbl, cost in c.alternatives[1:])
    rows = [
        ChoiceRow("  " * depth + c.decision.key, c.option.label, c.cost, others, c.decision.why)
    ]
    for s in c.sub:
        rows += _choice_rows(s, depth + 1)
    return rows


def plan_rows(p: Position) -> list[PlanRow]:
    """The plan, one row per holder and license: what each host or OSE needs for its server
    licenses, and which user, device or host holds each CAL, ML or connector, and why."""
    return _plan_rows(p)


def _plan_rows(p: Position) -> list[PlanRow]:
    rows = []
    for c in p.choices:
        for n in c.needs:
            kind, holder = ("ose", n.ose) if n.ose and not n.host else ("host", n.host or n.ose)
            rows.append(
                PlanRow(
                    "server",
                    kind,
                    holder or "",
                    n.product,
                    n.license,
                    n.edition,
                    n.version,
                    n.quantity,
                    n.model or c.option.label,
                    n.reason,
                )
            )
    for n in p.cal_needs:
        kind = "host" if n.host else HOLDER_KIND.get(n.license, "")
        for h in n.holders:
            rows.append(
                PlanRow("cal", kind, h, n.product, n.license, n.edition, n.version, 1, "", n.reason)
            )
    return rows


def _cal_groups(needs: tuple[Need, ...]) -> list[tuple[str, int, str]]:
    out = []
    for n in needs:
        where = f" on {n.host}" if n.host else ""
        shown = ", ".join(n.holders[:8]) + (" …" if len(n.holders) > 8 else "")
        out.append((label(n.product, n.edition, n.version, n.license) + where, n.quantity, shown))
    return out


def _evidence(needs: tuple[Need, ...]) -> list[EvidenceRow]:
    rows = []
    for n in needs:
        where = n.ose or n.host or ""
        sources = list(n.evidence[:EVIDENCE_SHOWN])
        if len(n.evidence) > EVIDENCE_SHOWN:
            sources.append(f"and {len(n.evidence) - EVIDENCE_SHOWN} more")
        rows.append(
            EvidenceRow(
                label(n.product, n.edition, n.version, n.license),
                n.quantity,
                where,
                n.reason,
                ", ".join(sources),
            )
        )
    return rows


def _assumptions(p: Position, generated_at: datetime) -> tuple[tuple[str, str], ...]:
    return (
        ("estate", p.estate or "estate"),
        ("position date (as of)", p.as_of.isoformat()),
        ("currency", p.currency),
        ("catalog version", p.catalog_version),
        ("optimality", p.optimality or "computed"),
        ("method", p.method or ""),
        ("generated", generated_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
        (
            "prices",
            "prices.csv of the estate first, then the catalog's indicative list "
            "(see the price of each line below); never contract prices",
        ),
    )


def _prices(lines: tuple[Line, ...], catalog: Catalog | None) -> list[PriceRow]:
    out = []
    for x in lines:
        confidence = "estate" if x.price_source and x.price_source != "catalog" else ""
        if x.price_source == "catalog" and catalog is not None:
            found = catalog.price(x.product, x.license, x.edition)
            confidence = found.confidence if found is not None else ""
        out.append(PriceRow(line_label(x), x.unit_price, x.price_source or "none", confidence))
    return out


def _cost_by_product(lines: tuple[Line, ...]) -> tuple[tuple[str, Decimal], ...]:
    cost: dict[str, Decimal] = defaultdict(Decimal)
    for x in lines:
        if x.cost > 0:
            cost[x.product] += x.cost
    return tuple(sorted(cost.items(), key=lambda kv: (-kv[1], kv[0])))


def _cal_split(needs: tuple[Need, ...], catalog: Catalog) -> tuple[CalSplit, ...]:
    user: dict[str, int] = defaultdict(int)
    device: dict[str, int] = defaultdict(int)
    for n in needs:
        if n.license == "user-cal":
            user[n.product] += n.quantity
        elif n.license == "device-cal":
            device[n.product] += n.quantity
    suites = catalog.suites
    products = sorted(set(user) | set(device), key=lambda p: (p in suites, p))
    return tuple(CalSplit(p, user[p], device[p], p in suites) for p in products)


def owned_history(entitlements: tuple[Entitlement, ...]) -> History | None:
    """Units owned on each purchase date, per product and license kind (None without dates)."""
    dated = [e for e in entitlements if e.purchased is not None]
    if not dated:
        return None
    dates = tuple(sorted({e.purchased for e in dated if e.purchased is not None}))
    keys = sorted({(e.product, e.license) for e in entitlements})
    series = []
    for product, license in keys:
        mine = [e for e in entitlements if (e.product, e.license) == (product, license)]
        undated = sum(e.quantity for e in mine if e.purchased is None)
        values = tuple(
            undated + sum(e.quantity for e in mine if e.purchased is not None and e.purchased <= d)
            for d in dates
        )
        series.append((f"{product} {license}", values))
    undated_total = sum(e.quantity for e in entitlements if e.purchased is None)
    return History(dates, tuple(series), undated_total)
