"""The cheapest CALs, client MLs, CAL Suites and External Connectors that cover every need.

Builds the cut of :mod:`entitle.optimize.calgraph` from the CAL demand, solves it, and reads the
plan back: who holds which license, and which access rows force it. Owned CALs and suites cost
nothing up to their quantity, which no cut can say (a convex cost of a count); they are handled
by Lagrangian pricing — every owned resource gets a price λ between 0 and its list price, each λ
is one cut, and

    true cost ≥ min over plans of (cost at prices λ) − Σ λ·owned

gives a lower bound at every step. When the best plan found meets the bound it is proven optimal;
otherwise a problem of up to ``MILP_COST_LIMIT`` nodes is solved as a MILP (HiGHS, to a zero gap)
on the same graph, whose dual bound is the lower bound (with the tie-break solve up to
``MILP_LIMIT`` nodes), and a larger one is reported "within X%" of the bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal

import numpy as np

from entitle.catalog.model import Catalog
from entitle.optimize.calbuild import Cut, Resources, build_cut, suite_pair
from entitle.optimize.calgraph import Prepared
from entitle.optimize.calmilp import solve_milp
from entitle.optimize.calorder import Order, need_order
from entitle.optimize.calplan import (  # noqa: F401 - CalPlan, Holding, Resource: its results
    CENT,
    MILP_COST_LIMIT,
    MILP_LIMIT,
    NOTHING,
    CalPlan,
    Holding,
    Holdings,
    Resource,
)
from entitle.optimize.calrows import Rows, distinct, rows_of, sorted_codes
from entitle.optimize.lagrange import Problem, lagrangian
from entitle.optimize.pricing import Pricing
from entitle.rules.cals import CalDemand, CalNeed, CalNeeds


def cal_graph(
    demand: CalDemand, catalog: Catalog, pricing: Pricing
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cut graph of a demand, for benchmarks and tests: (nodes, tails, heads, resource per
    edge (−1 = infinite), price in cents per resource); source 0, sink 1."""
    cut = build(rows_of(demand.needs), catalog, pricing)
    return cut.n_nodes, cut.tails, cut.heads, cut.res, cut.prices


def build(rows: Rows, catalog: Catalog, pricing: Pricing) -> Cut:
    """The cut of ``rows``."""
    return build_cut(rows, Resources(catalog, pricing))


def optimise_cals(
    demand: CalDemand,
    catalog: Catalog,
    pricing: Pricing,
    owned: dict[tuple[Resource, str | None], int] | None = None,
    give_up_at: Decimal | None = None,
    milp_nodes: int | None = None,
) -> CalPlan:
    """The cheapest licenses covering every need of ``demand``. ``owned`` maps (resource,
    version or None for version-less) to the units owned, which cost nothing.

    ``milp_nodes``: the largest graph whose Lagrangian gap a MILP closes (default
    ``MILP_COST_LIMIT``); a search pricing many alternatives asks for less.

    ``give_up_at``: a caller comparing alternatives only needs to know that this one costs at
    least so much. Once the lower bound reaches it, the best plan found so far is returned
    with that bound, without closing the gap."""
    return _optimise(demand, catalog, pricing, owned, give_up_at, milp_nodes)


def _optimise(
    demand: CalDemand,
    catalog: Catalog,
    pricing: Pricing,
    owned: dict[tuple[Resource, str | None], int] | None,
    give_up_at: Decimal | None = None,
    milp_nodes: int | None = None,
) -> CalPlan:
    if not demand.needs:
        return NOTHING
    rows = rows_of(demand.needs)
    cut = build(rows, catalog, pricing)
    problem = _problem(cut, rows, catalog, owned or {})
    enough = None  # cents
    if give_up_at is not None:
        enough = int((give_up_at / CENT).to_integral_value(rounding=ROUND_CEILING))
    side, lower, method = lagrangian(problem, enough)
    best_cost = problem.true_cost(side)
    gave_up = enough is not None and lower >= enough
    limit = MILP_COST_LIMIT if milp_nodes is None else milp_nodes
    if best_cost > lower and problem.n_nodes <= limit and not gave_up:
        device_side = np.zeros(len(problem.prices), dtype=bool)
        for r, i in cut.resources.items():
            device_side[i] = r.holder != "user"
        # Small demands' ties were settled with the graph numbered need by need (calorder.py);
        # large ones' with the builder's own numbering.
        order = None
        if rows.n_groups <= MILP_LIMIT or cut.n_nodes <= MILP_LIMIT:
            order = need_order(cut, rows, suite_pair(catalog))
        milp_problem = problem if order is None else _renumbered(problem, cut, order)
        exact = solve_milp(milp_problem, device_side, tie_break=problem.n_nodes <= MILP_LIMIT)
        if exact is not None:
            if exact.cost <= best_cost:  # never dearer, unless stopped at the node limit
                side, best_cost = exact.source_side, exact.cost
                if order is not None:
                    side = np.empty_like(exact.source_side)
                    side[order.nodes] = exact.source_side
            lower = max(lower, exact.lower_bound)
            method = "MILP (HiGHS, zero gap) on the cut graph, owned quantities exact"
    holdings = _holdings(cut, rows, catalog, side)
    return CalPlan(holdings, Decimal(int(best_cost)) * CENT, Decimal(int(lower)) * CENT, method)


