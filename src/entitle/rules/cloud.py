"""Server software at a provider (estate format version 2: hosts.csv ``provider``/``dedicated``,
software.csv ``model`` ``provider``/``byol``; licensing-rules.md §3.2, §7.2, §7.3;
docs/rules/cloud-and-hybrid.md).

- ``provider`` (blank on a provider's host): the license is in the provider's bill; nothing of
  the organisation's is needed (an info finding says so).
- ``byol`` (or any other model) on a provider's **shared** host: the organisation's licenses must
  cover the VM by its virtual cores under a right — Azure Hybrid Benefit at Azure (Windows Server
  and SQL Server), License Mobility through SA at the other Listed Providers (SQL Server and the
  other server applications, never Windows Server), the Flexible Virtualization Benefit at an
  outsourcer (any product, from 1 October 2022). Each need carries its :class:`CloudTerms`; the
  matching (:mod:`entitle.optimize.match`) decides which owned licenses cover it.
- ``byol`` on a provider's **dedicated** host: licensed like an own server by the rules of each
  product (all physical cores), and at a Listed Provider only by licenses bought before
  1 October 2019 for versions released before that day, or with SA under License Mobility or
  Azure Hybrid Benefit (:func:`tag_dedicated`).
- ``payg`` stays with the product's own rules (billed through Azure Arc).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from entitle.catalog.cloud import CloudRights
from entitle.catalog.model import Catalog
from entitle.estate.records import Host, Ose, Software
from entitle.rules.cores import per_vm_cores
from entitle.rules.demand import CloudTerms, Decision, Need, Option
from entitle.rules.index import EstateIndex
from entitle.source import Finding

RIGHT_NAMES = {
    "azure-hybrid-benefit": "Azure Hybrid Benefit",
    "license-mobility": "License Mobility through SA",
    "flexible-virtualization": "the Flexible Virtualization Benefit",
    "dedicated-before-cutoff": "licenses bought before the Listed Providers' cut-off",
}


def rights(catalog: Catalog) -> CloudRights:
    if catalog.cloud is None:
        raise LookupError("the catalog has no [cloud] table (docs/rules/cloud-and-hybrid.md)")
    return catalog.cloud


def provider_host(idx: EstateIndex, ose: Ose) -> Host | None:
    host = idx.hosts.get(ose.host)
    return host if host is not None and host.provider is not None else None


def handled_here(idx: EstateIndex, catalog: Catalog, ose: Ose, sw: Software) -> bool:
    """This module (not the product's own rule) licenses ``sw``: on a provider's host, billed by
    the provider, or brought to its shared hardware. Pay-as-you-go, and own licenses on a
    dedicated host, stay with the product's rule."""
    host = provider_host(idx, ose)
    if host is None or sw.model == "payg":
        return False
    if (
        sw.product == catalog.roles.database
        and sw.passive_for is not None
        and sw.model != "provider"
    ):
        return False  # a passive copy: the failover rights decide (rules/failover.py)
    return billed_by_provider(sw) or host.shared_cloud


def billed_by_provider(sw: Software) -> bool:
    """Blank on a provider's host means ``provider`` (the spec, "Additions, version 2")."""
    return sw.model in (None, "provider")


def cloud_rules(
    idx: EstateIndex, catalog: Catalog, as_of: date, products: tuple[str, ...]
) -> tuple[list[Decision], list[Finding]]:
    """The decisions of every production OSE on a provider's host that this module handles."""
    decisions: list[Decision] = []
    findings: list[Finding] = []
    for ose in idx.estate.oses:
        host = provider_host(idx, ose)
        if host is None or ose.environment != "production":
            continue
        for sw in idx.software_by_ose.get(ose.ose, ()):
            if sw.product not in products or not handled_here(idx, catalog, ose, sw):
                continue
            if billed_by_provider(sw):
                findings.append(_billed(ose, sw, host))
                continue
            need = _byol_need(idx, catalog, ose, sw, host, as_of, findings)
            if need is not None:
                decisions.append(
                    Decision(
                        f"{sw.product}@{ose.ose}",
                        sw.product,
                        ose.ose,
                        (Option("byol", (need,)),),
                        f"own licenses at {host.provider} (software.csv model=byol)",
                    )
                )
    return decisions, findings


def _billed(ose: Ose, sw: Software, host: Host) -> Finding:
    return Finding(
        "info",
        "provider-billed",
        f"{ose.ose}: {sw.product} {sw.edition or ''} {sw.version} at {host.provider} is licensed "
        "by the provider (software.csv model provider, or blank on a provider's host): its cost "
        "is in the provider's bill, and no license of the organisation's is needed.",
        str(sw.source),
    )


def _byol_need(
    idx: EstateIndex,
    catalog: Catalog,
    ose: Ose,
    sw: Software,
    host: Host,
    as_of: date,
    findings: list[Finding],
) -> Need | None:
    r = rights(catalog)
    provider = host.provider or ""
    vcpus = ose.vcpus or 0
    evidence = (str(sw.source), str(ose.source))
    roles = catalog.roles
    if sw.product == roles.server_os:
        rule = catalog.core_rule("windows")
        license = "core"
        if provider == "azure":
            qty = max(r.ahb_windows_vm_min, vcpus)
            overlap = _overlap(idx, catalog, ose, as_of, findings)
            # Standard or Datacenter licenses cover any Windows Server VM in Azure, one core
            # license per virtual core (the Azure image is Datacenter).
            ratios = tuple((ed, 1, 1) for ed in catalog.product(roles.server_os).editions)
            dual = r.ahb_windows_dual_use + (("standard",) if overlap else ())
            terms = CloudTerms(provider, "azure-hybrid-benefit", dual_use=dual, ratios=ratios)
            basis = (
                f"Azure Hybrid Benefit: {vcpus} virtual cores → {qty} core licenses with active "
                f"SA or subscription (≥{r.ahb_windows_vm_min} per VM; Datacenter licenses also "
                "cover on-premises servers, Standard ones either here or there"
                + (", within the 180-day migration overlap" if overlap else "")
                + ", §7.2)"
            )
        else:
            qty = per_vm_cores(vcpus, rule)
            terms, basis = _fvb_or_fail(r, provider, sw, as_of, qty, vcpus, findings)
    elif sw.product == roles.database:
        mrule = catalog.model_rule(roles.database, sw.edition, sw.version)
        if mrule is None or mrule.model == "free":
            return None
        rule = catalog.core_rule("sql")
        qty = max(r.ahb_sql_vm_min, vcpus) if provider == "azure" else per_vm_cores(vcpus, rule)
        license = "core"
        if provider == "azure":
            overlap = _overlap(idx, catalog, ose, as_of, findings)
            ratios = tuple(
                (x.owned, x.vcpus, x.licenses) for x in r.ahb_sql_ratios if x.runs == sw.edition
            )
            dual = tuple(catalog.product(roles.database).editions) if overlap else ()
            terms = CloudTerms(provider, "azure-hybrid-benefit", dual_use=dual, ratios=ratios)
            said = ", ".join(f"1 {o} core license per {v}/{n} vCPU" for o, v, n in ratios)
            basis = (
                f"Azure Hybrid Benefit: {vcpus} virtual cores → {qty} core licenses with active "
                f"SA or subscription (≥{r.ahb_sql_vm_min} per VM{'; ' + said if said else ''}"
                + ("; within the 180-day migration overlap" if overlap else "")
                + ", §7.2)"
            )
        else:
            terms, basis = _mobility(r, provider, sw, license, as_of, qty, vcpus, findings)
    elif sw.product in r.mobility_products:
        qty, license = 1, "server"
        terms, basis = _mobility(r, provider, sw, license, as_of, qty, vcpus, findings)
    else:
        return None
    return Need(
        sw.product,
        license,
        qty,
        sw.edition,
        sw.version,
        host=ose.host,
        ose=ose.ose,
        model="byol",
        reason=f"{ose.ose} at {provider} (shared hardware): {basis}",
        evidence=evidence,
        cloud=terms,
    )


def _mobility(
    r: CloudRights,
    provider: str,
    sw: Software,
    license: str,
    as_of: date,
    qty: int,
    vcpus: int,
    findings: list[Finding],
) -> tuple[CloudTerms, str]:
    """SQL Server and the other server applications on shared hardware outside Azure: License
    Mobility through SA at a Listed Provider (an Authorized Mobility Partner), the Flexible
    Virtualization Benefit at an outsourcer."""
    counted = f"{vcpus} virtual cores → {qty} core licenses" if license == "core" else "1 license"
    if provider == "outsourcer" and as_of >= r.fvb_from:
        right, name = "flexible-virtualization", "the Flexible Virtualization Benefit"
    else:
        right, name = "license-mobility", "License Mobility through SA"
    return CloudTerms(provider, right), (f"{name}: {counted} with active SA or subscription (§7.2)")


def _fvb_or_fail(
    r: CloudRights,
    provider: str,
    sw: Software,
    as_of: date,
    qty: int,
    vcpus: int,
    findings: list[Finding],
) -> tuple[CloudTerms, str]:
    """Windows Server on shared hardware outside Azure: only the Flexible Virtualization Benefit
    at an outsourcer (never a Listed Provider), licensed per VM (§3.2)."""
    counted = f"{vcpus} virtual cores → {qty} core licenses (≥8 per VM, §3.2)"
    if provider == "outsourcer" and as_of >= r.fvb_from:
        return CloudTerms(provider, "flexible-virtualization"), (
            f"the Flexible Virtualization Benefit: {counted} with active SA or subscription (§7.2)"
        )
    why = (
        f"Windows Server has no License Mobility, and the Flexible Virtualization Benefit "
        f"excludes the Listed Providers' shared hardware ({provider})"
        if provider != "outsourcer"
        else f"the Flexible Virtualization Benefit applies only from {r.fvb_from}"
    )
    findings.append(
        Finding(
            "warning",
            "byol-not-allowed",
            f"{sw.ose}: Windows Server {sw.edition or ''} {sw.version} is brought to {provider}'s "
            f"shared hardware, but no right allows it: {why} (§7.2). No owned license can cover "
            "it; license it through the provider (model provider) instead.",
            str(sw.source),
        )
    )
    return CloudTerms(provider, failed=why), f"{counted}; no right allows own licenses here"


def _overlap(
    idx: EstateIndex, catalog: Catalog, ose: Ose, as_of: date, findings: list[Finding]
) -> bool:
    """The one-time migration overlap of Azure Hybrid Benefit (``ahb_migration_days``, 180) is
    open for a VM that ``replaces`` an OSE, counted from its first day in placements.csv; with
    no placement it is taken as open (a finding says so)."""
    if ose.replaces is None:
        return False
    days = rights(catalog).ahb_migration_days
    first = idx.first_placed.get(ose.ose)  # (a scan of placements per VM took minutes at 1M)
    if first is None:
        findings.append(
            Finding(
                "info",
                "migration-overlap-assumed",
                f"{ose.ose} replaces {ose.replaces}, but placements.csv gives no first day for it: "
                f"the {days}-day migration overlap of Azure Hybrid Benefit is taken as still open "
                "(licenses may cover both for now). Add its placement to make it exact.",
                str(ose.source),
            )
        )
        return True
    ends = first + timedelta(days=days)
    open_ = first <= as_of < ends
    findings.append(
        Finding(
            "info",
            "migration-overlap",
            f"{ose.ose} replaces {ose.replaces} since {first}: the {days}-day migration overlap of "
            f"Azure Hybrid Benefit {'runs until' if open_ else 'ended on'} {ends}"
            + (
                "; until then the same licenses may cover both."
                if open_
                else "; Standard licenses now cover one or the other, not both."
            ),
            str(ose.source),
        )
    )
    return open_


def tag_dedicated(idx: EstateIndex, catalog: Catalog, decisions: list[Decision]) -> list[Decision]:
    """Needs on a Listed Provider's dedicated host get their terms: licenses bought before the
    cut-off for versions released before it, or with SA under Azure Hybrid Benefit (Windows
    Server at Azure) or License Mobility (the server applications)."""
    r = catalog.cloud
    if r is None:
        return decisions
    dedicated = {h.host: h for h in idx.estate.hosts if h.provider in r.listed_providers}
    dedicated = {k: h for k, h in dedicated.items() if h.dedicated}
    if not dedicated:
        return decisions
    roles = catalog.roles

    def tag(n: Need) -> Need:
        host = dedicated.get(n.host or "")
        if host is None or n.billed or n.cloud is not None:
            return n
        provider = host.provider or ""
        if provider == "azure" and n.product in (roles.server_os, roles.database):
            right = "azure-hybrid-benefit"  # Azure Dedicated Host
        elif n.product == roles.server_os:
            right = ""
        else:
            right = "license-mobility" if n.product in r.mobility_products else ""
        before = None
        if not n.sa_required and n.version is not None:
            released = {v.version: v.released for v in catalog.product(n.product).versions}
            if n.version in released and released[n.version] < r.dedicated_cutoff:
                before = r.dedicated_cutoff
        failed = ""
        if not right and before is None:
            failed = (
                f"{n.product} {n.version} was released on or after {r.dedicated_cutoff}, and "
                f"no SA right brings it to {provider}'s dedicated hosts"
            )
        dual = r.ahb_windows_dual_use if right == "azure-hybrid-benefit" else ()
        terms = CloudTerms(provider, right, before, dual_use=dual, failed=failed)
        return replace(
            n,
            cloud=terms,
            reason=n.reason
            + f"; at {provider} (dedicated host): "
            + _dedicated_text(r, right, before),
        )

    def tag_decision(d: Decision) -> Decision:
        options = tuple(
            replace(
                o,
                needs=tuple(tag(n) for n in o.needs),
                subdecisions=tuple(tag_decision(s) for s in o.subdecisions),
            )
            for o in d.options
        )
        return replace(d, options=options)

    return [tag_decision(d) for d in decisions]


def _dedicated_text(r: CloudRights, right: str, before: date | None) -> str:
    parts = []
    if before is not None:
        parts.append(f"licenses bought before {before}")
    if right:
        parts.append(f"licenses with active SA under {RIGHT_NAMES[right]}")
    return (" or ".join(parts) or "no owned license may cover it") + " (§7.2)"
