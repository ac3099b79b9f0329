"""The proof of optimality: the sample estate proven optimal, the plan search against an
exhaustive search on random small cases, exact tie-breaks, and MILPs solved to a zero gap."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from builders import AS_OF
from entitle.catalog import default_catalog
from entitle.estate.loader import load_estate
from entitle.estate.records import Entitlement, Price
from entitle.optimize import calmilp, choicemilp
from entitle.optimize.cals import optimise_cals
from entitle.optimize.choices import ServerCosts
from entitle.optimize.pricing import Pricing
from entitle.optimize.search import PlanSearch
from entitle.optimize.sqlcals import SqlCals
from entitle.position import compute_position
from entitle.rules.cals import CalDemand, CalNeed
from entitle.rules.demand import Decision, Demand, Need, Option
from tiers import seeds

CAT = default_catalog()
SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample-estate"


def test_the_sample_estate_is_proven_optimal() -> None:
    estate, problems = load_estate(SAMPLE, CAT)
    assert not problems
    p = compute_position(estate, CAT, AS_OF)
    assert p.optimality == "optimal"
    assert p.lower_bound == sum((line.cost for line in p.lines), Decimal(0))


# -- the plan search against an exhaustive search ------------------------------------------

# Prices (prices.csv would give them): SQL Server Standard per core 2-core pack price per core,
# the Server license, Enterprise per core, and the SQL CALs.
CORE, SERVER, ENT_CORE = Decimal("900"), Decimal("900"), Decimal("3500")


def _prices(user_cal: Decimal, device_cal: Decimal) -> Pricing:
    return Pricing(
        CAT,
        (
            Price("sql-server", "core", CORE, "standard"),
            Price("sql-server", "server", SERVER, "standard"),
            Price("sql-server", "core", ENT_CORE, "enterprise"),
            Price("sql-server", "user-cal", user_cal),
            Price("sql-server", "device-cal", device_cal),
        ),
    )


def _leaf(ose: str, cores: int) -> Decision:
    per_core = Need("sql-server", "core", cores, "standard", "2022", ose, ose, "per-core")
    server = Need("sql-server", "server", 1, "standard", "2022", ose, ose, "server-cal")
    return Decision(
        f"sql-server@{ose}",
        "sql-server",
        ose,
        (Option("per-core", (per_core,)), Option("server-cal", (server,))),
    )


def random_plan_case(rng: random.Random) -> tuple[Demand, list[CalNeed], Pricing, int]:
    """Two to four SQL Server OSEs, each per core or Server + CAL; sometimes two of them VMs
    of one host that may instead be licensed Enterprise on its 8 physical cores; users and
    devices reaching them; sometimes owned Standard core licenses shared by every OSE."""
    n = rng.randint(2, 4)
    oses = [f"o{i}" for i in range(n)]
    leaves = [_leaf(o, rng.choice((4, 8, 16))) for o in oses]
    decisions: list[Decision] = leaves
    if n >= 3 and rng.random() < 0.4:
        host = Need("sql-server", "core", 8, "enterprise", "2022", "h", None, "per-core")
        parent = Decision(
            "sql-server@h",
            "sql-server",
            "h",
            (Option("each-vm", subdecisions=tuple(leaves[:2])), Option("enterprise-host", (host,))),
        )
        decisions = [parent, *leaves[2:]]
    people = [f"u{i}" for i in range(rng.randint(1, 5))]
    devices = [f"d{i}" for i in range(rng.randint(0, 3))]
    needs = []
    for _ in range(rng.randint(1, 10)):
        user = rng.choice([*people, None]) if devices else rng.choice(people)
        device = rng.choice(devices) if devices and (user is None or rng.random() < 0.5) else None
        needs.append(CalNeed("sql-server:cal", user, device, "2022", rng.choice(oses)))
    user_cal = Decimal(rng.choice((150, 230, 300)))
    device_cal = Decimal(rng.choice((150, 200, 300)))
    owned = rng.choice((0, 0, 8, 16))
    return Demand(tuple(decisions)), needs, _prices(user_cal, device_cal), owned


def _options(d: Decision) -> list[list[Need]]:
    """Every way to license ``d``: the needs of each option and its subdecisions' choices."""
    out = []
    for o in d.options:
        for subs in itertools.product(*map(_options, o.subdecisions)):
            out.append(list(o.needs) + [n for s in subs for n in s])
    return out


