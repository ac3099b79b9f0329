"""The CAL cover as one s–t minimum cut.

Node values: a *user-side* node is "held" when it is on the sink side (T) of the cut, a
*device-side* node when it is on the source side (S). Every finite edge is one license that is
bought when the edge is cut; every infinite edge is a rule that may not be broken:

* user ``u`` holding right ``k`` alone: ``s → u.k`` (or ``suite → u.k`` when a suite may hold it:
  paid only when the suite is not held); additive ``k`` on base ``b``: ``u.b → u.k`` (∞);
* user suites: ``s → u.enterprise``, ``u.enterprise → u.core`` (Core paid only without
  Enterprise), ``u.core → u.enterprise`` (∞: Enterprise includes Core);
* devices mirror this towards the sink; ECs are device-side nodes per host and product, with
  ``ec.rds → ec.windows-server`` (∞: the RDS EC needs the Windows Server EC);
* a need of (user, device, k): ``u.k → d.k`` (∞); user only: ``u.k → t`` (∞), or ``u.k → ec``
  (∞) for an external user where a connector is possible; device only: ``s → d.k`` (∞).

Capacities are integers: price in cents × K + 1, with K greater than the number of licenses, so
that among the cheapest plans the one with fewest licenses wins. Of those, the cut whose source
side is smallest (what the source reaches in the residual graph, the same for every maximum flow)
is taken: ties then go to user-side licenses. Each connected component gets its own K and its
own "infinite"; components whose capacities fit int32 are solved together by SciPy's Dinic,
the others by OR-Tools' 64-bit max-flow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components, maximum_flow

INT32_MAX = 2**31 - 1
SOURCE, SINK = 0, 1


@dataclass(frozen=True, slots=True)
class CutResult:
    source_side: np.ndarray  # bool per node
    methods: tuple[str, ...]


def min_cut(
    n_nodes: int,
    tails: np.ndarray,
    heads: np.ndarray,
    edge_cents: np.ndarray,
) -> CutResult:
    """Minimum cut of the graph with ``edge_cents`` on each edge (−1 = infinite; see the module
    docstring for the tie-break). Returns which nodes are on the source side."""
    return Prepared(n_nodes, tails, heads).min_cut(edge_cents)


class Prepared:
    """What every cut of one graph shares, whatever its capacities (the Lagrangian's steps change
    only prices): its connected components, and its edges in CSR order (by tail, then head) with
    the runs of parallel edges marked, so that each solve only sums capacities."""

    def __init__(self, n_nodes: int, tails: np.ndarray, heads: np.ndarray):
        self.n_nodes, self.tails, self.heads = n_nodes, tails, heads
        self.order = np.argsort(tails * max(n_nodes, 1) + heads, kind="stable")
        t, h = tails[self.order], heads[self.order]
        first = np.ones(len(t), dtype=bool)  # the first of a run of parallel edges
        first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
        self.first = first
        inner = first & (t > SINK) & (h > SINK)
        _, label = connected_components(
            _csr(n_nodes, t[inner], h[inner], np.ones(int(inner.sum()), dtype=np.int8)),
            directed=False,
        )
        self.node_comp = label
        self.comp = label[np.where(tails > SINK, tails, heads)]  # the component of each edge
        self.n_comp = int(label.max()) + 1 if n_nodes else 0

    def min_cut(self, edge_cents: np.ndarray) -> CutResult:
        comp, n_comp = self.comp, self.n_comp
        finite = edge_cents >= 0
        fcomp = comp[finite]
        count = np.bincount(fcomp, minlength=n_comp)
        k = count + 1  # per component: more than its number of licenses
        base = edge_cents[finite]
        # price × K + 1 and its per-component sum must fit int64; checked in floating point first.
        price_sum = np.bincount(fcomp, weights=base.astype(float), minlength=n_comp)
        dtype: type = np.int64 if (price_sum * k).max(initial=0) < 4e18 else object
        cents: np.ndarray = np.zeros(len(self.tails), dtype=dtype)
        cents_f = base.astype(dtype) * k[fcomp].astype(dtype) + 1
        cents[finite] = cents_f
        if dtype is np.int64 and int(base.sum()) < 2**53:  # float sums of integers are exact
            sums = k * price_sum.astype(np.int64) + count
        else:
            sums = np.zeros(n_comp, dtype=dtype)
            np.add.at(sums, fcomp, cents_f)
        inf = sums + 1
        cents[~finite] = inf[comp[~finite]]
        small_comp = (
            inf <= INT32_MAX
            if dtype is np.int64
            else np.array([x <= INT32_MAX for x in inf], dtype=bool)
        )
        small_edge = small_comp[comp] if len(comp) else np.zeros(0, bool)

        source_side = np.zeros(self.n_nodes, dtype=bool)
        source_side[SOURCE] = True
        methods = []
        if small_edge.any():
            source_side |= self._scipy_cut(small_edge, cents)
            methods.append("max-flow (SciPy Dinic)")
        if (~small_edge).any():
            source_side |= _ortools_cut(
                self.n_nodes,
                self.tails[~small_edge],
                self.heads[~small_edge],
                np.asarray(cents[~small_edge], dtype=np.int64),
            )
            methods.append("max-flow (OR-Tools, 64-bit)")
        return CutResult(source_side, tuple(methods))

    def _scipy_cut(self, small_edge: np.ndarray, cents: np.ndarray) -> np.ndarray:
        """SciPy's Dinic on the edges of the components whose capacities fit int32; parallel
        edges summed (a sum beyond int32 holds an infinite edge: capped, still infinite)."""
        order = self.order[small_edge[self.order]]
        first = self.first[small_edge[self.order]]
        run = np.cumsum(first) - 1
        caps = np.bincount(run, weights=cents[order].astype(float))
        graph = _csr(
            self.n_nodes,
            self.tails[order[first]],
            self.heads[order[first]],
            np.minimum(caps, INT32_MAX).astype(np.int32),
        )
        flow = maximum_flow(graph, SOURCE, SINK, method="dinic")
        residual = (graph - flow.flow).tocsr()
        residual.data[residual.data < 0] = 0
        residual.eliminate_zeros()
        reached = breadth_first_order(residual, SOURCE, directed=True, return_predecessors=False)
        side = np.zeros(self.n_nodes, dtype=bool)
        side[reached] = True
        return side


def _csr(n: int, tails: np.ndarray, heads: np.ndarray, data: np.ndarray) -> csr_matrix:
    """An n × n CSR matrix from edges sorted by (tail, head), without parallel edges."""
    indptr = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(tails, minlength=n), out=indptr[1:])
    graph = csr_matrix((data, heads.astype(np.int32), indptr), shape=(n, n))
    graph.has_sorted_indices = True
    return graph


def _ortools_cut(n: int, tails: np.ndarray, heads: np.ndarray, caps: np.ndarray) -> np.ndarray:
    from ortools.graph.python import max_flow

    solver = max_flow.SimpleMaxFlow()
    solver.add_arcs_with_capacity(tails, heads, caps)
    status = solver.solve(SOURCE, SINK)
    if status != solver.OPTIMAL:  # pragma: no cover - capacities are finite and integral
        raise RuntimeError(f"OR-Tools max-flow failed with status {status}")
    side = np.zeros(n, dtype=bool)
    side[np.asarray(solver.get_source_side_min_cut(), dtype=np.int64)] = True
    return side
