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
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from entitle.catalog.model import Catalog
from entitle.estate.records import Entitlement, Estate, Host
from entitle.optimize.cals import CalPlan, Resource, costs_apart, optimise_cals
from entitle.optimize.match import allocate
from entitle.optimize.pricing import Pricing
from entitle.optimize.servers import Choice, ServerPlan, choose, need_cost
from entitle.optimize.stake import unmarked_findings
from entitle.rules.cals import CalDemand, CalNeed, cal_demand
from entitle.rules.demand import Decision, Demand, Need
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
        if (
            r is not None
            and e.product in catalog.products
            and catalog.product(e.product).kind != "step-up"  # counted as suites (position)
        ):
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


def _list_cost(plan: ServerPlan, pricing: Pricing) -> Decimal:
    return sum((need_cost(n, pricing) for n in plan.needs), Decimal(0))


SERVER_LICENSES = frozenset({"core", "server", "instance", "server-ml", "processor"})
OWNED_SEARCH_LIMIT = 300  # decisions: above this, server choices stay at list prices


def _shortfall_cost(
    needs: tuple[Need, ...],
    owned: tuple[Entitlement, ...],
    catalog: Catalog,
    pricing: Pricing,
    as_of: date,
    hosts: Mapping[str, Host] | None = None,
) -> Decimal:
    """What buying ``needs`` costs once ``owned`` licenses are used where they fit."""
    covered: dict[int, int] = defaultdict(int)
    for _, j, units, _ in allocate(catalog, owned, needs, pricing, as_of, hosts):
        covered[j] += units
    return sum(
        (
            pricing.amount(n.product, n.license, n.edition) * (n.quantity - covered[j])
            for j, n in enumerate(needs)
            if not n.billed
        ),
        Decimal(0),
    )


def _min_cost(decision: Decision, pricing: Pricing) -> Decimal:
    return min(
        sum((need_cost(n, pricing) for n in o.needs), Decimal(0))
        + sum((_min_cost(d, pricing) for d in o.subdecisions), Decimal(0))
        for o in decision.options
    )


SQL_RIGHT = "sql-server:cal"
COMPONENT_EXHAUSTIVE = 10  # open choices in one component tried in every combination


def _combine(a: CalPlan, b: CalPlan) -> CalPlan:
    """Two plans of independent rights (SQL CALs are in no suite and on no base) as one."""
    methods = " + ".join(sorted({m for m in (a.method, b.method) if m != "nothing to cover"}))
    holdings = sorted(
        a.holdings + b.holdings, key=lambda h: (h.resource.holder, h.resource.what, h.holder)
    )
    return CalPlan(
        tuple(holdings),
        a.cost + b.cost,
        a.lower_bound + b.lower_bound,
        methods or "nothing to cover",
    )


