"""Matching owned entitlements to needs, edition- and version-aware.

An entitlement covers a need when product and license kind agree, its edition covers the need's
(a Datacenter license covers a Standard need), its version covers the need's (same or later;
Software Assurance active on a release date gives that version; 2012 CALs cover 2012 R2) and,
when it is assigned to a host or OSE, the need is there; a need that relies on an SA-only right
(``Need.sa_required``) is covered only by licenses with SA active on the as-of date. Which units go where is a transportation
problem, solved exactly as an LP with HiGHS (its matrix is totally unimodular, so the optimum is
integral): cover the most valuable shortfall first, and spend the least capable licenses first.

At a provider (``Need.cloud``, docs/rules/cloud-and-hybrid.md) the need's terms say which
licenses may cover it: those with SA under the right named, those bought before a day (a Listed
Provider's dedicated host), at a ratio between editions (SQL Server under Azure Hybrid Benefit:
one Enterprise core license covers 4 virtual cores of Standard), and — Datacenter under Azure
Hybrid Benefit — while they also cover needs on premises (dual use): such a need draws on a
second copy of the license's quantity, and the units spent are what the larger of the two uses
takes. With ratios the problem is solved as a MILP (HiGHS).

Processor licenses (bought before per-core licensing, :mod:`entitle.optimize.processor`) cover a
host's per-core need only once every processor of the host is covered, and then by whole
licensings of the host: with them the problem is a small MILP (HiGHS) instead.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from fractions import Fraction

from entitle.catalog.model import Catalog
from entitle.estate.records import Entitlement, Host
from entitle.optimize.pricing import Pricing
from entitle.optimize.processor import Fit, native_fit, per_core
from entitle.rules.demand import CloudTerms, Need
from entitle.rules.mobility import sa_active
from entitle.rules.versions import effective_version

CAL_KINDS = {"user-cal", "device-cal", "client-ml-user", "client-ml-ose", "user-sl"}

# (entitlement index, need index, need units covered, entitlement units spent)
Match = tuple[int, int, int, int]


def covers(catalog: Catalog, e: Entitlement, version: str | None, need: Need) -> bool:
    if need.billed or e.product != need.product or e.license != need.license:
        return False
    if e.assigned_to is not None and e.assigned_to not in (need.host, need.ose):
        return False
    edition = e.edition if e.edition is not None else _lowest_edition(catalog, e.product)
    at_ratio = need.cloud is not None and need.cloud.ratio(edition) is not None
    if (
        need.license not in CAL_KINDS
        and not at_ratio
        and not catalog.edition_covers(e.product, edition, need.edition)
    ):
        return False
    if need.version is None or version is None:
        return True
    return catalog.version_covers(e.product, version, need.version, cal=need.license in CAL_KINDS)


def eligible(e: Entitlement, need: Need, as_of: date) -> bool:
    """``e`` may cover ``need`` as far as Software Assurance and the purchase date go: an SA-only
    right needs SA active on ``as_of``; at a provider the need's :class:`CloudTerms` decide."""
    terms = need.cloud
    if terms is None:
        return not need.sa_required or sa_active(e, as_of)
    if terms.right and sa_active(e, as_of):
        return True
    return (
        terms.bought_before is not None
        and e.purchased is not None
        and e.purchased < terms.bought_before
    )


def _ratio(catalog: Catalog, e: Entitlement, need: Need) -> Fraction:
    """Need units one unit of ``e`` covers (1 but for Azure Hybrid Benefit's edition ratios)."""
    if need.cloud is None:
        return Fraction(1)
    edition = e.edition if e.edition is not None else _lowest_edition(catalog, e.product)
    found = need.cloud.ratio(edition)
    return Fraction(found[0], found[1]) if found is not None else Fraction(1)


def _dual(e: Entitlement, terms: CloudTerms | None) -> bool:
    return terms is not None and e.edition is not None and e.edition in terms.dual_use


def beyond_transport(catalog: Catalog, e: Entitlement, need: Need) -> bool:
    """``e`` covers ``need`` in a way a plain transportation problem does not model: at an
    edition ratio or under Datacenter's dual use (Azure Hybrid Benefit)."""
    return _ratio(catalog, e, need) != 1 or _dual(e, need.cloud)


