"""CAL plans already found in one run, handed back when the same problem is asked again.

A what-if plans the baseline and then the scenario, and the decision tool prices the same
strategies for today and for every year of its projection: where a change leaves a CAL problem
as it was — the same needs in the same order, the same prices, the same owned licenses — the
plan is the one already found, not solved again. The optimizer is deterministic (HiGHS to a
zero gap with a node limit, not a time limit), so a plan handed back is the plan a new solve
would find: results stay identical, only the work goes.

The key is everything :func:`entitle.optimize.cals.optimise_cals` reads: every column of the
needs (:class:`~entitle.rules.calneeds.CalNeeds`, in order: the order settles ties), the prices
the estate gives for CALs, client MLs and connectors (``CAL_LICENSES``; the catalog is the
memo's own), the owned quantities, ``give_up_at`` and ``milp_nodes``. ``solved`` and ``reused`` count what happened
(for tests and ``bench/bench_reuse.py``).

Imports the plan's records and the CAL entry point; NumPy and SciPy load only on a first solve.
"""

from __future__ import annotations

from collections.abc import Hashable
from decimal import Decimal
from typing import TYPE_CHECKING

from entitle.optimize.calentry import plan_cals
from entitle.optimize.calplan import NOTHING, CalPlan, Resource

if TYPE_CHECKING:
    from entitle.catalog.model import Catalog
    from entitle.optimize.pricing import Pricing
    from entitle.rules.cals import CalDemand

Owned = dict[tuple[Resource, str | None], int]
# The licenses a CAL plan is priced in: every price the optimizer looks up is one of a
# Resource's (calplan.Resource.license), so a new core price leaves the CAL plans as they were.
CAL_LICENSES = frozenset(
    {"user-cal", "device-cal", "external-connector", "client-ml-user", "client-ml-ose"}
)


class CalPlans:
    """The CAL plans of one run against one catalog, by their whole input."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        # by a digest of the input: (the needs' columns, to compare on a match, and the plan)
        self._plans: dict[Hashable, list[tuple[list[list[object]], CalPlan]]] = {}
        self.solved = 0  # plans found by the optimizer
        self.reused = 0  # plans handed back instead

    def plan(
        self,
        demand: CalDemand,
        catalog: Catalog,
        pricing: Pricing,
        owned: Owned | None = None,
        give_up_at: Decimal | None = None,
        milp_nodes: int | None = None,
    ) -> CalPlan:
        """:func:`entitle.optimize.calentry.plan_cals`, or the plan it gave for the same input."""
        if catalog is not self.catalog:
            raise ValueError("CalPlans: a plan against another catalog than the memo's")
        if not demand.needs:
            return NOTHING  # nothing to cover: neither solved nor reused
        columns = _columns(demand)
        key = (
            tuple(hash(tuple(c)) for c in columns),
            len(columns[0]),
            pricing.prices_key(CAL_LICENSES),
            frozenset((owned or {}).items()),
            give_up_at,
            milp_nodes,
        )
        # the digest only finds a candidate: the needs themselves are compared (same length)
        for seen, found in self._plans.get(key, ()):
            if seen == columns:
                self.reused += 1
                return found
        plan = plan_cals(demand, catalog, pricing, owned, give_up_at, milp_nodes)
        self.solved += 1
        self._plans.setdefault(key, []).append((columns, plan))
        return plan


def _columns(demand: CalDemand) -> list[list[object]]:
    """Every column of the demand's needs, in order (what the optimizer reads of a demand);
    the lists themselves, not copies."""
    from entitle.rules.calneeds import CalNeeds  # noqa: PLC0415 - light, but only when used

    return CalNeeds.of(demand.needs).columns()
