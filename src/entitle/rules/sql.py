"""SQL Server: per core with the core factor (physical), per VM, Enterprise on every physical core
for unlimited VMs, and Server + CAL for Standard (licensing-rules.md §3.5, §3.6). SA-only rights
are judged on the day of the position: a VM's licenses follow it only with active SA, else every
host it may run on (and every host it left fewer than 90 days ago) is licensed for it
(:mod:`entitle.rules.sql_mobility`, §7.1); passive failover copies are free under the primary's SA
(:mod:`entitle.rules.failover`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date

from entitle.catalog.model import Catalog, CoreRule, ModelRule
from entitle.estate.records import Host, Ose, Software
from entitle.rules.cloud import handled_here
from entitle.rules.cores import factor_for, per_vm_cores, physical_cores
from entitle.rules.demand import Decision, Need, Option
from entitle.rules.failover import free_passive_copies
from entitle.rules.index import EstateIndex
from entitle.rules.mobility import lapse_finding, no_mobility, server_license_option, where
from entitle.rules.multiplex import Behind, relayed_principals
from entitle.rules.sql_mobility import (
    Ctx,
    allowed,
    per_vm_needs_sa,
    sql_context,
)
from entitle.source import Finding


def sql_server(
    idx: EstateIndex, catalog: Catalog, as_of: date
) -> tuple[list[Decision], list[Finding]]:
    product = catalog.roles.database
    rule = catalog.core_rule("sql")
    decisions: list[Decision] = []
    findings: list[Finding] = []
    open_vms: dict[str, list[tuple[Ose, Software, ModelRule]]] = defaultdict(list)
    host_level_vms: dict[str, list[tuple[Ose, Software, ModelRule]]] = defaultdict(list)
    rows: list[tuple[Ose, Software, ModelRule, str | None]] = []
    passive: list[tuple[Ose, Software]] = []
    behind = relayed_principals(idx, product)

    for ose in idx.estate.oses:
        if ose.environment != "production":
            continue
        for sw in idx.software(ose.ose, product):
            if catalog.cloud is not None and handled_here(idx, catalog, ose, sw):
                continue  # at a provider: rules/cloud.py
            covered = _container_covered(idx, catalog, ose, sw)
            if covered is not None:
                findings.append(covered)
                continue
            mrule = catalog.model_rule(product, sw.edition, sw.version)
            if mrule is None:
                findings.append(
                    Finding(
                        "warning",
                        "no-model",
                        f"No licensing model is known for "
                        f"SQL Server {sw.edition} {sw.version} on {ose.ose}; not counted.",
                        str(sw.source),
                    )
                )
                continue
            if mrule.model == "free":
                findings.append(
                    Finding(
                        "info",
                        "free-edition",
                        f"SQL Server {sw.edition} on {ose.ose} needs no license.",
                        str(sw.source),
                    )
                )
                continue
            if sw.passive_for is not None:
                passive.append((ose, sw))
            model = _model(mrule, ose, sw, findings)
            if idx.hosts[ose.host].shared_cloud and model != "payg":
                model = "per-vm"  # a passive copy at a provider: its host's cores are unknown
            rows.append((ose, sw, mrule, model))

    free = free_passive_copies(idx, catalog, product, passive, as_of, findings)
    rows = [r for r in rows if r[0].ose not in free]
    ctx = sql_context(idx, catalog, rule, rows, as_of, findings)
    for ose, sw, mrule, model in rows:
        group = idx.hosts[ose.host].cluster or ose.host
        if not ose.virtual:
            decisions.append(_physical(idx, catalog, rule, ose, sw, mrule, model, behind))
        elif model is None:
            open_vms[group].append((ose, sw, mrule))
        elif model == "per-core":
            host_level_vms[group].append((ose, sw, mrule))
        else:
            decisions.append(_vm(idx, catalog, rule, ose, sw, mrule, model, ctx, behind))

    for group in sorted(set(open_vms) | set(host_level_vms)):
        decisions.append(
            _group(idx, catalog, rule, group, open_vms[group], host_level_vms[group], ctx, behind)
        )
    return decisions, findings


def _container_covered(
    idx: EstateIndex, catalog: Catalog, ose: Ose, sw: Software
) -> Finding | None:
    """SQL Server in a container is licensed like a VM (per core of the container, at least 4),
    unless the OSE it runs in (oses.csv ``runs_in``) is licensed for SQL Server of an edition that
    covers it: then all the cores of that OSE are licensed and cover its containers (§3.5;
    docs/rules/cloud-and-hybrid.md, choice)."""
    product = catalog.roles.database
    if ose.kind is None or ose.runs_in is None:
        return None
    for outer in idx.software(ose.runs_in, product):
        if outer.passive_for is None and catalog.edition_covers(product, outer.edition, sw.edition):
            return Finding(
                "info",
                "container-covered",
                f"{ose.ose} is a container in {ose.runs_in}, whose SQL Server {outer.edition} "
                f"licenses (all its cores) cover SQL Server {sw.edition} in its containers (§3.5).",
                str(sw.source),
            )
    return None


def _model(mrule: ModelRule, ose: Ose, sw: Software, findings: list[Finding]) -> str | None:
    if mrule.model == "server-cal":
        return "server-cal"
    if sw.model is None or sw.model == "byol":  # byol says whose licenses, not how
        return None
    if sw.model not in mrule.allows or (sw.model == "per-vm" and not ose.virtual):
        findings.append(
            Finding(
                "warning",
                "model-not-allowed",
                f"SQL Server {sw.edition} "
                f"{sw.version} on {ose.ose} cannot be licensed {sw.model!r} (allowed: "
                f"{', '.join(mrule.allows)}); the engine chooses instead.",
                str(sw.source),
            )
        )
        return None
    return sw.model


def _server_cal(
    idx: EstateIndex, ose: Ose, sw: Software, ctx: Ctx | None = None, behind: Behind | None = None
) -> Option:
    """One server license, and the SQL CALs of the users and devices that reach the OSE,
    directly or through a front end (§1.6), as the estimate the choice starts from."""
    rows = [a for a in idx.access_by_ose.get(ose.ose, ()) if a.product == sw.product]
    relayed_users, relayed_devices = (behind or {}).get(ose.ose, (set(), set()))
    users = sorted({a.user for a in rows if a.user} | relayed_users)
    devices = sorted(
        {a.device for a in rows if not a.user and a.device and a.device not in idx.oses}
        | relayed_devices
    )
    shadow = []
    if users:
        shadow.append(
            Need(
                sw.product,
                "user-cal",
                len(users),
                None,
                sw.version,
                model="server-cal",
                reason=f"{len(users)} user(s) reach {ose.ose}",
                holders=tuple(users),
            )
        )
    if devices:
        shadow.append(
            Need(
                sw.product,
                "device-cal",
                len(devices),
                None,
                sw.version,
                model="server-cal",
                reason=f"{len(devices)} device(s) reach {ose.ose}",
                holders=tuple(devices),
            )
        )
    base = (
        f"{ose.ose}: Server + CAL, one server license per OSE; SQL CALs for its "
        f"{len(users)} user(s) and {len(devices)} device(s) are counted in the choice"
    )
    mobile = ctx is None or ose.ose in ctx.mobile_server
    hosts = (ose.host,) if ctx is None or mobile else ctx.places.hosts(ose, False)
    places = ctx.places if ctx is not None else None
    return server_license_option(
        ose, sw, base, hosts, mobile, places, "SQL Server server", tuple(shadow)
    )


def _physical(
    idx: EstateIndex,
    catalog: Catalog,
    rule: CoreRule,
    ose: Ose,
    sw: Software,
    mrule: ModelRule,
    model: str | None,
    behind: Behind,
) -> Decision:
    host = idx.hosts[ose.host]
    qty, factor_text, notice = _host_cores(catalog, rule, host, sw.version, str(sw.source))
    options: list[Option] = []
    if model in (None, "per-core", "payg"):
        reason = (
            f"{ose.ose} (physical): {host.processors}×{host.cores_per_processor} "
            f"cores{factor_text}, ≥{rule.min_per_processor}/processor → {qty}"
        )
        evidence = (str(sw.source), str(host.source))
        option = _cores(ose, sw, qty, model == "payg", "per-core", reason, evidence)
        options.append(replace(option, notices=notice))
    return _decision(idx, ose, sw, mrule, model, options, "the cheaper allowed one", None, behind)


def _decision(
    idx: EstateIndex,
    ose: Ose,
    sw: Software,
    mrule: ModelRule,
    model: str | None,
    options: list[Option],
    open_text: str,
    ctx: Ctx | None = None,
    behind: Behind | None = None,
) -> Decision:
    """One OSE's SQL Server decision: its core options, plus Server + CAL where allowed."""
    if model in (None, "server-cal") and "server-cal" in allowed(mrule):
        options.append(_server_cal(idx, ose, sw, ctx, behind))
    why = "fixed by software.csv model" if model else f"model open: {open_text}"
    return Decision(f"{sw.product}@{ose.ose}", sw.product, ose.ose, tuple(options), why)


