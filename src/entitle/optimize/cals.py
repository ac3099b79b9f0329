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
from entitle.optimize.calgraph import SINK, SOURCE, Graph
from entitle.optimize.calmilp import solve_milp
from entitle.optimize.lagrange import Problem, lagrangian
from entitle.optimize.pricing import Pricing
from entitle.rules.cals import EC_PRODUCTS, CalDemand, CalNeed, base_right

CENT = Decimal("0.01")
SUITES = ("enterprise-cal-suite", "core-cal-suite")
MILP_LIMIT = 4000  # nodes: above this a gap is reported instead of solved away


@dataclass(frozen=True, slots=True)
class Resource:
    """A kind of license the plan can buy: (holder kind, what)."""

    holder: str  # user | device | ec
    what: str  # a right ("windows-server:cal"), a suite id, or a product (for an EC)

    def license(self) -> tuple[str, str, str | None]:
        """(product, license kind, edition/level) of one unit of this resource."""
        if self.holder == "ec":
            return (self.what, "external-connector", None)
        if self.what in SUITES:
            return (self.what, f"{self.holder}-cal", None)
        product, _, kind = self.what.partition(":")
        if kind == "ml":
            return (product, "client-ml-user" if self.holder == "user" else "client-ml-ose", None)
        level = "enterprise" if kind == "cal-enterprise" else None
        return (product, f"{self.holder}-cal", level)


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


class _Builder:
    def __init__(self, catalog: Catalog, pricing: Pricing):
        self.catalog = catalog
        self.pricing = pricing
        self.g = Graph()
        self.resources: dict[Resource, int] = {}
        self.suite_rights = self._suite_rights()
        self._priced: dict[tuple[str, str], bool] = {}
        self._res_ids: dict[tuple[str, str], int] = {}
        self._applies_cache: dict[tuple[str, str, str], bool] = {}
        self._based: set[tuple[str, str, str]] = set()

    def _suite_rights(self) -> dict[str, set[str]]:
        out = {}
        for sid in SUITES:
            if sid in self.catalog.suites:
                out[sid] = {str(c) for c in self.catalog.suite_components(sid)}
        return out

    def resource(self, holder: str, what: str) -> int:
        key = (holder, what)
        i = self._res_ids.get(key)
        if i is None:
            i = self._res_ids[key] = len(self.resources)
            self.resources[Resource(holder, what)] = i
        return i

    def priced(self, holder: str, what: str) -> bool:
        key = (holder, what)
        known = self._priced.get(key)
        if known is None:
            product, license, edition = Resource(holder, what).license()
            known = self._priced[key] = self.pricing.unit(product, license, edition) is not None
        return known

    def right(self, side: str, who: str, right: str, seen: set[tuple[str, str, str]]) -> int:
        """The node for ``who`` holding ``right`` on ``side``, with its cost edge."""
        name = (side, who, right)
        known = self.g.index.get(name)
        if known is not None:  # right nodes are only made here, with their cost edge
            return known
        node = self.g.node(name)
        suite = self._suite_node(side, who, right, seen)
        res = self.resource(side, right)
        if side == "user":
            self.g.edge(suite if suite is not None else SOURCE, node, res)
        else:
            self.g.edge(node, suite if suite is not None else SINK, res)
        return node

    def _applies(self, side: str, suite: str, right: str) -> bool:
        key = (side, suite, right)
        known = self._applies_cache.get(key)
        if known is None:
            known = self._applies_cache[key] = (
                suite in self.suite_rights
                and right in self.suite_rights[suite]
                and self.priced(side, suite)
            )
        return known

    def _suite_node(
        self, side: str, who: str, right: str, seen: set[tuple[str, str, str]]
    ) -> int | None:
        """The suite node a right hangs from (Core where it is a Core component, else
        Enterprise), or None where no priced suite holds the right."""
        ent = "enterprise-cal-suite"
        ent_node = (
            self._suite(side, who, ent, seen, root=True)
            if self._applies(side, ent, right)
            else None
        )
        if not self._applies(side, "core-cal-suite", right):
            return ent_node
        core_node = self._suite(side, who, "core-cal-suite", seen, root=ent_node is None)
        if ent_node is not None and (side, who, "core<ent") not in seen:
            seen.add((side, who, "core<ent"))
            res = self.resource(side, "core-cal-suite")
            if side == "user":
                self.g.edge(ent_node, core_node, res)  # Core paid only without Enterprise
                self.g.edge(core_node, ent_node)  # Enterprise includes Core
            else:
                self.g.edge(core_node, ent_node, res)
                self.g.edge(ent_node, core_node)
        return core_node

    def _suite(
        self, side: str, who: str, suite: str, seen: set[tuple[str, str, str]], *, root: bool
    ) -> int:
        name = (side, who, suite)
        node = self.g.node(name)
        if name not in seen:
            seen.add(name)
            if root:
                res = self.resource(side, suite)
                if side == "user":
                    self.g.edge(SOURCE, node, res)
                else:
                    self.g.edge(node, SINK, res)
        return node

    def ec(self, host: str, product: str, seen: set[tuple[str, str, str]]) -> int:
        name = ("ec", host, product)
        node = self.g.node(name)
        if name not in seen:
            seen.add(name)
            self.g.edge(node, SINK, self.resource("ec", product))
            requires = self.catalog.product(product).ec_requires
            if requires:
                self.g.edge(node, self.ec(host, requires, seen))
        return node

    def base(
        self, side: str, who: str, right: str, node: int, seen: set[tuple[str, str, str]]
    ) -> None:
        """Whoever holds an additive right must hold its base right too (§1.2, §1.9)."""
        key = (side, who, right)
        if key in self._based:
            return
        self._based.add(key)
        base = base_right(right, self.catalog)
        if base is None:
            return
        b = self.right(side, who, base, seen)
        self.base(side, who, base, b, seen)
        if side == "user":
            self.g.edge(b, node)
        else:
            self.g.edge(node, b)

    def need(self, n: CalNeed, seen: set[tuple[str, str, str]]) -> None:
        for side, who in (("user", n.user), ("device", n.device)):
            if who is not None and n.with_base:
                self.base(side, who, n.right, self.right(side, who, n.right, seen), seen)
        ec_product = n.product if self.ec_possible(n) else None
        if n.user is not None:
            u = self.right("user", n.user, n.right, seen)
            if ec_product is not None and n.host is not None:
                # An external user: a CAL of theirs, or a connector on the host. Their device,
                # which belongs to another organisation, is not used for a device CAL.
                self.g.edge(u, self.ec(n.host, ec_product, seen))
            elif n.device is not None:
                self.g.edge(u, self.right("device", n.device, n.right, seen))
            else:
                self.g.edge(u, SINK)
        elif n.device is not None:
            self.g.edge(SOURCE, self.right("device", n.device, n.right, seen))

    def ec_possible(self, n: CalNeed) -> bool:
        return (
            n.external
            and n.user is not None
            and n.host is not None
            and n.product in EC_PRODUCTS
            and self.catalog.product(n.product).external_connector
            and self.priced("ec", n.product)
        )

    def price_cents(self) -> np.ndarray:
        out = np.zeros(len(self.resources), dtype=np.int64)
        for r, i in self.resources.items():
            product, license, edition = r.license()
            amount = self.pricing.amount(product, license, edition)
            out[i] = int((amount / CENT).to_integral_value())
        return out


