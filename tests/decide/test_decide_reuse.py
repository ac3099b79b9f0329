"""The decision tool's strategies and projection share what they can: a year that grows nothing
is one demand, built once, and a CAL problem met again is solved once
(:class:`entitle.optimize.calmemo.CalPlans`, counted by ``solved`` and ``reused``). Priced at
user CAL 46.00 and device CAL 40.00 (the catalog's Windows Server CAL prices, §8)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_decide import P, shop

from builders import AS_OF
from entitle.catalog import default_catalog
from entitle.decide import GrowthRates
from entitle.decide import data as decide_data
from entitle.decide.data import OPTIMUM, decide_from_estate
from entitle.optimize.calmemo import CalPlans
from entitle.optimize.plan import make_plan
from entitle.optimize.pricing import Pricing

D = Decimal
CAT = default_catalog()


def counted(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Count the calls of ``entitle.decide.data.<name>`` (the projection's own steps)."""
    calls: list[int] = []
    real = getattr(decide_data, name)

    def wrapper(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(decide_data, name, wrapper)
    return calls


def test_no_growth_builds_one_demand_and_solves_each_strategy_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three years of no growth: every year's changes are none, so the estate is rebuilt and its
    demand built once (year 0), and each year prices today's four problems again — the optimum,
    all User, all Device, the questionnaire's answer (nothing owned: listed = to buy) — which
    are solved once: 4 solved, 4 × 4 reused. The costs are test_decide's: 132, 230, 200, 132."""
    rebuilt, demands = counted(monkeypatch, "apply_changes"), counted(monkeypatch, "cal_demand")
    memo = CalPlans(CAT)
    d = decide_from_estate(shop(), CAT, AS_OF, P, rates=GrowthRates(3), memo=memo)
    assert (len(rebuilt), len(demands)) == (1, 1)
    assert (memo.solved, memo.reused) == (4, 16)
    g = d.growth
    assert g is not None
    assert g.floor == (D("132.00"),) * 4
    assert [g.cost("all User", y) for y in range(4)] == [D("230.00")] * 4
    assert [g.cost("all Device", y) for y in range(4)] == [D("200.00")] * 4
    assert {s.name: s.list_cost for s in d.strategies}[OPTIMUM] == D("132.00")


def test_growth_solves_only_the_years_that_change() -> None:
    """+100 % head count over one year: year 0 is today's four problems (reused), year 1 four new
    ones: optimum 4 × 46 + 1 × 40 = 224, all User 10 × 46 = 460 (test_decide's worked numbers)."""
    memo = CalPlans(CAT)
    d = decide_from_estate(shop(), CAT, AS_OF, P, rates=GrowthRates(1, D(1), D(0), D(0)), memo=memo)
    assert (memo.solved, memo.reused) == (8, 4)
    g = d.growth
    assert g is not None
    assert g.floor == (D("132.00"), D("224.00"))
    assert g.cost("all User", 1) == D("460.00")


def test_the_tool_needs_only_the_plans_server_choices_and_demand() -> None:
    """make_plan(cals=False) chooses the same servers and gives the same CAL demand as the whole
    plan: only the CALs are left unplanned (the tool prices its own)."""
    e = shop()
    whole = make_plan(e, CAT, Pricing(CAT, e.prices), AS_OF)
    light = make_plan(e, CAT, Pricing(CAT, e.prices), AS_OF, cals=False)
    assert light.servers == whole.servers
    assert list(light.demand.needs) == list(whole.demand.needs)
    assert light.cals.holdings == () and whole.cals.holdings != ()
