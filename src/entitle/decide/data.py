"""Data mode of the decision tool: from real evidence, the exact optimum beside all User, all
Device and the questionnaire's answer, each with its cost; and growth through what-if changes.

The CAL demand is the one the position plans (:func:`entitle.optimize.plan.make_plan`, SQL Server
Server + CAL choices included). Each strategy is that demand with one side taken away — all User:
every need that names a user must be met by that user's CAL; all Device: by the device's CAL where
the access names one — and is priced by the same exact optimizer
(:func:`entitle.optimize.cals.optimise_cals`), so suites, additive CALs and connectors are still
chosen at their cheapest. External users keep their choice of CAL or External Connector in every
strategy. Costs are of licensing every need ("list") and of what must be bought given what is owned.

The questionnaire's answers are read from the evidence: a device used by one person is dedicated,
by several shared; devices can be counted when devices.csv lists every device the evidence names.

Growth applies what-if changes to the estate (:mod:`entitle.whatif`): new users like existing
ones (round robin, with their own copies of dedicated devices), extra devices like each dedicated
user's first device, extra shared devices like existing ones; server choices stay as today.

May import source, catalog, estate, rules, optimize, position and whatif.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from entitle.catalog.model import Catalog
from entitle.decide.growth import GrowthRates, Projection
from entitle.decide.questionnaire import Answers, Prices, Recommendation, recommend, whole
from entitle.estate.files import MAX_ROWS
from entitle.estate.records import Estate, Price
from entitle.optimize.calmemo import CalPlans
from entitle.optimize.cals import CalPlan, Resource
from entitle.optimize.plan import make_plan, owned_resources
from entitle.optimize.pricing import Pricing
from entitle.rules.calneeds import FIELDS, CalNeeds
from entitle.rules.cals import CalDemand, cal_demand
from entitle.rules.index import EstateIndex
from entitle.source import Problem, Source
from entitle.whatif.apply import apply_changes, estate_rows
from entitle.whatif.changes import Change

OPTIMUM = "exact optimum"
STRATEGIES = ("all User", "all Device", "questionnaire's answer")


@dataclass(frozen=True, slots=True)
class Evidence:
    """Who uses which device, read from the CAL demand (internal users only)."""

    users: tuple[str, ...]
    dedicated: dict[str, tuple[str, ...]]  # user → devices only they use
    shared_users: tuple[str, ...]
    shared_devices: tuple[str, ...]
    rest: tuple[str, ...]
    countable: bool

    def answers(self, growth_expected: bool) -> Answers:
        n = len(self.users) or 1
        ded_devices = sum(len(v) for v in self.dedicated.values())
        dpu = (
            (Decimal(ded_devices) / len(self.dedicated)).quantize(Decimal("0.01"))
            if self.dedicated
            else Decimal(1)
        )
        return Answers(
            users=len(self.users),
            dedicated_share=Decimal(len(self.dedicated)) / n,
            devices_per_user=dpu,
            shared_share=Decimal(len(self.shared_users)) / n,
            shared_devices=len(self.shared_devices),
            can_count_devices=self.countable,
            device_growth=growth_expected,
        )


@dataclass(frozen=True, slots=True)
class Strategy:
    name: str
    user_cals: int
    device_cals: int
    list_cost: Decimal
    to_buy: Decimal


@dataclass(frozen=True, slots=True)
class DataDecision:
    evidence: Evidence
    answers: Answers
    recommendation: Recommendation
    strategies: tuple[Strategy, ...]  # the optimum first
    growth: Projection | None
    warnings: tuple[str, ...] = ()  # why the answer may say little (no evidence)

    def saving(self, name: str) -> Decimal:
        """What the optimum saves against ``name`` (list cost)."""
        by = {s.name: s for s in self.strategies}
        return by[name].list_cost - by[OPTIMUM].list_cost


def read_evidence(estate: Estate, demand: CalDemand) -> Evidence:
    externals = {u.user for u in estate.users if u.external}
    devices_of: dict[str, set[str]] = defaultdict(set)
    users_of: dict[str, set[str]] = defaultdict(set)
    users: set[str] = set()
    for n in demand.needs:
        if n.user is None or n.user in externals:
            continue
        users.add(n.user)
        if n.device is not None:
            devices_of[n.user].add(n.device)
            users_of[n.device].add(n.user)
    shared = {d for d, us in users_of.items() if len(us) > 1}
    dedicated = {u: tuple(sorted(ds - shared)) for u, ds in devices_of.items() if ds - shared}
    shared_users = sorted(u for u, ds in devices_of.items() if u not in dedicated and ds)
    rest = sorted(users - set(devices_of))
    listed = {d.device for d in estate.devices}
    return Evidence(
        tuple(sorted(users)),
        dict(sorted(dedicated.items())),
        tuple(shared_users),
        tuple(sorted(shared)),
        tuple(rest),
        bool(users_of) and set(users_of) <= listed,
    )


def restrict(demand: CalDemand, side: dict[str, str], externals: set[str]) -> CalDemand:
    """The demand with each internal user's needs met on one side: ``side[user]`` is "user"
    (the device is dropped) or "device" (the user is dropped where a device is named)."""
    needs = CalNeeds.of(demand.needs)  # column by column: no record per need
    users, devices = list(needs.user), list(needs.device)
    for i, (user, device) in enumerate(zip(needs.user, needs.device, strict=True)):
        choice = side.get(user or "") if user not in externals else None
        if choice == "user" and device is not None:
            devices[i] = None
        elif choice == "device" and device is not None and user is not None:
            users[i] = None
    columns = dict(zip(FIELDS, needs.columns(), strict=True)) | {"user": users, "device": devices}
    return CalDemand(CalNeeds([columns[f] for f in FIELDS]), demand.exempt)


def _count(plan: CalPlan) -> tuple[int, int]:
    users = sum(1 for h in plan.holdings if h.resource.holder == "user")
    devices = sum(1 for h in plan.holdings if h.resource.holder == "device")
    return users, devices


def _policies(ev: Evidence, rec: Recommendation) -> dict[str, dict[str, str]]:
    every = ev.users
    answer = {u: rec.choice("dedicated") for u in ev.dedicated}
    answer.update({u: rec.choice("shared") for u in ev.shared_users})
    answer.update({u: "user" for u in ev.rest})
    return {
        "all User": {u: "user" for u in every},
        "all Device": {u: "device" for u in every},
        "questionnaire's answer": answer,
    }


Owned = dict[tuple[Resource, str | None], int]


def _price(
    demand: CalDemand, catalog: Catalog, pricing: Pricing, owned: Owned, name: str, memo: CalPlans
) -> Strategy:
    listed = memo.plan(demand, catalog, pricing, None)
    bought = memo.plan(demand, catalog, pricing, owned) if owned else listed
    users, devices = _count(listed)
    return Strategy(name, users, devices, listed.cost, bought.cost)


def decide_from_estate(
    estate: Estate,
    catalog: Catalog,
    as_of: date,
    prices: Prices,
    *,
    growth_expected: bool = False,
    rates: GrowthRates | None = None,
    memo: CalPlans | None = None,
) -> DataDecision:
    """``memo``: where the CAL plans are kept (a new one when not given): a strategy's problem
    met again — today's in year 0 of the projection, a year that grows nothing — is solved once
    (:mod:`entitle.optimize.calmemo`)."""
    memo = memo if memo is not None else CalPlans(catalog)
    # server choices as the position makes them (the estate's prices); the CALs of the one
    # product asked about, priced at the prices given (they win over prices.csv and the catalog):
    # the position's own CAL plan is not needed (cals=False), only its demand
    plan = make_plan(estate, catalog, Pricing(catalog, estate.prices), as_of, cals=False)
    pricing = priced(catalog, estate, prices)
    demand = only(plan.demand, prices.product)
    owned = owned_resources(estate.entitlements, catalog, as_of)
    externals = {u.user for u in estate.users if u.external}
    ev = read_evidence(estate, demand)
    answers = ev.answers(growth_expected)
    rec = recommend(answers, prices)
    strategies = [_price(demand, catalog, pricing, owned, OPTIMUM, memo)]
    policies = _policies(ev, rec)
    for name in STRATEGIES:
        restricted = restrict(demand, policies[name], externals)
        strategies.append(_price(restricted, catalog, pricing, owned, name, memo))
    growth = None
    if rates is not None:
        sql_oses = frozenset(
            n.ose for n in plan.demand.needs if n.right == catalog.database_right() and n.ose
        )
        growth = project_estate(
            estate, catalog, pricing, ev, rec, rates, sql_oses, prices.product, memo
        )
    warnings: tuple[str, ...] = ()
    if not estate.access:
        warnings = (NO_ACCESS,)
    elif not demand.needs:
        warnings = (NO_NEED.format(product=prices.product),)
    return DataDecision(ev, answers, rec, tuple(strategies), growth, warnings)


NO_ACCESS = (
    "no access rows (access.csv is absent or empty): with no evidence of who reaches the "
    "servers on which devices, every count is 0; add access.csv (a UAL import makes it), or "
    "decide from answers without an estate"
)
NO_NEED = (
    "no access row needs a {product} CAL (none reaches it, or every one is exempt): every count "
    "is 0; check the product asked about, or add the access to it to access.csv"
)


def priced(catalog: Catalog, estate: Estate, prices: Prices) -> Pricing:
    """The estate's pricing with the user and device CAL of ``prices.product`` at the prices
    asked about (the first price of a key wins in :class:`Pricing`)."""
    given = (
        Price(prices.product, "user-cal", prices.user, source=Source("asked")),
        Price(prices.product, "device-cal", prices.device, source=Source("asked")),
    )
    return Pricing(catalog, given + estate.prices)


def only(demand: CalDemand, product: str) -> CalDemand:
    """The CAL needs of one product (its CALs, whoever may hold them: suites still count)."""
    needs = CalNeeds.of(demand.needs)
    mine = (i for i, right in enumerate(needs.right) if right.split(":", 1)[0] == product)
    return replace(demand, needs=needs.take(mine))


def growth_changes(ev: Evidence, rates: GrowthRates, year: int) -> tuple[Change, ...]:
    """What-if changes that grow the estate to ``year``."""
    where = Source("growth", year)
    out: list[Change] = []
    new_users = whole(len(ev.users) * ((1 + rates.headcount) ** year - 1))
    if new_users > 0 and ev.users:
        for i, like in enumerate(ev.users):
            count = new_users // len(ev.users) + (1 if i < new_users % len(ev.users) else 0)
            if count:
                fields = {"count": str(count), "like": like, "prefix": f"y{year}-{like}-"}
                out.append(Change("add", "users", fields, where))
    firsts = [ds[0] for ds in ev.dedicated.values()]
    extra = whole(len(firsts) * rates.devices_per_user * year)
    for i in range(min(extra, len(firsts) * 10)):
        device = firsts[i % len(firsts)]
        fields = {"count": "1", "like": device, "prefix": f"y{year}-{device}-{i}-"}
        out.append(Change("add", "devices", fields, where))
    shared = list(ev.shared_devices)
    more = whole(len(shared) * ((1 + rates.shared_devices) ** year - 1))
    if max(new_users, 0) + min(extra, len(firsts) * 10) + max(more, 0) > MAX_ROWS:
        message = (
            f"year {year} of this growth adds more than {MAX_ROWS:,} users and devices, the "
            "limit of an estate table"
        )
        raise GrowthFailed([Problem(where, message, "give smaller growth rates or fewer --years")])
    for i in range(max(more, 0)):
        device = shared[i % len(shared)]
        fields = {"count": "1", "like": device, "prefix": f"y{year}-{device}-{i}-"}
        out.append(Change("add", "devices", fields, where))
    return tuple(out)


class GrowthFailed(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def project_estate(
    estate: Estate,
    catalog: Catalog,
    pricing: Pricing,
    ev: Evidence,
    rec: Recommendation,
    rates: GrowthRates,
    sql_oses: frozenset[str],
    product: str,
    memo: CalPlans | None = None,
) -> Projection:
    """Each year's estate is today's with that year's growth changes; the estate's rows are made
    once, a year whose changes are another's (no growth: every year's) is that year's demand
    and evidence, and the CAL plans go through ``memo``."""
    memo = memo if memo is not None else CalPlans(catalog)
    externals = {u.user for u in estate.users if u.external}
    costs: list[list[Decimal]] = [[] for _ in STRATEGIES]
    floor = []
    rows = estate_rows(estate)
    seen: list[tuple[tuple[Change, ...], CalDemand, Evidence]] = []
    for year in range(rates.years + 1):
        changes = growth_changes(ev, rates, year)
        same = [(d, e) for c, d, e in seen if c == changes]
        if same:
            demand, year_ev = same[0]
        else:
            grown, problems = apply_changes(estate, changes, catalog, rows)
            if grown is None:
                raise GrowthFailed(problems)
            demand = only(cal_demand(EstateIndex.build(grown), catalog, sql_oses), product)
            year_ev = read_evidence(grown, demand)
            seen.append((changes, demand, year_ev))
        floor.append(memo.plan(demand, catalog, pricing, None).cost)
        policies = _policies(year_ev, rec)
        for i, name in enumerate(STRATEGIES):
            restricted = restrict(demand, policies[name], externals)
            costs[i].append(memo.plan(restricted, catalog, pricing, None).cost)
    return Projection(
        STRATEGIES,
        tuple(tuple(c) for c in costs),
        OPTIMUM,
        tuple(floor),
        (
            f"growth: {rates.describe()}; applied as what-if changes to the estate",
            "list cost of licensing every need (owned licenses not counted); server choices as today",
        ),
    )