def _lowest_edition(catalog: Catalog, product: str) -> str | None:
    ranks = dict(catalog.product(product).edition_rank)
    return min(ranks, key=lambda k: ranks[k]) if ranks else None


def allocate(
    catalog: Catalog,
    entitlements: tuple[Entitlement, ...],
    needs: tuple[Need, ...],
    pricing: Pricing,
    as_of: date,
    hosts: Mapping[str, Host] | None = None,
) -> list[Match]:
    """(entitlement, need, need units covered, entitlement units spent) that cover as much
    value as possible. ``hosts`` (by id) lets processor licenses cover per-core needs."""
    versions = [effective_version(catalog, e, as_of) for e in entitlements]
    by_kind: dict[tuple[str, str], list[int]] = defaultdict(list)  # covers() needs both equal
    by_place: dict[tuple[str, str, str], list[int]] = defaultdict(list)  # … and the place
    # per-core needs at a host, by product and by product and place (host or OSE): the only
    # needs processor licenses may cover, those assigned to a place only there
    hosted: dict[str, list[int]] = defaultdict(list)
    hosted_at: dict[tuple[str, str], list[int]] = defaultdict(list)
    for j, n in enumerate(needs):
        if n.quantity > 0 and not n.billed:
            by_kind[(n.product, n.license)].append(j)
            places = {p for p in (n.host, n.ose) if p is not None}
            for place in places:
                by_place[(n.product, n.license, place)].append(j)
            if n.host is not None and per_core(n):
                hosted[n.product].append(j)
                for place in places:
                    hosted_at[(n.product, place)].append(j)
    pairs = [
        (i, j)
        for i, e in enumerate(entitlements)
        if e.quantity > 0 and e.license != "processor"
        for j in (
            by_kind.get((e.product, e.license), ())
            if e.assigned_to is None
            else by_place.get((e.product, e.license, e.assigned_to), ())
        )
        if covers(catalog, e, versions[i], needs[j]) and eligible(e, needs[j], as_of)
    ]
    fits: list[tuple[int, int, Fit]] = []
    if hosts:
        for i, e in enumerate(entitlements):
            if e.quantity <= 0 or e.license != "processor":
                continue
            at = (
                hosted.get(e.product, ())
                if e.assigned_to is None
                else hosted_at.get((e.product, e.assigned_to), ())
            )
            for j in at:
                fit = native_fit(catalog, e, versions[i], needs[j], hosts.get(needs[j].host or ""))
                if fit is not None:
                    fits.append((i, j, fit))
    if not pairs and not fits:
        return []
    weights = []
    for i, j in pairs:
        e, n = entitlements[i], needs[j]
        weights.append(float(_value(pricing, n) - _waste(catalog, e, versions[i], n)))
    ratios = [_ratio(catalog, entitlements[i], needs[j]) for i, j in pairs]
    duals = [_dual(entitlements[i], needs[j].cloud) for i, j in pairs]
    if fits:
        return _allocate_milp(
            catalog, entitlements, needs, pricing, versions, pairs, weights, fits, ratios, duals
        )
    if any(r != 1 for r in ratios) or any(duals):
        return _allocate_cloud(entitlements, needs, pairs, weights, ratios, duals)
    n_pairs = len(pairs)
    rows_e = [i for i, _ in pairs]
    rows_n = [len(entitlements) + j for _, j in pairs]
    import numpy as np  # NumPy and SciPy (0.5 s to import): only when there is a matching to solve
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix

    a = csr_matrix(
        (np.ones(2 * n_pairs), (rows_e + rows_n, list(range(n_pairs)) * 2)),
        shape=(len(entitlements) + len(needs), n_pairs),
    )
    b = [e.quantity for e in entitlements] + [n.quantity for n in needs]
    res = linprog(-np.asarray(weights), A_ub=a, b_ub=b, bounds=(0, None), method="highs")
    if res.status != 0:  # pragma: no cover - a zero allocation is always feasible
        raise RuntimeError(f"entitlement matching failed: {res.message}")
    out = []
    for (i, j), x in zip(pairs, res.x, strict=True):
        units = int(round(x))
        if units > 0:
            out.append((i, j, units, units))
    return out