def _cores(
    ose: Ose,
    sw: Software,
    qty: int,
    billed: bool,
    model: str,
    reason: str,
    evidence: tuple[str, ...],
    warning: str = "",
) -> Option:
    """SQL Server core licenses for one OSE (bought, or billed monthly when pay-as-you-go)."""
    label = "payg" if billed else model
    return Option(
        label, (_core_need(ose, sw, qty, billed, label, reason, evidence),), warning=warning
    )


def _core_need(
    ose: Ose,
    sw: Software,
    qty: int,
    billed: bool,
    label: str,
    reason: str,
    evidence: tuple[str, ...],
    host: str | None = None,
    sa_required: bool = False,
) -> Need:
    return Need(
        sw.product,
        "core",
        qty,
        sw.edition,
        sw.version,
        host=host or ose.host,
        ose=ose.ose,
        model=label,
        billed=billed,
        reason=reason,
        evidence=evidence,
        sa_required=sa_required,
    )


def _vm(
    idx: EstateIndex,
    catalog: Catalog,
    rule: CoreRule,
    ose: Ose,
    sw: Software,
    mrule: ModelRule,
    model: str | None,
    ctx: Ctx,
    behind: Behind,
) -> Decision:
    options: list[Option] = []
    if model in (None, "per-vm", "payg"):
        qty = per_vm_cores(ose.vcpus, rule)
        billed = model == "payg"
        warning = ""
        reason = (
            f"{ose.ose} (VM): {ose.vcpus or 0} virtual cores, ≥{rule.per_vm_min} "
            f"per VM → {qty} (no core factor on virtual cores)"
        )
        evidence = (str(sw.source),)
        if billed:
            options.append(_cores(ose, sw, qty, True, "per-vm", reason, evidence))
        elif per_vm_needs_sa(catalog, mrule, sw):
            if ose.ose in ctx.sa_short:
                warning = (
                    f"{ose.ose}: SQL Server {sw.version} licensed per VM needs active Software "
                    "Assurance or subscription licenses on the day of the position (§3.5); "
                    "not enough are owned, so only licenses with active SA count for it."
                )
            reason += "; SA-only right from 2022: licenses with active SA, which follow the VM"
            need = _core_need(ose, sw, qty, False, "per-vm", reason, evidence, sa_required=True)
            options.append(Option("per-vm", (need,), warning=warning))
        else:
            mobile = ose.ose in ctx.mobile_cores
            hosts = (ose.host,) if mobile else ctx.places.hosts(ose, False)
            needs = tuple(
                _core_need(
                    ose,
                    sw,
                    qty,
                    False,
                    "per-vm",
                    reason
                    + where(ose, host, hosts, mobile, ctx.places if ctx is not None else None),
                    evidence,
                    host=host,
                    sa_required=mobile,
                )
                for host in hosts
            )
            options.append(
                Option(
                    "per-vm", needs, warning=no_mobility(ose, hosts, "SQL Server core", ctx.places)
                )
            )
    return _decision(idx, ose, sw, mrule, model, options, "per VM or Server + CAL", ctx, behind)


