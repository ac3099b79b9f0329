"""The report model of a license position and its JSON form (the spec's keys, plus extras)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from entitle.optimize.servers import Choice
from entitle.position.cloud import CloudRow
from entitle.rules.cals import Equivalency
from entitle.rules.demand import Need
from entitle.source import Finding


@dataclass(frozen=True, slots=True)
class Allocation:
    """``quantity`` units of one owned entitlement applied to one need."""

    entitlement: str  # its id, or its source when it has none
    need: Need
    quantity: int


@dataclass(frozen=True, slots=True)
class Line:
    product: str
    license: str
    edition: str | None
    version: str | None
    required: int
    owned: int
    shortfall: int
    surplus: int
    unit_price: Decimal | None
    cost: Decimal
    packs: dict[int, int] = field(default_factory=dict)
    model: str = ""
    reasons: tuple[str, ...] = ()
    price_source: str = ""
    billed: bool = False
    monthly_cost: Decimal | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "product": self.product,
            "license": self.license,
            "edition": self.edition,
            "version": self.version,
            "required": self.required,
            "owned": self.owned,
            "shortfall": self.shortfall,
            "surplus": self.surplus,
            "unit_price": self.unit_price,
            "cost": self.cost,
            "model": self.model,
            "price_source": self.price_source,
        }
        if self.packs:
            out["packs"] = {str(size): n for size, n in self.packs.items()}
        if self.billed:
            out["billed"] = "monthly"
            out["monthly_cost"] = self.monthly_cost
        out["reasons"] = list(self.reasons)
        return out


@dataclass(frozen=True, slots=True)
class Position:
    as_of: date
    currency: str
    lines: tuple[Line, ...]
    choices: tuple[Choice, ...]
    needs: tuple[Need, ...]
    allocations: tuple[Allocation, ...]
    findings: tuple[Finding, ...]
    estate: str = ""
    catalog_version: str = ""
    cal_needs: tuple[Need, ...] = ()
    lower_bound: Decimal | None = None
    optimality: str = ""
    method: str = ""
    subscriptions: tuple[Equivalency, ...] = ()  # users whose subscriptions carry CAL rights
    # At providers: which owned license covers which VM under which right (docs/rules/cloud-and-hybrid.md).
    cloud: tuple[CloudRow, ...] = ()

    @property
    def total_cost(self) -> Decimal:
        return sum((line.cost for line in self.lines), Decimal(0))

    @property
    def has_shortfall(self) -> bool:
        return any(line.shortfall > 0 for line in self.lines)

    def as_json(self) -> dict[str, Any]:
        out = {
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "total_cost": self.total_cost,
            "lines": [line.as_json() for line in self.lines],
            "plan": _plan_json(self),
            "findings": [f.as_json() for f in self.findings],
            "estate": self.estate,
            "catalog_version": self.catalog_version,
        }
        if self.cloud:  # only for estates with hosts at a provider
            out["cloud"] = [row.as_json() for row in self.cloud]
        return out


EVIDENCE_KEPT = 50
"""Sources listed per need in the position's JSON; a need with more says how many in
``evidence_total`` (the drill-down on the web pages through every one)."""


def _need_json(n: Need) -> dict[str, Any]:
    out: dict[str, Any] = {
        "product": n.product,
        "license": n.license,
        "edition": n.edition,
        "version": n.version,
        "quantity": n.quantity,
        "model": n.model,
        "reason": n.reason,
        "evidence": list(n.evidence[:EVIDENCE_KEPT]),
    }
    if len(n.evidence) > EVIDENCE_KEPT:  # the rest are counted (the web pages them all)
        out["evidence_total"] = len(n.evidence)
    if n.host:
        out["host"] = n.host
    if n.ose:
        out["ose"] = n.ose
    if n.holders:
        out["holders"] = list(n.holders)
    return out


def _choice_json(c: Choice) -> dict[str, Any]:
    out: dict[str, Any] = {
        "decision": c.decision.key,
        "product": c.decision.product,
        "subject": c.decision.subject,
        "chosen": c.option.label,
        "cost": c.cost,
        "alternatives": [{"option": label, "cost": cost} for label, cost in c.alternatives],
        "why": c.decision.why,
        "needs": [_need_json(n) for n in c.option.needs],
    }
    if c.option.note:
        out["note"] = c.option.note
    if c.sub:
        out["within"] = [_choice_json(s) for s in c.sub]
    return out


def _plan_json(p: Position) -> dict[str, Any]:
    cals = [
        n
        for n in p.cal_needs
        if n.license in ("user-cal", "device-cal") and not n.product.endswith("-cal-suite")
    ]
    return {
        "servers": [_choice_json(c) for c in p.choices],
        "cals": [_need_json(n) for n in cals],
        "suites": [_need_json(n) for n in p.cal_needs if n.product.endswith("-cal-suite")],
        "external_connectors": [
            _need_json(n) for n in p.cal_needs if n.license == "external-connector"
        ],
        "client_mls": [_need_json(n) for n in p.cal_needs if n.license.startswith("client-ml")],
        "subscriptions": [
            {"subscription": e.held, "users": list(e.users), "rows": e.rows}
            for e in p.subscriptions
        ],
        "optimality": {
            "status": p.optimality,
            "cost": p.total_cost,
            "lower_bound": p.lower_bound,
            "method": p.method,
        },
        "allocations": [
            {
                "entitlement": a.entitlement,
                "product": a.need.product,
                "license": a.need.license,
                "edition": a.need.edition,
                "version": a.need.version,
                "host": a.need.host,
                "ose": a.need.ose,
                "quantity": a.quantity,
            }
            for a in p.allocations
        ],
    }
