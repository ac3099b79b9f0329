"""SQL Server: per core with the core factor (physical), per VM, Enterprise on every physical core
for unlimited VMs, and Server + CAL for Standard (licensing-rules.md §3.5, §3.6)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from entitle.catalog.model import Catalog, CoreRule, ModelRule
from entitle.estate.records import Ose, Software
from entitle.rules.cores import factor_for, per_vm_cores, physical_cores
from entitle.rules.demand import Decision, Need, Option
from entitle.rules.failover import free_passive_copies
from entitle.rules.index import EstateIndex
from entitle.rules.mobility import Places, SaStock, lapse_finding
from entitle.source import Finding

PRODUCT = "sql-server"


@dataclass(frozen=True, slots=True)
class Ctx:
    """What every SQL Server rule of one position shares: where VMs count, and which VMs'
    licenses follow them with Software Assurance (licensing-rules.md §7.1)."""

    places: Places
    mobile_cores: frozenset[str]  # VMs whose per-VM core licenses have SA (and so follow them)
    mobile_server: frozenset[str]  # VMs whose Server + CAL server license has SA
    sa_short: frozenset[str]  # VMs of an SA-only per-VM version without enough SA licenses
    enterprise_sa: SaStock  # SA Enterprise core licenses, for unlimited virtualization


def sql_server(
    idx: EstateIndex, catalog: Catalog, as_of: date
) -> tuple[list[Decision], list[Finding]]:
    rule = catalog.core_rule("sql")
    decisions: list[Decision] = []
    findings: list[Finding] = []
    open_vms: dict[str, list[tuple[Ose, Software, ModelRule]]] = defaultdict(list)
    host_level_vms: dict[str, list[tuple[Ose, Software, ModelRule]]] = defaultdict(list)
    rows: list[tuple[Ose, Software, ModelRule, str | None]] = []
    passive: list[tuple[Ose, Software]] = []

    for ose in idx.estate.oses:
        if ose.environment != "production":
            continue
        for sw in idx.software(ose.ose, PRODUCT):
            mrule = catalog.model_rule(PRODUCT, sw.edition, sw.version)
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
            rows.append((ose, sw, mrule, _model(mrule, ose, sw, findings)))

    free = free_passive_copies(idx, catalog, PRODUCT, passive, as_of, findings)
    rows = [r for r in rows if r[0].ose not in free]
    ctx = _context(idx, catalog, rule, rows, as_of, findings)
    for ose, sw, mrule, model in rows:
        group = idx.hosts[ose.host].cluster or ose.host
        if not ose.virtual:
            decisions.append(_physical(idx, catalog, rule, ose, sw, mrule, model))
        elif model is None:
            open_vms[group].append((ose, sw, mrule))
        elif model == "per-core":
            host_level_vms[group].append((ose, sw, mrule))
        else:
            decisions.append(_vm(idx, catalog, rule, ose, sw, mrule, model, ctx))

    for group in sorted(set(open_vms) | set(host_level_vms)):
        decisions.append(
            _group(idx, catalog, rule, group, open_vms[group], host_level_vms[group], ctx)
        )
    return decisions, findings


def _context(
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
    places = Places.build(idx, catalog, as_of)
    cores = SaStock.build(idx, catalog, PRODUCT, "core", as_of)
    servers = SaStock.build(idx, catalog, PRODUCT, "server", as_of)
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
            if _per_vm_needs_sa(catalog, mrule, sw):
                if cores.take(sw.edition, qty):
                    mobile_cores.add(ose.ose)
                else:
                    short.add(ose.ose)
            elif spread > 1:
                later.append((model is None, -qty * (spread - 1), ose.ose, sw, qty))
        if model in (None, "server-cal") and "server-cal" in _allowed(mrule) and spread > 1:
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
        SaStock.build(idx, catalog, PRODUCT, "core", as_of),
    )


def _per_vm_needs_sa(catalog: Catalog, mrule: ModelRule, sw: Software) -> bool:
    """Per-VM licensing of this version is an SA-only right (SQL Server 2022 and later, §3.5)."""
    needs_sa = mrule.per_vm_needs_sa_from
    return needs_sa is not None and catalog.version_index(
        PRODUCT, sw.version
    ) >= catalog.version_index(PRODUCT, needs_sa)


def _model(mrule: ModelRule, ose: Ose, sw: Software, findings: list[Finding]) -> str | None:
    if mrule.model == "server-cal":
        return "server-cal"
    if sw.model is None:
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


def _allowed(mrule: ModelRule) -> tuple[str, ...]:
    if mrule.model == "server-cal":
        return ("server-cal",)
    return ("per-core", "server-cal") if "server-cal" in mrule.also else ("per-core",)


def _server_cal(idx: EstateIndex, ose: Ose, sw: Software, ctx: Ctx | None = None) -> Option:
    rows = [a for a in idx.access_by_ose.get(ose.ose, ()) if a.product == PRODUCT]
    users = sorted({a.user for a in rows if a.user})
    devices = sorted(
        {a.device for a in rows if not a.user and a.device and a.device not in idx.oses}
    )
    shadow = []
    if users:
        shadow.append(
            Need(
                PRODUCT,
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
                PRODUCT,
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
    needs = tuple(
        Need(
            PRODUCT,
            "server",
            1,
            sw.edition,
            sw.version,
            host=host,
            ose=ose.ose,
            model="server-cal",
            reason=base + _where(ose, host, hosts, mobile, ctx),
            evidence=(str(sw.source),),
            sa_required=ctx is not None and ose.ose in ctx.mobile_server,
        )
        for host in hosts
    )
    return Option("server-cal", needs, shadow=tuple(shadow))


def _where(ose: Ose, host: str, hosts: tuple[str, ...], mobile: bool, ctx: Ctx | None) -> str:
    """Why a VM's license is counted where it is (§7.1)."""
    farm = ctx.places.hosts(ose, True) if ctx is not None else (ose.host,)
    if mobile and len(farm) > 1:
        return (
            f"; with active SA the license follows it between {', '.join(farm)} "
            "(License Mobility within a server farm, §7.1)"
        )
    if len(hosts) == 1:
        return ""
    left = ctx.places.history(ose.ose, host) if ctx is not None else None
    why = (
        f"it left {host} on {left}, fewer than {ctx.places.days} days before"
        if left is not None and ctx is not None
        else f"it may run on {host}"
    )
    return (
        f"; without active SA the license cannot follow it: {why}, so {host} is licensed "
        f"for it too ({len(hosts)} hosts, §7.1)"
    )


