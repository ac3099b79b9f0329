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

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
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
        # per need built: its user's and its device's node (−1: none, or not known yet)
        self.need_user: list[int] = []
        self.need_device: list[int] = []

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

    def build(self, needs: list[CalNeed]) -> None:
        """Add every need to the graph: the same nodes and edges, in the same order, as
        :meth:`need` on each, with the per-right work (suites, resources, base rights) looked
        up once per (side, right) and the graph's lists appended to directly."""
        g = self.g
        index, names = g.index, g.names
        tails, heads, resources = g.tails, g.heads, g.resources
        based = self._based
        # per side and right: [Enterprise suite applies, Core applies, base right, resource]
        plans: dict[str, dict[str, list]] = {"user": {}, "device": {}}
        # per side and holder: [Enterprise node, Core node, Core hangs from Enterprise]
        suites: dict[str, dict[str, list]] = {"user": {}, "device": {}}
        ec_ok: dict[str, bool] = {}
        ent, core = "enterprise-cal-suite", "core-cal-suite"
        catalog = self.catalog
        resource = self.resource

        def plan(side: str, right: str) -> list:
            p = plans[side][right] = [
                self._applies(side, ent, right),
                self._applies(side, core, right),
                base_right(right, catalog),
                -1,
            ]
            return p

        def node(name: tuple[str, str, str]) -> int:
            i = len(names)
            index[name] = i
            names.append(name)
            return i

        def right_node(name: tuple[str, str, str], side: str, who: str, right: str) -> int:
            """A new node for ``who`` holding ``right`` on ``side`` (``name`` not in the graph
            yet), with its suite nodes and its cost edge."""
            n = len(names)
            index[name] = n
            names.append(name)
            p = plans[side].get(right) or plan(side, right)
            user = side == "user"
            suite = -1
            if p[0] or p[1]:
                st = suites[side].get(who)
                if st is None:
                    st = suites[side][who] = [-1, -1, False]
                if p[0]:
                    suite = st[0]
                    if suite < 0:
                        suite = st[0] = node((side, who, ent))
                        r = resource(side, ent)
                        if user:
                            tails.append(SOURCE)
                            heads.append(suite)
                        else:
                            tails.append(suite)
                            heads.append(SINK)
                        resources.append(r)
                if p[1]:
                    ent_node = suite
                    suite = st[1]
                    if suite < 0:
                        suite = st[1] = node((side, who, core))
                        if ent_node < 0:
                            r = resource(side, core)
                            if user:
                                tails.append(SOURCE)
                                heads.append(suite)
                            else:
                                tails.append(suite)
                                heads.append(SINK)
                            resources.append(r)
                    if ent_node >= 0 and not st[2]:
                        st[2] = True
                        r = resource(side, core)
                        if user:
                            tails.extend((ent_node, suite))
                            heads.extend((suite, ent_node))
                        else:
                            tails.extend((suite, ent_node))
                            heads.extend((ent_node, suite))
                        resources.extend((r, -1))
            r = p[3]
            if r < 0:
                r = p[3] = resource(side, right)
            if user:
                tails.append(SOURCE if suite < 0 else suite)
                heads.append(n)
            else:
                tails.append(n)
                heads.append(SINK if suite < 0 else suite)
            resources.append(r)
            return n

        def base(side: str, who: str, right: str, n: int) -> None:
            """Whoever holds an additive right must hold its base right too (§1.2, §1.9): the
            chain of base rights, nodes first, then its edges deepest first."""
            chain: list[tuple[int, int]] = []
            while True:
                key = (side, who, right)
                if key in based:
                    break
                based.add(key)
                b = (plans[side].get(right) or plan(side, right))[2]
                if b is None:
                    break
                name = (side, who, b)
                known = index.get(name)
                bn = right_node(name, side, who, b) if known is None else known
                chain.append((bn, n) if side == "user" else (n, bn))
                right, n = b, bn
            for t, h in reversed(chain):
                tails.append(t)
                heads.append(h)
                resources.append(-1)

        def ec(host: str, product: str) -> int:
            name = ("ec", host, product)
            known = index.get(name)
            if known is not None:
                return known
            n = node(name)
            tails.append(n)
            heads.append(SINK)
            resources.append(resource("ec", product))
            requires = catalog.product(product).ec_requires
            if requires:
                r = ec(host, requires)
                tails.append(n)
                heads.append(r)
                resources.append(-1)
            return n

        need_user, need_device = self.need_user, self.need_device
        for n in needs:  # the order of the old per-need calls: user, its base rights, device, …
            k, u, d, wb = n.right, n.user, n.device, n.with_base
            un = dn = -1
            if u is not None:
                key = ("user", u, k)
                known = index.get(key)
                un = right_node(key, "user", u, k) if known is None else known
                if wb and key not in based:
                    base("user", u, k, un)
                if wb and d is not None:
                    key = ("device", d, k)
                    known = index.get(key)
                    dn = right_node(key, "device", d, k) if known is None else known
                    if key not in based:
                        base("device", d, k, dn)
                host = n.host
                if n.external and host is not None:
                    product = n.product
                    ok = ec_ok.get(product)
                    if ok is None:
                        ok = ec_ok[product] = (
                            product in EC_PRODUCTS
                            and catalog.product(product).external_connector
                            and self.priced("ec", product)
                        )
                    if ok:
                        head = ec(host, product)  # may add edges: before this one
                        tails.append(un)
                        heads.append(head)
                        resources.append(-1)
                        need_user.append(un)
                        need_device.append(dn)
                        continue
                if d is None:
                    head = SINK
                elif dn >= 0:
                    head = dn
                else:
                    key = ("device", d, k)
                    known = index.get(key)
                    head = dn = right_node(key, "device", d, k) if known is None else known
                tails.append(un)
                heads.append(head)
                resources.append(-1)
            elif d is not None:
                key = ("device", d, k)
                known = index.get(key)
                dn = right_node(key, "device", d, k) if known is None else known
                if wb and key not in based:
                    base("device", d, k, dn)
                tails.append(SOURCE)
                heads.append(dn)
                resources.append(-1)
            need_user.append(un)
            need_device.append(dn)

    def price_cents(self) -> np.ndarray:
        out = np.zeros(len(self.resources), dtype=np.int64)
        for r, i in self.resources.items():
            product, license, edition = r.license()
            amount = self.pricing.amount(product, license, edition)
            out[i] = int((amount / CENT).to_integral_value())
        return out


