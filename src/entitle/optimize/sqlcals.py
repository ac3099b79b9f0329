"""The SQL CALs of the Server + CAL choices: priced per set of OSEs (cached), and the groups of
choices whose SQL access shares no user or device with another group's — what one group decides
changes no other group's SQL CALs.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain

from entitle.catalog.model import Catalog
from entitle.optimize.calentry import plan_cals
from entitle.optimize.calmemo import CalPlans
from entitle.optimize.calplan import MILP_LIMIT, CalPlan, Resource
from entitle.optimize.choices import (
    SERVER_CAL,
    Force,
    leaves,
    possible_sql_oses,
    sql_oses,
    sure_sql_oses,
)
from entitle.optimize.pricing import Pricing
from entitle.rules.cals import CalDemand, CalNeed, CalNeeds
from entitle.rules.demand import Decision


class SqlCals:
    """The SQL CALs of a set of OSEs licensed Server + CAL (cached per set)."""

    def __init__(
        self,
        needs: Sequence[CalNeed],
        catalog: Catalog,
        pricing: Pricing,
        owned: dict[tuple[Resource, str | None], int],
        memo: CalPlans | None = None,
    ):
        self.catalog, self.pricing, self.owned = catalog, pricing, owned
        self._solve = memo.plan if memo is not None else plan_cals
        self._all = CalNeeds.of(needs)  # the optimizer reads columns: sets are taken from them
        self._at: dict[str, list[int]] = defaultdict(list)
        # per OSE, the (user, device) of each need there: what joins the choices' groups
        self.holders: dict[str, list[tuple[str | None, str | None]]] = defaultdict(list)
        for i, (ose, user, device) in enumerate(
            zip(self._all.ose, self._all.user, self._all.device, strict=True)
        ):
            self._at[ose or ""].append(i)
            self.holders[ose or ""].append((user, device))
        rights = set(self._all.right)
        mine = [(r, q) for (r, _), q in owned.items() if q > 0 and r.what in rights]
        self.owns_any = bool(mine)
        # What the owned SQL CALs can save at most: each unit one license at its list price.
        self.owned_value = sum((pricing.amount(*r.license()) * q for r, q in mine), Decimal(0))
        self._cache: dict[tuple[frozenset[str], bool, bool], CalPlan] = {}
        self._apart: dict[tuple[frozenset[str], ...], tuple[Decimal, ...]] = {}

    def needs(self, oses: frozenset[str]) -> CalNeeds:
        at = self._at
        return self._all.take(chain.from_iterable(at[o] for o in sorted(oses) if o in at))

    def plan(
        self,
        oses: frozenset[str],
        with_owned: bool = True,
        give_up_at: Decimal | None = None,
        final: bool = False,
    ) -> CalPlan:
        """With ``give_up_at``, a plan whose bound reaches it may come back unfinished (cost and
        bound both at least that much); such a plan is not kept for later callers. While
        searching, a MILP closes gaps only on graphs up to ``cals.MILP_LIMIT`` nodes (every
        alternative priced, some many times); the ``final`` plan up to ``MILP_COST_LIMIT``."""
        key = (oses, with_owned, final)
        if key in self._cache:
            return self._cache[key]
        plan = self._solve(
            CalDemand(self.needs(oses)),
            self.catalog,
            self.pricing,
            self.owned if with_owned else None,
            give_up_at,
            None if final else MILP_LIMIT,
        )
        if give_up_at is None or plan.lower_bound < give_up_at or plan.status == "optimal":
            self._cache[key] = plan
        return plan

    def exact_apart(self, sets: list[frozenset[str]]) -> list[Decimal]:
        """Each set's SQL CAL cost with nothing owned: one cut for sets sharing no holder. A
        batch priced before (the per-component search and the exact choices ask for the same
        batches) is not cut again."""
        from entitle.optimize.cals import costs_apart  # NumPy and SciPy: only to price CALs

        batch = tuple(sets)
        if batch in self._apart:
            return list(self._apart[batch])
        costs = costs_apart(list(map(self.needs, sets)), self.catalog, self.pricing)
        if costs is None or len(sets) < 2:
            costs = [self.plan(s, with_owned=False).cost for s in sets]
        self._apart[batch] = tuple(costs)
        return costs

    def lower_apart(self, sets: list[frozenset[str]]) -> list[Decimal]:
        """A lower bound on each set's SQL CAL cost with the owned CALs, for sets sharing no
        holder; exact when no SQL CAL is owned. Each set may use every owned CAL (a bound)."""
        if not self.owns_any:
            return self.exact_apart(sets)
        return [self.plan(s).lower_bound for s in sets]


@dataclass(frozen=True, slots=True)
class Group:
    """Top-level decisions whose SQL Server may be Server + CAL, joined when they share an OSE
    or their OSEs share a user or a device: what one group decides changes no other's cost."""

    tops: tuple[Decision, ...]
    leaves: tuple[Decision, ...]
    database: str  # the catalog's roles.database, whose Server + CAL choices these are

    def combos(self, other: dict[str, str]) -> list[Force]:
        return [
            {d.key: SERVER_CAL if c else other[d.key] for d, c in zip(self.leaves, cs, strict=True)}
            for cs in itertools.product((True, False), repeat=len(self.leaves))
        ]

    def sure(self, force: Force) -> frozenset[str]:
        return frozenset().union(*(sure_sql_oses(d, force, self.database) for d in self.tops))

    def surely(self, combo: Force) -> frozenset[str]:
        """The OSEs Server + CAL in every plan where ``combo`` holds: its leaves chosen (and
        active) so, and what every top decision licenses so whatever is chosen."""
        named = [
            o.needs for d in self.leaves for o in d.options if o.label == combo[d.key] == SERVER_CAL
        ]
        return self.sure({}).union(*(sql_oses(needs, self.database) for needs in named))


def groups_of(
    decisions: tuple[Decision, ...],
    holders: dict[str, list[tuple[str | None, str | None]]],
    database: str,
) -> list[Group]:
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    tops = [(d, possible_sql_oses(d, database)) for d in decisions]
    tops = [(d, oses) for d, oses in tops if oses]
    for d, oses in tops:
        for ose in oses:
            parent[find(("ose", ose))] = find(("top", d.key))
            for user, device in holders.get(ose, ()):
                for who in (("user", user), ("device", device)):
                    if who[1] is not None:
                        parent[find((who[0], who[1]))] = find(("ose", ose))
    members: dict[tuple[str, str], list[Decision]] = defaultdict(list)
    for d, _ in tops:
        members[find(("top", d.key))].append(d)
    return [Group(tuple(ds), tuple(leaves(tuple(ds))), database) for ds in members.values()]


def merged(groups: list[Group]) -> Group:
    return Group(
        tuple(d for g in groups for d in g.tops),
        tuple(d for g in groups for d in g.leaves),
        groups[0].database,
    )