def _allocate_cloud(
    entitlements: tuple[Entitlement, ...],
    needs: tuple[Need, ...],
    pairs: list[tuple[int, int]],
    weights: list[float],
    ratios: list[Fraction],
    duals: list[bool],
) -> list[Match]:
    """The matching with cloud terms: x (need units a pair covers, whole); per entitlement
    Σ x / ratio ≤ quantity over the pairs that are not dual use, and again over those that are
    (a second copy of the quantity); per need Σ x ≤ quantity."""
    n_e, n_n = len(entitlements), len(needs)
    shadow = {
        i: n_e + n_n + k
        for k, i in enumerate(sorted({i for (i, _), d in zip(pairs, duals, strict=True) if d}))
    }
    rows, cols, vals = [], [], []
    for c, ((i, j), r, d) in enumerate(zip(pairs, ratios, duals, strict=True)):
        rows += [shadow[i] if d else i, n_e + j]
        cols += [c, c]
        vals += [float(1 / r), 1.0]
    upper = [float(e.quantity) for e in entitlements] + [float(n.quantity) for n in needs]
    upper += [float(entitlements[i].quantity) for i in sorted(shadow)]
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    a = coo_matrix((vals, (rows, cols)), shape=(len(upper), len(pairs))).tocsr()
    res = milp(
        -np.asarray(weights),
        constraints=LinearConstraint(a, -np.inf, np.asarray(upper) + 1e-9),
        integrality=np.ones(len(pairs)),
        bounds=Bounds(np.zeros(len(pairs)), np.full(len(pairs), np.inf)),
    )
    if res.x is None:  # pragma: no cover - a zero allocation is always feasible
        raise RuntimeError(f"entitlement matching failed: {res.message}")
    return _spent(pairs, ratios, duals, [int(v) for v in np.round(res.x).astype(int)])


def _spent(
    pairs: list[tuple[int, int]], ratios: list[Fraction], duals: list[bool], x: list[int]
) -> list[Match]:
    """The matches of the pairs covering ``x`` need units each. Units spent: licenses taken at a
    ratio are pooled per entitlement (rounded up once); a dual-use license spends only what its
    cloud use takes beyond its on-premises use."""
    taken: dict[tuple[int, bool], Fraction] = defaultdict(Fraction)
    spent: list[int] = []
    for c, ((i, _), r, d) in enumerate(zip(pairs, ratios, duals, strict=True)):
        before = taken[(i, d)]
        taken[(i, d)] += Fraction(x[c]) / r
        spent.append(math.ceil(taken[(i, d)]) - math.ceil(before))
    extra = {
        i: max(0, math.ceil(taken[(i, True)]) - math.ceil(taken[(i, False)]))
        for (i, _), d in zip(pairs, duals, strict=True)
        if d
    }
    out: list[Match] = []
    for c, ((i, j), d) in enumerate(zip(pairs, duals, strict=True)):
        if not x[c]:
            continue
        units = spent[c]
        if d:
            units = min(units, extra[i])
            extra[i] -= units
        out.append((i, j, x[c], units))
    return out


def _value(pricing: Pricing, n: Need) -> Decimal:
    return pricing.amount(n.product, n.license, n.edition) + 1


def _waste(catalog: Catalog, e: Entitlement, version: str | None, n: Need) -> Decimal:
    return Decimal("0.001") * _capability_gap(catalog, e, version, n)


