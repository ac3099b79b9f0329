"""Choosing among the options the rules allow: the cheapest, with every alternative's cost kept so
the report can say why. Ties go to fewer license units, then to the option listed first."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from entitle.optimize.pricing import Pricing
from entitle.rules.demand import Decision, Demand, Need, Option
from entitle.source import Finding


@dataclass(frozen=True, slots=True)
class Choice:
    decision: Decision
    option: Option
    cost: Decimal
    alternatives: tuple[tuple[str, Decimal], ...]  # (label, cost) of every option, chosen first
    sub: tuple[Choice, ...] = ()
    decided_with_plan: bool = False  # fixed by the whole plan, not by its own list price

    @property
    def needs(self) -> tuple[Need, ...]:
        return self.option.needs + tuple(n for c in self.sub for n in c.needs)

    def explain(self) -> str:
        others = [f"{label} {cost:,.2f}" for label, cost in self.alternatives[1:]]
        text = f"{self.option.label} ({self.cost:,.2f})"
        if others and self.decided_with_plan:
            text += (
                " — chosen with the CAL plan and owned licenses; at list price"
                " (Server + CAL with an estimate of its CALs): " + ", ".join(others)
            )
        elif others:
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


def _evaluate(decision: Decision, pricing: Pricing, force: dict[str, str], shadow: bool) -> Choice:
    scored = []
    forced = force.get(decision.key)
    for order, option in enumerate(decision.options):
        if forced is not None and option.label != forced:
            continue
        subs = tuple(_evaluate(d, pricing, force, shadow) for d in option.subdecisions)
        counted = option.needs + (option.shadow if shadow else ())
        cost = sum((need_cost(n, pricing) for n in counted), Decimal(0))
        cost += sum((c.cost for c in subs), Decimal(0))
        units = sum(n.quantity for n in option.needs) + sum(
            n.quantity for c in subs for n in c.needs
        )
        scored.append((cost, units, order, option, subs))
    scored.sort(key=lambda s: (s[0], s[1], s[2]))
    best = scored[0]
    alternatives = tuple((s[3].label, s[0]) for s in scored)
    if forced is not None:  # keep the other options' list costs for the explanation
        others = _evaluate(decision, pricing, {}, True).alternatives
        alternatives += tuple(a for a in others if a[0] != forced)
    return Choice(decision, best[3], best[0], alternatives, best[4], forced is not None)


def _warnings(choice: Choice) -> list[Finding]:
    out = []
    if choice.option.warning:
        source = choice.option.needs[0].evidence[0] if choice.option.needs else ""
        out.append(Finding("warning", "needs-sa", choice.option.warning, source))
    out += choice.option.notices
    for sub in choice.sub:
        out += _warnings(sub)
    return out


def choose(
    demand: Demand,
    pricing: Pricing,
    force: dict[str, str] | None = None,
    *,
    shadow: bool = True,
) -> ServerPlan:
    """Pick the cheapest option of every decision. ``force`` fixes the option of some decisions
    (by key); ``shadow`` counts the CALs a Server + CAL option brings (the estimate used before
    the CAL plan is known)."""
    choices = tuple(_evaluate(d, pricing, force or {}, shadow) for d in demand.decisions)
    needs: list[Need] = [n for c in choices for n in c.needs]
    findings = list(demand.findings)
    for c in choices:
        findings += _warnings(c)
    return ServerPlan(choices, tuple(needs), tuple(findings))
