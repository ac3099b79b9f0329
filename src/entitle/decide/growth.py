"""Growth: the cost of each CAL strategy year by year, and the year a strategy stops being the
cheapest.

A :class:`Projection` holds, for years 0 (today) to N, the cost of a few strategies a buyer can
adopt (all User, all Device, the recommendation kept as it is today) and a floor (the cheapest
that year: the best mix, or in data mode the exact optimum). :func:`project_answers` grows the
questionnaire's population: head count by a share a year, devices per dedicated user by a number
a year, shared devices by a share a year (each rounded half up).

Imports :mod:`entitle.decide.questionnaire`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from entitle.decide.questionnaire import (
    Answers,
    Population,
    Prices,
    Recommendation,
    choose,
    population,
    whole,
)

MAX_YEARS = 5


@dataclass(frozen=True, slots=True)
class GrowthRates:
    years: int = 3
    headcount: Decimal = Decimal(0)  # share a year (0.10 = 10 %)
    devices_per_user: Decimal = Decimal(0)  # added per dedicated user a year
    shared_devices: Decimal = Decimal(0)  # share a year

    def problems(self) -> list[str]:
        out = []
        if not 1 <= self.years <= MAX_YEARS:
            out.append(f"--years must be from 1 to {MAX_YEARS}")
        if self.headcount <= -1 or self.shared_devices <= -1:
            out.append("a growth rate must be above -100 (%)")
        if self.devices_per_user < 0:
            out.append("--devices-growth must not be negative")
        return out

    def describe(self) -> str:
        return (
            f"head count {self.headcount * 100:+.1f}%/year, devices per user "
            f"{self.devices_per_user:+} a year, shared devices {self.shared_devices * 100:+.1f}%/year"
        )


@dataclass(frozen=True, slots=True)
class Projection:
    strategies: tuple[str, ...]
    costs: tuple[tuple[Decimal, ...], ...]  # per strategy, per year 0..N
    floor_name: str
    floor: tuple[Decimal, ...]
    notes: tuple[str, ...] = ()

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(len(self.floor)))

    def cost(self, strategy: str, year: int) -> Decimal:
        return self.costs[self.strategies.index(strategy)][year]

    def cheapest(self, year: int) -> tuple[str, ...]:
        best = min(c[year] for c in self.costs)
        return tuple(s for s, c in zip(self.strategies, self.costs, strict=True) if c[year] == best)

    def stops(self, strategy: str) -> int | None:
        """The first year ``strategy`` is not (one of) the cheapest strategies; 0 = not even
        today; None = it stays the cheapest for every year projected."""
        for year in self.years:
            if strategy not in self.cheapest(year):
                return year
        return None

    def stop_text(self, strategy: str) -> str:
        """Whether ``strategy`` is the cheapest *of the strategies you could adopt* (not of the
        floor, which is priced apart: see :meth:`floor_text`)."""
        year = self.stops(strategy)
        among = "the cheapest of the strategies you could adopt"
        if year is None:
            return f"{strategy}: {among} in every year projected"
        if year == 0:
            return f"{strategy}: not {among}, even today"
        return f"{strategy}: {among} until year {year - 1}, no longer in year {year}"

    def floor_text(self) -> str:
        """How the floor (the exact optimum, or the cheapest mix) compares with the cheapest
        strategy each year: it is never dearer, and where it is cheaper the words say by how
        much, so "cheapest" above a table whose floor is lower every year is not misread."""
        gaps = [min(c[y] for c in self.costs) - self.floor[y] for y in self.years]
        below = [y for y, gap in enumerate(gaps) if gap > 0]
        name = self.floor_name
        if not below:
            return f"{name}: costs the same as the cheapest strategy in every year projected"
        span = "every year projected" if len(below) == len(gaps) else _years(below)
        return (
            f"{name}: cheaper than every strategy in {span}, by "
            + ", ".join(f"{gaps[y]:,.2f} in year {y}" for y in below)
            + (
                " (a choice per user and device, not one rule for all)"
                if "optimum" in name
                else " (each group's cheaper CAL type, year by year)"
            )
        )


def _years(years: list[int]) -> str:
    words = [f"year {y}" for y in years]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def grown(a: Answers, rates: GrowthRates, year: int) -> tuple[Population, Answers]:
    pop = population(a)
    factor = (1 + rates.headcount) ** year
    dpu = a.devices_per_user + rates.devices_per_user * year
    ded = whole(pop.dedicated_users * factor)
    return (
        Population(
            ded,
            whole(ded * dpu),
            whole(pop.shared_users * factor),
            whole(pop.shared_devices * (1 + rates.shared_devices) ** year),
            whole(pop.rest * factor),
        ),
        Answers(
            a.users,
            a.dedicated_share,
            dpu,
            a.shared_share,
            a.shared_devices,
            a.can_count_devices,
            a.device_growth,
            a.current,
        ),
    )


STRATEGIES = ("all User", "all Device", "recommended today")


def project_answers(a: Answers, p: Prices, rates: GrowthRates, today: Recommendation) -> Projection:
    fixed = {g.name: g.choice for g in today.groups}
    costs: list[list[Decimal]] = [[], [], []]
    floor = []
    for year in range(rates.years + 1):
        pop, ans = grown(a, rates, year)
        users = pop.dedicated_users + pop.shared_users + pop.rest
        costs[0].append(users * p.user)
        costs[1].append((pop.dedicated_devices + pop.shared_devices) * p.device + pop.rest * p.user)
        costs[2].append(sum((g.cost for g in choose(pop, ans, p, fixed)), Decimal(0)))
        floor.append(
            sum(
                (
                    min(g.user_cost, g.device_cost) if g.name != "rest" else g.cost
                    for g in choose(pop, ans, p)
                ),
                Decimal(0),
            )
        )
    notes = (
        "all Device: people with no known device still need user CALs",
        f"growth: {rates.describe()}",
    )
    return Projection(
        STRATEGIES, tuple(tuple(c) for c in costs), "cheapest mix that year", tuple(floor), notes
    )
