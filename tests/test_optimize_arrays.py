"""The numpy cut builder (optimize/calarrays.py) makes the same graph as the need-by-need one.

Large demands are built with numpy; the node numbers differ, so the two graphs are compared by
node name: the same multiset of (tail, head, license) edges, and every group of need rows covered
by the same user, device and External Connector nodes. Demands are random mixes of the rights
whose gadgets differ: suites (Windows Server, Exchange Standard and Enterprise), additive CALs on
a base (RDS on Windows Server, Exchange Enterprise on Standard), client MLs, SQL CALs (no suite),
external users on hosts with connectors (the RDS connector requires the Windows Server one), and
needs without their base right (pay-as-you-go), and additive rights of users whose subscription
holds the base (CAL equivalency)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from entitle.catalog import default_catalog
from entitle.optimize.calarrays import build_arrays
from entitle.optimize.calbuild import Builder, Cut
from entitle.optimize.calrows import rows_of
from entitle.optimize.cals import build
from entitle.optimize.pricing import Pricing
from entitle.rules.cals import CalNeed

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
def test_numpy_builder_makes_the_same_graph(seed: int) -> None:
    rng = random.Random(seed)
    rows = rows_of(random_needs(rng, rng.randint(1, 40)))
    pricing = Pricing(CAT)
    by_need = build(rows, CAT, pricing, arrays=False)
    arrays = build_arrays(rows, Builder(CAT, pricing))
    assert arrays is not None
    assert arrays.n_nodes == by_need.n_nodes
    assert _edges(arrays) == _edges(by_need)
    assert _covering(arrays) == _covering(by_need)
    assert arrays.prices.tolist() == [
        int(by_need.prices[by_need.resources[r]])
        for r in sorted(arrays.resources, key=arrays.resources.__getitem__)
    ]


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
