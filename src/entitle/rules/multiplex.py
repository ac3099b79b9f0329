"""Multiplexing (licensing-rules.md §1.6): a server that pools or relays the requests of its users
and devices does not reduce the CALs they need.

An OSE marked ``front_end`` in oses.csv relays the requests of whoever accesses it to every
product it reaches through a server-to-server access row (a row whose ``device`` names it); where
what it reaches is itself a front end, the chain is followed (each front end once, so a cycle ends).
:func:`front_end_reach` lists, per front end, what it reaches and through which rows;
:func:`unmarked_relays` finds the OSEs that users access and that reach a product server-to-server
without being marked, for the warning that says what would be at stake if they were front ends.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from entitle.estate.records import Access, Level
from entitle.rules.index import EstateIndex


@dataclass(frozen=True, slots=True)
class Reach:
    """``product`` on ``ose``, reached by a front end through the server-to-server rows
    ``path`` (each as "access.csv:9 (sql-server on db1)", the front end's own row first)."""

    ose: str
    product: str
    level: Level
    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Unmarked:
    """``ose`` is accessed by ``users`` and ``devices``, is not marked front_end, and reaches
    ``product`` on ``target`` server-to-server (row ``source``); ``rights`` are the CALs each of
    them would need there if it were a front end."""

    ose: str
    target: str
    product: str
    version: str | None
    rights: tuple[str, ...]
    users: tuple[str, ...]
    devices: tuple[str, ...]
    source: str


def server_to_server(idx: EstateIndex) -> dict[str, list[Access]]:
    """The access rows whose ``device`` names an OSE, by that OSE (the one reaching out)."""
    out: dict[str, list[Access]] = defaultdict(list)
    for a in idx.estate.access:
        if a.device is not None and a.device in idx.oses and a.device != a.ose:
            out[a.device].append(a)
    return out


def hop(a: Access) -> str:
    return f"{a.source} ({a.product} on {a.ose})"


def front_end_reach(
    idx: EstateIndex, s2s: dict[str, list[Access]] | None = None
) -> dict[str, tuple[Reach, ...]]:
    """Per front end, every (OSE, product, level) it reaches, directly or through other front
    ends, once each (the first path found, depth first in the order of access.csv)."""
    s2s = server_to_server(idx) if s2s is None else s2s
    out: dict[str, tuple[Reach, ...]] = {}
    for fe in sorted(o.ose for o in idx.estate.oses if o.front_end):
        found = _reach_of(idx, fe, s2s)
        if found:
            out[fe] = found
    return out


def _reach_of(idx: EstateIndex, fe: str, s2s: dict[str, list[Access]]) -> tuple[Reach, ...]:
    found: dict[tuple[str, str, str], Reach] = {}
    seen = {fe}
    stack: list[tuple[str, tuple[str, ...]]] = [(fe, ())]
    while stack:
        ose, path = stack.pop()
        later = []
        for a in s2s.get(ose, ()):
            here = path + (hop(a),)
            found.setdefault((a.ose, a.product, a.level), Reach(a.ose, a.product, a.level, here))
            if idx.oses[a.ose].front_end and a.ose not in seen:  # a chain; a cycle ends here
                seen.add(a.ose)
                later.append((a.ose, here))
        stack.extend(reversed(later))
    return tuple(found.values())


Behind = dict[str, tuple[set[str], set[str]]]  # OSE → (users, devices) behind its front ends


def relayed_principals(idx: EstateIndex, product: str) -> Behind:
    """Per OSE, the users and devices that use a front end reaching ``product`` there (before
    any exemption: an estimate for choosing a licensing model)."""
    out: Behind = {}
    for fe, reached in front_end_reach(idx).items():
        targets = {r.ose for r in reached if r.product == product}
        if not targets:
            continue
        users = {a.user for a in idx.access_by_ose.get(fe, ()) if a.user and a.purpose == "use"}
        devices = {
            a.device
            for a in idx.access_by_ose.get(fe, ())
            if not a.user and a.device and a.device not in idx.oses and a.purpose == "use"
        }
        for ose in targets:
            have = out.setdefault(ose, (set(), set()))
            have[0].update(users)
            have[1].update(devices)
    return out


def unmarked_relays(
    idx: EstateIndex,
    principals: dict[str, tuple[set[str], set[str]]],
    rights_of: dict[tuple[str, str], tuple[str, ...]],
    s2s: dict[str, list[Access]],
) -> list[Unmarked]:
    """The OSEs not marked front_end that have ``principals`` (users, devices using them) and
    reach a product server-to-server whose ``rights_of`` (by target OSE and product) are not
    empty: one per (OSE, target, product)."""
    out: dict[tuple[str, str, str], Unmarked] = {}
    for ose in sorted(s2s):
        o = idx.oses[ose]
        if o.front_end or ose not in principals or o.environment != "production":
            continue
        users, devices = principals[ose]
        for a in s2s[ose]:
            key = (ose, a.ose, a.product)
            rights = rights_of.get((a.ose, a.product), ())
            if key in out or not rights or idx.oses[a.ose].environment != "production":
                continue
            sw = idx.first_software(a.ose, a.product)
            out[key] = Unmarked(
                ose,
                a.ose,
                a.product,
                sw.version if sw else None,
                rights,
                tuple(sorted(users)),
                tuple(sorted(devices)),
                str(a.source),
            )
    return list(out.values())
