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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components, maximum_flow

INT32_MAX = 2**31 - 1
SOURCE, SINK = 0, 1


@dataclass(frozen=True, slots=True)
class CutResult:
    source_side: np.ndarray  # bool per node
    methods: tuple[str, ...]


class Graph:
    """Nodes by name, edges with a resource id (−1 = infinite)."""

    def __init__(self) -> None:
        self.names: list[object] = ["s", "t"]
        self.index: dict[object, int] = {}
        self.tails: list[int] = []
        self.heads: list[int] = []
        self.resources: list[int] = []

    def node(self, name: object) -> int:
        i = self.index.get(name)
        if i is None:
            i = len(self.names)
            self.index[name] = i
            self.names.append(name)
        return i

    def edge(self, tail: int, head: int, resource: int = -1) -> None:
        self.tails.append(tail)
        self.heads.append(head)
        self.resources.append(resource)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.asarray(self.tails, dtype=np.int64),
            np.asarray(self.heads, dtype=np.int64),
            np.asarray(self.resources, dtype=np.int64),
        )


def min_cut(
    n_nodes: int,
    tails: np.ndarray,
    heads: np.ndarray,
    edge_cents: np.ndarray,
) -> CutResult:
    """Minimum cut of the graph with ``edge_cents`` on each edge (−1 = infinite; see the module
    docstring for the tie-break). Returns which nodes are on the source side."""
    finite = edge_cents >= 0
    inner = (tails > SINK) & (heads > SINK)
    adjacency = coo_matrix(
        (np.ones(int(inner.sum())), (tails[inner], heads[inner])), shape=(n_nodes, n_nodes)
    )
    _, label = connected_components(adjacency, directed=False)
    owner = np.where(tails > SINK, tails, heads)  # the component an edge belongs to
    comp = label[owner]
    n_comp = int(label.max()) + 1 if n_nodes else 0
    count = np.bincount(comp[finite], minlength=n_comp)
    k = count + 1  # per component: more than its number of licenses
    base = edge_cents[finite]
    # price × K + 1 and its per-component sum must fit int64; checked in floating point first.
    estimate = np.zeros(n_comp)
    np.add.at(estimate, comp[finite], base.astype(float) * k[comp[finite]] + 1)
    dtype: type = np.int64 if (estimate.max(initial=0) < 4e18) else object
    cents: np.ndarray = np.zeros(len(tails), dtype=dtype)
    cents_f = base.astype(dtype) * k[comp[finite]].astype(dtype) + 1
    cents[finite] = cents_f
    sums: np.ndarray = np.zeros(n_comp, dtype=dtype)
    np.add.at(sums, comp[finite], cents_f)
    inf = sums + 1
    cents[~finite] = inf[comp[~finite]]
    small_comp = (
        inf <= INT32_MAX
        if dtype is np.int64
        else np.array([x <= INT32_MAX for x in inf], dtype=bool)
    )
    small_edge = small_comp[comp] if len(comp) else np.zeros(0, bool)

    source_side = np.zeros(n_nodes, dtype=bool)
    source_side[SOURCE] = True
    methods = []
    if small_edge.any():
        source_side |= _scipy_cut(
            n_nodes, tails[small_edge], heads[small_edge], cents[small_edge].astype(np.int64)
        )
        methods.append("max-flow (SciPy Dinic)")
    if (~small_edge).any():
        source_side |= _ortools_cut(
            n_nodes, tails[~small_edge], heads[~small_edge], [int(c) for c in cents[~small_edge]]
        )
        methods.append("max-flow (OR-Tools, 64-bit)")
    return CutResult(source_side, tuple(methods))


def _scipy_cut(n: int, tails: np.ndarray, heads: np.ndarray, caps: np.ndarray) -> np.ndarray:
    graph = csr_matrix((caps.astype(np.int32), (tails, heads)), shape=(n, n))
    graph.sum_duplicates()
    flow = maximum_flow(graph, SOURCE, SINK, method="dinic")
    residual = (graph - flow.flow).tocsr()
    residual.data[residual.data < 0] = 0
    residual.eliminate_zeros()
    reached = breadth_first_order(residual, SOURCE, directed=True, return_predecessors=False)
    side = np.zeros(n, dtype=bool)
    side[reached] = True
    return side


def _ortools_cut(n: int, tails: np.ndarray, heads: np.ndarray, caps: Sequence[int]) -> np.ndarray:
    from ortools.graph.python import max_flow

    solver = max_flow.SimpleMaxFlow()
    solver.add_arcs_with_capacity(tails, heads, np.asarray(caps, dtype=np.int64))
    status = solver.solve(SOURCE, SINK)
    if status != solver.OPTIMAL:  # pragma: no cover - capacities are finite and integral
        raise RuntimeError(f"OR-Tools max-flow failed with status {status}")
    side = np.zeros(n, dtype=bool)
    side[np.asarray(solver.get_source_side_min_cut(), dtype=np.int64)] = True
    return side
