"""SQL Server licenses that may follow a VM (licensing-rules.md §3.5, §7.1): which VMs the owned
SQL Server licenses with Software Assurance on the day of the position go to, and how a VM's
licenses are explained where they are counted. Used by :mod:`entitle.rules.sql`;
docs/rules/software-assurance-and-vm-history.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from entitle.catalog.model import Catalog, CoreRule, ModelRule
from entitle.estate.records import Ose, Software
from entitle.rules.cores import per_vm_cores
from entitle.rules.index import EstateIndex
from entitle.rules.mobility import Places, SaStock, lapse_finding
from entitle.source import Finding


@dataclass(frozen=True, slots=True)
class Ctx:
    """What every SQL Server rule of one position shares: where VMs count, and which VMs'
    licenses follow them with Software Assurance (licensing-rules.md §7.1)."""

    places: Places
    mobile_cores: frozenset[str]  # VMs whose per-VM core licenses have SA (and so follow them)
    mobile_server: frozenset[str]  # VMs whose Server + CAL server license has SA
    sa_short: frozenset[str]  # VMs of an SA-only per-VM version without enough SA licenses
    enterprise_sa: SaStock  # SA Enterprise core licenses, for unlimited virtualization


def sql_context(
    idx: EstateIndex,
    catalog: Catalog,
    rule: CoreRule,
    rows: list[tuple[Ose, Software, ModelRule, str | None]],
    as_of: date,
    findings: list[Finding],
) -> Ctx:
    """Which VMs' licenses follow them (§7.1): the owned SQL Server licenses with SA active on
    ``as_of`` are handed out first to the VMs whose per-VM option needs SA anyway (2022 and
    later), then to the others: VMs whose model software.csv fixes before those whose model the
    optimizer still chooses, then biggest saving first (licenses × (hosts it would otherwise be
    counted on − 1)), ties by OSE id. A VM left without is licensed on every host it may run on
    and every host it left fewer than 90 days ago."""
    product = catalog.roles.database
    places = Places.build(idx, catalog, as_of)
    cores = SaStock.build(idx, catalog, product, "core", as_of)
    servers = SaStock.build(idx, catalog, product, "server", as_of)
    mobile_cores: set[str] = set()
    mobile_server: set[str] = set()
    short: set[str] = set()
    later: list[tuple[bool, int, str, Software, int]] = []
    server_vms: list[tuple[bool, int, str, Software]] = []
    for ose, sw, mrule, model in rows:
        if not ose.virtual:
            continue
        spread = len(places.hosts(ose, mobile=False))
        if model in (None, "per-vm") and "per-vm" in mrule.allows:
            qty = per_vm_cores(ose.vcpus, rule)
            if per_vm_needs_sa(catalog, mrule, sw):
                if cores.take(sw.edition, qty):
                    mobile_cores.add(ose.ose)
                else:
                    short.add(ose.ose)
            elif spread > 1:
                later.append((model is None, -qty * (spread - 1), ose.ose, sw, qty))
        if model in (None, "server-cal") and "server-cal" in allowed(mrule) and spread > 1:
            server_vms.append((model is None, -(spread - 1), ose.ose, sw))
    for _, _, ose_id, sw, qty in sorted(later, key=lambda r: r[:3]):
        if cores.take(sw.edition, qty):
            mobile_cores.add(ose_id)
    for _, _, ose_id, sw in sorted(server_vms, key=lambda r: r[:3]):
        if servers.take(sw.edition, 1):
            mobile_server.add(ose_id)
    if mobile_cores:
        lapse = lapse_finding(
            catalog,
            cores.rows,
            as_of,
            "SQL Server licensed per VM (per-VM rights from 2022, License Mobility)",
            "entitlements.csv",
        )
        if lapse is not None:
            findings.append(lapse)
    if mobile_server:
        lapse = lapse_finding(
            catalog,
            servers.rows,
            as_of,
            "License Mobility of SQL Server server licenses",
            "entitlements.csv",
        )
        if lapse is not None:
            findings.append(lapse)
    return Ctx(
        places,
        frozenset(mobile_cores),
        frozenset(mobile_server),
        frozenset(short),
        SaStock.build(idx, catalog, product, "core", as_of),
    )


def per_vm_needs_sa(catalog: Catalog, mrule: ModelRule, sw: Software) -> bool:
    """Per-VM licensing of this version is an SA-only right (SQL Server 2022 and later, §3.5)."""
    product = catalog.roles.database
    needs_sa = mrule.per_vm_needs_sa_from
    return needs_sa is not None and catalog.version_index(
        product, sw.version
    ) >= catalog.version_index(product, needs_sa)


def allowed(mrule: ModelRule) -> tuple[str, ...]:
    if mrule.model == "server-cal":
        return ("server-cal",)
    return ("per-core", "server-cal") if "server-cal" in mrule.also else ("per-core",)
