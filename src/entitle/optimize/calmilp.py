"""The cut graph as a MILP (HiGHS through SciPy), for what a cut cannot say: owned quantities.

Variables: one binary per node (1 = sink side); per finite edge, ``buy`` (the license is bought)
and, where an owned class of its resource covers the version its holder needs, ``use_c`` (an
owned unit of class c is used); ``buy + Σ use_c ≥ t_head − t_tail``; per class,
``Σ use_c ≤ owned``. An infinite edge becomes ``t_head ≤ t_tail``.

Two solves, each to a zero relative gap (``mip_rel_gap = 0``; HiGHS's absolute gap, 10⁻⁶, is
below one unit of these integer objectives, so it cannot let a worse plan through):

1. the cost, in whole cents: its optimum is the plan's cost, and HiGHS's dual bound — rounded up
   to a whole cent, the objective being integral — is the lower bound reported;
2. the tie-break among the plans of exactly that cost: fewer licenses first (bought or owned),
   then user-side licenses over device-side ones, as the canonical cut does — weights ``W`` per
   license and 1 per device-side license, ``W`` greater than the number of finite edges, so no
   count of device-side licenses outweighs one license. The tie-break ``T`` of a plan is below
   ``K = (W + 1) · (edges + 1)``, so the objective ``K · cents + T`` orders plans by their cost
   first and by ``T`` only among plans of one cost: lexicographic, in whole numbers. While
   ``K · Σ cents`` stays below 2⁵⁰ every objective value is an integer a double holds exactly,
   and HiGHS's absolute gap (10⁻⁶, the relative one 0) is below one unit of it, so no tolerance
   can trade a cent for a tie (weights added to the cost as fractions could be). This solve has
   the first one's shape, which HiGHS solves at its root in a few LP iterations; a larger
   product (a graph near ``cals.MILP_LIMIT`` nodes priced in the millions) takes the slower
   form instead: the cost as a constraint (``Σ price · buy ≤ cost``) and ``T`` alone as the
   objective (about six times the time of the other on the bundled sample's largest graph).
   Either way a plan that costs a cent more than the first solve's is never taken.
   Graphs above ``cals.MILP_LIMIT`` nodes skip it, and a tie-break stopped at the node limit
   is dropped: their ties are the first solve's, the same on every run for the same input, but
   by no rule. (A stop at the node limit is not a failure: the plan found so far, if any, and
   the dual bound are used — see :func:`solve`.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix

from entitle.optimize.calgraph import SINK, SOURCE
from entitle.optimize.calplan import FLOAT_EXACT

if TYPE_CHECKING:
    from entitle.optimize.lagrange import Problem

# Proven optimal, not "within 0.01 %". The node limit keeps a hard case finite, and the same on
# every run (a time limit would not): a search it stops reports its dual bound, so a gap.
MILP_OPTIONS: dict[str, Any] = {"mip_rel_gap": 0.0, "node_limit": 10_000}

# The tie-break's one objective ``K · cents + T`` while it stays below this (module docstring):
# whole numbers exact in a double (2⁵³), with room for the solver's sums of its terms.
TIE_EXACT = 2**50


@dataclass(frozen=True, slots=True)
class MilpResult:
    source_side: np.ndarray  # bool per node
    cost: int  # cents of the plan found (owned units free)
    lower_bound: int  # cents: the solver's dual bound, rounded up to a whole cent


def solve_milp(p: Problem, device_side: np.ndarray, tie_break: bool = True) -> MilpResult | None:
    """The cheapest plan with owned units free, and the solver's lower bound on its cost; with
    ``tie_break``, the cheapest plans' ties broken exactly by a second solve (which costs much
    more than the first on large graphs: HiGHS's LP with the cost as a constraint). None when
    the solver stopped at its node limit without a plan."""
    model = _Model(p)
    prices = np.asarray(p.prices, dtype=np.int64)
    finite = model.finite
    edge_cents = prices[p.res[finite]]
    if int(edge_cents.sum()) >= FLOAT_EXACT:  # pragma: no cover - 90 trillion dollars
        raise OverflowError("CAL MILP: the prices sum beyond what a double holds exactly")

    # 1. The cost.
    cost = np.zeros(model.n_var)
    cost[model.n : model.n + model.n_buy] = edge_cents
    first = solve(cost, model.constraints(), model.bounds, model.integrality)
    if first.x is None:  # pragma: no cover - stopped before any plan
        return None
    side = np.round(first.x[: model.n]) < 0.5
    found = p.true_cost(side)
    lower = min(found, whole_units(first.mip_dual_bound))

    if not tie_break:
        return MilpResult(side, found, lower)

    # 2. The tie-break among plans of that cost.
    w = model.n_buy + 1
    if (w + 1) * (model.n_buy + 1) >= FLOAT_EXACT:  # pragma: no cover - far above MILP_LIMIT
        raise OverflowError("CAL MILP: too many edges for an exact tie-break")
    ties = np.zeros(model.n_var)
    dev = device_side[p.res[finite]].astype(float)
    ties[model.n : model.n + model.n_buy] = w + dev
    for i, (j, _) in enumerate(model.uses):
        ties[model.n + model.n_buy + i] = w + dev[j]
    scale = (w + 1) * (model.n_buy + 1)  # K: above any plan's tie-break
    if scale * int(edge_cents.sum()) < TIE_EXACT:  # K · cents + T, in exact whole numbers
        second = solve(scale * cost + ties, model.constraints(), model.bounds, model.integrality)
    else:  # the cost as a constraint, the tie-break alone as the objective
        budget = csr_matrix(cost.reshape(1, -1))
        second = solve(
            ties,
            [*model.constraints(), LinearConstraint(budget, -np.inf, found + 0.5)],
            model.bounds,
            model.integrality,
        )
    if second.status == 0:  # finished: its ties are broken by the rule
        tied = np.round(second.x[: model.n]) < 0.5
        if p.true_cost(tied) == found:  # never trade a cent for a tie-break
            side = tied
    return MilpResult(side, found, lower)


def whole_units(bound: float | None) -> int:
    """A dual bound of an integral objective in whole units (cents): up to the next unit,
    unless it is that unit already but for floating-point noise."""
    if bound is None or not math.isfinite(bound):  # pragma: no cover - solved means bounded
        return 0
    near = round(bound)
    return int(near) if abs(bound - near) <= 1e-6 * max(1.0, abs(bound)) else math.ceil(bound)


def solve(c: np.ndarray, constraints: list, bounds: Bounds, integrality: np.ndarray) -> Any:
    result = milp(
        c,
        constraints=constraints,
        bounds=bounds,
        integrality=integrality,
        options=dict(MILP_OPTIONS),
    )
    if result.status not in (0, 1) and not stopped_at_node_limit(result):
        raise RuntimeError(f"MILP failed: {result.message}")  # a real solver failure is said
    # Finished (0), or stopped at the node limit with the plan it has (if any) and its dual
    # bound. Callers read ``x`` and the bound.
    return result


def stopped_at_node_limit(result: Any) -> bool:
    """Whether HiGHS stopped at the node limit: SciPy says 1 with older HiGHS; HiGHS 1.8 and
    later report "solution limit reached" (HiGHS status 16) there, which SciPy does not know and
    calls 4, its status for any other failure too — so the message is read."""
    said = str(result.message).lower()
    return result.status == 1 or (
        result.status == 4 and ("solution limit" in said or "highs status 16:" in said)
    )


class _Model:
    """Variables and constraints shared by both solves."""

    def __init__(self, p: Problem):
        n = self.n = p.n_nodes
        finite = self.finite = np.flatnonzero(p.res >= 0)
        infinite = np.flatnonzero(p.res < 0)
        self.uses = uses = [
            (j, int(c))
            for j, e in enumerate(finite)
            for c in range(len(p.class_qty))
            if p.class_res[c] == p.res[e] and p.need_version[e] <= p.class_version[c]
        ]
        n_buy = self.n_buy = len(finite)
        n_use = len(uses)
        self.n_var = n_var = n + n_buy + n_use
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
        self._a = coo_matrix((vals, (rows, cols)), shape=(row, n_var)).tocsr()
        self._lo, self._hi = lo, hi
        lower = np.zeros(n_var)
        upper = np.ones(n_var)
        lower[SINK], upper[SOURCE] = 1, 0
        self.bounds = Bounds(lower, upper)
        self.integrality = np.concatenate([np.ones(n), np.zeros(n_buy + n_use)])

    def constraints(self) -> list[LinearConstraint]:
        return [LinearConstraint(self._a, self._lo, self._hi)]
