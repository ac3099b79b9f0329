"""SQL Server's passive failover copies (``software.csv`` ``passive_for``; licensing-rules.md §3.5
"SA failover rights", §7.3): with Software Assurance active on the primary's licenses on the day of
the position, one passive copy for high availability, one for disaster recovery and one for
disaster recovery in Azure per primary OSE need no licenses of their own (counts in the catalog,
``sa_rights.failover``). Without SA, or beyond those, the copy is licensed like any installation.

The estate does not say which copy serves which purpose (catalog choice): a copy on a host whose
``hosts.csv`` ``provider`` is ``azure`` takes the Azure DR right; up to ``ha + dr`` other copies,
in OSE id order, take the HA and the on-premises DR rights.

Whose SA counts (our choice, named in a finding): SQL Server core or server licenses assigned to
the primary OSE or its host with SA active on the as-of date; when none is assigned there, any
unassigned SQL Server license with active SA.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from entitle.catalog.model import Catalog
from entitle.estate.records import Entitlement, Ose, Software
from entitle.rules.index import EstateIndex
from entitle.rules.mobility import lapse_finding, sa_active, sa_rights
from entitle.source import Finding

LICENSES = ("core", "server")


class Owned:
    """The product's core and server licenses, by what each is assigned to (built once: a scan
    of every entitlement per primary took minutes at a million users)."""

    def __init__(self, idx: EstateIndex, product: str, as_of: date):
        self.rows = [
            e for e in idx.estate.entitlements if e.product == product and e.license in LICENSES
        ]
        self.at: dict[str, list[int]] = defaultdict(list)  # assigned_to -> places in rows
        for i, e in enumerate(self.rows):
            if e.assigned_to is not None:
                self.at[e.assigned_to].append(i)
        self.unassigned = [e for e in self.rows if e.assigned_to is None and sa_active(e, as_of)]

    def primary_sa(self, primary: Ose, as_of: date) -> tuple[list[Entitlement], bool]:
        """The licenses whose SA the primary relies on, and whether they were found by
        assignment (False: taken from the unassigned ones, an assumption)."""
        places = sorted({*self.at.get(primary.ose, ()), *self.at.get(primary.host, ())})
        here = [self.rows[i] for i in places]
        if here:
            return [e for e in here if sa_active(e, as_of)], True
        return list(self.unassigned), False


def free_passive_copies(
    idx: EstateIndex,
    catalog: Catalog,
    product: str,
    copies: list[tuple[Ose, Software]],
    as_of: date,
    findings: list[Finding],
) -> set[str]:
    """The OSE ids of the passive copies that need no license; a finding for every copy."""
    rights = sa_rights(catalog).failover_for(product)
    by_primary: dict[str, list[tuple[Ose, Software]]] = defaultdict(list)
    for ose, sw in copies:
        if sw.passive_for is not None:
            by_primary[sw.passive_for].append((ose, sw))
    free: set[str] = set()
    owned = Owned(idx, product, as_of)
    for primary_id in sorted(by_primary):
        rows = sorted(by_primary[primary_id], key=lambda r: r[0].ose)
        primary = idx.oses.get(primary_id)
        active = primary is not None and any(
            s.passive_for is None for s in idx.software(primary_id, product)
        )
        if rights is None or primary is None or not active:
            for ose, sw in rows:
                findings.append(
                    Finding(
                        "warning",
                        "passive-not-free",
                        f"{ose.ose} is a passive copy of {primary_id}, which runs no active "
                        f"{product}; it is licensed like any installation (§3.5).",
                        str(sw.source),
                    )
                )
            continue
        sa_rows, assigned = owned.primary_sa(primary, as_of)
        if not sa_rows:
            for ose, sw in rows:
                findings.append(
                    Finding(
                        "warning",
                        "passive-needs-sa",
                        f"{ose.ose} is a passive copy of {primary_id}, whose SQL Server licenses "
                        f"have no Software Assurance active on {as_of}: failover rights need SA, "
                        "so the copy is licensed like any installation (§3.5, §7.3).",
                        str(sw.source),
                    )
                )
            continue
        azure_left, onprem_left = rights.azure_dr, rights.ha + rights.dr
        onprem_used = 0
        for ose, sw in rows:
            at = idx.hosts[ose.host]
            provider = at.provider or at.extra.get("provider", "").strip().lower()
            slot = ""
            if provider == "azure" and azure_left > 0:
                azure_left -= 1
                slot = "disaster recovery in Azure"
            elif provider != "azure" and onprem_left > 0:
                onprem_left -= 1
                onprem_used += 1
                slot = "high availability" if onprem_used <= rights.ha else "disaster recovery"
            if not slot:
                findings.append(
                    Finding(
                        "warning",
                        "passive-beyond-rights",
                        f"{ose.ose} is a passive copy of {primary_id} beyond the "
                        f"{rights.ha} HA + {rights.dr} DR + {rights.azure_dr} Azure DR copies "
                        "SA allows per primary: licensed like any installation (§3.5).",
                        str(sw.source),
                    )
                )
                continue
            free.add(ose.ose)
            whose = (
                "licenses assigned to it"
                if assigned
                else "unassigned SQL Server licenses with active SA (assumed to be the "
                "primary's: assign them in entitlements.csv to make it exact)"
            )
            findings.append(
                Finding(
                    "info",
                    "failover-right",
                    f"{ose.ose} is a passive copy of {primary_id}: no license needed, taken as "
                    f"its {slot} copy under the primary's Software Assurance ({whose}). The "
                    "estate does not say which copy is HA or DR; the catalog choice "
                    "sa_rights.failover assigns them (§3.5).",
                    str(sw.source),
                )
            )
        lapse = lapse_finding(
            catalog, sa_rows, as_of, f"The failover rights of {primary_id}", primary_id
        )
        if lapse is not None:
            findings.append(lapse)
    return free