def _renumbered(p: Problem, cut: Cut, order: Order) -> Problem:
    tails, heads, res = order.apply(cut)
    e = order.edges
    return Problem(
        p.n_nodes,
        tails,
        heads,
        res,
        p.need_version[e],
        p.prices,
        p.class_res,
        p.class_version,
        p.class_qty,
    )


def costs_apart(
    demands: Sequence[Sequence[CalNeed]], catalog: Catalog, pricing: Pricing
) -> list[Decimal] | None:
    """The cost of the cheapest plan of each demand (nothing owned), as ``optimise_cals`` would
    find it alone, from one cut of them all; None when two of them share a connected component
    of the cut (a holder), where one cut would not price them apart."""
    if not any(demands):
        return [Decimal(0)] * len(demands)
    rows = rows_of(CalNeeds.joined(demands))
    label = np.repeat(np.arange(len(demands)), [len(d) for d in demands])
    cut = build(rows, catalog, pricing)
    graph = Prepared(cut.n_nodes, cut.tails, cut.heads)
    group_label = label[rows.first]
    if (group_label[rows.row_group] != label).any():  # one need in two demands
        return None
    comp_label = np.full(graph.n_comp, -1, dtype=np.int64)
    for nodes in (cut.group_user, cut.group_device, cut.group_ec):
        at = nodes >= 0
        comp_label[graph.node_comp[nodes[at]]] = group_label[at]
    for nodes in (cut.group_user, cut.group_device, cut.group_ec):
        at = nodes >= 0
        if (comp_label[graph.node_comp[nodes[at]]] != group_label[at]).any():
            return None
    edge_label = comp_label[graph.comp]
    if (edge_label < 0).any():  # pragma: no cover - every component holds a need's node
        return None
    finite = cut.res >= 0
    side = graph.min_cut(np.where(finite, cut.prices[np.maximum(cut.res, 0)], -1)).source_side
    bought = np.flatnonzero(finite & side[cut.tails] & ~side[cut.heads])
    cents = np.zeros(len(demands), dtype=np.int64)
    np.add.at(cents, edge_label[bought], cut.prices[cut.res[bought]])
    return [Decimal(int(c)) * CENT for c in cents]


def _vidx(catalog: Catalog, product: str, version: str | None) -> int:
    if version is None or product not in catalog.products:
        return -1
    if version not in catalog.product(product).version_ids:
        return -1
    return catalog.version_index(product, catalog.cal_version(product, version))


def _holder_nodes(cut: Cut, edges: np.ndarray) -> np.ndarray:
    """The node of the holder of each finite edge: the head on the user side, else the tail."""
    user = np.zeros(len(cut.prices), dtype=bool)
    for r, i in cut.resources.items():
        user[i] = r.holder == "user"
    return np.where(user[cut.res[edges]], cut.heads[edges], cut.tails[edges])


