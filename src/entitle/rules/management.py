"""System Center server management licenses: per core like Windows Server (Standard 2 managed OSEs
per full licensing, Datacenter unlimited; licensing-rules.md §5). Client MLs (per OSE or per user)
are planned with the CALs, in :mod:`entitle.rules.cals`, since CAL Suites include them."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

from entitle.catalog.model import Catalog
from entitle.estate.records import Managed
from entitle.rules.cores import physical_cores, standard_oses
from entitle.rules.demand import Decision, Need, Option
from entitle.rules.index import EstateIndex
from entitle.rules.mobility import Places
from entitle.source import Finding


def server_mls(
    idx: EstateIndex, catalog: Catalog, as_of: date
) -> tuple[list[Decision], list[Finding]]:
    """Every managed server OSE (any System Center family product) needs System Center server
    MLs on its host, counted per core; a managed VM counts on every host it may run on (its
    cluster, or oses.csv hosts) and every host it left fewer than 90 days before ``as_of``: server
    MLs per core do not follow a VM (licensing-rules.md §5, §7.1)."""
    product = catalog.roles.server_ml
    rule = catalog.core_rule("windows")
    per_licensing = standard_oses(catalog, product)
    findings: list[Finding] = []
    managed: dict[str, list[Managed]] = defaultdict(list)
    for m in idx.estate.managed:
        if m.ose is None:
            continue
        ose = idx.oses.get(m.ose)
        if ose is None:
            continue
        host = idx.hosts.get(ose.host)
        if host is not None and host.shared_cloud:
            findings.append(
                Finding(
                    "warning",
                    "not-judged",
                    f"{ose.ose} is managed by {m.product} on {host.host}, a provider's shared "
                    "host: server MLs there are not counted yet (License Mobility through SA, "
                    "docs/rules/cloud-and-hybrid.md).",
                    str(m.source),
                )
            )
            continue
        if ose.environment != "production":
            findings.append(
                Finding(
                    "info",
                    "dev-test-excluded",
                    f"{ose.ose} is dev-test: its "
                    "management licenses are covered by developer subscriptions.",
                    str(m.source),
                )
            )
            continue
        managed[m.ose].append(m)
    if not managed:
        return [], findings
    places = Places.build(idx, catalog, as_of)
    counted: dict[str, set[str]] = defaultdict(set)  # host → managed OSEs that count on it
    for ose_id in managed:
        for h in places.hosts(idx.oses[ose_id], mobile=False):
            counted[h].add(ose_id)
    hosts = set(counted)
    version = _version(catalog, managed)
    decisions = []
    for host_id in sorted(hosts):
        host = idx.hosts[host_id]
        vms = sorted(o for o in counted[host_id] if idx.oses[o].virtual)
        phys = sorted(o for o in counted[host_id] if not idx.oses[o].virtual)
        n = len(vms) + len(phys)
        if n == 0:
            continue
        rows = [m for o in vms + phys for m in managed[o]]
        fixed = sorted({m.extra.get("edition", "") for m in rows} - {""})
        cores = physical_cores(host.processors, host.cores_per_processor, rule)
        stacks = math.ceil(n / per_licensing)
        where = f"cluster {host.cluster}" if host.cluster else host_id
        base = (
            f"{host_id}: {cores} core licenses; {n} managed OSE(s) may run on {where} "
            f"({len(vms)} VM(s), {len(phys)} physical)"
        )
        evidence = tuple(sorted({str(m.source) for m in rows}))

        def need(
            edition: str,
            qty: int,
            text: str,
            host_id: str = host_id,
            base: str = base,
            evidence: tuple[str, ...] = evidence,
        ) -> Need:
            return Need(
                product,
                "server-ml",
                qty,
                edition,
                version,
                host=host_id,
                model="management",
                reason=f"{base}; {text}",
                evidence=evidence,
            )

        options = []
        if not fixed or "datacenter" in fixed:
            options.append(
                Option(
                    "datacenter", (need("datacenter", cores, "Datacenter manages unlimited OSEs"),)
                )
            )
        if not fixed or fixed == ["standard"]:
            options.append(
                Option(
                    f"standard ×{stacks}",
                    (
                        need(
                            "standard",
                            cores * stacks,
                            f"Standard manages {per_licensing} OSEs per full licensing → {stacks} × {cores}",
                        ),
                    ),
                )
            )
        why = f"edition fixed by managed.csv: {', '.join(fixed)}" if fixed else "edition open"
        decisions.append(Decision(f"{product}@{host_id}", product, host_id, tuple(options), why))
    return decisions, findings


def _version(catalog: Catalog, managed: dict[str, list[Managed]]) -> str:
    product = catalog.roles.server_ml
    versions = {m.extra.get("version", "") for rows in managed.values() for m in rows} - {""}
    known = {v for v in versions if v in catalog.product(product).version_ids}
    if known:
        return catalog.newest_version(product, known)
    return catalog.latest_version(product) or ""