def _physical(
    idx: EstateIndex,
    catalog: Catalog,
    rule: CoreRule,
    ose: Ose,
    sw: Software,
    mrule: ModelRule,
    model: str | None,
) -> Decision:
    host = idx.hosts[ose.host]
    factor = factor_for(catalog, rule, host.cpu_model, host.cores_per_processor)
    qty = physical_cores(
        host.processors, host.cores_per_processor, rule, factor.factor if factor else None
    )
    factor_text = f", core factor {factor.factor} ({factor.id})" if factor else ""
    options: list[Option] = []
    if model in (None, "per-core", "payg"):
        reason = (
            f"{ose.ose} (physical): {host.processors}×{host.cores_per_processor} "
            f"cores{factor_text}, ≥{rule.min_per_processor}/processor → {qty}"
        )
        evidence = (str(sw.source), str(host.source))
        options.append(_cores(ose, sw, qty, model == "payg", "per-core", reason, evidence))
    return _decision(idx, ose, sw, mrule, model, options, "the cheaper allowed one")


def _decision(
    idx: EstateIndex,
    ose: Ose,
    sw: Software,
    mrule: ModelRule,
    model: str | None,
    options: list[Option],
    open_text: str,
    ctx: Ctx | None = None,
) -> Decision:
    """One OSE's SQL Server decision: its core options, plus Server + CAL where allowed."""
    if model in (None, "server-cal") and "server-cal" in _allowed(mrule):
        options.append(_server_cal(idx, ose, sw, ctx))
    why = "fixed by software.csv model" if model else f"model open: {open_text}"
    return Decision(f"{PRODUCT}@{ose.ose}", PRODUCT, ose.ose, tuple(options), why)


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
        PRODUCT,
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
        elif _per_vm_needs_sa(catalog, mrule, sw):
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
                    reason + _where(ose, host, hosts, mobile, ctx),
                    evidence,
                    host=host,
                    sa_required=mobile,
                )
                for host in hosts
            )
            options.append(Option("per-vm", needs))
    return _decision(idx, ose, sw, mrule, model, options, "per VM or Server + CAL", ctx)


def _group(
    idx: EstateIndex,
    catalog: Catalog,
    rule: CoreRule,
    group: str,
    open_vms: list[tuple[Ose, Software, ModelRule]],
    host_level: list[tuple[Ose, Software, ModelRule]],
    ctx: Ctx,
) -> Decision:
    """SQL VMs of one host (or one cluster): each VM on its own, or Enterprise on every physical
    core of every host they may run on. Unlimited virtualization needs Enterprise core licenses
    with SA active on the day of the position for all those cores (§3.5); without, each host may
    run as many SQL VMs as it has core licenses (catalog choice) and the VMs count on every host
    they left fewer than 90 days ago (§7.1)."""
    rows = open_vms + host_level
    n_vms = len({o.ose for o, _, _ in rows})
    version = catalog.newest_version(PRODUCT, {s.version for _, s, _ in rows})
    counted: dict[str, dict[str, tuple[int, int]]] = {}  # mobile? → host → (cores, VMs there)
    for mobile in (True, False):
        on: dict[str, set[str]] = defaultdict(set)
        for o, _, _ in rows:
            for h in ctx.places.hosts(o, mobile):
                on[h].add(o.ose)
        counted[str(mobile)] = {h: (_host_cores(idx, catalog, rule, h), len(on[h])) for h in on}
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
                PRODUCT,
                "core",
                qty,
                "enterprise",
                version,
                host=host_id,
                model="per-core",
                reason=f"{host_id}: Enterprise on all {cores} counted physical cores, {extra}",
                evidence=tuple(sorted({str(s.source) for _, s, _ in rows})),
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
        )
    ]
    if not host_level:
        subs = tuple(_vm(idx, catalog, rule, o, s, m, None, ctx) for o, s, m in open_vms)
        options.insert(0, Option("each-vm", subdecisions=subs, note="each VM licensed alone"))
    where = f"cluster {group}" if group in idx.cluster_hosts else f"host {group}"
    why = f"{n_vms} SQL Server VM(s) on {where}" + (
        "; a VM fixed model=per-core needs the host licensed" if host_level else ""
    )
    return Decision(f"{PRODUCT}@{group}", PRODUCT, group, tuple(options), why)


def _host_cores(idx: EstateIndex, catalog: Catalog, rule: CoreRule, host_id: str) -> int:
    host = idx.hosts[host_id]
    factor = factor_for(catalog, rule, host.cpu_model, host.cores_per_processor)
    return physical_cores(
        host.processors, host.cores_per_processor, rule, factor.factor if factor else None
    )