def exhaustive(demand: Demand, cal_needs: list[CalNeed], pricing: Pricing, owned: int) -> Decimal:
    """The cheapest plan over every combination of every option and every set of SQL CALs.
    Owned Standard core licenses cover Standard core needs anywhere (a Standard license does
    not cover an Enterprise need, licensing-rules.md §3.5); SQL CALs: a need is covered when
    its user or its device holds a SQL CAL (§1.2)."""
    best = None
    for combo in itertools.product(*map(_options, demand.decisions)):
        needs = [n for opt in combo for n in opt]
        std = sum(n.quantity for n in needs if n.license == "core" and n.edition == "standard")
        cost = CORE * max(0, std - owned)
        cost += sum(
            (
                pricing.amount(n.product, n.license, n.edition) * n.quantity
                for n in needs
                if not (n.license == "core" and n.edition == "standard")
            ),
            Decimal(0),
        )
        server_cal = {n.ose for n in needs if n.model == "server-cal"}
        cost += _cals(
            [c for c in cal_needs if c.ose in server_cal],
            pricing.amount("sql-server", "user-cal"),
            pricing.amount("sql-server", "device-cal"),
        )
        best = cost if best is None else min(best, cost)
    assert best is not None
    return best


def _cals(needs: list[CalNeed], user_cal: Decimal, device_cal: Decimal) -> Decimal:
    users = sorted({n.user for n in needs if n.user})
    devices = sorted({n.device for n in needs if n.device})
    best = None
    for held_u in itertools.product((False, True), repeat=len(users)):
        hu = {u for u, h in zip(users, held_u, strict=True) if h}
        for held_d in itertools.product((False, True), repeat=len(devices)):
            hd = {d for d, h in zip(devices, held_d, strict=True) if h}
            if all(n.user in hu or n.device in hd for n in needs):
                cost = user_cal * len(hu) + device_cal * len(hd)
                best = cost if best is None else min(best, cost)
    assert best is not None
    return best


def _search(demand: Demand, needs: list[CalNeed], pricing: Pricing, owned: int) -> PlanSearch:
    pool = (Entitlement("sql-server", "core", owned, edition="standard", version="2022"),)
    costs = ServerCosts(pricing, pool if owned else (), CAT, AS_OF)
    return PlanSearch(demand, pricing, costs, SqlCals(needs, CAT, pricing, {}), lambda _m: None)


# The fast tier takes the first 20 random cases, the long tier (CI) the other 20 (tiers.seeds).
@pytest.mark.parametrize("seed", seeds(20, 40))
def test_plan_search_equals_exhaustive_search(seed: int) -> None:
    demand, needs, pricing, owned = random_plan_case(random.Random(seed))
    search = _search(demand, needs, pricing, owned)
    best, bound = search.run(owned=owned > 0)
    optimum = exhaustive(demand, needs, pricing, owned)
    assert all(o.bound <= optimum for o in search.outcomes if o.bound is not None)  # unclamped
    assert bound <= optimum <= best.cost
    assert best.cost == optimum  # the search finds the optimum on cases this small …
    assert bound == optimum  # … and proves it: the MILP over the choices agrees


