"""Every server choice at once, as one MILP (HiGHS, zero gap): what a lower bound needs when owned
server licenses are shared between decisions, and the Server + CAL choices bring SQL CALs.

Variables: a binary per option of every decision (nested ones included: a subdecision's options
sum to its parent option's variable, a top decision's to 1); per owned server entitlement and
need it covers, the units it covers (continuous: for fixed choices a transportation problem,
integral at its optimum); per group of Server + CAL choices sharing users or devices, a binary
per combination of its choices, exactly one of which agrees with the choices made. The objective
is what is bought, in whole units of the smallest currency fraction of any price, plus the SQL
CALs of the group's combination (a lower bound of them, given by the caller).

The optimum is a lower bound on every plan's cost: each plan is a feasible point whose objective
is at most its cost (the SQL CALs of a combination are a bound, the owned licenses matched
exactly). HiGHS's dual bound, rounded up to a whole unit, is what is reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal

from entitle.estate.records import Entitlement
from entitle.optimize.calplan import FLOAT_EXACT
from entitle.optimize.choices import SERVER_CAL, Force, ServerCosts
from entitle.optimize.match import beyond_transport, covers, eligible
from entitle.rules.demand import Decision, Need, Option
from entitle.rules.versions import effective_version


@dataclass(frozen=True, slots=True)
class GroupTable:
    """The combinations of a group's Server + CAL leaves and a lower bound of each one's SQL
    CALs; a combination holds when every leaf it names Server + CAL is chosen so (and active),
    and every other leaf is not."""

    leaves: tuple[Decision, ...]
    combos: tuple[Force, ...]
    sql: tuple[Decimal, ...]


def _pooled(costs: ServerCosts) -> tuple[list[Entitlement], list[str | None]]:
    """The owned server entitlements, those alike for matching (product, license, edition,
    version they may run, where assigned) as one, and the version each may run."""
    if costs.catalog is None or costs.as_of is None:
        return [], []
    alike: dict[tuple[str, str, str | None, str | None, str | None], int] = {}
    first: dict[tuple[str, str, str | None, str | None, str | None], Entitlement] = {}
    for e in costs.owned:
        if e.quantity <= 0:
            continue
        v = effective_version(costs.catalog, e, costs.as_of)
        key = (e.product, e.license, e.edition, v, e.assigned_to)
        alike[key] = alike.get(key, 0) + e.quantity
        first.setdefault(key, e)
    keys = list(alike)
    return [replace(first[k], quantity=alike[k]) for k in keys], [k[3] for k in keys]


@dataclass(frozen=True, slots=True)
class ChoicesResult:
    force: Force  # the chosen option of every active decision
    lower_bound: Decimal  # on every plan's server cost + SQL CALs (the tables' part)
    objective: Decimal  # of the choices found


def solve_choices(
    decisions: tuple[Decision, ...], costs: ServerCosts, tables: list[GroupTable]
) -> ChoicesResult | None:
    """None when there is nothing to choose and no table (the bound is then a plain sum)."""
    options: list[tuple[Decision, Option]] = []
    eq_rows: list[tuple[list[int], int | None]] = []  # options of a decision, parent option

    def walk(d: Decision, parent: int | None) -> None:
        mine = []
        for o in d.options:
            mine.append(len(options))
            options.append((d, o))
        eq_rows.append((mine, parent))
        for i in mine:
            for s in options[i][1].subdecisions:
                walk(s, i)

    for d in decisions:
        walk(d, None)
    pricing = costs.pricing
    needs = [
        (i, n)
        for i, (_, o) in enumerate(options)
        for n in o.needs
        if not n.billed and n.quantity > 0
    ]
    amounts = [pricing.amount(n.product, n.license, n.edition) for _, n in needs]
    amounts += [v for t in tables for v in t.sql]
    scale = 10 ** max([0] + [-int(a.as_tuple().exponent) for a in amounts if a])
    owned, versions = _pooled(costs)
    by_kind: dict[tuple[str, str, str | None], list[int]] = {}  # (product, license, place)
    for m, (_, n) in enumerate(needs):
        for place in {None, n.host, n.ose}:
            by_kind.setdefault((n.product, n.license, place), []).append(m)
    as_of = costs.as_of
    pairs = [
        (k, m)
        for k, e in enumerate(owned)
        if costs.catalog is not None and as_of is not None
        for m in by_kind.get((e.product, e.license, e.assigned_to), ())
        if covers(costs.catalog, e, versions[k], needs[m][1]) and eligible(e, needs[m][1], as_of)
    ]
    # Needs that owned licenses may cover in ways this MILP does not model are priced at 0 here
    # (a relaxation, so the bound stays a lower bound; match.allocate prices them exactly in
    # every plan): per-core needs on a host that processor licenses may cover (by whole
    # licensings of the host), and needs at a provider that an owned license may cover at an
    # edition ratio or under Datacenter's dual use (Azure Hybrid Benefit); other cloud pairs
    # (License Mobility, the Flexible Virtualization Benefit, dedicated hosts) are plain pairs.
    by_processor = {
        (e.product, e.assigned_to) for e in costs.owned if e.license == "processor" and e.quantity
    }
    cloud_covered = {
        m
        for k, m in pairs
        if costs.catalog is not None and beyond_transport(costs.catalog, owned[k], needs[m][1])
    }

    def relaxed(m: int, n: Need) -> bool:
        on_host = (n.product, None) in by_processor or (n.product, n.host) in by_processor
        return m in cloud_covered or (n.license == "core" and on_host)

    price = [
        0 if relaxed(m, n) else int(a * scale)
        for m, (a, (_, n)) in enumerate(zip(amounts[: len(needs)], needs, strict=True))
    ]
    n_opt, n_pair = len(options), len(pairs)
    z_at = n_opt + n_pair
    n_var = z_at + sum(len(t.combos) for t in tables)
    c = [0.0] * n_var
    for m, (i, n) in enumerate(needs):
        c[i] += price[m] * n.quantity
    for p, (_, m) in enumerate(pairs):
        c[n_opt + p] = -price[m]
    if sum(map(abs, c)) + sum(float(v) * scale for t in tables for v in t.sql) >= FLOAT_EXACT:
        return None  # pragma: no cover - beyond a double's integers: no exact bound
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def row(entries: list[tuple[int, float]], low: float, high: float) -> None:
        r = len(lo)
        for col, v in entries:
            rows.append(r)
            cols.append(col)
            vals.append(v)
        lo.append(low)
        hi.append(high)

    for mine, parent in eq_rows:  # Σ options = 1, or = the parent option
        entries = [(i, 1.0) for i in mine] + ([(parent, -1.0)] if parent is not None else [])
        rhs = 0.0 if parent is not None else 1.0
        row(entries, rhs, rhs)
    by_owned: dict[int, list[int]] = {}
    by_need: dict[int, list[int]] = {}
    for p, (k, m) in enumerate(pairs):
        by_owned.setdefault(k, []).append(n_opt + p)
        by_need.setdefault(m, []).append(n_opt + p)
    for k, members in by_owned.items():  # Σ covered ≤ owned
        row([(v, 1.0) for v in members], 0.0, float(owned[k].quantity))
    for m, members in by_need.items():  # Σ covered ≤ quantity × chosen
        i, n = needs[m]
        row([(v, 1.0) for v in members] + [(i, -float(n.quantity))], -math.inf, 0.0)
    server_cal = {(d.key): i for i, (d, o) in enumerate(options) if o.label == SERVER_CAL}
    z = z_at
    for t in tables:
        row([(z + j, 1.0) for j in range(len(t.combos))], 1.0, 1.0)
        for j, combo in enumerate(t.combos):
            c[z + j] = float(int(t.sql[j] * scale))
            for leaf in t.leaves:
                x = server_cal[leaf.key]
                if combo[leaf.key] == SERVER_CAL:  # z ≤ x
                    row([(z + j, 1.0), (x, -1.0)], -math.inf, 0.0)
                else:  # z + x ≤ 1
                    row([(z + j, 1.0), (x, 1.0)], -math.inf, 1.0)
        z += len(t.combos)
    if not n_var:
        return None
    if not pairs and not tables:
        alone = _apart(options, eq_rows, c)
        if alone is not None:
            force, total = alone
            return ChoicesResult(force, Decimal(total) / scale, Decimal(total) / scale)
    import numpy as np  # NumPy and SciPy (0.5 s to import): only when there is a MILP to solve
    from scipy.optimize import Bounds, LinearConstraint
    from scipy.sparse import coo_matrix

    from entitle.optimize.calmilp import solve, whole_units

    a = coo_matrix((vals, (rows, cols)), shape=(len(lo), n_var)).tocsr()
    integrality = np.ones(n_var)
    integrality[n_opt:z_at] = 0
    upper = np.ones(n_var)
    upper[n_opt:z_at] = np.inf
    result = solve(
        np.asarray(c), [LinearConstraint(a, lo, hi)], Bounds(np.zeros(n_var), upper), integrality
    )
    if result.x is None:  # pragma: no cover - stopped at the node limit before any plan
        return None
    x = result.x
    force = {d.key: o.label for i, (d, o) in enumerate(options) if x[i] > 0.5}
    lower = Decimal(whole_units(result.mip_dual_bound)) / scale
    objective = Decimal(int(round(result.fun))) / scale  # of the plan found
    return ChoicesResult(force, min(lower, objective), objective)


def _apart(
    options: list[tuple[Decision, Option]],
    eq_rows: list[tuple[list[int], int | None]],
    c: list[float],
) -> tuple[Force, int] | None:
    """The MILP's optimum without a solver where nothing joins the decisions (no owned license
    to share, no SQL CAL table): each decision takes its cheapest option, subdecisions
    included, and the objective is their sum. None where a decision the optimum takes has two
    cheapest options: the MILP's choice among equals, which plans were settled with, decides
    those (and SciPy, 0.5 s to import, is loaded only then)."""
    children: dict[int | None, list[list[int]]] = {}
    for mine, parent in eq_rows:
        if not mine:
            return None
        children.setdefault(parent, []).append(mine)
    value = [0] * len(options)
    for i in reversed(range(len(options))):  # a subdecision's options come after its parent's
        value[i] = int(c[i]) + sum(min(value[j] for j in mine) for mine in children.get(i, ()))
    chosen = []
    todo = list(children.get(None, ()))
    while todo:
        mine = todo.pop()
        best = min(value[j] for j in mine)
        cheapest = [j for j in mine if value[j] == best]
        if len(cheapest) > 1:
            return None
        chosen.append(cheapest[0])
        todo.extend(children.get(cheapest[0], ()))
    total = sum(min(value[j] for j in mine) for mine in children.get(None, ()))
    return {options[i][0].key: options[i][1].label for i in sorted(chosen)}, total
