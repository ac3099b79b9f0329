"""The cut graph as a MILP (HiGHS through SciPy), for what a cut cannot say: owned quantities.

Variables: one binary per node (1 = sink side), one continuous ``y`` per finite edge (cut or not,
``y ≥ t_head − t_tail``), one ``z`` per owned resource (units bought beyond what is owned). An
infinite edge becomes ``t_head ≤ t_tail``. The objective is the cut's: price × K + 1 per license (ties
go to fewer licenses), doubled, plus one per device-side license (then to user-side licenses, as
the canonical cut does).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from entitle.optimize.calgraph import SINK, SOURCE


def solve_milp(
    n_nodes: int, tails: np.ndarray, heads: np.ndarray, res: np.ndarray,
    prices: np.ndarray, quantity: np.ndarray, device_side: np.ndarray,
) -> np.ndarray:
    """Source side (bool per node) of the cheapest cut with ``quantity`` units of each resource
    free."""
    finite = np.flatnonzero(res >= 0)
    infinite = np.flatnonzero(res < 0)
    owned = np.flatnonzero(quantity > 0)
    n_y, n_z = len(finite), len(owned)
    n_var = n_nodes + n_y + n_z
    k = 2 * n_y + 1
    cost = np.zeros(n_var)
    owned_pos = {int(r): j for j, r in enumerate(owned)}
    for j, e in enumerate(finite):
        r = int(res[e])
        tie = 2 + int(device_side[r])  # one more license costs 2; a device-side one 1 more
        cost[n_nodes + j] = tie if r in owned_pos else float(prices[r]) * k * 2 + tie
    for j, r in enumerate(owned):
        cost[n_nodes + n_y + j] = float(prices[r]) * k * 2
    rows, cols, vals, lo, hi = [], [], [], [], []
    row = 0
    for j, e in enumerate(finite):  # y_e − t_head + t_tail ≥ 0
        rows += [row, row, row]
        cols += [n_nodes + j, int(heads[e]), int(tails[e])]
        vals += [1.0, -1.0, 1.0]
        lo.append(0.0)
        hi.append(np.inf)
        row += 1
    for e in infinite:  # t_tail − t_head ≥ 0
        rows += [row, row]
        cols += [int(tails[e]), int(heads[e])]
        vals += [1.0, -1.0]
        lo.append(0.0)
        hi.append(np.inf)
        row += 1
    for j, r in enumerate(owned):  # z_r − Σ y_e(r) ≥ −owned_r
        members = [n_nodes + i for i, e in enumerate(finite) if int(res[e]) == int(r)]
        rows += [row] * (len(members) + 1)
        cols += [n_nodes + n_y + j] + members
        vals += [1.0] + [-1.0] * len(members)
        lo.append(-float(quantity[r]))
        hi.append(np.inf)
        row += 1
    a = coo_matrix((vals, (rows, cols)), shape=(row, n_var)).tocsr()
    lower = np.zeros(n_var)
    upper = np.concatenate([np.ones(n_nodes + n_y), np.full(n_z, np.inf)])
    lower[SINK], upper[SOURCE] = 1, 0
    integrality = np.concatenate([np.ones(n_nodes), np.zeros(n_y + n_z)])
    result = milp(cost, constraints=LinearConstraint(a, lo, hi), bounds=Bounds(lower, upper),
                  integrality=integrality)
    if result.status != 0:  # pragma: no cover - the all-bought plan is always feasible
        raise RuntimeError(f"CAL MILP failed: {result.message}")
    return np.round(result.x[:n_nodes]) < 0.5
