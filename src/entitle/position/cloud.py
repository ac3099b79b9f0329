"""The cloud part of a position: per provider, which owned license covers which VM under which
right, what the provider bills, and — for every VM left short — which rule failed
(docs/rules/cloud-and-hybrid.md)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from entitle.catalog.model import Catalog
from entitle.estate.records import Entitlement, Estate
from entitle.optimize.match import covers
from entitle.rules.cloud import RIGHT_NAMES, billed_by_provider
from entitle.rules.demand import Need
from entitle.rules.mobility import sa_active
from entitle.rules.versions import effective_version
from entitle.source import Finding

Match = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class CloudRow:
    """One OSE's product at a provider and how it is licensed: ``quantity`` units of
    ``entitlement`` under ``right``, the provider's bill (``model`` provider), or ``short``."""

    provider: str
    host: str
    ose: str
    product: str
    edition: str | None
    version: str | None
    model: str  # provider, byol or payg
    right: str  # a right's name, "provider's bill", or "" when short
    entitlement: str = ""
    quantity: int = 0
    short: int = 0
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "host": self.host,
            "ose": self.ose,
            "product": self.product,
            "edition": self.edition,
            "version": self.version,
            "model": self.model,
            "right": self.right,
            "entitlement": self.entitlement or None,
            "quantity": self.quantity,
            "short": self.short,
            "note": self.note,
        }


def cloud_rows(
    estate: Estate,
    catalog: Catalog,
    as_of: date,
    ents: tuple[Entitlement, ...],
    needs: tuple[Need, ...],
    matches: list[Match],
) -> tuple[list[CloudRow], list[Finding]]:
    hosts = {h.host: h for h in estate.hosts}
    oses = {o.ose: o for o in estate.oses}
    rows: list[CloudRow] = []
    findings: list[Finding] = []
    versions: list[str | None] | None = None
    of_kind: dict[tuple[str, str], list[int]] = defaultdict(list)  # owned, by product and license
    for sw in estate.software:
        ose = oses.get(sw.ose)
        host = hosts.get(ose.host) if ose is not None else None
        if ose is None or host is None or host.provider is None:
            continue
        if ose.environment == "production" and billed_by_provider(sw):
            rows.append(
                CloudRow(
                    host.provider,
                    host.host,
                    ose.ose,
                    sw.product,
                    sw.edition,
                    sw.version,
                    "provider",
                    "provider's bill",
                )
            )
    by_need: dict[int, list[tuple[int, int]]] = defaultdict(list)
    on_premises: set[int] = set()  # entitlements that also cover needs on premises
    for i, j, units, _ in matches:
        if units > 0 and needs[j].cloud is not None:
            by_need[j].append((i, units))
        elif units > 0:
            on_premises.add(i)
    for j, n in enumerate(needs):
        terms = n.cloud
        if terms is None or n.quantity <= 0:
            continue
        host = hosts.get(n.host or "")
        model = n.model if n.model in ("byol", "payg") else "byol"

        def row(
            right: str, entitlement: str = "", qty: int = 0, short: int = 0, note: str = ""
        ) -> CloudRow:
            return CloudRow(
                terms.provider,  # noqa: B023 (called in this iteration only)
                n.host or "",  # noqa: B023
                n.ose or "",  # noqa: B023
                n.product,  # noqa: B023
                n.edition,  # noqa: B023
                n.version,  # noqa: B023
                model,  # noqa: B023
                right,
                entitlement,
                qty,
                short,
                note,
            )

        covered = 0
        for i, units in by_need.get(j, []):
            e = ents[i]
            with_sa = sa_active(e, as_of) and terms.right
            right = RIGHT_NAMES[terms.right] if with_sa else RIGHT_NAMES["dedicated-before-cutoff"]
            dual = e.edition in terms.dual_use and i in on_premises
            note = "also covers needs on premises (dual use)" if dual else ""
            rows.append(row(right, e.id or str(e.source), units, note=note))
            covered += units
        short = n.quantity - covered
        if short > 0:
            if versions is None:  # the version each owned license may run, once
                versions = [effective_version(catalog, e, as_of) for e in ents]
                for i, e in enumerate(ents):
                    of_kind[(e.product, e.license)].append(i)
            mine = of_kind.get((n.product, n.license), [])
            why = _why(catalog, as_of, ents, versions, mine, n, by_need.get(j, []))
            where = "dedicated host" if host is not None and host.dedicated else "shared hardware"
            rows.append(row("", short=short, note=why))
            findings.append(
                Finding(
                    "warning",
                    "cloud-shortfall",
                    f"{n.ose or n.host}: {short} of {n.quantity} {n.product} {n.edition or ''} "
                    f"{n.license} license(s) at {terms.provider} ({where}) are not covered: "
                    f"{why} (§7.2).",
                    n.evidence[0] if n.evidence else "",
                )
            )
    rows.sort(key=lambda r: (r.provider, r.ose, r.product, r.short > 0))
    return rows, findings


def _why(
    catalog: Catalog,
    as_of: date,
    ents: tuple[Entitlement, ...],
    versions: list[str | None],
    mine: list[int],
    n: Need,
    used: list[tuple[int, int]],
) -> str:
    """Which rule kept owned licenses from covering ``n``: no right at all, no active SA, bought
    on or after the cut-off, or too few licenses. ``mine``: the owned licenses of ``n``'s
    product and license kind (no other covers it), in their order."""
    terms = n.cloud
    assert terms is not None
    if terms.failed:
        return terms.failed
    fitting = [
        ents[i] for i in mine if ents[i].quantity > 0 and covers(catalog, ents[i], versions[i], n)
    ]
    if not fitting:
        return f"no owned {n.product} {n.license} license of a covering edition and version"
    with_sa = [e for e in fitting if sa_active(e, as_of)]
    before = terms.bought_before
    early = [e for e in fitting if before and e.purchased and e.purchased < before]
    if terms.right and not with_sa and not early:
        lapsed = [e for e in fitting if e.sa_until is not None]
        said = (
            f"Software Assurance of {', '.join(e.id or str(e.source) for e in lapsed[:3])} "
            f"ended before {as_of}"
            if lapsed
            else "the owned licenses have no Software Assurance or subscription"
        )
        if before is None:
            return f"{RIGHT_NAMES[terms.right]} needs active SA: {said}"
        return f"{said}, and none was bought before {before}"
    if not terms.right and not early:
        undated = any(e.purchased is None for e in fitting)
        return (
            f"on a Listed Provider's dedicated host only licenses bought before {before} count "
            "without SA"
            + ("; licenses without a purchase date are taken as bought after it" if undated else "")
        )
    said = "too few eligible licenses: the ones that qualify are all in use"
    lapsed = [e for e in fitting if e not in with_sa and e not in early]
    if lapsed:
        ids = ", ".join(e.id or str(e.source) for e in lapsed[:3])
        said += f"; {ids} cannot count here (no active SA" + (
            f", not bought before {before})" if before else ")"
        )
    return said