def _key(n: CalNeed) -> tuple[str, str | None, str | None, str | None, bool]:
    return (n.right, n.user, n.device, n.host if n.external else None, n.with_base)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused: the build makes millions of tuples and lists, none
    in cycles, and each collection would walk all of them again (a third of the time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def cal_graph(
    demand: CalDemand, catalog: Catalog, pricing: Pricing
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cut graph of a demand, for benchmarks and tests: (nodes, tails, heads, resource per
    edge (−1 = infinite), price in cents per resource); source 0, sink 1."""
    with _gc_paused():
        b, _ = _build(demand, catalog, pricing)
    tails, heads, res = b.g.arrays()
    return len(b.g.names), tails, heads, res, b.price_cents()


def _build(
    demand: CalDemand, catalog: Catalog, pricing: Pricing
) -> tuple[_Builder, dict[tuple[str, str | None, str | None, str | None, bool], list[CalNeed]]]:
    merged: dict[tuple[str, str | None, str | None, str | None, bool], list[CalNeed]] = defaultdict(
        list
    )
    for n in demand.needs:  # _key, inlined
        merged[(n.right, n.user, n.device, n.host if n.external else None, n.with_base)].append(n)
    b = _Builder(catalog, pricing)
    b.build([rows[0] for rows in merged.values()])  # the canonical cut does not depend on the order
    return b, merged


def optimise_cals(
    demand: CalDemand,
    catalog: Catalog,
    pricing: Pricing,
    owned: dict[tuple[Resource, str | None], int] | None = None,
) -> CalPlan:
    """The cheapest licenses covering every need of ``demand``. ``owned`` maps (resource,
    version or None for version-less) to the units owned, which cost nothing."""
    with _gc_paused():
        return _optimise(demand, catalog, pricing, owned)


def _optimise(
    demand: CalDemand,
    catalog: Catalog,
    pricing: Pricing,
    owned: dict[tuple[Resource, str | None], int] | None,
) -> CalPlan:
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
