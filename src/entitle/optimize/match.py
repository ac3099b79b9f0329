"""Matching owned entitlements to needs, edition- and version-aware.

An entitlement covers a need when product and license kind agree, its edition covers the need's
(a Datacenter license covers a Standard need), its version covers the need's (same or later;
Software Assurance active on a release date gives that version; 2012 CALs cover 2012 R2) and,
when it is assigned to a host or OSE, the need is there. Which units go where is a transportation
problem, solved exactly as an LP with HiGHS (its matrix is totally unimodular, so the optimum is
integral): cover the most valuable shortfall first, and spend the least capable licenses first.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from entitle.catalog.model import Catalog
from entitle.estate.records import Entitlement
from entitle.optimize.pricing import Pricing
from entitle.rules.demand import Need
from entitle.rules.versions import effective_version

CAL_KINDS = {"user-cal", "device-cal", "client-ml-user", "client-ml-ose", "user-sl"}


def covers(catalog: Catalog, e: Entitlement, version: str | None, need: Need) -> bool:
    if need.billed or e.product != need.product or e.license != need.license:
        return False
    if e.assigned_to is not None and e.assigned_to not in (need.host, need.ose):
        return False
    edition = e.edition if e.edition is not None else _lowest_edition(catalog, e.product)
    if need.license not in CAL_KINDS and not catalog.edition_covers(
        e.product, edition, need.edition
    ):
        return False
    if need.version is None or version is None:
        return True
    return catalog.version_covers(e.product, version, need.version, cal=need.license in CAL_KINDS)


def _lowest_edition(catalog: Catalog, product: str) -> str | None:
    ranks = dict(catalog.product(product).edition_rank)
    return min(ranks, key=lambda k: ranks[k]) if ranks else None


def allocate(
    catalog: Catalog,
    entitlements: tuple[Entitlement, ...],
    needs: tuple[Need, ...],
    pricing: Pricing,
    as_of: date,
) -> list[tuple[int, int, int]]:
    """(entitlement index, need index, units) triples that cover as much value as possible."""
    versions = [effective_version(catalog, e, as_of) for e in entitlements]
    by_kind: dict[tuple[str, str], list[int]] = defaultdict(list)  # covers() needs both equal
    by_place: dict[tuple[str, str, str], list[int]] = defaultdict(list)  # … and the place
    for j, n in enumerate(needs):
        if n.quantity > 0 and not n.billed:
            by_kind[(n.product, n.license)].append(j)
            for place in {p for p in (n.host, n.ose) if p is not None}:
                by_place[(n.product, n.license, place)].append(j)
    pairs = [
        (i, j)
        for i, e in enumerate(entitlements)
        if e.quantity > 0
        for j in (
            by_kind.get((e.product, e.license), ())
            if e.assigned_to is None
            else by_place.get((e.product, e.license, e.assigned_to), ())
        )
        if covers(catalog, e, versions[i], needs[j])
    ]
    if not pairs:
        return []
    weights = []
    for i, j in pairs:
        e, n = entitlements[i], needs[j]
        value = pricing.amount(n.product, n.license, n.edition) + 1
        waste = Decimal("0.001") * _capability_gap(catalog, e, versions[i], n)
        weights.append(float(value - waste))
    n_pairs = len(pairs)
    rows_e = [i for i, _ in pairs]
    rows_n = [len(entitlements) + j for _, j in pairs]
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
            out.append((i, j, units))
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