def _option_cost(d: Decision, label: str, pricing: Pricing) -> Decimal:
    option = next(o for o in d.options if o.label == label)
    return sum((need_cost(n, pricing) for n in option.needs), Decimal(0)) + sum(
        (_min_cost(x, pricing) for x in option.subdecisions), Decimal(0)
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
    server_owned = tuple(e for e in estate.entitlements if e.license in SERVER_LICENSES)
    hosts = {h.host: h for h in estate.hosts}
    owned_aware = bool(server_owned) and len(demand.decisions) <= OWNED_SEARCH_LIMIT

    def server_cost(plan: ServerPlan) -> Decimal:
        if not owned_aware:
            return _list_cost(plan, pricing)
        return _shortfall_cost(plan.needs, server_owned, catalog, pricing, as_of, hosts)

    leaves = _leaves(demand.decisions)
    other = {d.key: other_label(d) for d in leaves}
    candidates = frozenset(d.subject for d in leaves) | _server_cal_oses(
        choose(demand, pricing, {d.key: "server-cal" for d in leaves}, shadow=False)
    )
    everything = cal_demand(idx, catalog, candidates, as_of)
    sql_needs = [n for n in everything.needs if n.right == SQL_RIGHT]
    rest = replace(everything, needs=tuple(n for n in everything.needs if n.right != SQL_RIGHT))
    say(f"planning CALs for {len(rest.needs):,} needs")
    rest_plan = optimise_cals(rest, catalog, pricing, owned)
    sql_cache: dict[frozenset[str], CalPlan] = {}
    sql_by_ose: dict[str, list[CalNeed]] = defaultdict(list)
    for n in sql_needs:
        sql_by_ose[n.ose or ""].append(n)

    def sql_plan(
        server_cal: frozenset[str], with_owned: bool = True, give_up_at: Decimal | None = None
    ) -> CalPlan:
        """The SQL CALs of the OSEs licensed Server + CAL. With ``give_up_at``, a plan whose
        bound reaches it may come back unfinished (cost and bound both at least that much);
        such a plan is not kept for later callers."""
        key = server_cal | ({"<owned>"} if with_owned else set())
        if key in sql_cache:
            return sql_cache[key]
        needs = tuple(n for ose in sorted(server_cal) for n in sql_by_ose.get(ose, ()))
        plan = optimise_cals(
            CalDemand(needs), catalog, pricing, owned if with_owned else None, give_up_at
        )
        if give_up_at is None or plan.lower_bound < give_up_at or plan.status == "optimal":
            sql_cache[key] = plan
        return plan

    def sql_costs(sets: list[frozenset[str]]) -> list[Decimal]:
        """Each set's SQL CAL cost with nothing owned: one cut for sets that share no holder."""
        needs = [tuple(n for ose in sorted(s) for n in sql_by_ose.get(ose, ())) for s in sets]
        costs = costs_apart(needs, catalog, pricing) if len(sets) > 1 else None
        if costs is None:
            return [sql_plan(s, with_owned=False).cost for s in sets]
        return costs

    def total(
        force: dict[str, str], beat: Decimal | None = None
    ) -> tuple[Decimal, Decimal, ServerPlan]:
        """Cost and bound of the plan with the choices ``force``. With ``beat`` (a cost to
        compare with), a total that cannot be lower than it may be returned unfinished: then
        both the cost and the bound are at least ``beat``."""
        servers = choose(demand, pricing, force, shadow=False)
        cost = server_cost(servers)
        cal = sql_plan(_server_cal_oses(servers), give_up_at=None if beat is None else beat - cost)
        return cost + cal.cost, cost + cal.lower_bound, servers

    first = choose(demand, pricing)  # Server + CAL judged with an estimate of its CALs
    force = {d.key: _chosen_label(first, d.key) or other[d.key] for d in leaves}
    best, lower, servers = total(force)
    if 0 < len(leaves) <= EXHAUSTIVE_LIMIT:
        say(f"trying all {2 ** len(leaves)} Server + CAL combinations")
        for combo in itertools.product((True, False), repeat=len(leaves)):
            trial = {
                d.key: "server-cal" if c else other[d.key]
                for d, c in zip(leaves, combo, strict=True)
            }
            cost, bound, plan = total(trial, beat=best)  # lower ≤ best: a bound ≥ best is moot
            lower = min(lower, bound)
            if cost < best:
                best, servers, force = cost, plan, trial
    elif leaves:
        fixed = _server_cal_oses(choose(demand, pricing, other, shadow=False))
        force.update(
            _by_component(
                leaves,
                other,
                fixed,
                sql_needs,
                pricing,
                sql_costs,
                say,
            )
        )
        cost, _, plan = total(force)
        if cost < best:
            best, servers = cost, plan
        # Bound: every decision at its cheapest, and the SQL CALs of fixed Server + CAL OSEs.
        lower = sum((_min_cost(d, pricing) for d in demand.decisions), Decimal(0))
        lower += sql_plan(fixed).lower_bound
    if owned_aware:  # owned licenses can make another edition or model the cheaper one
        force, best, servers = _owned_search(demand, force, best, servers, total, say)
        relaxed_sql = _server_cal_oses(choose(demand, pricing, other, shadow=False))
        lower = _owned_bound(demand, server_owned, catalog, pricing, as_of, hosts)
        lower += sql_plan(relaxed_sql).lower_bound if leaves else Decimal(0)
    chosen = _server_cal_oses(servers)
    sql = sql_plan(chosen)
    cal_plan = _combine(rest_plan, sql)
    kept = tuple(n for ose in sorted(chosen) for n in sql_by_ose.get(ose, ()))
    final_demand = replace(everything, needs=rest.needs + kept)
    best += rest_plan.cost
    lower += rest_plan.lower_bound
    findings = (
        servers.findings
        + everything.findings
        + tuple(unmarked_findings(everything.unmarked, pricing, chosen))
    )
    return Plan(servers, cal_plan, final_demand, best, min(lower, best), findings)


def _owned_search(
    demand: Demand,
    force: dict[str, str],
    best: Decimal,
    servers: ServerPlan,
    total: Callable[..., tuple[Decimal, Decimal, ServerPlan]],
    say: Progress,
) -> tuple[dict[str, str], Decimal, ServerPlan]:
    """Try every other option of every decision, one at a time, keeping what lowers the total
    with owned licenses used first; repeat until nothing improves."""
    say(f"checking {len(demand.decisions)} server choices against owned licenses")
    improved = True
    while improved:
        improved = False
        for d in sorted(demand.decisions, key=lambda x: x.key):
            for option in d.options:
                current = _chosen_label(servers, d.key)
                if option.label == current or len(d.options) < 2:
                    continue
                trial = {**force, d.key: option.label}
                cost, _, plan = total(trial, beat=best)
                if cost < best:
                    force, best, servers, improved = trial, cost, plan, True
    return force, best, servers


def _owned_bound(
    demand: Demand,
    owned: tuple[Entitlement, ...],
    catalog: Catalog,
    pricing: Pricing,
    as_of: date,
    hosts: Mapping[str, Host] | None = None,
) -> Decimal:
    """A lower bound on the server cost with owned licenses. Buying for needs A and B from one
    pool of owned licenses costs at least buying for A from the whole pool plus buying for B from
    the whole pool; so the needs of decisions without a choice are matched together, and every
    open decision is taken at its cheapest option as if it alone could use every owned license."""

    def cheapest(d: Decision) -> Decimal:
        return min(
            _shortfall_cost(o.needs, owned, catalog, pricing, as_of, hosts)
            + sum((cheapest(x) for x in o.subdecisions), Decimal(0))
            for o in d.options
        )

    fixed = [d for d in demand.decisions if len(d.options) == 1 and not d.options[0].subdecisions]
    open_ = [d for d in demand.decisions if d not in fixed]
    fixed_needs = tuple(n for d in fixed for n in d.options[0].needs)
    return _shortfall_cost(fixed_needs, owned, catalog, pricing, as_of, hosts) + sum(
        (cheapest(d) for d in open_), Decimal(0)
    )


def _by_component(
    leaves: list[Decision],
    other: dict[str, str],
    fixed: frozenset[str],
    sql_needs: list[CalNeed],
    pricing: Pricing,
    sql_costs: Callable[[list[frozenset[str]]], list[Decimal]],
    say: Progress,
) -> dict[str, str]:
    """Open Server + CAL choices, decided per connected component of SQL access (OSEs linked
    by the users and devices that reach them): a choice changes the SQL CALs of its component
    only. Every combination where a component has few choices, one at a time otherwise."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for n in sql_needs:
        root = find(("ose", n.ose or ""))
        for who in (("user", n.user), ("device", n.device)):
            if who[1] is not None:
                parent[find((who[0], who[1]))] = root
    groups: dict[tuple[str, str], list[Decision]] = defaultdict(list)
    for d in leaves:
        groups[find(("ose", d.subject))].append(d)
    fixed_by: dict[tuple[str, str], set[str]] = defaultdict(set)
    for ose in fixed:
        fixed_by[find(("ose", ose))].add(ose)
    say(f"deciding {len(leaves)} Server + CAL choices in {len(groups)} groups")

    def oses_of(root: tuple[str, str], chosen: tuple[bool, ...]) -> frozenset[str]:
        members = groups[root]
        return frozenset(fixed_by[root]) | {
            d.subject for d, c in zip(members, chosen, strict=True) if c
        }

    def server(root: tuple[str, str], chosen: tuple[bool, ...]) -> Decimal:
        return sum(
            (
                _option_cost(d, "server-cal" if c else other[d.key], pricing)
                for d, c in zip(groups[root], chosen, strict=True)
            ),
            Decimal(0),
        )

    # Every combination of the groups with few choices: the j-th combination of every group
    # priced in one batch (the groups share no user or device).
    combos = {
        root: list(itertools.product((True, False), repeat=len(members)))
        for root, members in groups.items()
        if len(members) <= COMPONENT_EXHAUSTIVE
    }
    sql_of: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for j in range(max(map(len, combos.values()), default=0)):
        batch = [root for root, c in combos.items() if j < len(c)]
        priced = sql_costs([oses_of(root, combos[root][j]) for root in batch])
        for root, sql in zip(batch, priced, strict=True):
            sql_of[root].append(sql)

    out: dict[str, str] = {}
    for root, members in groups.items():
        if root in combos:
            costs = [server(root, ch) + sql_of[root][j] for j, ch in enumerate(combos[root])]
            best = combos[root][costs.index(min(costs))]  # the first of the cheapest
        else:

            def cost(chosen: tuple[bool, ...], root: tuple[str, str] = root) -> Decimal:
                return server(root, chosen) + sql_costs([oses_of(root, chosen)])[0]

            current = tuple(True for _ in members)
            improved = True
            while improved:
                improved = False
                for i in range(len(members)):
                    trial = current[:i] + (not current[i],) + current[i + 1 :]
                    if cost(trial) < cost(current):
                        current, improved = trial, True
            best = current
        for d, c in zip(members, best, strict=True):
            out[d.key] = "server-cal" if c else other[d.key]
    return out


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
