"""The cut builder (optimize/calbuild.py, column-wise) makes the same graph as the need-by-need
oracle (tests/oracles/cut_by_need.py), on random demands and through ``optimise_cals``.

The node numbers differ, so the two graphs are compared by node name: the same multiset of (tail, head, license) edges, and every group of need rows covered
by the same user, device and External Connector nodes. Demands are random mixes of the rights
whose gadgets differ: suites (Windows Server, Exchange Standard and Enterprise), additive CALs on
a base (RDS on Windows Server, Exchange Enterprise on Standard), client MLs, SQL CALs (no suite),
external users on hosts with connectors (the RDS connector requires the Windows Server one), and
needs without their base right (pay-as-you-go), and additive rights of users whose subscription
holds the base (CAL equivalency)."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from entitle.catalog import default_catalog
from entitle.optimize.calbuild import Cut, suite_pair
from entitle.optimize.calgraph import min_cut
from entitle.optimize.calorder import need_order
from entitle.optimize.calrows import Rows, rows_of
from entitle.optimize.cals import build
from entitle.optimize.pricing import Pricing
from entitle.rules.cals import CalNeed
from oracles.cut_by_need import build_by_need

CAT = default_catalog()
RIGHTS = (
    "windows-server:cal",
    "rds:cal",
    "exchange-server:cal",
    "exchange-server:cal-enterprise",
    "sql-server:cal",
    "configuration-manager:ml",
)


def random_needs(rng: random.Random, n: int) -> tuple[CalNeed, ...]:
    users = [f"u{i}" for i in range(rng.randint(1, 8))]
    devices = [f"d{i}" for i in range(rng.randint(1, 8))]
    external = {u for u in users if rng.random() < 0.3}
    # users whose subscription holds the base rights (CAL equivalency): their additive rights
    # need no base on the user's side
    subscribed = {u for u in users if rng.random() < 0.3}
    needs = []
    for i in range(n):
        right = rng.choice(RIGHTS)
        user = rng.choice([*users, None])
        device = rng.choice([*devices, None]) if user not in external else None
        if user is None and device is None:
            device = devices[0]
        with_base = rng.random() < 0.9
        additive = right in ("rds:cal", "exchange-server:cal-enterprise")
        needs.append(
            CalNeed(
                right,
                user,
                device,
                rng.choice(("2019", "2022", "2025", None)),
                "o1",
                rng.choice(("h1", "h2")),
                user in external,
                f"access.csv:{i + 2}",
                with_base,
                with_base and additive and user in subscribed,
            )
        )
    return tuple(needs)


def _edges(cut: Cut) -> Counter[tuple[object, object, object]]:
    by_id = {i: r for r, i in cut.resources.items()}
    return Counter(
        (cut.name(t), cut.name(h), by_id.get(r))
        for t, h, r in zip(cut.tails.tolist(), cut.heads.tolist(), cut.res.tolist(), strict=True)
    )


def _covering(cut: Cut) -> list[tuple[object, ...]]:
    def name(node: int) -> object:
        return cut.name(node) if node >= 0 else None

    return [
        (name(u), name(d), name(e))
        for u, d, e in zip(
            cut.group_user.tolist(), cut.group_device.tolist(), cut.group_ec.tolist(), strict=True
        )
    ]


@pytest.mark.parametrize("seed", range(60))
def test_the_builder_makes_the_oracles_graph(seed: int) -> None:
    rng = random.Random(seed)
    rows = rows_of(random_needs(rng, rng.randint(1, 40)))
    pricing = Pricing(CAT)
    by_need = build_by_need(rows, CAT, pricing)
    arrays = build(rows, CAT, pricing)
    assert arrays.n_nodes == by_need.n_nodes
    assert _edges(arrays) == _edges(by_need)
    assert _covering(arrays) == _covering(by_need)
    assert arrays.prices.tolist() == [
        int(by_need.prices[by_need.resources[r]])
        for r in sorted(arrays.resources, key=arrays.resources.__getitem__)
    ]


def same_cut(a: Cut, b: Cut) -> None:
    """Both graphs' minimum cuts (the one with the smallest source side, at list prices): the
    same nodes by name on the source side, the same licenses bought."""

    def solved(cut: Cut) -> tuple[set[object], Counter[object]]:
        finite = cut.res >= 0
        cents = np.where(finite, cut.prices[np.maximum(cut.res, 0)], -1)
        side = min_cut(cut.n_nodes, cut.tails, cut.heads, cents).source_side
        by_id = {i: r for r, i in cut.resources.items()}
        bought = np.flatnonzero(finite & side[cut.tails] & ~side[cut.heads])
        return (
            {cut.name(n) for n in np.flatnonzero(side).tolist()},
            Counter(by_id[r] for r in cut.res[bought].tolist()),
        )

    assert solved(a) == solved(b)


@pytest.mark.parametrize("seed", range(60))
def test_the_builder_and_the_oracle_give_the_same_cut(seed: int) -> None:
    rng = random.Random(1000 + seed)
    rows = rows_of(random_needs(rng, rng.randint(1, 40)))
    pricing = Pricing(CAT)
    same_cut(build(rows, CAT, pricing), build_by_need(rows, CAT, pricing))


def _numbered_as_the_oracle(rows: Rows) -> None:
    """Renumbered need by need, the builder's graph is the oracle's array for array: the same
    nodes in the same order, the same edges in the same order with the same licenses."""
    pricing = Pricing(CAT)
    cut, oracle = build(rows, CAT, pricing), build_by_need(rows, CAT, pricing)
    order = need_order(cut, rows, suite_pair(CAT))
    assert order is not None
    tails, heads, res = order.apply(cut)
    assert [cut.name(v) for v in order.nodes.tolist()] == [
        oracle.name(v) for v in range(oracle.n_nodes)
    ]
    assert tails.tolist() == oracle.tails.tolist()
    assert heads.tolist() == oracle.heads.tolist()
    mine = {i: r for r, i in cut.resources.items()}
    theirs = {i: r for r, i in oracle.resources.items()}
    assert [mine.get(r) for r in res.tolist()] == [theirs.get(r) for r in oracle.res.tolist()]


@pytest.mark.parametrize("seed", range(60))
def test_the_need_by_need_numbering_is_the_oracles(seed: int) -> None:
    rng = random.Random(2000 + seed)
    _numbered_as_the_oracle(rows_of(random_needs(rng, rng.randint(1, 40))))


def test_rows_merge_what_the_cut_merges() -> None:
    """Rows with the same right, user, device, external host and base requirement are one
    group, in the order of their first row; the host of a user who is not external does not
    split a group."""
    a = CalNeed("windows-server:cal", "ann", "pc1", "2019", "o1", "h1", False, "a.csv:2")
    b = CalNeed("windows-server:cal", "ann", "pc1", "2022", "o2", "h2", False, "a.csv:3")
    c = CalNeed("rds:cal", "ann", "pc1", "2022", "o2", "h2", False, "a.csv:4")
    d = CalNeed("windows-server:cal", "ext", None, "2022", "o1", "h1", True, "a.csv:5")
    e = CalNeed("windows-server:cal", "ext", None, "2022", "o2", "h2", True, "a.csv:6")
    rows = rows_of((c, a, b, d, e))
    assert rows.row_group.tolist() == [0, 1, 1, 2, 3]
    assert rows.representatives() == [c, a, d, e]
