"""The cheapest CALs, client MLs, CAL Suites and External Connectors that cover every need.

Builds the cut of :mod:`entitle.optimize.calgraph` from the CAL demand, solves it, and reads the
plan back: who holds which license, and which access rows force it. Owned CALs and suites cost
nothing up to their quantity, which no cut can say (a convex cost of a count); they are handled
by Lagrangian pricing — every owned resource gets a price λ between 0 and its list price, each λ
is one cut, and

    true cost ≥ min over plans of (cost at prices λ) − Σ λ·owned

gives a lower bound at every step. When the best plan found meets the bound it is proven optimal;
otherwise a small problem is solved exactly as a MILP (HiGHS) on the same graph, and a large one
is reported "within X%" of the bound.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from entitle.catalog.model import Catalog
from entitle.optimize.calbuild import CENT, SUITES, Builder, Resource, build, gc_paused
from entitle.optimize.calmilp import solve_milp
from entitle.optimize.lagrange import Problem, lagrangian
from entitle.optimize.pricing import Pricing
from entitle.rules.cals import CalDemand, CalNeed

MILP_LIMIT = 4000  # nodes: above this a gap is reported instead of solved away


@dataclass(frozen=True, slots=True)
class Holding:
    resource: Resource
    holder: str  # user id, device id or host id
    version: str | None
    because: tuple[str, ...]  # sources of the needs it covers


@dataclass(frozen=True, slots=True)
class CalPlan:
    holdings: tuple[Holding, ...]
    cost: Decimal  # cost of what must be bought (owned units free)
    lower_bound: Decimal
    method: str

    @property
    def status(self) -> str:
        if self.cost <= self.lower_bound:
            return "optimal"
        gap = (self.cost - self.lower_bound) / self.cost * 100 if self.cost else Decimal(0)
        return f"within {gap.quantize(Decimal('0.01'))}%"


def cal_graph(
    demand: CalDemand, catalog: Catalog, pricing: Pricing
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cut graph of a demand, for benchmarks and tests: (nodes, tails, heads, resource per
    edge (−1 = infinite), price in cents per resource); source 0, sink 1."""
    with gc_paused():
        b, _ = build(demand, catalog, pricing)
    tails, heads, res = b.g.arrays()
    return len(b.g.names), tails, heads, res, b.price_cents()


def optimise_cals(
    demand: CalDemand,
    catalog: Catalog,
    pricing: Pricing,
    owned: dict[tuple[Resource, str | None], int] | None = None,
) -> CalPlan:
    """The cheapest licenses covering every need of ``demand``. ``owned`` maps (resource,
    version or None for version-less) to the units owned, which cost nothing."""
    with gc_paused():
        return _optimise(demand, catalog, pricing, owned)


def _optimise(
    demand: CalDemand,
    catalog: Catalog,
    pricing: Pricing,
    owned: dict[tuple[Resource, str | None], int] | None,
) -> CalPlan:
    b, merged = build(demand, catalog, pricing)
    if not merged:
        return CalPlan((), Decimal(0), Decimal(0), "nothing to cover")
    problem = _problem(b, merged, owned or {})
    side, lower, method = lagrangian(problem)
    best_cost = problem.true_cost(side)
    if best_cost > lower and problem.n_nodes <= MILP_LIMIT:
        device_side = np.zeros(len(problem.prices), dtype=bool)
        for r, i in b.resources.items():
            device_side[i] = r.holder != "user"
        side = solve_milp(problem, device_side)
        best_cost = problem.true_cost(side)
        lower, method = best_cost, "MILP (HiGHS) on the cut graph, owned quantities exact"
    holdings = _holdings(b, side, problem.tails, problem.heads, problem.res, merged)
    return CalPlan(
        tuple(holdings), Decimal(int(best_cost)) * CENT, Decimal(int(lower)) * CENT, method
    )


def _vidx(catalog: Catalog, product: str, version: str | None) -> int:
    if version is None or product not in catalog.products:
        return -1
    if version not in catalog.product(product).version_ids:
        return -1
    return catalog.version_index(product, catalog.cal_version(product, version))


