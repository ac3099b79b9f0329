"""The CAL plan's entry point for callers that must start light (``entitle calc``): the solver
modules (:mod:`entitle.optimize.cals`, NumPy, SciPy) load only when there is something to
cover. Kept apart from :mod:`entitle.optimize.calplan`, which those modules import."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from entitle.optimize.calplan import NOTHING, CalPlan, Resource

if TYPE_CHECKING:
    from entitle.catalog.model import Catalog
    from entitle.optimize.pricing import Pricing
    from entitle.rules.cals import CalDemand


def plan_cals(
    demand: CalDemand,
    catalog: Catalog,
    pricing: Pricing,
    owned: dict[tuple[Resource, str | None], int] | None = None,
    give_up_at: Decimal | None = None,
    milp_nodes: int | None = None,
) -> CalPlan:
    """:func:`entitle.optimize.cals.optimise_cals`, imported only when there is something to
    cover."""
    if not demand.needs:
        return NOTHING
    from entitle.optimize.cals import optimise_cals  # noqa: PLC0415

    return optimise_cals(demand, catalog, pricing, owned, give_up_at, milp_nodes)
