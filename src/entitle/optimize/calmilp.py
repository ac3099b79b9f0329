"""The cut graph as a MILP (HiGHS through SciPy), for what a cut cannot say: owned quantities.

Variables: one binary per node (1 = sink side); per finite edge, ``buy`` (the license is bought)
and, where an owned class of its resource covers the version its holder needs, ``use_c`` (an
owned unit of class c is used); ``buy + Σ use_c ≥ t_head − t_tail``; per class,
``Σ use_c ≤ owned``. An infinite edge becomes ``t_head ≤ t_tail``. The objective is the cut's —
price × K + 1 per license, so ties go to fewer licenses — doubled, plus one per device-side
license (then ties go to user-side licenses, as the canonical cut does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from entitle.optimize.calgraph import SINK, SOURCE

if TYPE_CHECKING:
    from entitle.optimize.lagrange import Problem


def solve_milp(p: Problem, device_side: np.ndarray) -> np.ndarray:
    """Source side (bool per node) of the cheapest plan with owned units free."""
    n = p.n_nodes
    finite = np.flatnonzero(p.res >= 0)
    infinite = np.flatnonzero(p.res < 0)
    uses = [
        (j, int(c))
        for j, e in enumerate(finite)
        for c in range(len(p.class_qty))
        if p.class_res[c] == p.res[e] and p.need_version[e] <= p.class_version[c]
    ]
    n_buy, n_use = len(finite), len(uses)
    n_var = n + n_buy + n_use
    k = 2 * n_buy + 1
    cost = np.zeros(n_var)
    for j, e in enumerate(finite):
        r = int(p.res[e])
        cost[n + j] = float(p.prices[r]) * k * 2 + 2 + int(device_side[r])
    for i, (j, _) in enumerate(uses):
        r = int(p.res[finite[j]])
        cost[n + n_buy + i] = 2 + int(device_side[r])
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []
    use_of: dict[int, list[int]] = {}
    for i, (j, _) in enumerate(uses):
        use_of.setdefault(j, []).append(n + n_buy + i)
    row = 0
    for j, e in enumerate(finite):  # buy + Σ use − t_head + t_tail ≥ 0
        members = [n + j] + use_of.get(j, [])
        rows += [row] * (len(members) + 2)
        cols += members + [int(p.heads[e]), int(p.tails[e])]
        vals += [1.0] * len(members) + [-1.0, 1.0]
        lo.append(0.0)
        hi.append(np.inf)
        row += 1
    for e in infinite:  # t_tail − t_head ≥ 0
        rows += [row, row]
        cols += [int(p.tails[e]), int(p.heads[e])]
        vals += [1.0, -1.0]
        lo.append(0.0)
        hi.append(np.inf)
        row += 1
    for c in range(len(p.class_qty)):  # Σ use_c ≤ owned_c
        members = [n + n_buy + i for i, (_, cc) in enumerate(uses) if cc == c]
        if not members:
            continue
        rows += [row] * len(members)
        cols += members
        vals += [1.0] * len(members)
        lo.append(0.0)
        hi.append(float(p.class_qty[c]))
        row += 1
    a = coo_matrix((vals, (rows, cols)), shape=(row, n_var)).tocsr()
    lower = np.zeros(n_var)
    upper = np.ones(n_var)
    lower[SINK], upper[SOURCE] = 1, 0
    integrality = np.concatenate([np.ones(n), np.zeros(n_buy + n_use)])
    result = milp(
        cost,
        constraints=LinearConstraint(a, lo, hi),
        bounds=Bounds(lower, upper),
        integrality=integrality,
    )
    if result.status != 0:  # pragma: no cover - buying everything is always feasible
        raise RuntimeError(f"CAL MILP failed: {result.message}")
    return np.round(result.x[:n]) < 0.5
