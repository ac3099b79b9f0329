"""SQL Server: per core with the core factor (physical), per VM, Enterprise on every physical core
for unlimited VMs, and Server + CAL for Standard (licensing-rules.md §3.5, §3.6)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date

from entitle.catalog.model import Catalog, CoreRule, ModelRule
from entitle.estate.records import Host, Ose, Software
from entitle.rules.cores import factor_for, per_vm_cores, physical_cores
from entitle.rules.demand import Decision, Need, Option
from entitle.rules.index import EstateIndex
from entitle.rules.multiplex import Behind, relayed_principals
from entitle.source import Finding

PRODUCT = "sql-server"


def sql_server(
    idx: EstateIndex, catalog: Catalog, as_of: date
) -> tuple[list[Decision], list[Finding]]:
    rule = catalog.core_rule("sql")
    decisions: list[Decision] = []
    findings: list[Finding] = []
    open_vms: dict[str, list[tuple[Ose, Software, ModelRule]]] = defaultdict(list)
    host_level_vms: dict[str, list[tuple[Ose, Software, ModelRule]]] = defaultdict(list)
    sa = idx.has_active_sa(PRODUCT, as_of)
    behind = relayed_principals(idx, PRODUCT)

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
            model = _model(mrule, ose, sw, findings)
            group = idx.hosts[ose.host].cluster or ose.host
            if not ose.virtual:
                decisions.append(_physical(idx, catalog, rule, ose, sw, mrule, model, behind))
            elif model is None:
                open_vms[group].append((ose, sw, mrule))
            elif model == "per-core":
                host_level_vms[group].append((ose, sw, mrule))
            else:
                decisions.append(_vm(idx, catalog, rule, ose, sw, mrule, model, sa, behind))

    for group in sorted(set(open_vms) | set(host_level_vms)):
        decisions.append(
            _group(idx, catalog, rule, group, open_vms[group], host_level_vms[group], sa, behind)
        )
    return decisions, findings


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


def _server_cal(idx: EstateIndex, ose: Ose, sw: Software, behind: Behind) -> Option:
    """One server license, and the SQL CALs of the users and devices that reach the OSE,
    directly or through a front end (§1.6), as the estimate the choice starts from."""
    rows = [a for a in idx.access_by_ose.get(ose.ose, ()) if a.product == PRODUCT]
    relayed_users, relayed_devices = behind.get(ose.ose, (set(), set()))
    users = sorted({a.user for a in rows if a.user} | relayed_users)
    devices = sorted(
        {a.device for a in rows if not a.user and a.device and a.device not in idx.oses}
        | relayed_devices
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
    need = Need(
        PRODUCT,
        "server",
        1,
        sw.edition,
        sw.version,
        host=ose.host,
        ose=ose.ose,
        model="server-cal",
        reason=f"{ose.ose}: Server + CAL, one server license per OSE; SQL CALs for its "
        f"{len(users)} user(s) and {len(devices)} device(s) are counted in the choice",
        evidence=(str(sw.source),),
    )
    return Option("server-cal", (need,), shadow=tuple(shadow))


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
    return _decision(idx, ose, sw, mrule, model, options, "the cheaper allowed one", behind)


def _decision(
    idx: EstateIndex,
    ose: Ose,
    sw: Software,
    mrule: ModelRule,
    model: str | None,
    options: list[Option],
    open_text: str,
    behind: Behind,
) -> Decision:
    """One OSE's SQL Server decision: its core options, plus Server + CAL where allowed."""
    if model in (None, "server-cal") and "server-cal" in _allowed(mrule):
        options.append(_server_cal(idx, ose, sw, behind))
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
    need = Need(
        PRODUCT,
        "core",
        qty,
        sw.edition,
        sw.version,
        host=ose.host,
        ose=ose.ose,
        model=label,
        billed=billed,
        reason=reason,
        evidence=evidence,
    )
    return Option(label, (need,), warning=warning)


