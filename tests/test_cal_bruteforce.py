"""The CAL optimizer against two independent oracles on hundreds of random small demands:
an exhaustive search over every set of licenses, and a MILP of the licensing rules written
directly (not of the optimizer's graph). Costs must be equal to the cent.

The rules both oracles state (licensing-rules.md §1, §2, §6): a need (right, user, device) is
covered when the user holds the right, or the device does, or — for an external user of a
product with an External Connector — the connector on the host is bought (the RDS connector
needs the Windows Server connector). A principal holds a right when it bought that CAL, or a
suite containing it (the Enterprise suite contains the Core suite). Whoever holds an additive
right (RDS, AD RMS, an Enterprise CAL) must hold its base right. Owned units are free.

``make test`` runs the first fifth or so of each test's random cases (195 of 820: every rule
above turns up in them); the long tier (``make test-long``, in CI) runs all of them.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from entitle.catalog import default_catalog
from entitle.estate.records import Price
from entitle.optimize.cals import Resource, optimise_cals
from entitle.optimize.pricing import Pricing
from entitle.rules.cals import CalDemand, CalNeed
from tiers import seeds

CAT = default_catalog()
RIGHTS = [
    "windows-server:cal",
    "rds:cal",
    "exchange-server:cal",
    "exchange-server:cal-enterprise",
    "configuration-manager:ml",
    "ad-rms:cal",
]
SUITE_RIGHTS = {
    s: {str(c) for c in CAT.suite_components(s)} for s in ("core-cal-suite", "enterprise-cal-suite")
}
BASE = {
    "rds:cal": "windows-server:cal",
    "ad-rms:cal": "windows-server:cal",
    "exchange-server:cal-enterprise": "exchange-server:cal",
}


def random_case(rng: random.Random, n_principals: int = 3):  # type: ignore[no-untyped-def]
    n_users = rng.randint(1, n_principals - 1)
    users = [f"u{i}" for i in range(n_users)]
    devices = [f"d{i}" for i in range(n_principals - n_users)]
    external = {u for u in users if rng.random() < 0.3}
    rights = rng.sample(RIGHTS, 2)
    needs = []
    for _ in range(rng.randint(1, 5)):
        right = rng.choice(rights)
        user = rng.choice(users + [None])
        device = rng.choice(devices + [None]) if user not in external else None
        if user is None and device is None:
            device = devices[0] if devices else None
            user = users[0] if device is None else None
        needs.append(
            CalNeed(right, user, device, "2022", "o1", "h1", user in external, with_base=True)
        )
    prices = []
    for r in rights + [BASE[r] for r in rights if r in BASE]:
        product, _, kind = r.partition(":")
        level = "enterprise" if kind == "cal-enterprise" else None
        lic = ("client-ml-user", "client-ml-ose") if kind == "ml" else ("user-cal", "device-cal")
        prices.append(Price(product, lic[0], Decimal(rng.randint(1, 9)), level))
        prices.append(Price(product, lic[1], Decimal(rng.randint(1, 9)), level))
    for suite in ("core-cal-suite", "enterprise-cal-suite"):
        for lic in ("user-cal", "device-cal"):
            prices.append(Price(suite, lic, Decimal(rng.randint(5, 20))))
    for product in ("windows-server", "rds", "ad-rms"):
        prices.append(Price(product, "external-connector", Decimal(rng.randint(5, 30))))
    owned: dict[tuple[Resource, str | None], int] = {}
    if rng.random() < 0.5:
        r = rng.choice(rights)
        owned[(Resource(rng.choice(["user", "device"]), r), "2025")] = rng.randint(1, 2)
    if rng.random() < 0.2:
        owned[(Resource("user", "core-cal-suite"), None)] = 1
    return needs, prices, owned


def _options(needs):  # type: ignore[no-untyped-def]
    """Every license that could matter: (holder kind, holder, what)."""
    wanted = set()
    for n in needs:
        rights = [n.right] + ([BASE[n.right]] if n.right in BASE else [])
        for side, who in (("user", n.user), ("device", n.device)):
            if who is None:
                continue
            for r in rights:
                wanted.add((side, who, r))
            for suite, comps in SUITE_RIGHTS.items():
                if comps & set(rights):
                    wanted.add((side, who, suite))
        if n.external and n.product in ("windows-server", "rds", "ad-rms"):
            wanted.add(("ec", n.host, n.product))
            wanted.add(("ec", n.host, "windows-server"))
    return sorted(wanted)


def _pricing(prices):  # type: ignore[no-untyped-def]
    return Pricing(CAT, tuple(prices))


def _unit(pricing, side, what):  # type: ignore[no-untyped-def]
    license = Resource(side, what).license()
    return pricing.amount(*license)


def _holds(bought, side, who, right, held=frozenset()):  # type: ignore[no-untyped-def]
    if side == "user" and (who, right) in held:  # through a subscription (§6.3)
        return True
    if (side, who, right) in bought:
        return True
    return any((side, who, s) in bought and right in comps for s, comps in SUITE_RIGHTS.items())


def _valid(bought, needs, held=frozenset()) -> bool:  # type: ignore[no-untyped-def]
    for side, who, what in bought:
        if side == "ec":
            if what in ("rds", "ad-rms") and ("ec", who, "windows-server") not in bought:
                return False
        elif what in BASE and not _holds(bought, side, who, BASE[what], held):
            return False
    for side, who in {(s, w) for s, w, _ in bought if s != "ec"}:  # suites' additive rights
        for right in BASE:
            if _holds(bought, side, who, right) and not _holds(
                bought, side, who, BASE[right], held
            ):
                return False
    for n in needs:
        ok = (n.user is not None and _holds(bought, "user", n.user, n.right, held)) or (
            n.device is not None and _holds(bought, "device", n.device, n.right)
        )
        if not ok and n.external and n.product in ("windows-server", "rds", "ad-rms"):
            ok = ("ec", n.host, n.product) in bought
        if not ok:
            return False
    return True


def brute_force(needs, prices, owned, held=frozenset()) -> Decimal:  # type: ignore[no-untyped-def]
    """The cheapest valid set of licenses, over every subset of ``_options``. Each subset is
    priced first (each resource's units bought beyond those owned, at the catalog's price, in
    whole numbers of the prices' smallest decimal place) and checked against the rules only when
    it would be cheaper than the best so far: the minimum of checking every subset, found in
    less time."""
    pricing = _pricing(prices)
    options = _options(needs)
    resources = sorted({Resource(side, what) for side, _, what in options}, key=str)
    which = [resources.index(Resource(side, what)) for side, _, what in options]
    units = [_unit(pricing, r.holder, r.what) for r in resources]
    scale = 10 ** max([0, *(-int(u.as_tuple().exponent) for u in units)])  # whole numbers
    whole = [int(u * scale) for u in units]
    assert all(c == u * scale for c, u in zip(whole, units, strict=True))
    free = {r: q for (r, _), q in owned.items()}
    owned_units = [free.get(r, 0) for r in resources]
    best: int | None = None
    for mask in itertools.product((False, True), repeat=len(options)):
        counts = [0] * len(resources)
        for i, m in zip(which, mask, strict=True):
            counts[i] += m
        cost = sum(c * max(0, n - o) for c, n, o in zip(whole, counts, owned_units, strict=True))
        if best is not None and cost >= best:
            continue
        if _valid({o for o, m in zip(options, mask, strict=True) if m}, needs, held):
            best = cost
    assert best is not None
    return Decimal(best) / scale


def rules_milp(needs, prices, owned) -> Decimal:  # type: ignore[no-untyped-def]
    """The same rules as a MILP over the licenses bought (binary) and units owned in use."""
    pricing = _pricing(prices)
    options = _options(needs)
    idx = {o: i for i, o in enumerate(options)}
    free = {r: q for (r, _), q in owned.items()}
    resources = sorted({Resource(s, w) for s, _, w in options}, key=str)
    n_x, n_z = len(options), len(resources)
    cost = np.zeros(n_x + n_z)
    for i, (s, _, w) in enumerate(options):
        if Resource(s, w) not in free:
            cost[i] = float(_unit(pricing, s, w))
    for j, r in enumerate(resources):
        cost[n_x + j] = float(_unit(pricing, r.holder, r.what)) if r in free else 0.0
    rows = []

    def holds_terms(side, who, right):  # type: ignore[no-untyped-def]
        terms = [idx[(side, who, right)]] if (side, who, right) in idx else []
        terms += [
            idx[(side, who, s)]
            for s, comps in SUITE_RIGHTS.items()
            if right in comps and (side, who, s) in idx
        ]
        return terms

    for n in needs:  # coverage: Σ holds ≥ 1
        terms = []
        if n.user is not None:
            terms += holds_terms("user", n.user, n.right)
        if n.device is not None:
            terms += holds_terms("device", n.device, n.right)
        if n.external and ("ec", n.host, n.product) in idx:
            terms.append(idx[("ec", n.host, n.product)])
        row = np.zeros(n_x + n_z)
        row[terms] = 1
        rows.append((row, 1, np.inf))
    for side, who, what in options:  # additive: every way of holding it ≤ ways of the base
        if side == "ec" and what in ("rds", "ad-rms"):
            row = np.zeros(n_x + n_z)
            row[idx[(side, who, what)]] = 1
            row[idx[("ec", who, "windows-server")]] -= 1
            rows.append((row, -np.inf, 0))
        if side != "ec" and what in BASE:
            base_terms = holds_terms(side, who, BASE[what])
            for t in holds_terms(side, who, what):
                row = np.zeros(n_x + n_z)
                row[t] += 1
                row[base_terms] -= 1
                rows.append((row, -np.inf, 0))
    for j, r in enumerate(resources):  # z_r ≥ Σ x(r) − owned_r
        if r in free:
            row = np.zeros(n_x + n_z)
            row[[idx[o] for o in options if Resource(o[0], o[2]) == r]] = -1
            row[n_x + j] = 1
            rows.append((row, -free[r], np.inf))
    a = np.array([r[0] for r in rows])
    res = milp(
        cost,
        constraints=LinearConstraint(a, [r[1] for r in rows], [r[2] for r in rows]),
        bounds=Bounds(np.zeros(n_x + n_z), np.concatenate([np.ones(n_x), np.full(n_z, np.inf)])),
        integrality=np.concatenate([np.ones(n_x), np.zeros(n_z)]),
    )
    assert res.status == 0
    return Decimal(str(round(res.fun, 2))).quantize(Decimal("0.01"))


@pytest.mark.parametrize("seed", seeds(60, 300))
def test_optimizer_equals_exhaustive_search(seed: int) -> None:
    rng = random.Random(seed)
    needs, prices, owned = random_case(rng)
    plan = optimise_cals(CalDemand(tuple(needs)), CAT, _pricing(prices), owned)
    assert plan.cost == brute_force(needs, prices, owned)
    assert plan.lower_bound <= plan.cost


@pytest.mark.parametrize("seed", seeds(30, 150))
def test_optimizer_equals_rules_milp_on_larger_cases(seed: int) -> None:
    rng = random.Random(10_000 + seed)
    needs, prices, owned = random_case(rng, n_principals=rng.randint(4, 8))
    needs += random_case(rng, n_principals=4)[0]
    plan = optimise_cals(CalDemand(tuple(needs)), CAT, _pricing(prices), owned)
    assert plan.cost == rules_milp(needs, prices, owned)


HELD_RIGHTS = ("windows-server:cal", "exchange-server:cal")  # e.g. EMS + Office 365 E1


@pytest.mark.parametrize("seed", seeds(30, 150))
def test_subscription_holders_equal_exhaustive_search(seed: int) -> None:
    # CAL equivalency (§6.3): some users hold the Windows Server and Exchange base rights
    # through a subscription. The oracle sees the raw needs and those holdings; the optimizer
    # gets the demand as rules.cals makes it: the held needs dropped, and additive rights on a
    # held base marked (the user's side needs no base; a device's side still does).
    rng = random.Random(60_000 + seed)
    needs, prices, owned = random_case(rng, n_principals=4)
    users = sorted({n.user for n in needs if n.user and not n.external})
    subscribed = {u for u in users if rng.random() < 0.6}
    held = frozenset((u, r) for u in subscribed for r in HELD_RIGHTS)
    demand = tuple(
        replace(n, user_has_base=n.with_base and (n.user, BASE.get(n.right)) in held)
        for n in needs
        if (n.user, n.right) not in held
    )
    plan = optimise_cals(CalDemand(demand), CAT, _pricing(prices), owned)
    assert plan.cost == brute_force(needs, prices, owned, held)


def _plan(needs, prices, owned):  # type: ignore[no-untyped-def]
    return optimise_cals(CalDemand(tuple(needs)), CAT, _pricing(prices), owned)


@pytest.mark.parametrize("seed", seeds(20, 60))
def test_adding_a_need_never_lowers_the_cost(seed: int) -> None:
    rng = random.Random(20_000 + seed)
    needs, prices, owned = random_case(rng, n_principals=5)
    extra = random_case(rng, n_principals=5)[0][:1]
    assert _plan(needs + extra, prices, owned).cost >= _plan(needs, prices, owned).cost


@pytest.mark.parametrize("seed", seeds(20, 60))
def test_dearer_device_cals_never_mean_more_device_cals(seed: int) -> None:
    rng = random.Random(30_000 + seed)
    needs, prices, _ = random_case(rng, n_principals=6)
    dearer = [
        Price(p.product, p.license, p.price + 3, p.edition)
        if p.license in ("device-cal", "client-ml-ose")
        else p
        for p in prices
    ]

    def device_licenses(ps):  # type: ignore[no-untyped-def]
        return sum(1 for h in _plan(needs, ps, {}).holdings if h.resource.holder == "device")

    assert device_licenses(dearer) <= device_licenses(prices)


@pytest.mark.parametrize("seed", seeds(20, 60))
def test_owning_more_never_raises_the_cost(seed: int) -> None:
    rng = random.Random(40_000 + seed)
    needs, prices, owned = random_case(rng, n_principals=5)
    more = dict(owned)
    key = (Resource(rng.choice(["user", "device"]), needs[0].right), "2025")
    more[key] = more.get(key, 0) + 1
    assert _plan(needs, prices, more).cost <= _plan(needs, prices, owned).cost


@pytest.mark.parametrize("seed", seeds(15, 40))
def test_the_plan_does_not_depend_on_the_order_of_the_evidence(seed: int) -> None:
    # The spec: the same input gives the same report; the canonical cut is the same for every
    # maximum flow, so shuffling the needs must give the same holders, not only the same cost.
    rng = random.Random(50_000 + seed)
    needs, prices, _ = random_case(rng, n_principals=6)
    needs += random_case(rng, n_principals=6)[0]
    shuffled = list(needs)
    rng.shuffle(shuffled)
    a, b = _plan(needs, prices, {}), _plan(shuffled, prices, {})
    key = [(h.resource, h.holder) for h in a.holdings]
    assert (a.cost, key) == (b.cost, [(h.resource, h.holder) for h in b.holdings])