def _key(n: CalNeed) -> tuple[str, str | None, str | None, str | None, bool]:
    return (n.right, n.user, n.device, n.host if n.external else None, n.with_base)


def cal_graph(
    demand: CalDemand, catalog: Catalog, pricing: Pricing
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cut graph of a demand, for benchmarks and tests: (nodes, tails, heads, resource per
    edge (−1 = infinite), price in cents per resource); source 0, sink 1."""
    b, _ = _build(demand, catalog, pricing)
    tails, heads, res = b.g.arrays()
    return len(b.g.names), tails, heads, res, b.price_cents()


def _build(
    demand: CalDemand, catalog: Catalog, pricing: Pricing
) -> tuple[_Builder, dict[tuple[str, str | None, str | None, str | None, bool], list[CalNeed]]]:
    merged: dict[tuple[str, str | None, str | None, str | None, bool], list[CalNeed]] = defaultdict(
        list
    )
    for n in demand.needs:
        merged[_key(n)].append(n)
    b = _Builder(catalog, pricing)
    seen: set[tuple[str, str, str]] = set()
    for rows in merged.values():  # the canonical cut does not depend on the order
        b.need(rows[0], seen)
    return b, merged


def optimise_cals(
    demand: CalDemand,
    catalog: Catalog,
    pricing: Pricing,
    owned: dict[tuple[Resource, str | None], int] | None = None,
) -> CalPlan:
    """The cheapest licenses covering every need of ``demand``. ``owned`` maps (resource,
    version or None for version-less) to the units owned, which cost nothing."""
    b, merged = _build(demand, catalog, pricing)
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
    b: _Builder,
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
    b: _Builder,
    side: np.ndarray,
    tails: np.ndarray,
    heads: np.ndarray,
    res: np.ndarray,
    merged: dict[tuple[str, str | None, str | None, str | None, bool], list[CalNeed]],
) -> list[Holding]:
    names = b.g.names
    by_id = {i: r for r, i in b.resources.items()}
    covered: dict[tuple[str, str, str], list[CalNeed]] = defaultdict(list)
    for rows in merged.values():
        n = rows[0]
        u = b.g.index.get(("user", n.user, n.right))
        d = b.g.index.get(("device", n.device, n.right))
        if u is not None and not side[u]:
            covered[("user", n.user or "", n.right)] += rows
        elif d is not None and side[d]:
            covered[("device", n.device or "", n.right)] += rows
        elif n.host is not None:
            covered[("ec", n.host, n.product)] += rows
    out = []
    for i in np.flatnonzero((res >= 0) & side[tails] & ~side[heads]):
        r = by_id[int(res[i])]
        node = names[int(heads[i])] if r.holder == "user" else names[int(tails[i])]
        who = str(node[1])  # type: ignore[index]
        rows = covered.get((r.holder, who, r.what), [])
        product = r.what if r.holder == "ec" else r.what.split(":")[0]
        known = b.catalog.product(product).version_ids if product in b.catalog.products else ()
        versions = {n.version for n in rows if n.version in known}
        version = (
            b.catalog.newest_version(product, versions)
            if versions and product in b.catalog.products
            else None
        )
        out.append(Holding(r, who, version, tuple(sorted({n.source for n in rows}))))
    out.sort(key=lambda h: (h.resource.holder, h.resource.what, h.holder))
    return out
