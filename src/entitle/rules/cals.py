"""CAL and client-ML demand: which user or device must hold which right, from the access evidence
and what is managed (licensing-rules.md §1, §2, §5).

A *right* is named like a suite component: ``windows-server:cal``, ``rds:cal``,
``exchange-server:cal-enterprise``, ``configuration-manager:ml``. Each :class:`CalNeed` says that
a user or a device (one of them; both when the access names both) must hold a right; for external
users of a product with an External Connector, a connector on the host covers it instead.

Indirect access (§1.1, §1.9): whoever uses any product on an OSE under Windows Server also uses
that Windows Server, so each access row to another product brings the Windows Server CAL of the
OSE's version too (its evidence: "implied by access.csv:12 (sql-server on vm1)"), whatever the
product's own licensing (SQL Server per core, external users of Exchange 2013+ …). Multiplexing
(§1.6, :mod:`entitle.rules.multiplex`): whoever uses a ``front_end`` OSE needs the CALs of what it
reaches server-to-server, at that product's and that OSE's versions.

Exemptions (§1.5): unauthenticated access, server-to-server access, up to two principals per OSE
that only administer it, a physical OSE used only for hosting, Essentials (Specialty Server),
pay-as-you-go Windows Server (RDS still needs its CAL), SQL Server licensed per core, external
users of Exchange and SharePoint 2013 and later, and dev-test OSEs.

CAL equivalency (§6.3): a user who holds a subscription or CAL Suite Bridge (users.csv
`subscriptions`, the catalog's `subscriptions` and `bridges`) needs no CAL or ML for the rights it
carries. Where entitlements.csv records User SLs of it, only as many holders as are owned and
active count; an additive right whose base the subscription carries stays a need, and
:attr:`CalDemand.held` tells the optimizer that the user already holds the base.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import compress

from entitle.catalog.model import Catalog
from entitle.estate.records import Access, Software
from entitle.rules.calaccess import (
    DIRECT,
    IMPLIED,
    RELAYED,
    RELAYED_IMPLIED,
    AccessRows,
    Template,
    source_texts,
)
from entitle.rules.calneeds import CalNeed, CalNeeds
from entitle.rules.index import EstateIndex
from entitle.rules.multiplex import (
    Reach,
    Unmarked,
    front_end_reach,
    server_to_server,
    unmarked_relays,
)
from entitle.source import Finding

ADMIN_EXEMPT_PER_OSE = 2  # §1.5 item 2


@dataclass(frozen=True, slots=True)
class Equivalency:
    """Users whose subscription (or CAL Suite Bridge) ``held`` covers some of their needs."""

    held: str
    users: tuple[str, ...]  # holders relied on, by id
    rows: int  # access and managed rows whose needs it covers


@dataclass(frozen=True, slots=True)
class CalDemand:
    needs: Sequence[CalNeed]  # CalNeeds (columns) from the rules; any sequence of needs works
    exempt: tuple[tuple[str, int], ...] = ()  # (reason, access rows), for the report
    findings: tuple[Finding, ...] = field(default=())
    # (user, right) pairs a user holds through a subscription: free for the optimizer, where an
    # additive right needs its base on the same user
    held: frozenset[tuple[str, str]] = frozenset()
    equivalency: tuple[Equivalency, ...] = ()
    # (reason, access rows) that need no CAL of their product but the Windows Server CAL of
    # their OSE (indirect access, §1.1)
    partial: tuple[tuple[str, int], ...] = ()
    # OSEs users access that reach a CAL product server-to-server without being front ends
    unmarked: tuple[Unmarked, ...] = ()


def base_right(right: str, catalog: Catalog) -> str | None:
    """The right an additive right sits on (RDS and AD RMS on the Windows Server CAL, an
    Enterprise CAL on its product's Standard CAL), or None for a base right."""
    product, _, kind = right.partition(":")
    if kind == "cal-enterprise":
        return f"{product}:cal"
    if kind == "cal":
        requires = catalog.product(product).cal_requires
        return f"{requires}:cal" if requires else None
    return None


def cal_demand(
    idx: EstateIndex,
    catalog: Catalog,
    sql_server_cal: frozenset[str],
    as_of: date | None = None,
) -> CalDemand:
    """Every right each principal must hold. ``sql_server_cal``: the OSEs whose SQL Server is
    licensed Server + CAL (the others need no SQL CALs). ``as_of``: the day owned User SLs must
    be active on (``None``: every owned one counts).

    Each access row needs the CALs of its product and, for any product but Windows Server itself,
    the Windows Server CAL of the OSE it runs on (indirect access, §1.1), with the same
    exemptions. Whoever uses a front end also needs what the front end reaches (§1.6)."""
    exempt: Counter[str] = Counter()
    partial: Counter[str] = Counter()
    externals = {u.user for u in idx.estate.users if u.external}
    rows = AccessRows.of(idx, exempt)
    admin = rows.admin_exempt(ADMIN_EXEMPT_PER_OSE)
    if any(admin):
        exempt["administration only (≤ 2 per OSE)"] += admin.count(True)
        rows = rows.without(admin)
    s2s = server_to_server(idx)
    reach = front_end_reach(idx, s2s)
    no_windows: dict[str, set[str]] = defaultdict(set)  # OSE → products used there
    needs = CalNeeds()
    if len(rows):  # (NumPy only then: `entitle calc` plans a server without access rows)
        counts = exempt, partial, no_windows
        needs = _access_needs(idx, catalog, sql_server_cal, rows, externals, reach, counts)
    needs += _managed(idx, catalog)
    principals = _principals(rows, s2s)
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


NO_WINDOWS = "no Windows Server on the OSE"


def _access_needs(
    idx: EstateIndex,
    catalog: Catalog,
    sql_server_cal: frozenset[str],
    rows: AccessRows,
    externals: set[str],
    reach: dict[str, tuple[Reach, ...]],
    counts: tuple[Counter[str], Counter[str], dict[str, set[str]]],
) -> CalNeeds:
    """The needs of the access rows. What an OSE, product, level, externality and purpose
    decide — the row's rights, the Windows Server CAL it implies, and for a use of a front end
    what it relays (§1.6) — is worked out once per group of rows alike and counted in
    ``counts`` (exempt and partial rows by reason, OSEs without Windows Server); every row's
    needs are then laid out from its group's (:func:`entitle.rules.calaccess.lay_out`)."""
    from entitle.rules.calaccess import group_codes, lay_out

    exempt, partial, no_windows = counts
    external = [u in externals for u in rows.user]
    keys = list(zip(rows.ose, rows.product, rows.level, external, rows.purpose, strict=True))
    group, firsts, sizes = group_codes(keys)
    rules: dict[tuple[str, str, str, bool], Rule] = {}

    def rule_of(ose: str, product: str, level: str, external: bool) -> Rule:
        key = (ose, product, level, external)
        if key not in rules:
            use = Access(ose, product, level=level)  # type: ignore[arg-type]
            rules[key] = _rule(idx, catalog, use, external, sql_server_cal)
        return rules[key]

    templates: list[Template] = []
    for i, many in zip(firsts, sizes, strict=True):
        ose, product, level, ext, purpose = keys[i]
        rights, reason, implied, ws_reason, host = rule_of(ose, product, level, ext)
        needs = [(r, v, b, ose, host, DIRECT, "") for r, v, b in rights]
        needs += [(r, v, False, ose, host, IMPLIED, f" ({product} on {ose})") for r, v in implied]
        if ws_reason == NO_WINDOWS:
            no_windows[ose].add(product)
        if not rights and not implied:
            exempt[reason or ws_reason] += many
        elif reason:
            partial[reason] += many
        for r in reach.get(ose, ()) if purpose == "use" else ():
            if idx.oses[r.ose].environment != "production":
                continue
            far, _, far_implied, far_reason, far_host = rule_of(r.ose, r.product, r.level, ext)
            via = f" via front end {ose} → " + " → ".join(r.path)
            needs += [(x, v, b, r.ose, far_host, RELAYED, via) for x, v, b in far]
            needs += [(x, v, False, r.ose, far_host, RELAYED_IMPLIED, via) for x, v in far_implied]
            if far_reason == NO_WINDOWS:
                no_windows[r.ose].add(r.product)
        templates.append(tuple(needs))
    return lay_out(rows, group, templates, external)


def _principals(
    rows: AccessRows, s2s: dict[str, list[Access]]
) -> dict[str, tuple[set[str], set[str]]]:
    """Per OSE that reaches another server-to-server, the users and devices who use it."""
    out: dict[str, tuple[set[str], set[str]]] = {}
    for i in compress(range(len(rows)), map(s2s.__contains__, rows.ose)):
        if rows.purpose[i] == "use":
            user = rows.user[i]
            users, devices = out.setdefault(rows.ose[i], (set(), set()))
            (users if user else devices).add(user or rows.device[i] or "")
    return out


# What one use of a product on an OSE needs, whoever uses it: (its product's rights: right,
# version, with its base; the reason it needs none; the implied Windows Server rights: right,
# version; the reason the OSE needs none; the OSE's host)
Rule = tuple[
    tuple[tuple[str, str | None, bool], ...], str, tuple[tuple[str, str | None], ...], str, str
]


def _rule(
    idx: EstateIndex, catalog: Catalog, a: Access, external: bool, sql_server_cal: frozenset[str]
) -> Rule:
    rights, reason = _rights(idx, catalog, a, external, sql_server_cal)
    implied: list[tuple[str, str | None]] = []
    ws_reason = ""
    if a.product != catalog.roles.server_os:
        implied, ws_reason = _windows_cal(idx, a.ose, catalog)
    granted = {r for r, _ in rights + implied}
    with_base = tuple((r, v, base_right(r, catalog) in granted) for r, v in rights)
    return with_base, reason, tuple(implied), ws_reason, idx.oses[a.ose].host


def _unknown_os(idx: EstateIndex, no_windows: dict[str, set[str]]) -> list[Finding]:
    out = []
    for ose in sorted(no_windows):
        products = ", ".join(sorted(no_windows[ose]))
        message = (
            f"{ose}: its users use {products}, but software.csv names no Windows Server on it, so "
            "no Windows Server CAL is counted for them (indirect access, licensing-rules.md §1.1); "
            "add its windows-server row if it runs Windows Server"
        )
        out.append(Finding("warning", "os-unknown", message, "software.csv"))
    return out


def _unmarked(
    idx: EstateIndex,
    catalog: Catalog,
    principals: dict[str, tuple[set[str], set[str]]],
    s2s: dict[str, list[Access]],
    sql_server_cal: frozenset[str],
) -> list[Unmarked]:
    """The product CALs each server-to-server target would need of a front end's users."""
    rights_of: dict[tuple[str, str], tuple[str, ...]] = {}
    for rows in s2s.values():
        for a in rows:
            key = (a.ose, a.product)
            if key not in rights_of:
                probe = replace(a, user="", device=None)
                rights = _rights(idx, catalog, probe, False, sql_server_cal)[0]
                rights_of[key] = tuple(r for r, _ in rights)
    return unmarked_relays(idx, principals, rights_of, s2s)


def _equivalent(
    needs: CalNeeds,
    held_by: dict[str, dict[str, str]],
    catalog: Catalog,
    exempt: Counter[str],
) -> tuple[CalNeeds, frozenset[tuple[str, str]], tuple[Equivalency, ...]]:
    """Drop the needs a user's subscription covers (counting their rows in ``exempt``) and mark
    the additive needs whose base the user holds that way."""
    kept: list[int] = []
    covered: dict[str, set[str]] = defaultdict(set)
    sources: dict[str, set[str]] = defaultdict(set)
    for i, (user, right) in enumerate(zip(needs.user, needs.right, strict=True)):
        by = held_by.get(user, {}).get(right) if user else None
        if by is None:
            kept.append(i)
            continue
        covered[by].add(user or "")
        sources[by].add(needs.row[i] or needs.source[i])
    for h, where in sources.items():
        exempt[f"covered by a user subscription ({h})"] += len(where)
    held = frozenset((u, r) for u, by_right in held_by.items() for r in by_right)
    out = needs.take(kept)
    out.user_has_base = [
        bool(user and with_base and (user, base_right(right, catalog) or "") in held) or has
        for user, right, with_base, has in zip(
            out.user, out.right, out.with_base, out.user_has_base, strict=True
        )
    ]
    equivalency = tuple(
        Equivalency(h, tuple(sorted(covered[h])), len(sources[h])) for h in sorted(covered)
    )
    return out, held, equivalency


def subscription_rights(
    idx: EstateIndex, catalog: Catalog, as_of: date | None
) -> tuple[dict[str, dict[str, str]], list[Finding]]:
    """user → right → the subscription (or bridge) that carries it, for the holders that count:
    an unknown id is ignored with a warning; where entitlements.csv records User SLs of a
    subscription, its holders beyond the active quantity (by user id) do not count."""
    holders: dict[str, list[str]] = defaultdict(list)
    findings: list[Finding] = []
    for u in idx.estate.users:
        for h in u.subscriptions:
            if catalog.equivalency(h) is None:
                known = ", ".join(sorted({*catalog.subscriptions, *catalog.bridges}))
                message = (
                    f"user {u.user}: '{h}' is not a subscription or CAL Suite Bridge the "
                    f"catalog knows, so it grants no CAL rights (known: {known})"
                )
                findings.append(Finding("warning", "unknown-subscription", message, str(u.source)))
            else:
                holders[h].append(u.user)
    owned: dict[str, int] = defaultdict(int)
    recorded: set[str] = set()
    for e in idx.estate.entitlements:
        if e.license == "user-sl" and e.product in holders:
            recorded.add(e.product)
            if as_of is None or e.sa_until is None or e.sa_until >= as_of:
                owned[e.product] += e.quantity
    rights: dict[str, dict[str, str]] = defaultdict(dict)
    for h in sorted(holders):
        users = sorted(set(holders[h]))
        if h in recorded and len(users) > owned[h]:
            cut = owned[h]
            message = (
                f"{len(users)} users hold {h} in users.csv, but entitlements.csv records "
                f"{cut} active User SLs of it: CAL rights are counted for the first {cut} "
                f"by user id ({', '.join(users[cut : cut + 5])}{' …' if len(users) - cut > 5 else ''}"
                " do not count); record the missing subscriptions or correct users.csv"
            )
            findings.append(Finding("warning", "subscription-shortfall", message, "users.csv"))
            users = users[:cut]
        elif h not in recorded:
            message = (
                f"{len(users)} users hold {h} in users.csv and entitlements.csv records no "
                "User SL of it: their CAL rights are counted as users.csv says"
            )
            findings.append(Finding("info", "subscription-unrecorded", message, "users.csv"))
        for c in catalog.equivalency(h) or ():
            for user in users:
                rights[user].setdefault(str(c), h)
    return rights, findings


def _first(idx: EstateIndex, ose: str, product: str) -> Software | None:
    return idx.first_software(ose, product)


def _windows_cal(
    idx: EstateIndex, ose_id: str, catalog: Catalog
) -> tuple[list[tuple[str, str | None]], str]:
    ose = idx.oses[ose_id]
    ws = _first(idx, ose_id, catalog.roles.server_os)
    if ose.hosting_only and not ose.virtual:
        return [], "physical OSE used only for hosting"
    if ws is None:
        return [], NO_WINDOWS
    if ws.edition == "essentials":
        return [], "Essentials (Specialty Server, no CALs)"
    if ws.model == "payg":
        return [], "Windows Server pay-as-you-go (no CALs)"
    host = idx.hosts.get(ose.host)
    if host is not None and host.provider is not None and catalog.cloud is not None:
        # docs/rules/cloud-and-hybrid.md, catalog choice cloud.ahb_cals_choice.
        if ws.model in (None, "provider"):
            return [], f"Windows Server licensed by the provider ({host.provider}; no CALs)"
        if host.provider == "azure" and catalog.cloud.ahb_no_windows_cals:
            return [], "Windows Server in Azure (no CALs)"
    return [(catalog.server_os_right(), ws.version)], ""


def _rights(
    idx: EstateIndex, catalog: Catalog, a: Access, external: bool, sql_server_cal: frozenset[str]
) -> tuple[list[tuple[str, str | None]], str]:
    sw = _first(idx, a.ose, a.product)
    version = sw.version if sw else None
    product = catalog.product(a.product)
    if a.product == catalog.roles.server_os:
        return _windows_cal(idx, a.ose, catalog)
    if product.cal_requires is not None:  # additive (RDS, AD RMS): the base CAL comes implied
        return [(f"{a.product}:cal", version)], ""
    if a.product == catalog.roles.database:
        if a.ose in sql_server_cal:
            return [(catalog.database_right(), version)], ""
        return [], f"{product.name} licensed per core (no CALs)"
    since = product.external_users_licensed_with_server_from
    if (
        external
        and since
        and version
        and version in product.version_ids
        and catalog.version_index(a.product, version) >= catalog.version_index(a.product, since)
    ):
        return [], f"external users of {product.name} {since}+ (licensed with the server)"
    if "standard" not in product.levels:
        return [], f"{product.name} needs no CALs"
    rights = [(f"{a.product}:cal", version)]
    if a.level == "enterprise":
        rights.append((f"{a.product}:cal-enterprise", version))
    return rights, ""


def _managed(idx: EstateIndex, catalog: Catalog) -> CalNeeds:
    """Managed client OSEs need a client ML per OSE, or per user for the OSEs that user uses."""
    rows = [m for m in idx.estate.managed if m.device is not None and m.device not in idx.oses]
    kinds = {p: (f"{p}:ml", catalog.latest_version(p)) for p in {m.product for m in rows}}
    right, version = zip(*(kinds[m.product] for m in rows), strict=True) if rows else ((), ())
    n = len(rows)
    sources = source_texts([m.source for m in rows])
    users, devices = [m.user for m in rows], [m.device for m in rows]
    fixed = [None] * n, [None] * n, [False] * n  # ose, host, external
    return CalNeeds(
        [
            list(right),
            users,
            devices,
            list(version),
            *fixed,
            sources,
            [True] * n,
            [False] * n,
            [""] * n,
        ]
    )
