"""Windows Server: per core (Standard stacked by 2 OSEs, Datacenter unlimited), clusters, per VM,
pay-as-you-go and Essentials (licensing-rules.md §3.1–§3.4, §4)."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

from entitle.catalog.model import Catalog, CoreRule
from entitle.estate.records import Ose, Software
from entitle.rules.cloud import handled_here
from entitle.rules.cores import per_vm_cores, physical_cores, standard_oses
from entitle.rules.demand import Decision, Need, Option
from entitle.rules.index import EstateIndex
from entitle.rules.mobility import Places, SaStock, lapse_finding
from entitle.source import Finding


def _effective_model(
    catalog: Catalog, ose: Ose, sw: Software, findings: list[Finding]
) -> str | None:
    """The model the owner fixed, if the catalog allows it for this edition and version
    (``byol`` on a provider's dedicated host says only whose licenses: the engine chooses)."""
    product = catalog.roles.server_os
    if sw.model is None or sw.model == "byol":
        return None
    rule = catalog.model_rule(product, sw.edition, sw.version)
    allowed = rule.allows if rule else ()
    if sw.model not in allowed or (sw.model == "per-vm" and not ose.virtual):
        findings.append(
            Finding(
                "warning",
                "model-not-allowed",
                f"Windows Server {sw.edition} {sw.version} on {ose.ose} cannot be licensed "
                f"{sw.model!r} (allowed: {', '.join(allowed) or 'none'}"
                f"{'; per-vm is for virtual OSEs' if sw.model == 'per-vm' else ''}); "
                "counted per core instead.",
                str(sw.source),
            )
        )
        return None
    return sw.model


def windows_server(
    idx: EstateIndex, catalog: Catalog, as_of: date
) -> tuple[list[Decision], list[Finding]]:
    product = catalog.roles.server_os
    rule = catalog.core_rule("windows")
    decisions: list[Decision] = []
    findings: list[Finding] = []
    per_core: dict[str, list[tuple[Ose, Software]]] = defaultdict(list)
    per_vm: list[tuple[Ose, Software]] = []
    unknown: list[tuple[Ose, Software]] = []

    for ose in idx.estate.oses:
        if ose.environment != "production":
            continue
        for sw in idx.software(ose.ose, product):
            if catalog.cloud is not None and handled_here(idx, catalog, ose, sw):
                continue  # at a provider: rules/cloud.py
            if ose.kind == "container":
                findings.append(_container(ose, sw))
                continue
            if sw.edition is None:
                unknown.append((ose, sw))
            if sw.edition == "essentials":
                decisions.append(_essentials(idx, catalog, ose, sw, findings))
                continue
            model = _effective_model(catalog, ose, sw, findings)
            if model == "payg":
                decisions.append(_payg(idx, ose, sw, findings))
            elif model == "per-vm":
                per_vm.append((ose, sw))
            else:
                per_core[ose.host].append((ose, sw))

    # Per core, a license never follows a VM (§3.1, §7.1): every host a VM may run on, and every
    # host it left fewer than 90 days before the as-of date, counts it.
    places = Places.build(idx, catalog, as_of)
    counted: dict[str, list[tuple[Ose, Software]]] = defaultdict(list)
    for rows in per_core.values():
        for ose, sw in rows:
            for host_id in places.hosts(ose, mobile=False):
                counted[host_id].append((ose, sw))
    for host_id in sorted(counted):
        decision = _per_core_host(idx, catalog, host_id, counted[host_id], rule, places)
        if decision is not None:
            decisions.append(decision)

    if per_vm:
        decisions.extend(_per_vm(idx, catalog, per_vm, rule, as_of, findings))
    if unknown:
        findings.append(_edition_unknown(unknown))
    return decisions, findings


def _container(ose: Ose, sw: Software) -> Finding:
    """A process-isolated Windows Server container needs no license of its own: the license of
    the OSE it runs in covers unlimited such containers (§3.1). Hyper-V isolated containers are
    OSEs (oses.csv kind hyperv-container) and count like VMs against Standard's two."""
    inside = f" in {ose.runs_in}" if ose.runs_in else ""
    return Finding(
        "info",
        "container-covered",
        f"{ose.ose} is a Windows Server container without Hyper-V isolation{inside}: covered by "
        "the license of the OSE it runs in, which allows unlimited such containers (§3.1).",
        str(sw.source),
    )


def _edition_unknown(rows: list[tuple[Ose, Software]]) -> Finding:
    """The assumption made for installations whose edition software.csv leaves blank (an
    RVTools guest OS name carries none): each host's OSEs are licensed as whichever of Standard
    (stacked) and Datacenter costs less, the cheapest the rules allow (§3.1); per VM, Standard."""
    names = sorted({o.ose for o, _ in rows})
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return Finding(
        "warning",
        "edition-unknown",
        f"{len(names)} Windows Server installation(s) with no edition in software.csv ({shown}): "
        "licensed as whichever of Standard and Datacenter costs less on their host (§3.1); "
        "write the edition in software.csv if a guest runs Datacenter",
        str(rows[0][1].source),
    )


def _per_core_host(
    idx: EstateIndex,
    catalog: Catalog,
    host_id: str,
    rows_here: list[tuple[Ose, Software]],
    rule: CoreRule,
    places: Places,
) -> Decision | None:
    """The per-core licensing of one host: its physical OSEs and every VM that counts on it."""
    product = catalog.roles.server_os
    host = idx.hosts[host_id]
    vms = [(o, s) for (o, s) in rows_here if o.virtual]
    physical = [(o, s) for (o, s) in rows_here if not o.virtual]
    if not vms and not physical:
        return None
    counted_physical = [(o, s) for (o, s) in physical if not o.hosting_only]
    n_oses = len({o.ose for o, _ in vms}) + len({o.ose for o, _ in counted_physical})
    rows = vms + physical
    version = catalog.newest_version(product, {s.version for _, s in rows})
    evidence = tuple(sorted({str(s.source) for _, s in rows}))
    cores = physical_cores(host.processors, host.cores_per_processor, rule)
    per_licensing = standard_oses(catalog, product)
    stacks = max(1, math.ceil(n_oses / per_licensing))
    left = sorted({o.ose for o, _ in vms if places.history(o.ose, host_id) is not None})
    where = f"cluster {host.cluster}" if host.cluster else host_id
    vm_text = f"{len({o.ose for o, _ in vms})} Windows Server VM(s) that may run on {where}"
    if left:
        vm_text += f" (of which {', '.join(left)} left it fewer than {places.days} days ago, §7.1)"
    phys_text = (
        f", {len(counted_physical)} physical OSE(s)"
        if counted_physical
        else (", the physical OSE only hosts VMs (free)" if physical else "")
    )
    base = (
        f"{host_id}: {host.processors}×{host.cores_per_processor} cores → {cores} core licenses "
        f"(all cores, ≥{rule.min_per_processor}/processor, ≥{rule.min_per_server}/server); "
        f"{vm_text}{phys_text}"
    )
    dc_needed = sorted({o.ose for o, s in rows if s.edition == "datacenter"})

    def need(edition: str, qty: int, reason: str) -> Need:
        return Need(
            product,
            "core",
            qty,
            edition,
            version,
            host=host_id,
            model="per-core",
            reason=reason,
            evidence=evidence,
        )

    options = [
        Option(
            "datacenter",
            (need("datacenter", cores, f"{base}; Datacenter covers unlimited OSEs"),),
        )
    ]
    if not dc_needed:
        options.append(
            Option(
                f"standard ×{stacks}",
                (
                    need(
                        "standard",
                        cores * stacks,
                        f"{base}; Standard covers {per_licensing} OSEs per full licensing: "
                        f"{n_oses} OSE(s) → {stacks} × {cores}",
                    ),
                ),
            )
        )
    why = (
        f"Datacenter edition installed on {', '.join(dc_needed)}"
        if dc_needed
        else "edition open: Standard (stacked) or Datacenter, whichever costs less"
    )
    return Decision(f"{product}@{host_id}", product, host_id, tuple(options), why)


def _per_vm(
    idx: EstateIndex,
    catalog: Catalog,
    rows: list[tuple[Ose, Software]],
    rule: CoreRule,
    as_of: date,
    findings: list[Finding],
) -> list[Decision]:
    product = catalog.roles.server_os
    needs: list[Need] = []
    total = 0
    for ose, sw in sorted(rows, key=lambda r: r[0].ose):
        if ose.vcpus is None:
            findings.append(
                Finding(
                    "warning",
                    "vcpus-unknown",
                    f"{ose.ose} is licensed per VM but its vcpus are unknown; counted at the "
                    f"minimum of {rule.per_vm_min}.",
                    str(ose.source),
                )
            )
        qty = per_vm_cores(ose.vcpus, rule)
        total += qty
        needs.append(
            Need(
                product,
                "core",
                qty,
                sw.edition or "standard",
                sw.version,
                host=ose.host,
                ose=ose.ose,
                model="per-vm",
                reason=f"{ose.ose}: licensed per VM, {ose.vcpus or 0} virtual cores → {qty} "
                f"(≥{rule.per_vm_min} per VM; core licenses with active SA or subscription, "
                "which follow the VM within its server farm, §3.2)",
                evidence=(str(sw.source),),
                sa_required=True,
            )
        )
    if total < rule.per_vm_customer_min:
        first = needs[0]
        needs.append(
            Need(
                product,
                "core",
                rule.per_vm_customer_min - total,
                first.edition,
                first.version,
                model="per-vm",
                reason=f"per-VM licensing needs at least {rule.per_vm_customer_min} core licenses "
                f"per customer; {total} counted",
                evidence=first.evidence,
                sa_required=True,
            )
        )
    wanted = max(total, rule.per_vm_customer_min)
    stock = SaStock.build(idx, catalog, product, "core", as_of)
    if stock.total < wanted:
        findings.append(
            Finding(
                "warning",
                "per-vm-needs-sa",
                f"Windows Server licensed per VM needs {wanted} core licenses (and CALs) with "
                f"active Software Assurance or subscription on {as_of} (§3.2); "
                f"{stock.total} owned: only those count for the per-VM VMs, the rest is short.",
                needs[0].evidence[0],
            )
        )
    lapse = lapse_finding(
        catalog, stock.rows, as_of, "Windows Server licensed per VM", needs[0].evidence[0]
    )
    if lapse is not None:
        findings.append(lapse)
    return [
        Decision(
            f"{product}@per-vm",
            product,
            "per-vm",
            (Option("per VM", tuple(needs)),),
            "fixed by software.csv model=per-vm",
        )
    ]


def _payg(idx: EstateIndex, ose: Ose, sw: Software, findings: list[Finding]) -> Decision:
    host = idx.hosts[ose.host]
    if ose.virtual and ose.vcpus is not None:
        qty, basis = ose.vcpus, f"{ose.vcpus} virtual cores"
    elif ose.virtual:
        qty, basis = host.cores, f"vcpus unknown, counted at the host's {host.cores} cores"
        findings.append(
            Finding(
                "warning",
                "vcpus-unknown",
                f"{ose.ose} is pay-as-you-go but its vcpus are "
                "unknown; billed cores counted at the host's physical cores.",
                str(ose.source),
            )
        )
    else:
        qty, basis = host.cores, f"{host.cores} physical cores"
    need = Need(
        sw.product,
        "core",
        qty,
        "payg",
        sw.version,
        host=ose.host,
        ose=ose.ose,
        model="payg",
        reason=f"{ose.ose}: pay-as-you-go through Azure Arc, billed for {basis} "
        "(no minimums, no Windows Server CALs)",
        evidence=(str(sw.source),),
        billed=True,
    )
    return Decision(
        f"{sw.product}@payg:{ose.ose}",
        sw.product,
        ose.ose,
        (Option("payg", (need,)),),
        "fixed by software.csv model=payg",
    )


def _essentials(
    idx: EstateIndex, catalog: Catalog, ose: Ose, sw: Software, findings: list[Finding]
) -> Decision:
    product = catalog.roles.server_os
    host = idx.hosts[ose.host]
    limit = catalog.limit(product, "essentials", sw.version)
    if limit is not None:
        rows = idx.access_by_ose.get(ose.ose, ())
        users = {a.user for a in rows if a.user}
        devices = {a.device for a in rows if a.device}
        checks = [
            ("users", len(users), limit.max_users),
            ("devices", len(devices), limit.max_devices),
            ("processors", host.processors or 0, limit.max_processors),
            ("cores", host.cores, limit.max_cores),
        ]
        for what, count, most in checks:
            if most is not None and count > most:
                findings.append(
                    Finding(
                        "warning",
                        "essentials-limit",
                        f"Windows Server Essentials {sw.version} on {ose.ose} allows at most "
                        f"{most} {what}; {count} found. Move to Standard with CALs.",
                        str(sw.source),
                    )
                )
    need = Need(
        product,
        "server",
        1,
        "essentials",
        sw.version,
        host=ose.host,
        ose=ose.ose,
        model="specialty",
        reason=f"{ose.ose}: Essentials is a Specialty Server: one server license per instance, "
        "no CALs",
        evidence=(str(sw.source),),
    )
    return Decision(
        f"{product}@essentials:{ose.ose}",
        product,
        ose.ose,
        (Option("essentials", (need,)),),
        "Specialty Server",
    )