def _group(
    idx: EstateIndex,
    catalog: Catalog,
    rule: CoreRule,
    group: str,
    open_vms: list[tuple[Ose, Software, ModelRule]],
    host_level: list[tuple[Ose, Software, ModelRule]],
    ctx: Ctx,
    behind: Behind,
) -> Decision:
    """SQL VMs of one host (or one cluster): each VM on its own, or Enterprise on every physical
    core of every host they may run on. Unlimited virtualization needs Enterprise core licenses
    with SA active on the day of the position for all those cores (§3.5); without, each host may
    run as many SQL VMs as it has core licenses (catalog choice) and the VMs count on every host
    they left fewer than 90 days ago (§7.1)."""
    product = catalog.roles.database
    rows = open_vms + host_level
    n_vms = len({o.ose for o, _, _ in rows})
    version = catalog.newest_version(product, {s.version for _, s, _ in rows})
    evidence = tuple(sorted({str(s.source) for _, s, _ in rows}))
    counted: dict[str, dict[str, tuple[int, int]]] = {}  # mobile? → host → (cores, VMs there)
    notices: dict[str, tuple[Finding, ...]] = {}
    for mobile in (True, False):
        on: dict[str, set[str]] = defaultdict(set)
        for o, _, _ in rows:
            for h in ctx.places.hosts(o, mobile):
                on[h].add(o.ose)
        counted[str(mobile)] = {}
        for h in on:
            cores, _, notice = _host_cores(catalog, rule, idx.hosts[h], version, evidence[0])
            counted[str(mobile)][h] = (cores, len(on[h]))
            notices[h] = notice
    wanted = sum(c for c, _ in counted["True"].values())
    sa = ctx.enterprise_sa.total_for("enterprise") >= wanted
    here = counted[str(sa)]
    hosts = tuple(sorted(here))
    needs = []
    for host_id in hosts:
        cores, vms_here = here[host_id]
        qty = cores if sa else max(cores, vms_here)
        extra = (
            "with active SA: unlimited VMs"
            if sa
            else f"without SA on {wanted} Enterprise core licenses: one VM per core license, "
            f"{vms_here} VM(s) (catalog choice, licensing-rules.md §12 q4)"
        )
        needs.append(
            Need(
                product,
                "core",
                qty,
                "enterprise",
                version,
                host=host_id,
                model="per-core",
                reason=f"{host_id}: Enterprise on all {cores} counted physical cores, {extra}",
                evidence=evidence,
                sa_required=sa,
            )
        )
    lapse = (
        lapse_finding(
            catalog,
            ctx.enterprise_sa.covering("enterprise"),
            ctx.places.as_of,
            f"SQL Server Enterprise unlimited virtualization on {', '.join(hosts)}",
            "entitlements.csv",
        )
        if sa
        else None
    )
    options = [
        Option(
            "enterprise-host",
            tuple(needs),
            note="Enterprise on every physical core of " + ", ".join(hosts),
            warning=lapse.message if lapse is not None else "",
            notices=tuple(f for h in hosts for f in notices[h]),
        )
    ]
    if not host_level:
        subs = tuple(_vm(idx, catalog, rule, o, s, m, None, ctx, behind) for o, s, m in open_vms)
        options.insert(0, Option("each-vm", subdecisions=subs, note="each VM licensed alone"))
    where = f"cluster {group}" if group in idx.cluster_hosts else f"host {group}"
    why = f"{n_vms} SQL Server VM(s) on {where}" + (
        "; a VM fixed model=per-core needs the host licensed" if host_level else ""
    )
    return Decision(f"{product}@{group}", product, group, tuple(options), why)