@pytest.mark.parametrize("try_each_option", [True, False])  # False: above 300 decisions
def test_shared_owned_licenses_are_in_the_bound(try_each_option: bool) -> None:
    """Two OSEs of 8 cores, 8 Standard core licenses owned, no CAL needed under Server + CAL:
    per core on both buys 8 cores (7,200), Server + CAL on both buys 2 servers (1,800), one
    of each buys nothing for the per-core one (owned) and 1 server (900). Pricing each OSE as
    if it alone had the 8 owned licenses would bound the cost at 0; the optimum is 900."""
    demand = Demand((_leaf("o1", 8), _leaf("o2", 8)))
    search = _search(demand, [], _prices(Decimal(200), Decimal(200)), 8)
    best, bound = search.run(owned=try_each_option)
    assert best.cost == bound == Decimal(900)
    assert max(o.bound for o in search.outcomes if o.bound is not None) == Decimal(900)


# -- tie-breaks --------------------------------------------------------------------------------


def test_ties_go_to_fewer_licenses_then_to_user_cals() -> None:
    """Hand-worked, with Windows Server CALs (§1.2: a need is covered by its user's or its
    device's CAL), user CAL 40, device CAL 40, and one owned user CAL of 2016 that covers no
    2022 need (so the owned class is there, and the MILP decides):

    * a.adams on laptop L1 and desktop D1: one user CAL (40) or two device CALs (80) — user;
    * b.brown on K1, c.clark on K1: one device CAL (40) or two user CALs (80) — device;
    * d.diaz on T1: one user CAL or one device CAL, both 40, one license — the user CAL.

    Total 120, three licenses: user CALs for a.adams and d.diaz, a device CAL for K1."""
    pricing = Pricing(
        CAT,
        (
            Price("windows-server", "user-cal", Decimal(40)),
            Price("windows-server", "device-cal", Decimal(40)),
        ),
    )
    needs = tuple(
        CalNeed("windows-server:cal", u, d, "2022", "srv")
        for u, d in (
            ("a.adams", "L1"),
            ("a.adams", "D1"),
            ("b.brown", "K1"),
            ("c.clark", "K1"),
            ("d.diaz", "T1"),
        )
    )
    from entitle.optimize.cals import Resource

    owned = {(Resource("user", "windows-server:cal"), "2016"): 1}
    for with_owned in (None, owned):
        plan = optimise_cals(CalDemand(needs), CAT, pricing, with_owned)
        held = sorted((h.resource.holder, h.holder) for h in plan.holdings)
        assert plan.cost == Decimal(120)
        assert held == [("device", "K1"), ("user", "a.adams"), ("user", "d.diaz")]


def test_the_milp_breaks_ties_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same as above through the MILP alone (the cut is not asked): its second solve
    keeps the cost (120.00 = 12,000 cents) and counts licenses, then device-side ones."""
    from entitle.optimize import cals

    calls: list[int] = []
    real = calmilp.solve_milp

    def spy(p: Any, device_side: np.ndarray, tie_break: bool = True) -> calmilp.MilpResult:
        assert tie_break  # a graph this small gets the tie-break solve
        result = real(p, device_side, tie_break)
        calls.append(result.cost)
        return result

    monkeypatch.setattr(cals, "solve_milp", spy)
    monkeypatch.setattr(cals, "lagrangian", _no_proof(cals.lagrangian))
    test_ties_go_to_fewer_licenses_then_to_user_cals()
    assert calls == [12000, 12000]  # the Lagrangian's bound withheld: both runs by the MILP


def test_the_milp_breaks_ties_exactly_with_the_cost_as_a_constraint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where ``K · cents`` would pass ``TIE_EXACT`` the tie-break keeps the cost as a
    constraint instead of one objective ``K · cents + T``: forced here, the same hand-worked
    ties come out (120.00, user CALs for a.adams and d.diaz, a device CAL for K1)."""
    from scipy.optimize import LinearConstraint

    shapes: list[int] = []  # constraints of each solve: 1 (the graph's), 2 (and the budget)
    real = calmilp.solve

    def spy(c: Any, constraints: list, *args: Any) -> Any:
        shapes.append(len(constraints))
        assert all(isinstance(k, LinearConstraint) for k in constraints)
        return real(c, constraints, *args)

    monkeypatch.setattr(calmilp, "solve", spy)
    monkeypatch.setattr(calmilp, "TIE_EXACT", 0)
    monkeypatch.setattr("entitle.optimize.cals.lagrangian", _no_proof(_lagrangian()))
    test_ties_go_to_fewer_licenses_then_to_user_cals()
    assert shapes == [1, 2, 1, 2]  # both runs: the cost, then the tie-break under a budget
    shapes.clear()
    monkeypatch.setattr(calmilp, "TIE_EXACT", 2**50)
    test_ties_go_to_fewer_licenses_then_to_user_cals()
    assert shapes == [1, 1, 1, 1]  # the tie-break as one objective, the graph's rows alone


