"""The catalog's cloud and hybrid rights (table ``[cloud]``): which providers are Listed
Providers, the dedicated-host cut-off of 1 October 2019, Azure Hybrid Benefit (per-VM minimums,
Datacenter's dual use, the 180-day migration overlap, SQL Server's edition ratios), License
Mobility through SA, the Flexible Virtualization Benefit and Extended Security Updates.
licensing-rules.md §3.2, §3.3, §7.2, §7.3; docs/rules/cloud-and-hybrid.md.
The records are declared once; the file's table is derived from them (catalog/filemodel.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from entitle.catalog.fields import rule
from entitle.catalog.filemodel import file_model, record_of


@dataclass(frozen=True, slots=True)
class Ratio:
    """Under Azure Hybrid Benefit one core license of ``owned`` edition covers ``vcpus`` virtual
    cores of a VM running ``runs`` edition, per ``licenses`` licenses (1 Enterprise → 4 vCPUs of
    Standard; 4 Standard → 1 vCPU of Enterprise)."""

    product: str
    owned: str
    runs: str
    vcpus: int = field(metadata=rule(ge=1))
    licenses: int = field(metadata=rule(ge=1))


@dataclass(frozen=True, slots=True)
class Esu:
    """Extended Security Updates for ``versions`` of ``product``: counted by all physical cores
    (at least ``physical_min`` per server and ``per_processor_min`` per processor) or by virtual
    cores (at least ``vm_min`` per VM), sold until ``until``; free for VMs in Azure."""

    product: str
    versions: tuple[str, ...]
    physical_min: int = field(metadata=rule(ge=0))
    per_processor_min: int = field(metadata=rule(ge=0))
    vm_min: int = field(metadata=rule(ge=0))
    until: date
    source: str


@dataclass(frozen=True, slots=True)
class CloudRights:
    listed_providers: tuple[str, ...]
    listed_source: str
    dedicated_cutoff: date  # licenses bought before it, for versions released before it
    dedicated_source: str
    dedicated_choice: str
    # core licenses per Azure VM under Azure Hybrid Benefit
    ahb_windows_vm_min: int = field(metadata=rule(ge=1))
    ahb_windows_dual_use: tuple[str, ...]  # editions usable on premises and in Azure at once
    # the one-time overlap while a workload migrates
    ahb_migration_days: int = field(metadata=rule(ge=0))
    ahb_windows_source: str
    ahb_windows_choice: str
    ahb_no_windows_cals: bool  # no Windows Server CALs for access to Windows Server in Azure
    ahb_cals_choice: str
    ahb_sql_vm_min: int = field(metadata=rule(ge=1))
    ahb_sql_ratios: tuple[Ratio, ...] = field(metadata=rule(default_factory=list))
    ahb_sql_source: str
    mobility_products: tuple[str, ...]  # License Mobility through SA (never windows-server)
    mobility_source: str
    fvb_from: date  # the Flexible Virtualization Benefit (outsourcers, never Listed Providers)
    fvb_source: str
    esu: tuple[Esu, ...] = field(metadata=rule(default_factory=list))
    esu_choice: str

    def ratio(self, product: str, owned: str | None, runs: str | None) -> Ratio | None:
        for r in self.ahb_sql_ratios:
            if (r.product, r.owned, r.runs) == (product, owned, runs):
                return r
        return None

    def esu_for(self, product: str, version: str) -> Esu | None:
        for row in self.esu:
            if row.product == product and version in row.versions:
                return row
        return None


# The [cloud] table as the file writes it, derived from the records (catalog/filemodel.py); the
# type checker reads it as the record.
if TYPE_CHECKING:
    CloudFile = CloudRights
else:
    CloudFile = file_model(CloudRights)


def check(data: Any, versions: dict[str, set[str]], editions: dict[str, set[str]]) -> list[str]:
    """Cross-checks: every product, edition and version named exists; Windows Server has no
    License Mobility through SA (licensing-rules.md §7.2)."""
    problems = []
    for p in data.mobility_products:
        if p not in versions:
            problems.append(f"cloud.mobility_products: unknown product {p!r}")
    if "windows-server" in data.mobility_products:
        problems.append("cloud.mobility_products: Windows Server has no License Mobility (§7.2)")
    for ed in data.ahb_windows_dual_use:
        if ed not in editions.get("windows-server", set()):
            problems.append(f"cloud.ahb_windows_dual_use: {ed!r} is no Windows Server edition")
    for r in data.ahb_sql_ratios:
        if r.product not in versions:
            problems.append(f"cloud.ahb_sql_ratios: unknown product {r.product!r}")
        elif not {r.owned, r.runs} <= editions[r.product]:
            problems.append(f"cloud.ahb_sql_ratios: unknown edition in {r.owned!r}, {r.runs!r}")
    for e in data.esu:
        if e.product not in versions:
            problems.append(f"cloud.esu: unknown product {e.product!r}")
        else:
            problems += [
                f"cloud.esu: {v!r} is not a version of {e.product}"
                for v in e.versions
                if v not in versions[e.product]
            ]
    return problems


def build(data: Any) -> CloudRights | None:
    """The record of the validated table (:data:`CloudFile`), or None without one."""
    return None if data is None else record_of(CloudRights, data)
