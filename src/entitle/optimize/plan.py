"""The whole plan: server choices and CALs decided together.

SQL Server Standard under Server + CAL needs SQL CALs for its users or devices; per core it needs
none. Which is cheaper depends on who else already needs a SQL CAL, so the choice is made with the
CAL plan: every open choice is tried both ways (all combinations when there are few, one at a time
until nothing improves when there are many) and the cheapest total kept. The lower bound is the
cheapest option of every server decision plus the CAL bound of the demand without the open SQL
Server CALs; where it meets the plan's cost, the plan is proven optimal.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from entitle.catalog.model import Catalog
from entitle.estate.records import Entitlement, Estate
from entitle.optimize.cals import CalPlan, Resource, optimise_cals
from entitle.optimize.pricing import Pricing
from entitle.optimize.servers import Choice, ServerPlan, choose, need_cost
from entitle.rules.cals import CalDemand, cal_demand
from entitle.rules.demand import Decision, Demand
from entitle.rules.index import EstateIndex
from entitle.rules.servers import server_demand
from entitle.rules.versions import effective_version
from entitle.source import Finding

EXHAUSTIVE_LIMIT = 6  # open Server + CAL choices tried in every combination
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Plan:
    servers: ServerPlan
    cals: CalPlan
    demand: CalDemand
    cost: Decimal
    lower_bound: Decimal
    findings: tuple[Finding, ...]

    @property
    def status(self) -> str:
        if self.cost <= self.lower_bound:
            return "optimal"
        gap = (self.cost - self.lower_bound) / self.cost * 100
        return f"within {gap.quantize(Decimal('0.01'))}% of the lower bound"


def owned_resources(
    entitlements: tuple[Entitlement, ...], catalog: Catalog, as_of: date
) -> dict[tuple[Resource, str | None], int]:
    """Owned CALs, client MLs, suites and connectors, as (resource, version) of the CAL plan;
    the version is the newest the entitlement may run (Software Assurance included)."""
    out: dict[tuple[Resource, str | None], int] = {}
    for e in entitlements:
        r = _resource(e)
        if r is not None and e.product in catalog.products:
            key = (r, effective_version(catalog, e, as_of))
            out[key] = out.get(key, 0) + e.quantity
    return out


def _resource(e: Entitlement) -> Resource | None:
    if e.license == "external-connector":
        return Resource("ec", e.product)
    if e.product in ("core-cal-suite", "enterprise-cal-suite") and e.license in (
        "user-cal",
        "device-cal",
    ):
        return Resource(e.license.split("-")[0], e.product)
    if e.license in ("user-cal", "device-cal"):
        kind = "cal-enterprise" if e.edition == "enterprise" else "cal"
        return Resource(e.license.split("-")[0], f"{e.product}:{kind}")
    if e.license in ("client-ml-user", "client-ml-ose"):
        return Resource("user" if e.license == "client-ml-user" else "device", f"{e.product}:ml")
    return None


def _leaves(decisions: tuple[Decision, ...]) -> list[Decision]:
    """Decisions (at any depth) between Server + CAL and another model."""
    out = []
    for d in decisions:
        labels = {o.label for o in d.options}
        if "server-cal" in labels and len(labels) > 1:
            out.append(d)
        for o in d.options:
            out += _leaves(o.subdecisions)
    return out


def _server_cal_oses(plan: ServerPlan) -> frozenset[str]:
    def walk(c: Choice) -> list[str]:
        here = [
            n.ose
            for n in c.option.needs
            if n.model == "server-cal" and n.product == "sql-server" and n.ose
        ]
        return here + [x for s in c.sub for x in walk(s)]

    return frozenset(x for c in plan.choices for x in walk(c))


def _server_cost(plan: ServerPlan, pricing: Pricing) -> Decimal:
    return sum((need_cost(n, pricing) for n in plan.needs), Decimal(0))


def _min_cost(decision: Decision, pricing: Pricing) -> Decimal:
    return min(
        sum((need_cost(n, pricing) for n in o.needs), Decimal(0))
        + sum((_min_cost(d, pricing) for d in o.subdecisions), Decimal(0))
        for o in decision.options
    )


def make_plan(
    estate: Estate,
    catalog: Catalog,
    pricing: Pricing,
    as_of: date,
    progress: Progress | None = None,
) -> Plan:
    say = progress or (lambda _msg: None)
    idx = EstateIndex.build(estate)
    demand: Demand = server_demand(estate, catalog, as_of)
    owned = owned_resources(estate.entitlements, catalog, as_of)
    cache: dict[frozenset[str], tuple[CalDemand, CalPlan]] = {}

    def cals_for(server_cal: frozenset[str]) -> tuple[CalDemand, CalPlan]:
        if server_cal not in cache:
            d = cal_demand(idx, catalog, server_cal)
            say(f"planning CALs for {len(d.needs):,} needs")
            cache[server_cal] = (d, optimise_cals(d, catalog, pricing, owned))
        return cache[server_cal]

    def total(force: dict[str, str]) -> tuple[Decimal, Decimal, ServerPlan]:
        servers = choose(demand, pricing, force, shadow=False)
        _, cal = cals_for(_server_cal_oses(servers))
        server_cost = _server_cost(servers, pricing)
        return server_cost + cal.cost, server_cost + cal.lower_bound, servers

    first = choose(demand, pricing)  # Server + CAL judged with an estimate of its CALs
    leaves = _leaves(demand.decisions)
    other = {d.key: other_label(d) for d in leaves}
    force = {d.key: _chosen_label(first, d.key) or other[d.key] for d in leaves}
    best, lower, servers = total(force)
    if 0 < len(leaves) <= EXHAUSTIVE_LIMIT:
        say(f"trying all {2 ** len(leaves)} Server + CAL combinations")
        for combo in itertools.product((True, False), repeat=len(leaves)):
            trial = {
                d.key: "server-cal" if c else other[d.key]
                for d, c in zip(leaves, combo, strict=True)
            }
            cost, bound, plan = total(trial)
            lower = min(lower, bound)
            if cost < best:
                best, servers, force = cost, plan, trial
    elif leaves:
        improved = True
        while improved:
            improved = False
            for d in leaves:
                trial = dict(force)
                trial[d.key] = other[d.key] if trial[d.key] == "server-cal" else "server-cal"
                cost, _, plan = total(trial)
                if cost < best:
                    best, servers, force, improved = cost, plan, trial, True
        # Bound: every decision at its cheapest, and the CALs of the fixed Server + CAL OSEs.
        fixed = _server_cal_oses(choose(demand, pricing, other, shadow=False))
        _, relaxed = cals_for(fixed)
        lower = sum((_min_cost(d, pricing) for d in demand.decisions), Decimal(0))
        lower += relaxed.lower_bound
    cal_demand_, cal_plan = cals_for(_server_cal_oses(servers))
    return Plan(servers, cal_plan, cal_demand_, best, min(lower, best), servers.findings)


def other_label(d: Decision) -> str:
    return next(o.label for o in d.options if o.label != "server-cal")


def _chosen_label(plan: ServerPlan, key: str) -> str | None:
    def walk(c: Choice) -> str | None:
        if c.decision.key == key:
            return c.option.label
        for s in c.sub:
            found = walk(s)
            if found:
                return found
        return None

    for c in plan.choices:
        found = walk(c)
        if found:
            return found
    return None