def _no_proof(real: Any) -> Any:
    """The Lagrangian's plan, with a bound of 0: the MILP must close the gap."""

    def run(p: Any, enough: Any = None) -> Any:
        side, _, method = real(p, enough)
        return side, 0, method

    return run


# -- zero gaps -------------------------------------------------------------------------------


def test_every_milp_is_solved_to_a_zero_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []

    def spy(real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            seen.append(dict(kwargs.get("options") or {}))
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(calmilp, "milp", spy(calmilp.milp))  # choicemilp solves through it
    monkeypatch.setattr(
        "entitle.optimize.cals.lagrangian",
        _no_proof(__import__("entitle.optimize.lagrange", fromlist=["x"]).lagrangian),
    )
    demand, needs, pricing, owned = random_plan_case(random.Random(3))
    _search(demand, needs, pricing, owned).run(owned=owned > 0)
    test_ties_go_to_fewer_licenses_then_to_user_cals()
    assert len(seen) >= 3  # the choices' MILP, the CAL MILP's cost and tie-break solves
    for options in seen:
        assert options["mip_rel_gap"] == 0
        assert options.get("mip_abs_gap", 0) < 1  # below one cent of an integral objective


def _statuses(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """(SciPy's status, whether a plan came back) of every MILP solved through calmilp."""
    seen: list[tuple[int, bool]] = []
    real = calmilp.milp

    def call(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        seen.append((result.status, result.x is not None))
        return result

    monkeypatch.setattr(calmilp, "milp", call)
    return seen


def test_a_milp_stopped_before_any_plan_leaves_the_cuts_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HiGHS 1.8 and later say "solution limit reached" (HiGHS status 16, SciPy's 4, not 1)
    when a MILP stops at its node limit; entitle took that for a failure and stopped with
    "MILP failed". With no node at all, both solves of the hand-worked ties above stop before
    any plan: the plan is the cut's (the Lagrangian's), the same 120.00 and the same holders."""
    monkeypatch.setitem(calmilp.MILP_OPTIONS, "node_limit", 0)
    monkeypatch.setattr("entitle.optimize.cals.lagrangian", _no_proof(_lagrangian()))
    seen = _statuses(monkeypatch)
    test_ties_go_to_fewer_licenses_then_to_user_cals()
    assert seen and all(status in (1, 4) and not plan for status, plan in seen)


@pytest.mark.slow  # the sample's position twice (about 3 s of a core); the cheap case is fast
def test_a_milp_stopped_with_a_plan_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample estate without its access table: its owned CALs cover every CAL need (the
    CAL plan costs nothing), and the tie-break among the many free plans went past the node
    limit: `entitle position` failed with "MILP failed". With a node limit of 1 the tie-break
    in its constraint form (``Σ price · buy ≤ cost``, what a graph whose ``K · cents`` passes
    ``TIE_EXACT`` still gets) stops with a plan (SciPy status 4): the cost solve's plan is
    kept, still proven optimal. The one-objective form finishes at its root in that limit."""
    monkeypatch.setitem(calmilp.MILP_OPTIONS, "node_limit", 1)
    estate, problems = load_estate(SAMPLE, CAT)
    assert estate is not None and not problems
    costs = []
    for tie_exact, stops in ((0, True), (calmilp.TIE_EXACT, False)):
        monkeypatch.setattr(calmilp, "TIE_EXACT", tie_exact)
        seen = _statuses(monkeypatch)
        p = compute_position(replace(estate, access=()), CAT, AS_OF)
        # the tie-break stopped at the node limit with a plan (SciPy's 1 with older HiGHS)
        assert any(status in (1, 4) and plan for status, plan in seen) is stops, seen
        assert p.optimality == "optimal"
        assert p.lower_bound == sum((line.cost for line in p.lines), Decimal(0))
        costs.append(p.lower_bound)
    assert costs[0] == costs[1]


def _lagrangian() -> Any:
    return __import__("entitle.optimize.lagrange", fromlist=["x"]).lagrangian


def test_the_reported_bound_is_the_solvers_dual_bound_rounded_up() -> None:
    assert calmilp.whole_units(12345.0000000001) == 12345  # floating-point noise
    assert calmilp.whole_units(12344.2) == 12345  # integral objective: at least the next cent


# -- choices without a solver ------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(30))
def test_choices_without_a_solver_are_the_milps(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where nothing joins the decisions (no owned license, no SQL CAL table), the choices'
    optimum is taken without HiGHS: the same choices, bound and objective as the MILP's."""
    demand, _, pricing, _ = random_plan_case(random.Random(500 + seed))
    costs = ServerCosts(pricing, (), CAT, AS_OF)
    used: list[object] = []
    real = choicemilp._apart

    def spy(*args: Any) -> Any:
        used.append(real(*args))
        return used[-1]

    monkeypatch.setattr(choicemilp, "_apart", spy)
    fast = choicemilp.solve_choices(demand.decisions, costs, [])
    monkeypatch.setattr(choicemilp, "_apart", lambda *_: None)
    slow = choicemilp.solve_choices(demand.decisions, costs, [])
    assert used and used[0] is not None  # a tie would leave it to the MILP: none here
    assert fast == slow


def test_a_tie_is_left_to_the_milp() -> None:
    """Two options of one decision at the same price: which one the plan takes is HiGHS's
    choice among equals, so the shortcut declines."""
    need = Need("sql-server", "core", 4, "standard", "2022", "h", "o1", "per-core")
    tie = Decision(
        "sql-server@o1", "sql-server", "o1", (Option("a", (need,)), Option("b", (need,)))
    )
    options = [(tie, o) for o in tie.options]
    assert choicemilp._apart(options, [([0, 1], None)], [100.0, 100.0]) is None
    assert choicemilp._apart(options, [([0, 1], None)], [100.0, 90.0]) == ({tie.key: "b"}, 90)


def test_only_a_node_limit_stop_is_taken_for_one() -> None:
    """SciPy's status 4 is also its status for a solver failure: only HiGHS's "solution limit
    reached" (its node-limit stop since 1.8) is a stop with a plan; anything else is raised."""
    from types import SimpleNamespace

    stop = "The HiGHS status code was not recognized. (HiGHS Status 16: Solution limit reached)"
    assert calmilp.stopped_at_node_limit(SimpleNamespace(status=4, message=stop))
    assert calmilp.stopped_at_node_limit(SimpleNamespace(status=1, message="node limit"))
    other = "HiGHS status code not recognized (HiGHS Status 16: solution limit)"  # another wording
    assert calmilp.stopped_at_node_limit(SimpleNamespace(status=4, message=other))
    failed = "The HiGHS status code was not recognized. (HiGHS Status 4: Solve error)"
    assert not calmilp.stopped_at_node_limit(SimpleNamespace(status=4, message=failed))
    assert not calmilp.stopped_at_node_limit(SimpleNamespace(status=2, message="infeasible"))