def _allocate_milp(
    catalog: Catalog,
    entitlements: tuple[Entitlement, ...],
    needs: tuple[Need, ...],
    pricing: Pricing,
    versions: list[str | None],
    pairs: list[tuple[int, int]],
    weights: list[float],
    fits: list[tuple[int, int, Fit]],
    ratios: list[Fraction] | None = None,
    duals: list[bool] | None = None,
) -> list[Match]:
    """The matching with processor licenses: variables y (units of a pair), x (processor units
    of a license at a need), t (full licensings of a need they cover), b (every processor of the
    need's host covered). Per entitlement Σy + Σx ≤ quantity; per need Σy + stack_cores·t ≤
    quantity; t ≤ Σ stacks_per_unit·x; t ≤ stacks·b; units_per_host·b ≤ Σx. Cloud terms as in
    :func:`_allocate_cloud`: a pair at a ratio spends y / ratio of its entitlement, and a dual-use
    pair draws on the entitlement's second copy (a row after the others)."""
    ratios = ratios or [Fraction(1)] * len(pairs)
    duals = duals or [False] * len(pairs)
    n_e, n_n = len(entitlements), len(needs)
    fit_needs = sorted({j for _, j, _ in fits})
    fit_of = {j: next(f for _, jj, f in fits if jj == j) for j in fit_needs}
    ny, nx, nf = len(pairs), len(fits), len(fit_needs)
    col_x, col_t, col_b = ny, ny + nx, ny + nx + nf
    n_cols = ny + nx + 2 * nf
    t_col = {j: col_t + k for k, j in enumerate(fit_needs)}
    b_col = {j: col_b + k for k, j in enumerate(fit_needs)}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []

    def put(r: int, c: int, v: float) -> None:
        rows.append(r)
        cols.append(c)
        vals.append(v)

    base = n_e + n_n  # then per fitted need: stack row, link row, processors row
    shadow_of = sorted({i for (i, _), d in zip(pairs, duals, strict=True) if d})
    shadow = {i: base + 3 * len(fit_needs) + k for k, i in enumerate(shadow_of)}
    for c, ((i, j), ratio, dual) in enumerate(zip(pairs, ratios, duals, strict=True)):
        put(shadow[i] if dual else i, c, float(1 / ratio))
        put(n_e + j, c, 1)
    for k, (i, j, fit) in enumerate(fits):
        put(i, col_x + k, 1)
        r = base + 3 * fit_needs.index(j)
        put(r, col_x + k, -fit.stacks_per_unit)
        put(r + 2, col_x + k, -1)
    upper = [float(e.quantity) for e in entitlements] + [float(n.quantity) for n in needs]
    for k, j in enumerate(fit_needs):
        fit, r = fit_of[j], base + 3 * k
        put(n_e + j, t_col[j], fit.stack_cores)
        put(r, t_col[j], 1)
        put(r + 1, t_col[j], 1)
        put(r + 1, b_col[j], -fit.stacks)
        put(r + 2, b_col[j], fit.units_per_host)
        upper += [0.0, 0.0, 0.0]
    upper += [float(entitlements[i].quantity) for i in shadow_of]
    upper = [u + 1e-9 for u in upper]
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    a = coo_matrix((vals, (rows, cols)), shape=(len(upper), n_cols)).tocsr()
    objective = np.zeros(n_cols)
    objective[:ny] = weights
    for k, (i, j, _) in enumerate(fits):
        objective[col_x + k] = -float(_waste(catalog, entitlements[i], versions[i], needs[j]))
        objective[col_x + k] -= 0.0001  # spend the fewest processor licenses
    for j in fit_needs:
        objective[t_col[j]] = float(_value(pricing, needs[j])) * fit_of[j].stack_cores
    top = np.full(n_cols, np.inf)
    for j in fit_needs:
        top[t_col[j]] = fit_of[j].stacks
        top[b_col[j]] = 1
    res = milp(
        -objective,
        constraints=LinearConstraint(a, -np.inf, np.asarray(upper)),
        integrality=np.ones(n_cols),
        bounds=Bounds(np.zeros(n_cols), top),
    )
    if res.x is None:  # pragma: no cover - a zero allocation is always feasible
        raise RuntimeError(f"entitlement matching failed: {res.message}")
    x = np.round(res.x).astype(int)
    out = _spent(pairs, ratios, duals, [int(v) for v in x[:ny]])
    for j in fit_needs:
        left = int(x[t_col[j]]) * fit_of[j].stack_cores
        for k, (i, jj, fit) in enumerate(fits):
            spent = int(x[col_x + k])
            if jj != j or spent == 0:
                continue
            covered = min(left, fit.stacks_per_unit * spent * fit.stack_cores) if left else 0
            left -= covered
            out.append((i, j, covered, spent))
    return out


def _capability_gap(catalog: Catalog, e: Entitlement, version: str | None, n: Need) -> int:
    gap = 0
    if e.edition is not None and n.edition is not None and e.edition != n.edition:
        ranks = dict(catalog.product(e.product).edition_rank)
        gap += 10 * (ranks.get(e.edition, 0) - ranks.get(n.edition, 0))
    if version is not None and n.version is not None:
        gap += catalog.version_index(e.product, version) - catalog.version_index(
            e.product, n.version
        )
    return max(gap, 0)