def _vm(
    idx: EstateIndex,
    catalog: Catalog,
    rule: CoreRule,
    ose: Ose,
    sw: Software,
    mrule: ModelRule,
    model: str | None,
    sa: bool,
    behind: Behind,
) -> Decision:
    options: list[Option] = []
    if model in (None, "per-vm", "payg"):
        qty = per_vm_cores(ose.vcpus, rule)
        billed = model == "payg"
        warning = ""
        needs_sa = mrule.per_vm_needs_sa_from
        if (
            not billed
            and needs_sa is not None
            and not sa
            and catalog.version_index(PRODUCT, sw.version)
            >= catalog.version_index(PRODUCT, needs_sa)
        ):
            warning = (
                f"{ose.ose}: SQL Server {sw.version} licensed per VM needs active Software "
                "Assurance or subscription licenses; none found in the entitlements."
            )
        reason = (
            f"{ose.ose} (VM): {ose.vcpus or 0} virtual cores, ≥{rule.per_vm_min} "
            f"per VM → {qty} (no core factor on virtual cores)"
        )
        options.append(_cores(ose, sw, qty, billed, "per-vm", reason, (str(sw.source),), warning))
    return _decision(idx, ose, sw, mrule, model, options, "per VM or Server + CAL", behind)


def _group(
    idx: EstateIndex,
    catalog: Catalog,
    rule: CoreRule,
    group: str,
    open_vms: list[tuple[Ose, Software, ModelRule]],
    host_level: list[tuple[Ose, Software, ModelRule]],
    sa: bool,
    behind: Behind,
) -> Decision:
    """SQL VMs of one host (or one cluster): each VM on its own, or Enterprise on every physical
    core of every host they may run on."""
    hosts = idx.cluster_hosts.get(group, (group,))
    rows = open_vms + host_level
    n_vms = len({o.ose for o, _, _ in rows})
    version = catalog.newest_version(PRODUCT, {s.version for _, s, _ in rows})
    needs = []
    notices: tuple[Finding, ...] = ()
    evidence = tuple(sorted({str(s.source) for _, s, _ in rows}))
    for host_id in hosts:
        host = idx.hosts[host_id]
        cores, _, notice = _host_cores(catalog, rule, host, version, evidence[0])
        notices += notice
        qty = cores if sa else max(cores, n_vms)
        extra = (
            "with active SA: unlimited VMs"
            if sa
            else f"without SA: one VM per core license, {n_vms} VM(s) (catalog choice, "
            "licensing-rules.md §12 q4)"
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
                evidence=evidence,
            )
        )
    options = [
        Option(
            "enterprise-host",
            tuple(needs),
            note="Enterprise on every physical core of " + ", ".join(hosts),
            notices=notices,
        )
    ]
    if not host_level:
        subs = tuple(_vm(idx, catalog, rule, o, s, m, None, sa, behind) for o, s, m in open_vms)
        options.insert(0, Option("each-vm", subdecisions=subs, note="each VM licensed alone"))
    where = f"cluster {group}" if group in idx.cluster_hosts else f"host {group}"
    why = f"{n_vms} SQL Server VM(s) on {where}" + (
        "; a VM fixed model=per-core needs the host licensed" if host_level else ""
    )
    return Decision(f"{PRODUCT}@{group}", PRODUCT, group, tuple(options), why)


def _host_cores(
    catalog: Catalog, rule: CoreRule, host: Host, version: str, source: str
) -> tuple[int, str, tuple[Finding, ...]]:
    """SQL Server core licenses for all the physical cores of ``host`` (core factor applied to
    the server's cores and rounded up once, §3.6, for the versions the catalog's
    ``core_factor_scope`` names), the text saying so, and the finding to emit when the factor
    changes the count for a version Microsoft did not publish the table for (a catalog choice)."""
    row = factor_for(catalog, rule, host.cpu_model, host.cores_per_processor)
    plain = physical_cores(host.processors, host.cores_per_processor, rule)
    if row is None:
        return plain, "", ()
    counted = physical_cores(host.processors, host.cores_per_processor, rule, row.factor)
    scope = catalog.core_factor_scopes.get(PRODUCT)
    applies = catalog.core_factor_applies(PRODUCT, version)
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
