"""The server decisions as a tree, for the plan's search: which decisions are Server + CAL
against another model, which OSEs are licensed Server + CAL under some choices, and what server
licenses cost at least when some choices are fixed.

A *leaf* is a decision (at any depth) between Server + CAL and another model; ``force`` maps
decision keys to option labels. An OSE is *surely* Server + CAL under ``force`` when every plan
that keeps ``force`` licenses it so — which is what a lower bound may count its CALs for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal

from entitle.catalog.model import Catalog
from entitle.estate.records import Entitlement, Host
from entitle.optimize.match import allocate
from entitle.optimize.pricing import Pricing
from entitle.optimize.servers import Choice, ServerPlan, need_cost
from entitle.rules.demand import Decision, Need, Option

SERVER_CAL = "server-cal"
Force = dict[str, str]


def leaves(decisions: tuple[Decision, ...]) -> list[Decision]:
    """Decisions (at any depth) between Server + CAL and another model."""
    out = []
    for d in decisions:
        labels = {o.label for o in d.options}
        if SERVER_CAL in labels and len(labels) > 1:
            out.append(d)
        for o in d.options:
            out += leaves(o.subdecisions)
    return out


def other_label(d: Decision) -> str:
    return next(o.label for o in d.options if o.label != SERVER_CAL)


def sql_oses(needs: tuple[Need, ...], database: str) -> set[str]:
    """The OSEs whose ``database`` (the catalog's roles.database, the one Server + CAL product
    whose choice is open: rules/sql.py) these needs license Server + CAL."""
    return {n.ose for n in needs if n.model == SERVER_CAL and n.product == database and n.ose}


def server_cal_oses(plan: ServerPlan, database: str) -> frozenset[str]:
    """The OSEs whose SQL Server the plan licenses Server + CAL."""

    def walk(c: Choice) -> set[str]:
        return sql_oses(c.option.needs, database).union(*(walk(s) for s in c.sub))

    return frozenset(x for c in plan.choices for x in walk(c))


def possible_sql_oses(d: Decision, database: str) -> set[str]:
    """OSEs that some option of ``d`` (at any depth) licenses Server + CAL."""
    return set().union(
        *(
            sql_oses(o.needs, database).union(
                *(possible_sql_oses(s, database) for s in o.subdecisions)
            )
            for o in d.options
        )
    )


def _allowed(d: Decision, force: Force) -> tuple[Option, ...]:
    label = force.get(d.key)
    return tuple(o for o in d.options if label is None or o.label == label) or d.options


def sure_sql_oses(d: Decision, force: Force, database: str) -> frozenset[str]:
    """OSEs licensed Server + CAL in every plan of ``d`` that keeps ``force``."""
    return frozenset.intersection(
        *(
            frozenset(sql_oses(o.needs, database)).union(
                *(sure_sql_oses(s, force, database) for s in o.subdecisions)
            )
            for o in _allowed(d, force)
        )
    )


def labels(plan: ServerPlan) -> dict[str, str]:
    """The chosen option of every decision of ``plan`` (nested ones included), by key."""
    out: dict[str, str] = {}

    def walk(c: Choice) -> None:
        out[c.decision.key] = c.option.label
        for s in c.sub:
            walk(s)

    for c in plan.choices:
        walk(c)
    return out


def chosen_label(plan: ServerPlan, key: str) -> str | None:
    def walk(c: Choice) -> str | None:
        if c.decision.key == key:
            return c.option.label
        for s in c.sub:
            found = walk(s)
            if found:
                return found
        return None

    for c in plan.choices:
        found = walk(c)
        if found:
            return found
    return None


class ServerCosts:
    """What server licenses cost: at list price, or, with ``owned``, buying only what the owned
    licenses do not cover (:func:`entitle.optimize.match.allocate`, a transportation LP). The
    bound over every choice is :mod:`entitle.optimize.choicemilp`'s, which shares the pool."""

    def __init__(
        self,
        pricing: Pricing,
        owned: tuple[Entitlement, ...] = (),
        catalog: Catalog | None = None,
        as_of: date | None = None,
        hosts: Mapping[str, Host] | None = None,
    ):
        self.pricing, self.owned, self.catalog, self.as_of = pricing, owned, catalog, as_of
        self.hosts = hosts  # lets processor licenses cover per-core needs (match.allocate)
        self._alone: dict[int, tuple[Option, Decimal]] = {}  # per option: its needs' cost

    def needs(self, needs: tuple[Need, ...]) -> Decimal:
        if not self.owned or self.catalog is None or self.as_of is None:
            return sum((need_cost(n, self.pricing) for n in needs), Decimal(0))
        covered: dict[int, int] = defaultdict(int)
        found = allocate(self.catalog, self.owned, needs, self.pricing, self.as_of, self.hosts)
        for _, j, units, _ in found:
            covered[j] += units
        return sum(
            (
                self.pricing.amount(n.product, n.license, n.edition) * (n.quantity - covered[j])
                for j, n in enumerate(needs)
                if not n.billed
            ),
            Decimal(0),
        )

    def plan(self, plan: ServerPlan) -> Decimal:
        return self.needs(plan.needs)

    def _option(self, o: Option) -> Decimal:
        kept = self._alone.get(id(o))
        if kept is None:
            kept = self._alone[id(o)] = (o, self.needs(o.needs))  # the option keeps its id
        return kept[1]

    def least(self, d: Decision, force: Force | None = None) -> Decimal:
        """The cheapest option of ``d`` that keeps ``force``, as if alone with the pool."""
        f = force or {}
        return min(
            self._option(o) + sum((self.least(s, f) for s in o.subdecisions), Decimal(0))
            for o in _allowed(d, f)
        )


Progress = Callable[[str], None]
