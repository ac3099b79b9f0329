"""Extended Security Updates (software.csv ``esu`` = yes; docs/rules/cloud-and-hybrid.md): for
Windows Server 2012/2012 R2 and SQL Server 2012/2014, counted per OSE by the physical cores of
its host (at least ``physical_min`` per server, ``per_processor_min`` per processor) or by the
virtual cores of a VM (at least ``vm_min``), as entitlements.csv license ``esu``; free for VMs in
Azure; nothing after the program's last day (catalog table ``[cloud]``, ``[[cloud.esu]]``)."""

from __future__ import annotations

from datetime import date

from entitle.catalog.model import Catalog
from entitle.rules.demand import Decision, Need, Option
from entitle.rules.index import EstateIndex
from entitle.source import Finding


def esu_demand(
    idx: EstateIndex, catalog: Catalog, as_of: date
) -> tuple[list[Decision], list[Finding]]:
    decisions: list[Decision] = []
    findings: list[Finding] = []
    rights = catalog.cloud
    for sw in idx.estate.software:
        if not sw.esu or rights is None:
            continue
        ose = idx.oses.get(sw.ose)
        if ose is None or ose.environment != "production":
            continue
        host = idx.hosts[ose.host]
        row = rights.esu_for(sw.product, sw.version)
        where = f"{sw.product} {sw.version} on {ose.ose}"
        if row is None:
            findings.append(
                Finding(
                    "warning",
                    "esu-unknown",
                    f"{where} is marked esu, but the catalog knows no Extended Security Updates "
                    "for that version (Windows Server 2012/2012 R2, SQL Server 2012/2014); not "
                    "counted.",
                    str(sw.source),
                )
            )
            continue
        if as_of > row.until:
            findings.append(
                Finding(
                    "warning",
                    "esu-ended",
                    f"{where}: Extended Security Updates for {sw.version} ended on {row.until}; "
                    "none are sold after that day, so the installation gets no security updates. "
                    "Upgrade or retire it.",
                    str(sw.source),
                )
            )
            continue
        if host.provider == "azure" and ose.virtual:
            findings.append(
                Finding(
                    "info",
                    "esu-free-in-azure",
                    f"{where}: Extended Security Updates are included for VMs in Azure; none to "
                    "buy.",
                    str(sw.source),
                )
            )
            continue
        if ose.virtual:
            qty = max(row.vm_min, ose.vcpus or 0)
            basis = f"{ose.vcpus or 0} virtual cores, ≥{row.vm_min} per VM"
            if ose.vcpus is None:
                findings.append(
                    Finding(
                        "warning",
                        "vcpus-unknown",
                        f"{ose.ose} has Extended Security Updates but its vcpus are unknown; "
                        f"counted at the minimum of {row.vm_min}.",
                        str(ose.source),
                    )
                )
        else:
            processors = host.processors or 0
            qty = max(row.physical_min, row.per_processor_min * processors, host.cores)
            basis = (
                f"{processors}×{host.cores_per_processor or 0} physical cores, "
                f"≥{row.per_processor_min}/processor, ≥{row.physical_min}/server"
            )
        need = Need(
            sw.product,
            "esu",
            qty,
            sw.edition,
            sw.version,
            host=ose.host,
            ose=ose.ose,
            model="esu",
            reason=f"{ose.ose}: Extended Security Updates for {sw.product} {sw.version} "
            f"until {row.until}: {basis} → {qty}",
            evidence=(str(sw.source),),
        )
        decisions.append(
            Decision(
                f"{sw.product}@esu:{ose.ose}",
                sw.product,
                ose.ose,
                (Option("esu", (need,)),),
                "software.csv esu = yes",
            )
        )
    return decisions, findings