def _problem(
    b: Builder,
    merged: dict[tuple[str, str | None, str | None, str | None, bool], list[CalNeed]],
    owned: dict[tuple[Resource, str | None], int],
) -> Problem:
    cat = b.catalog
    classes = [
        (b.resources[r], _vidx(cat, r.license()[0], v) if v else 10**6, q)
        for (r, v), q in sorted(owned.items(), key=lambda x: (str(x[0][0]), x[0][1] or ""))
        if r in b.resources and q > 0
    ]
    tails, heads, res = b.g.arrays()
    need_version = np.full(len(res), -1, dtype=np.int64)
    with_classes = {c[0] for c in classes}
    if with_classes:  # versions matter only where an owned class could be used
        wanted: dict[tuple[str, str, str], int] = defaultdict(lambda: -1)
        for rows in merged.values():
            for n in rows:
                v = _vidx(cat, n.product, n.version)
                for key in (("user", n.user, n.right), ("device", n.device, n.right)):
                    if key[1] is not None:
                        wanted[key] = max(wanted[key], v)  # type: ignore[index]
                if n.external and n.host is not None:
                    k = ("ec", n.host, n.product)
                    wanted[k] = max(wanted[k], v)
        by_id = {i: r for r, i in b.resources.items()}
        for e in np.flatnonzero(np.isin(res, list(with_classes))):
            r = by_id[int(res[e])]
            node = b.g.names[int(heads[e])] if r.holder == "user" else b.g.names[int(tails[e])]
            who = str(node[1])  # type: ignore[index]
            if r.what not in SUITES:
                need_version[e] = wanted.get((r.holder, who, r.what), -1)
    return Problem(
        len(b.g.names),
        tails,
        heads,
        res,
        need_version,
        b.price_cents(),
        np.asarray([c[0] for c in classes], dtype=np.int64),
        np.asarray([c[1] for c in classes], dtype=np.int64),
        np.asarray([c[2] for c in classes], dtype=np.int64),
    )


def _holdings(
    b: Builder,
    side: np.ndarray,
    tails: np.ndarray,
    heads: np.ndarray,
    res: np.ndarray,
    merged: dict[tuple[str, str | None, str | None, str | None, bool], list[CalNeed]],
) -> list[Holding]:
    names, index = b.g.names, b.g.index
    by_id = {i: r for r, i in b.resources.items()}
    held = side.tolist()  # Python bools: indexing the array per need is slow
    covered: dict[int, list[CalNeed]] = defaultdict(list)  # by the holder's node
    for rows, u, d in zip(merged.values(), b.need_user, b.need_device, strict=True):
        n = rows[0]
        if u >= 0 and not held[u]:
            covered[u] += rows
            continue
        if d < 0 and n.device is not None:  # made by a later need, if at all
            d = index.get(("device", n.device, n.right), -1)
        if d >= 0 and held[d]:
            covered[d] += rows
        elif n.host is not None:
            e = index.get(("ec", n.host, n.product))
            if e is not None:
                covered[e] += rows
    known_versions: dict[str, tuple[bool, tuple[str, ...]]] = {}
    out = []
    for i in np.flatnonzero((res >= 0) & side[tails] & ~side[heads]).tolist():
        r = by_id[int(res[i])]
        holder = int(heads[i]) if r.holder == "user" else int(tails[i])
        who = str(names[holder][1])  # type: ignore[index]
        rows = covered.get(holder, [])
        product = r.what if r.holder == "ec" else r.what.split(":")[0]
        cataloged, known = known_versions.get(product) or known_versions.setdefault(
            product,
            (
                product in b.catalog.products,
                b.catalog.product(product).version_ids if product in b.catalog.products else (),
            ),
        )
        versions = {n.version for n in rows if n.version is not None and n.version in known}
        version = b.catalog.newest_version(product, versions) if versions and cataloged else None
        out.append(Holding(r, who, version, tuple(sorted({n.source for n in rows}))))
    out.sort(key=lambda h: (h.resource.holder, h.resource.what, h.holder))
    return out