def _host_cores(
    catalog: Catalog, rule: CoreRule, host: Host, version: str, source: str
) -> tuple[int, str, tuple[Finding, ...]]:
    """SQL Server core licenses for all the physical cores of ``host`` (core factor applied to
    the server's cores and rounded up once, §3.6, for the versions the catalog's
    ``core_factor_scope`` names), the text saying so, and the finding to emit when the factor
    changes the count for a version Microsoft did not publish the table for (a catalog choice)."""
    product = catalog.roles.database
    row = factor_for(catalog, rule, host.cpu_model, host.cores_per_processor)
    plain = physical_cores(host.processors, host.cores_per_processor, rule)
    if row is None:
        return plain, "", ()
    counted = physical_cores(host.processors, host.cores_per_processor, rule, row.factor)
    scope = catalog.core_factor_scopes.get(product)
    applies = catalog.core_factor_applies(product, version)
    qty = counted if applies else plain
    text = f", core factor {row.factor} ({row.id})" if applies else ""
    if scope is None or counted == plain or version in scope.published_for:
        return qty, text, ()
    cpu = host.cpu_model or f"{host.cores_per_processor}-core processors"
    if applies:
        said = (
            f"counted with core factor {row.factor} ({row.id}): {qty} core licenses instead of "
            f"{plain}"
        )
    else:
        said = f"counted without the core factor: {qty} core licenses instead of {counted}"
    message = f"{host.host}: SQL Server {version} on {host.processors} × {cpu} {said} (catalog choice: {scope.choice})"
    return qty, text, (Finding("warning", "catalog-choice", message, source),)
