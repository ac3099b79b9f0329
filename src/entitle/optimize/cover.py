"""Minimum weighted vertex cover on a bipartite graph, as one s–t minimum cut.

Every edge (user, device) must have its user or its device in the cover. Source → user edges
carry the user's cost, device → sink edges the device's cost, user → device edges are infinite;
a minimum cut is a minimum cover (König–Egerváry, weighted form). SciPy's Dinic max-flow keeps
capacities in int32: costs are integers (smallest currency unit) and "infinite" is the sum of all
finite capacities + 1; when that does not fit, the same problem is solved as an LP with HiGHS,
whose optimum is integral because the constraint matrix of a bipartite cover is totally
unimodular.

Of all minimum covers, the one returned is canonical: the source side of the cut is the set
reachable from the source in the residual graph, the same for every maximum flow, so the answer
does not depend on the solver's path order. That side is the smallest, so ties go to users.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

INT32_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class CoverResult:
    users: frozenset[str]
    devices: frozenset[str]
    cost: int
    method: str


def min_vertex_cover(
    user_cost: dict[str, int],
    device_cost: dict[str, int],
    edges: list[tuple[str, str]] | tuple[tuple[str, str], ...],
) -> CoverResult:
    """Cheapest set of users and devices such that every edge has an endpoint in it.

    >>> r = min_vertex_cover({"a": 3, "b": 3}, {"k": 5}, [("a", "k"), ("b", "k")])
    >>> sorted(r.devices), r.cost
    (['k'], 5)
    """
    edges = sorted(set(edges))
    users = sorted({u for u, _ in edges})
    devices = sorted({d for _, d in edges})
    if not edges:
        return CoverResult(frozenset(), frozenset(), 0, "empty")
    finite = sum(user_cost[u] for u in users) + sum(device_cost[d] for d in devices)
    if finite + 1 > INT32_MAX:
        return _lp_cover(user_cost, device_cost, edges, users, devices)
    n_u, n_d = len(users), len(devices)
    source, sink = 0, n_u + n_d + 1
    u_index = {u: 1 + i for i, u in enumerate(users)}
    d_index = {d: 1 + n_u + i for i, d in enumerate(devices)}
    inf = finite + 1
    rows = [source] * n_u + [u_index[u] for u, _ in edges] + [d_index[d] for d in devices]
    cols = [u_index[u] for u in users] + [d_index[d] for _, d in edges] + [sink] * n_d
    caps = [user_cost[u] for u in users] + [inf] * len(edges) + [device_cost[d] for d in devices]
    n = n_u + n_d + 2
    graph = csr_matrix(
        (np.asarray(caps, dtype=np.int32), (np.asarray(rows), np.asarray(cols))), shape=(n, n)
    )
    flow = maximum_flow(graph, source, sink, method="dinic")
    residual = graph - flow.flow
    residual.data[residual.data < 0] = 0  # never happens for capacities ≥ flow; kept explicit
    residual.eliminate_zeros()
    reachable = set(
        breadth_first_order(residual, source, directed=True, return_predecessors=False).tolist()
    )
    cover_users = frozenset(u for u in users if u_index[u] not in reachable)
    cover_devices = frozenset(d for d in devices if d_index[d] in reachable)
    return CoverResult(cover_users, cover_devices, int(flow.flow_value), "max-flow (dinic)")


def _lp_cover(
    user_cost: dict[str, int],
    device_cost: dict[str, int],
    edges: list[tuple[str, str]],
    users: list[str],
    devices: list[str],
) -> CoverResult:
    n_u = len(users)
    u_index = {u: i for i, u in enumerate(users)}
    d_index = {d: n_u + i for i, d in enumerate(devices)}
    c = np.asarray([user_cost[u] for u in users] + [device_cost[d] for d in devices], float)
    rows = np.repeat(np.arange(len(edges)), 2)
    cols = np.asarray([x for u, d in edges for x in (u_index[u], d_index[d])])
    a = csr_matrix((-np.ones(len(cols)), (rows, cols)), shape=(len(edges), len(c)))
    res = linprog(c, A_ub=a, b_ub=-np.ones(len(edges)), bounds=(0, 1), method="highs")
    if res.status != 0:  # pragma: no cover - a cover always exists
        raise RuntimeError(f"vertex cover LP failed: {res.message}")
    x = np.round(res.x).astype(int)
    cover_users = frozenset(u for u in users if x[u_index[u]])
    cover_devices = frozenset(d for d in devices if x[d_index[d]])
    cost = sum(user_cost[u] for u in cover_users) + sum(device_cost[d] for d in cover_devices)
    return CoverResult(cover_users, cover_devices, cost, "LP (HiGHS)")
