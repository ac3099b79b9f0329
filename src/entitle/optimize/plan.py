"""The whole plan: server choices and CALs decided together.

SQL Server Standard under Server + CAL needs SQL CALs for its users or devices; per core it needs
none. Which is cheaper depends on who else already needs a SQL CAL, so the choice is made with
the SQL CAL plan by the strategies of :mod:`entitle.optimize.search`; the CALs of every other
right do not depend on it and are planned once. The plan's cost is the cheapest strategy's; its
lower bound the best bound a strategy proves (per group of choices sharing users and devices:
every combination of the group's choices, each priced with the server licenses' cheapest
options and the SQL CALs the combination surely brings) plus the other CALs' bound. Where the
bound meets the cost, the plan is proven optimal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from operator import not_

from entitle.catalog.model import Catalog
from entitle.estate.records import Entitlement, Estate
from entitle.optimize.calentry import plan_cals
from entitle.optimize.calmemo import CalPlans
from entitle.optimize.calplan import NOTHING, CalPlan, Holdings, Resource
from entitle.optimize.choices import (
    Progress,
    ServerCosts,
    possible_sql_oses,
    server_cal_oses,
)
from entitle.optimize.choices import leaves as _leaves  # noqa: F401 - bench_optimizer --stages
from entitle.optimize.pricing import Pricing
from entitle.optimize.search import PlanSearch
from entitle.optimize.servers import ServerPlan
from entitle.optimize.sqlcals import SqlCals
from entitle.optimize.stake import unmarked_findings
from entitle.rules.cals import CalDemand, CalNeeds, cal_demand
from entitle.rules.demand import Demand
from entitle.rules.index import EstateIndex
from entitle.rules.servers import server_demand
from entitle.rules.versions import effective_version
from entitle.source import Finding

SERVER_LICENSES = frozenset({"core", "server", "instance", "server-ml", "processor"})
OWNED_SEARCH = 300  # decisions: up to this, each option is also tried against owned licenses
_server_cal_oses = server_cal_oses  # for bench/bench_optimizer.py --stages

__all__ = ["Plan", "make_plan", "owned_resources"]


@dataclass(frozen=True, slots=True)
class Plan:
    servers: ServerPlan
    cals: CalPlan
    demand: CalDemand
    cost: Decimal
    lower_bound: Decimal
    findings: tuple[Finding, ...]
    strategy: str = ""  # the search strategy whose plan this is

    @property
    def status(self) -> str:
        if self.cost <= self.lower_bound:
            text = "optimal"
        else:
            gap = (self.cost - self.lower_bound) / self.cost * 100
            text = f"not proven optimal: within {gap.quantize(Decimal('0.01'))}% of the lower bound"
        return text


def owned_resources(
    entitlements: tuple[Entitlement, ...], catalog: Catalog, as_of: date
) -> dict[tuple[Resource, str | None], int]:
    """Owned CALs, client MLs, suites and connectors, as (resource, version) of the CAL plan;
    the version is the newest the entitlement may run (Software Assurance included)."""
    out: dict[tuple[Resource, str | None], int] = {}
    for e in entitlements:
        r = _resource(e, catalog)
        if (
            r is not None
            and e.product in catalog.products
            and catalog.product(e.product).kind != "step-up"  # counted as suites (position)
        ):
            key = (r, effective_version(catalog, e, as_of))
            out[key] = out.get(key, 0) + e.quantity
    return out


def _resource(e: Entitlement, catalog: Catalog) -> Resource | None:
    if e.license == "external-connector":
        return Resource("ec", e.product)
    if e.product in catalog.suites and e.license in (
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


def make_plan(
    estate: Estate,
    catalog: Catalog,
    pricing: Pricing,
    as_of: date,
    progress: Progress | None = None,
    memo: CalPlans | None = None,
    cals: bool = True,
) -> Plan:
    """The plan of ``estate``. ``memo``: CAL plans already found in this run, reused where a
    problem is the same (a what-if's baseline and scenario). ``cals=False``: the server choices
    and the CAL demand only (the decision tool prices its own CALs): the CALs of the other
    rights and the chosen SQL CALs are not planned, and the plan's cost and bound count the
    server licenses alone."""
    say = progress or (lambda _msg: None)
    solve = memo.plan if memo is not None else plan_cals
    idx = EstateIndex.build(estate)
    demand: Demand = server_demand(estate, catalog, as_of)
    owned = owned_resources(estate.entitlements, catalog, as_of)
    server_owned = tuple(e for e in estate.entitlements if e.license in SERVER_LICENSES)
    costs = ServerCosts(pricing, server_owned, catalog, as_of, {h.host: h for h in estate.hosts})

    database = catalog.roles.database
    candidates = frozenset().union(*(possible_sql_oses(d, database) for d in demand.decisions))
    everything = cal_demand(idx, catalog, candidates, as_of)
    sql_right = catalog.database_right()
    found = CalNeeds.of(everything.needs)
    is_sql = [r == sql_right for r in found.right]
    sql_needs = found.where(is_sql)
    rest = replace(everything, needs=found.where(map(not_, is_sql)))
    if cals:
        say(f"planning CALs for {len(rest.needs):,} needs")
    rest_plan = solve(rest, catalog, pricing, owned) if cals else NOTHING

    sql = SqlCals(sql_needs, catalog, pricing, owned, memo)
    search = PlanSearch(demand, pricing, costs, sql, say)
    # Owned server licenses can make another edition or model the cheaper one: with few
    # decisions every option is also tried against them one at a time (the exact choices'
    # MILP weighs them whatever the number).
    best, bound = search.run(owned=bool(server_owned) and len(demand.decisions) <= OWNED_SEARCH)

    chosen = server_cal_oses(best.servers, database)
    # its gap closed on larger graphs than the search's
    sql_plan = sql.plan(chosen, final=True) if cals else NOTHING
    final_demand = replace(everything, needs=CalNeeds.of(rest.needs) + sql.needs(chosen))
    cost = costs.plan(best.servers) + sql_plan.cost + rest_plan.cost
    lower = min(bound + rest_plan.lower_bound, cost)
    return Plan(
        best.servers,
        _combine(rest_plan, sql_plan),
        final_demand,
        cost,
        lower,
        best.servers.findings
        + everything.findings
        + tuple(unmarked_findings(everything.unmarked, catalog, pricing, chosen)),
        best.strategy,
    )


def _combine(a: CalPlan, b: CalPlan) -> CalPlan:
    """Two plans of independent rights (SQL CALs are in no suite and on no base) as one."""
    methods = " + ".join(sorted({m for m in (a.method, b.method) if m != "nothing to cover"}))
    both = [Holdings.of(a.holdings), Holdings.of(b.holdings)]
    columns = [x + y for x, y in zip(*(h.columns() for h in both), strict=True)]
    resource, holder = columns[0], columns[1]
    keys = list(zip([r.holder for r in resource], [r.what for r in resource], holder, strict=True))
    order = sorted(range(len(holder)), key=keys.__getitem__)
    return CalPlan(
        Holdings(*([c[i] for i in order] for c in columns)),
        a.cost + b.cost,
        a.lower_bound + b.lower_bound,
        methods or "nothing to cover",
    )
