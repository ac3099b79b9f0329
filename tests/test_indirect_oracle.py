"""The demand the rules make from random small estates — implied Windows Server CALs (§1.1),
requests relayed by front ends (§1.6), external users, admins — solved by the optimizer and by
the independent MILP of the licensing rules in test_cal_bruteforce.py: costs equal to the cent;
the cut builder and its need-by-need oracle make the same graph of it; and every product CAL
need on a Windows Server OSE comes with that OSE's Windows Server CAL for the same principal."""

from __future__ import annotations

import random

import pytest

from builders import AS_OF, estate, host, sw
from entitle.catalog import default_catalog
from entitle.estate.records import Access, Estate, Ose, User
from entitle.optimize.calrows import rows_of
from entitle.optimize.cals import build, optimise_cals
from entitle.optimize.pricing import Pricing
from entitle.rules.cals import CalDemand, CalNeed, cal_demand
from entitle.rules.index import EstateIndex
from entitle.source import Source
from oracles.cut_by_need import build_by_need
from test_cal_bruteforce import brute_force, rules_milp
from test_optimize_arrays import _covering, _edges, _numbered_as_the_oracle, same_cut
from tiers import seeds

CAT = default_catalog()
PRODUCTS = (
    ("exchange-server", "standard", "2019", None),
    ("sharepoint-server", None, "2019", None),
    ("sql-server", "standard", "2022", "server-cal"),
    ("sql-server", "standard", "2022", "per-vm"),
    ("rds", None, "2022", None),
)
WINDOWS = (("standard", "2019", None), ("standard", "2022", None), ("essentials", "2022", None))


def random_estate(rng: random.Random, n_oses: int = 3, n_rows: int = 6) -> Estate:
    oses, software, access = [], [], []
    for i in range(n_oses):
        name = f"o{i}"
        oses.append(Ose(name, f"h{i % 2}", True, 4, front_end=rng.random() < 0.4))
        with_cals = False
        if rng.random() < 0.85:
            edition, version, model = rng.choice(WINDOWS)
            if rng.random() < 0.1:
                edition, version, model = "standard", "2025", "payg"
            software.append(sw(name, "windows-server", edition, version, model))
            with_cals = edition == "standard" and model is None
        product, edition, version, model = rng.choice(PRODUCTS)
        if product == "rds" and not with_cals:
            # RDS without a WS CAL under it (pay-as-you-go) needs no base right: the oracles
            # state the base rule for every holder, so they are not asked about it
            product, edition, version, model = PRODUCTS[0]
        software.append(sw(name, product, edition, version, model))
    users = [f"u{i}" for i in range(3)]
    external = {u for u in users if rng.random() < 0.3}
    devices = [f"d{i}" for i in range(2)]
    for line in range(n_rows):
        o = rng.choice(software)
        user = rng.choice([*users, None])
        # external users on their own devices, as in test_cal_bruteforce: a connector or a
        # user CAL covers them (the cut offers no device CAL for an external user's row)
        device = rng.choice([*devices, None]) if user not in external else None
        if user is None and device is None:
            user = users[0]
        purpose = "admin" if rng.random() < 0.15 else "use"
        level = (
            "enterprise" if o.product == "exchange-server" and rng.random() < 0.3 else "standard"
        )
        access.append(
            Access(o.ose, o.product, user, device, level, purpose, source=Source("a.csv", line))  # type: ignore[arg-type]
        )
    for line in range(rng.randint(0, 3)):  # server-to-server
        src, dst = rng.sample(software, 2)
        if src.ose != dst.ose:
            access.append(Access(dst.ose, dst.product, None, src.ose, source=Source("s.csv", line)))
    e = estate([host("h0", 1, 8), host("h1", 1, 8)], oses, software, access=tuple(access))
    from dataclasses import replace

    return replace(e, users=tuple(User(u, external=u in external) for u in users))


def needs_of(e: Estate) -> tuple[CalNeed, ...]:
    server_cal = frozenset(s.ose for s in e.software if s.model == "server-cal")
    return cal_demand(EstateIndex.build(e), CAT, server_cal, AS_OF).needs


@pytest.mark.parametrize("seed", seeds(30, 120))
def test_optimizer_equals_the_rules_milp_on_rule_made_demands(seed: int) -> None:
    rng = random.Random(70_000 + seed)
    needs = needs_of(random_estate(rng, rng.randint(2, 4), rng.randint(3, 10)))
    plan = optimise_cals(CalDemand(needs), CAT, Pricing(CAT), None)
    if needs:
        assert plan.cost == rules_milp(list(needs), [], {})


@pytest.mark.parametrize("seed", seeds(10, 40))
def test_optimizer_equals_exhaustive_search_on_rule_made_demands(seed: int) -> None:
    rng = random.Random(80_000 + seed)
    needs = needs_of(random_estate(rng, 2, rng.randint(2, 4)))
    users_devices = {n.user for n in needs} | {n.device for n in needs}
    if not needs or len(users_devices) > 4:
        pytest.skip("too many principals for the exhaustive search")
    plan = optimise_cals(CalDemand(needs), CAT, Pricing(CAT), None)
    assert plan.cost == brute_force(list(needs), [], {})


@pytest.mark.parametrize("seed", seeds(15, 60))
def test_both_builders_make_the_same_graph_of_rule_made_demands(seed: int) -> None:
    rng = random.Random(90_000 + seed)
    needs = needs_of(random_estate(rng, rng.randint(2, 5), rng.randint(3, 20)))
    if not needs:
        return
    rows = rows_of(needs)
    pricing = Pricing(CAT)
    by_need = build_by_need(rows, CAT, pricing)
    arrays = build(rows, CAT, pricing)
    assert _edges(arrays) == _edges(by_need)
    assert _covering(arrays) == _covering(by_need)
    same_cut(arrays, by_need)
    _numbered_as_the_oracle(rows)


@pytest.mark.parametrize("seed", seeds(25, 100))
def test_every_product_cal_comes_with_the_windows_server_cal_of_its_ose(seed: int) -> None:
    # §1.1: a product CAL need on an OSE whose Windows Server needs CALs (Standard or
    # Datacenter, not pay-as-you-go) comes with a WS CAL need of that OSE's version, same
    # principal; and no WS CAL need names an OSE whose Windows Server needs none.
    rng = random.Random(60_000 + seed)
    e = random_estate(rng, 4, 12)
    windows = {s.ose: s for s in e.software if s.product == "windows-server"}
    cal_free = {o for o, s in windows.items() if s.edition == "essentials" or s.model == "payg"}
    needs = needs_of(e)
    ws = {(n.user, n.device, n.ose, n.version) for n in needs if n.right == "windows-server:cal"}
    for n in needs:
        if n.right != "windows-server:cal" and n.ose in windows and n.ose not in cal_free:
            assert (n.user, n.device, n.ose, windows[n.ose].version) in ws, n
    assert not {o for _, _, o, _ in ws} & cal_free
