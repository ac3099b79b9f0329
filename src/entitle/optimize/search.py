"""The search for the cheapest server choices with the SQL CALs they bring, as named strategies.

Every strategy returns an :class:`Outcome`: a plan (server choices and their cost, the SQL CALs
included) and, where it proves one, a lower bound on the cost of every plan. The plan of the
search is the cheapest outcome's (the first of equals, so every run gives the same); its bound
the highest bound. The CALs of every other right do not depend on these choices: they are
planned once, outside (:func:`entitle.optimize.plan.make_plan`).

Strategies:

* ``list price`` — every decision at its list price, Server + CAL with an estimate of its CALs;
* ``every combination`` — with few open Server + CAL choices, all of them both ways;
* ``per component`` — with many, per group of choices sharing users or devices: the group's
  combinations at list price with their SQL CALs (one choice at a time in a large group);
* ``exact choices`` — every option of every decision in one MILP
  (:mod:`entitle.optimize.choicemilp`), the owned server licenses shared, each group's SQL CALs
  from a table of its combinations: a plan, and the bound;
* ``owned licenses`` — with owned server licenses, every other option of every decision tried
  one at a time until nothing improves.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from entitle.optimize.choicemilp import GroupTable, solve_choices
from entitle.optimize.choices import (
    SERVER_CAL,
    Force,
    Progress,
    ServerCosts,
    chosen_label,
    labels,
    leaves,
    other_label,
    server_cal_oses,
)
from entitle.optimize.pricing import Pricing
from entitle.optimize.servers import ServerPlan, choose
from entitle.optimize.sqlcals import Group, SqlCals, groups_of, merged
from entitle.rules.demand import Demand

EXHAUSTIVE_LIMIT = 6  # open Server + CAL choices tried in every combination
COMPONENT_EXHAUSTIVE = 10  # open choices in one group tried in every combination
OWNED_SQL_COMBINATIONS = 64  # with owned SQL CALs each combination is one optimise_cals


@dataclass(frozen=True, slots=True)
class Outcome:
    strategy: str
    force: Force  # the option of every open Server + CAL decision (by key)
    servers: ServerPlan
    cost: Decimal  # server licenses and SQL CALs
    bound: Decimal | None = None  # on every plan's cost; None: this strategy proves none


class PlanSearch:
    def __init__(
        self,
        demand: Demand,
        pricing: Pricing,
        costs: ServerCosts,
        sql: SqlCals,
        say: Progress,
    ):
        self.demand, self.pricing, self.costs, self.sql, self.say = (
            demand,
            pricing,
            costs,
            sql,
            say,
        )
        self.leaves = leaves(demand.decisions)
        self.other = {d.key: other_label(d) for d in self.leaves}
        self.at_list = ServerCosts(pricing)
        self.outcomes: tuple[Outcome, ...] = ()
        self._groups: list[Group] | None = None

    def run(self, owned: bool) -> tuple[Outcome, Decimal]:
        """The strategies in turn, each from the cheapest plan so far; the cheapest plan (the
        first of equals) and the highest bound. ``owned``: server licenses are owned, so
        every option is worth trying against them."""
        outcomes = [self.list_price()]
        if 0 < len(self.leaves) <= EXHAUSTIVE_LIMIT:
            outcomes.append(self.every_combination(_cheapest(outcomes)))
        elif self.leaves:
            outcomes.append(self.per_component(_cheapest(outcomes)))
        outcomes.append(self.exact_choices(_cheapest(outcomes)))
        if owned:
            outcomes.append(self.owned_licenses(_cheapest(outcomes)))
        self.outcomes = tuple(outcomes)  # what each strategy found, for tests and --explain
        best = _cheapest(outcomes)
        bound = max((o.bound for o in outcomes if o.bound is not None), default=Decimal(0))
        return best, min(bound, best.cost)

    # -- pricing one plan ------------------------------------------------------------------

    def total(
        self, force: Force, beat: Decimal | None = None
    ) -> tuple[Decimal, Decimal, ServerPlan]:
        """Cost of the plan with the choices ``force`` (others at list price), and a bound of
        that plan's cost. With ``beat``, a plan that cannot cost less may come back unfinished:
        then its cost and bound are both at least ``beat``."""
        servers = choose(self.demand, self.pricing, force, shadow=False)
        cost = self.costs.plan(servers)
        give_up = None if beat is None else beat - cost
        cal = self.sql.plan(
            server_cal_oses(servers, self.sql.catalog.roles.database), give_up_at=give_up
        )
        return cost + cal.cost, cost + cal.lower_bound, servers

    def outcome(self, strategy: str, force: Force, bound: Decimal | None = None) -> Outcome:
        cost, _, servers = self.total(force)
        return Outcome(strategy, force, servers, cost, bound)

    # -- strategies ------------------------------------------------------------------------

    def list_price(self) -> Outcome:
        first = choose(self.demand, self.pricing)  # Server + CAL with an estimate of its CALs
        chosen = labels(first)  # one walk of the plan, not one per leaf
        return self.outcome(
            "list price", {d.key: chosen.get(d.key) or self.other[d.key] for d in self.leaves}
        )

    def every_combination(self, start: Outcome) -> Outcome:
        self.say(f"trying all {2 ** len(self.leaves)} Server + CAL combinations")
        best = start
        for combo in itertools.product((True, False), repeat=len(self.leaves)):
            trial = {
                d.key: SERVER_CAL if c else self.other[d.key]
                for d, c in zip(self.leaves, combo, strict=True)
            }
            cost, _, servers = self.total(trial, beat=best.cost)
            if cost < best.cost:
                best = Outcome("every combination", trial, servers, cost)
        return best

    def per_component(self, start: Outcome) -> Outcome:
        """Many open choices: per group, the combination whose list-price servers plus SQL
        CALs (nothing owned) cost least — every combination where the group has few choices,
        one choice at a time otherwise. A plan only: its bound is :meth:`exact_choices`'."""
        groups = self.groups()
        self.say(f"deciding {len(self.leaves)} Server + CAL choices in {len(groups)} groups")
        force = dict(start.force)
        few = [g for g in groups if len(g.leaves) <= COMPONENT_EXHAUSTIVE]
        combos = {id(g): g.combos(self.other) for g in few}
        values: dict[int, list[Decimal]] = defaultdict(list)
        for j in range(max((len(c) for c in combos.values()), default=0)):
            batch = [g for g in few if j < len(combos[id(g)])]
            sets = [g.surely(combos[id(g)][j]) for g in batch]
            for g, sql in zip(batch, self.sql.exact_apart(sets), strict=True):
                combo = combos[id(g)][j]
                server = sum((self.at_list.least(d, combo) for d in g.tops), Decimal(0))
                values[id(g)].append(server + sql)
        for g in groups:
            if id(g) in combos:
                j = values[id(g)].index(min(values[id(g)]))  # the first of the cheapest
                force.update(combos[id(g)][j])
            else:
                force.update(self._one_at_a_time(g))
        return self.outcome("per component", force)

    def owned_licenses(self, start: Outcome) -> Outcome:
        """Every other option of every decision, one at a time, kept where it lowers the total
        with owned licenses used first; repeated until nothing improves."""
        self.say(f"checking {len(self.demand.decisions)} server choices against owned licenses")
        force, best, servers = dict(start.force), start.cost, start.servers
        improved = True
        while improved:
            improved = False
            for d in sorted(self.demand.decisions, key=lambda x: x.key):
                for option in d.options:
                    current = chosen_label(servers, d.key)
                    if option.label == current or len(d.options) < 2:
                        continue
                    trial = {**force, d.key: option.label}
                    cost, _, plan = self.total(trial, beat=best)
                    if cost < best:
                        force, best, servers, improved = trial, cost, plan, True
        if best < start.cost:
            return Outcome("owned licenses", force, servers, best)
        return start

    def exact_choices(self, start: Outcome) -> Outcome:
        """Every server choice in one MILP (:mod:`entitle.optimize.choicemilp`), each group's
        SQL CALs from a table of its combinations: a plan and a bound of every plan's cost.

        Owned SQL CALs are one pool for every group. When the groups' choices are few, they
        are priced as one group; otherwise two bounds are solved and the higher kept: each
        group with the whole pool (while that is at most ``OWNED_SQL_COMBINATIONS`` CAL plans),
        and every group with nothing owned less what the whole pool can save (each owned unit
        one license at its list price)."""
        groups = self.groups()
        apart = self.sql.owns_any and len(groups) > 1
        if apart and self._few(merged(groups)):
            groups, apart = [merged(groups)], False
        self.say(f"choosing {len(self.demand.decisions)} server decisions in one MILP")
        best = None
        sets = sum(2 ** len(g.leaves) for g in groups if self._few(g))
        if not apart or sets <= OWNED_SQL_COMBINATIONS:  # each set one optimise_cals
            best = self._choices(groups, self.sql.lower_apart)
        if apart:
            pooled = self._choices(groups, self.sql.exact_apart, less=self.sql.owned_value)
            if pooled is not None and (best is None or _bound(pooled) > _bound(best)):
                best = pooled
        return best or start

    def _choices(
        self,
        groups: list[Group],
        price: Callable[[list[frozenset[str]]], list[Decimal]],
        less: Decimal = Decimal(0),
    ) -> Outcome | None:
        tables: list[GroupTable] = []
        relaxed = -less
        few = [g for g in groups if self._few(g)]
        combos = {id(g): g.combos(self.other) for g in few}
        sets = {id(g): [g.surely(c) for c in combos[id(g)]] for g in few}
        values: dict[int, list[Decimal]] = defaultdict(list)
        for j in range(max((len(c) for c in combos.values()), default=0)):
            batch = [g for g in few if j < len(combos[id(g)])]
            priced = price([sets[id(g)][j] for g in batch])
            for g, sql in zip(batch, priced, strict=True):
                values[id(g)].append(sql)
        for g in groups:
            if id(g) in combos:
                tables.append(GroupTable(g.leaves, tuple(combos[id(g)]), tuple(values[id(g)])))
            else:
                relaxed += price([g.sure({})])[0]
        solved = solve_choices(self.demand.decisions, self.costs, tables)
        if solved is None:  # pragma: no cover - nothing to decide, or too large to be exact
            return None
        bound = solved.lower_bound + relaxed
        # Forced only where the MILP differs from the list price (and every Server + CAL
        # choice), so the report explains the other choices by their list prices — unless that
        # plan would cost more than the MILP's own.
        listed = labels(choose(self.demand, self.pricing, shadow=False))
        keys = {d.key for d in self.leaves}
        forced = {k: v for k, v in solved.force.items() if k in keys or v != listed.get(k)}
        exact = self.outcome("exact choices", solved.force, bound)
        if forced == solved.force:
            return exact
        lighter = self.outcome("exact choices", forced, bound)
        return lighter if lighter.cost <= exact.cost else exact

    # -- helpers ---------------------------------------------------------------------------

    def groups(self) -> list[Group]:
        """The groups of Server + CAL decisions, found once for every strategy that asks."""
        if self._groups is None:
            database = self.sql.catalog.roles.database
            self._groups = groups_of(self.demand.decisions, self.sql.holders, database)
        return self._groups

    def _few(self, g: Group) -> bool:
        limit = COMPONENT_EXHAUSTIVE
        if self.sql.owns_any:  # each combination is a whole optimise_cals
            limit = min(limit, OWNED_SQL_COMBINATIONS.bit_length() - 1)
        return len(g.leaves) <= limit

    def _one_at_a_time(self, g: Group) -> Force:
        """A group with many choices: flip one choice at a time while the group's list-price
        servers plus its SQL CALs (nothing owned) get cheaper, starting all Server + CAL."""

        def cost(f: Force) -> Decimal:
            server = sum((self.at_list.least(d, f) for d in g.tops), Decimal(0))
            return server + self.sql.exact_apart([g.sure(f)])[0]

        current = {d.key: SERVER_CAL for d in g.leaves}
        improved = True
        while improved:
            improved = False
            for d in g.leaves:
                flipped = self.other[d.key] if current[d.key] == SERVER_CAL else SERVER_CAL
                trial = {**current, d.key: flipped}
                if cost(trial) < cost(current):
                    current, improved = trial, True
        return current


def _bound(o: Outcome) -> Decimal:
    return o.bound if o.bound is not None else Decimal(0)


def _cheapest(outcomes: list[Outcome]) -> Outcome:
    return min(outcomes, key=lambda o: o.cost)  # the first of equals
