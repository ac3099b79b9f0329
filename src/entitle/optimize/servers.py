"""Choosing among the options the rules allow: the cheapest, with every alternative's cost kept so
the report can say why. Ties go to fewer license units, then to the option listed first."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from entitle.optimize.cover import min_vertex_cover
from entitle.optimize.pricing import Pricing
from entitle.rules.demand import CoverProblem, Decision, Demand, Need, Option
from entitle.source import Finding

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Choice:
    decision: Decision
    option: Option
    cost: Decimal
    alternatives: tuple[tuple[str, Decimal], ...]  # (label, cost) of every option, chosen first
    sub: tuple[Choice, ...] = ()

    @property
    def needs(self) -> tuple[Need, ...]:
        return self.option.needs + tuple(n for c in self.sub for n in c.needs)

    def explain(self) -> str:
        others = [f"{label} {cost:,.2f}" for label, cost in self.alternatives[1:]]
        text = f"{self.option.label} ({self.cost:,.2f})"
        if others:
            text += " cheaper than " + ", ".join(others)
        return text


@dataclass(frozen=True, slots=True)
class ServerPlan:
    choices: tuple[Choice, ...]
    needs: tuple[Need, ...]
    findings: tuple[Finding, ...]


def need_cost(need: Need, pricing: Pricing) -> Decimal:
    """What buying ``need`` outright would cost (billed needs are never bought)."""
    if need.billed:
        return Decimal(0)
    return pricing.amount(need.product, need.license, need.edition) * need.quantity


def _evaluate(decision: Decision, pricing: Pricing) -> Choice:
    scored = []
    for order, option in enumerate(decision.options):
        subs = tuple(_evaluate(d, pricing) for d in option.subdecisions)
        cost = sum((need_cost(n, pricing) for n in option.needs + option.shadow), Decimal(0))
        cost += sum((c.cost for c in subs), Decimal(0))
        units = sum(n.quantity for n in option.needs) + sum(
            n.quantity for c in subs for n in c.needs
        )
        scored.append((cost, units, order, option, subs))
    scored.sort(key=lambda s: (s[0], s[1], s[2]))
    best = scored[0]
    alternatives = tuple((s[3].label, s[0]) for s in scored)
    return Choice(decision, best[3], best[0], alternatives, best[4])


def _warnings(choice: Choice) -> list[Finding]:
    out = []
    if choice.option.warning:
        source = choice.option.needs[0].evidence[0] if choice.option.needs else ""
        out.append(Finding("warning", "needs-sa", choice.option.warning, source))
    for sub in choice.sub:
        out += _warnings(sub)
    return out


def cover_needs(problem: CoverProblem, pricing: Pricing) -> list[Need]:
    """Solve one per-user-or-per-device cover and return the needs of the cheapest answer."""
    user_price = pricing.amount(problem.product, problem.user_license)
    device_price = pricing.amount(problem.product, problem.device_license)
    cents_u = int((user_price / CENT).to_integral_value())
    cents_d = int((device_price / CENT).to_integral_value())
    users = {u for u, _ in problem.pairs}
    devices = {d for _, d in problem.pairs}
    result = min_vertex_cover(
        {u: cents_u for u in users}, {d: cents_d for d in devices}, list(problem.pairs)
    )
    chosen_devices = sorted(set(result.devices) | set(problem.device_only))
    chosen_users = sorted(set(result.users) | set(problem.user_only))
    out = []
    if chosen_users:
        out.append(Need(problem.product, problem.user_license, len(chosen_users), None,
                        problem.version, model="management",
                        reason=f"{problem.reason}: {len(chosen_users)} user(s) cheaper per user "
                        f"({result.method})", evidence=problem.evidence,
                        holders=tuple(chosen_users)))
    if chosen_devices:
        out.append(Need(problem.product, problem.device_license, len(chosen_devices), None,
                        problem.version, model="management",
                        reason=f"{problem.reason}: {len(chosen_devices)} OSE(s) licensed per OSE "
                        f"({result.method})", evidence=problem.evidence,
                        holders=tuple(chosen_devices)))
    return out


def choose(demand: Demand, pricing: Pricing) -> ServerPlan:
    """Pick the cheapest option of every decision and solve every cover."""
    choices = tuple(_evaluate(d, pricing) for d in demand.decisions)
    needs: list[Need] = [n for c in choices for n in c.needs]
    for problem in demand.covers:
        needs += cover_needs(problem, pricing)
    findings = list(demand.findings)
    for c in choices:
        findings += _warnings(c)
    return ServerPlan(choices, tuple(needs), tuple(findings))
