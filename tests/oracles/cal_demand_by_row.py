"""The oracle of the CAL demand's access rows: the needs made row by row.

This was :func:`entitle.rules.cals.cal_demand`'s loop before the access table was read as
columns (:mod:`entitle.rules.calaccess`): one call per access row, which looked up what its OSE,
product, level and externality decide and appended one tuple per need, with the row's source
formatted there. It stays here only so the tests can check that the grouped builder makes the
same needs, in the same order, with the same exemptions and findings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date
from typing import Any

from entitle.catalog.model import Catalog
from entitle.estate.records import Access
from entitle.rules.calneeds import CalNeeds
from entitle.rules.cals import (
    ADMIN_EXEMPT_PER_OSE,
    NO_WINDOWS,
    CalDemand,
    Equivalency,
    Rule,
    _equivalent,
    _rule,
    _unknown_os,
    _unmarked,
    subscription_rights,
)
from entitle.rules.index import EstateIndex
from entitle.rules.multiplex import front_end_reach, server_to_server


def cal_demand_by_row(
    idx: EstateIndex,
    catalog: Catalog,
    sql_server_cal: frozenset[str],
    as_of: date | None = None,
) -> CalDemand:
    """Every right each principal must hold, worked out access row by access row."""
    exempt: Counter[str] = Counter()
    partial: Counter[str] = Counter()
    externals = {u.user for u in idx.estate.users if u.external}
    rows: list[tuple[Access, str | None, str | None]] = []
    for a in idx.estate.access:
        ose = idx.oses[a.ose]
        device = a.device if a.device and a.device not in idx.oses else None
        if ose.environment != "production":
            exempt["dev-test OSE"] += 1
        elif a.user is None and device is None:
            exempt["server-to-server" if a.device else "unauthenticated"] += 1
        else:
            rows.append((a, a.user, device))

    admins_exempt = admin_exemptions(rows)
    s2s = server_to_server(idx)
    reach = front_end_reach(idx, s2s)
    no_windows: dict[str, set[str]] = defaultdict(set)
    principals: dict[str, tuple[set[str], set[str]]] = {}
    found: list[tuple[Any, ...]] = []
    rules: dict[tuple[str, str, str, bool], Rule] = {}
    for a, user, device in rows:
        principal = user or device
        if a.purpose == "admin" and (a.ose, principal) in admins_exempt:
            exempt["administration only (≤ 2 per OSE)"] += 1
            continue
        external = user in externals
        source = str(a.source)
        got, reason, ws_reason = _row_needs(
            found, idx, a, user, device, external, source, None, rules, catalog, sql_server_cal
        )
        if ws_reason == NO_WINDOWS:
            no_windows[a.ose].add(a.product)
        if not got:
            exempt[reason or ws_reason] += 1
        elif reason:
            partial[reason] += 1
        if a.purpose != "use":
            continue
        if a.ose in s2s:
            users, devices = principals.setdefault(a.ose, (set(), set()))
            (users if user else devices).add(principal or "")
        for r in reach.get(a.ose, ()):
            if idx.oses[r.ose].environment != "production":
                continue
            relayed = replace(a, ose=r.ose, product=r.product, level=r.level)
            evidence = f"{a.source} via front end {a.ose} → " + " → ".join(r.path)
            row = (user, device, external, evidence, source)
            _, _, ws_reason = _row_needs(found, idx, relayed, *row, rules, catalog, sql_server_cal)
            if ws_reason == NO_WINDOWS:
                no_windows[r.ose].add(r.product)
    needs = CalNeeds.from_rows(found + managed(idx, catalog))
    held_by, findings = subscription_rights(idx, catalog, as_of)
    findings = _unknown_os(idx, no_windows) + findings
    unmarked = _unmarked(idx, catalog, principals, s2s, sql_server_cal)
    held: frozenset[tuple[str, str]] = frozenset()
    equivalency: tuple[Equivalency, ...] = ()
    if held_by:
        needs, held, equivalency = _equivalent(needs, held_by, catalog, exempt)
    return CalDemand(
        needs,
        tuple(sorted(exempt.items())),
        tuple(findings),
        held,
        equivalency,
        tuple(sorted(partial.items())),
        tuple(unmarked),
    )


def admin_exemptions(rows: list[tuple[Access, str | None, str | None]]) -> set[tuple[str, str]]:
    """Up to two principals per OSE that only administer it need no CAL there. Where more
    qualify, those with no other access anywhere are exempted first, then by id."""
    uses: dict[tuple[str, str], set[str]] = defaultdict(set)
    elsewhere: Counter[str] = Counter()
    for a, user, device in rows:
        principal = user or device
        if principal is None:
            continue
        uses[(a.ose, principal)].add(a.purpose)
        if a.purpose != "admin":
            elsewhere[principal] += 1
    by_ose: dict[str, list[str]] = defaultdict(list)
    for (ose, principal), purposes in uses.items():
        if purposes == {"admin"}:
            by_ose[ose].append(principal)
    out: set[tuple[str, str]] = set()
    for ose, principals in by_ose.items():
        ranked = sorted(principals, key=lambda p: (elsewhere[p] > 0, p))
        out.update((ose, p) for p in ranked[:ADMIN_EXEMPT_PER_OSE])
    return out


def managed(idx: EstateIndex, catalog: Catalog) -> list[tuple[Any, ...]]:
    """Managed client OSEs need a client ML per OSE, or per user for the OSEs that user uses."""
    out = []
    for m in idx.estate.managed:
        if m.device is None or m.device in idx.oses:
            continue
        version = catalog.latest_version(m.product)
        need = (f"{m.product}:ml", m.user, m.device, version, None, None, False, str(m.source))
        out.append((*need, True, False, ""))
    return out


def _row_needs(
    found: list[tuple[Any, ...]],
    idx: EstateIndex,
    a: Access,
    user: str | None,
    device: str | None,
    external: bool,
    evidence: str,
    row: str | None,
    rules: dict[tuple[str, str, str, bool], Rule],
    catalog: Catalog,
    sql_server_cal: frozenset[str],
) -> tuple[int, str, str]:
    """Append to ``found`` the needs of one use of ``a.product`` on ``a.ose``: its product's CALs
    and, for any other product than Windows Server, the Windows Server CAL of that OSE (implied,
    §1.1); with how many, the reason the product needs no CAL and the reason the OSE needs no
    Windows Server CAL (blank where they do). ``row``: the access row, where ``evidence`` is a
    relay's path. ``rules`` keeps what the OSE, product, level and externality decide, for the
    next row alike (the access table repeats them row after row)."""
    key = (a.ose, a.product, a.level, external)
    rule = rules.get(key)
    if rule is None:
        rule = rules[key] = _rule(idx, catalog, a, external, sql_server_cal)
    rights, reason, implied, ws_reason, host = rule
    add, where = found.append, (a.ose, host, external)
    for right, version, with_base in rights:
        add((right, user, device, version, *where, evidence, with_base, False, row or ""))
    if implied:
        why = f"implied by {evidence}" + ("" if "→" in evidence else f" ({a.product} on {a.ose})")
        for right, version in implied:
            add((right, user, device, version, *where, why, False, False, row or evidence))
    return len(rights) + len(implied), reason, ws_reason