def _problem(
    cut: Cut,
    rows: Rows,
    catalog: Catalog,
    owned: dict[tuple[Resource, str | None], int],
) -> Problem:
    classes = [
        (cut.resources[r], _vidx(catalog, r.license()[0], v) if v else 10**6, q)
        for (r, v), q in sorted(owned.items(), key=lambda x: (str(x[0][0]), x[0][1] or ""))
        if r in cut.resources and q > 0
    ]
    need_version = np.full(len(cut.res), -1, dtype=np.int64)
    with_classes = [c[0] for c in classes]
    if with_classes:  # versions matter only where an owned class could be used
        # The newest version each holder's needs of one right (or connector) want.
        table = np.asarray(
            [
                [_vidx(catalog, right.split(":", 1)[0], v) for v in rows.versions] + [-1]
                for right in rows.rights
            ],
            dtype=np.int64,
        )
        wanted_by_group = np.full(rows.n_groups, -1, dtype=np.int64)
        np.maximum.at(
            wanted_by_group, rows.row_group, table[rows.right[rows.row_group], rows.row_version]
        )
        wanted = np.full(cut.n_nodes, -1, dtype=np.int64)
        for nodes in (cut.group_user, cut.group_device, cut.group_ec):
            at = nodes >= 0
            np.maximum.at(wanted, nodes[at], wanted_by_group[at])
        suites = [cut.resources[r] for r in cut.resources if r.is_suite()]
        edges = np.flatnonzero(np.isin(cut.res, with_classes) & ~np.isin(cut.res, suites))
        need_version[edges] = wanted[_holder_nodes(cut, edges)]
    return Problem(
        cut.n_nodes,
        cut.tails,
        cut.heads,
        cut.res,
        need_version,
        cut.prices,
        np.asarray([c[0] for c in classes], dtype=np.int64),
        np.asarray([c[1] for c in classes], dtype=np.int64),
        np.asarray([c[2] for c in classes], dtype=np.int64),
    )


def _holdings(cut: Cut, rows: Rows, catalog: Catalog, side: np.ndarray) -> Holdings:
    """One holding per license bought (a finite edge cut), with the needs its holder covers:
    a group of rows is covered by its user where the user holds the right, else by its device,
    else by its host's External Connector. Its version is the newest the catalog knows among
    those rows; holdings are sorted by resource, then holder."""
    user, device, ec = cut.group_user, cut.group_device, cut.group_ec
    by_user = (user >= 0) & ~side[user]
    by_device = ~by_user & (device >= 0) & side[device]
    holder = np.where(by_user, user, np.where(by_device, device, ec))[rows.row_group]
    covered = np.flatnonzero(holder >= 0)
    holder = holder[covered]

    edges = np.flatnonzero((cut.res >= 0) & side[cut.tails] & ~side[cut.heads])
    nodes = _holder_nodes(cut, edges)
    res = cut.res[edges]

    # Version: per holder node, the row version of highest rank (one string per rank).
    n_v = len(rows.versions) + 1
    rank = np.asarray(
        [[_rank(catalog, right, v) for v in rows.versions] + [-1] for right in rows.rights],
        dtype=np.int64,
    ).reshape(len(rows.rights), n_v)[rows.right[rows.row_group[covered]], rows.row_version[covered]]
    best = np.full(cut.n_nodes, -1, dtype=np.int64)
    np.maximum.at(best, holder, np.where(rank >= 0, rank * n_v + rows.row_version[covered], -1))
    best = best[nodes]
    names = rows.versions
    versions = [names[b % n_v] if b >= 0 else None for b in best.tolist()]

    # Because: the sorted distinct sources of the rows each holder covers.
    source, table = sorted_codes(rows.sources)
    width = max(len(table), 1)
    pairs = distinct(holder * width + source[covered])
    pair_holder = pairs // width
    start = np.searchsorted(pair_holder, nodes, side="left").tolist()
    stop = np.searchsorted(pair_holder, nodes, side="right").tolist()
    flat = list(map(table.__getitem__, (pairs % width).tolist()))
    because = [tuple(flat[a:z]) for a, z in zip(start, stop, strict=True)]

    # Sorted by resource (holder kind, what), then by holder.
    by_id = sorted(cut.resources, key=cut.resources.__getitem__)
    res_rank = np.empty(len(by_id), dtype=np.int64)
    res_rank[[cut.resources[r] for r in sorted(by_id, key=lambda r: (r.holder, r.what))]] = (
        np.arange(len(by_id))
    )
    who = list(map(cut.who.__getitem__, cut.node_who[nodes].tolist()))
    who_rank, _ = sorted_codes(who)
    order = np.lexsort((who_rank, res_rank[res])).tolist()
    return Holdings(
        [by_id[r] for r in res[order].tolist()],
        [who[i] for i in order],
        [versions[i] for i in order],
        [because[i] for i in order],
    )


def _rank(catalog: Catalog, right: str, version: str) -> int:
    """The catalog's index of ``version`` of the right's product (−1: not a version it knows)."""
    product = right.split(":", 1)[0]
    if product not in catalog.products or version not in catalog.product(product).version_ids:
        return -1
    return catalog.version_index(product, version)
