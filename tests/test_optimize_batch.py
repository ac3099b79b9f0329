"""Pricing several demands in one cut (``costs_apart``), as the Server + CAL search does for
its groups of OSEs: each cost is the one ``optimise_cals`` finds for that demand alone, and
demands that share a holder are refused rather than priced together."""

from __future__ import annotations

import random

import pytest

from entitle.catalog import default_catalog
from entitle.optimize.cals import costs_apart, optimise_cals
from entitle.optimize.pricing import Pricing
from entitle.rules.cals import CalDemand, CalNeed
from test_optimize_arrays import random_needs

CAT = default_catalog()
PRICING = Pricing(CAT)


def _apart(needs: tuple[CalNeed, ...], tag: str) -> tuple[CalNeed, ...]:
    """The same needs with holders and hosts of their own."""

    def own(x: str | None) -> str | None:
        return None if x is None else f"{tag}-{x}"

    return tuple(
        CalNeed(
            n.right,
            own(n.user),
            own(n.device),
            n.version,
            n.ose,
            own(n.host),
            n.external,
            n.source,
            n.with_base,
        )
        for n in needs
    )


@pytest.mark.parametrize("seed", range(20))
def test_one_cut_prices_each_demand_as_alone(seed: int) -> None:
    rng = random.Random(seed)
    demands = [_apart(random_needs(rng, rng.randint(0, 25)), f"g{i}") for i in range(4)]
    alone = [optimise_cals(CalDemand(d), CAT, PRICING).cost for d in demands]
    assert costs_apart(demands, CAT, PRICING) == alone


def test_demands_sharing_a_holder_are_not_priced_together() -> None:
    a = (CalNeed("sql-server:cal", "ann", "pc1", "2022", "o1", "h1", False, "a.csv:2"),)
    b = (CalNeed("sql-server:cal", "bob", "pc1", "2022", "o2", "h1", False, "a.csv:3"),)
    assert costs_apart([a, b], CAT, PRICING) is None
