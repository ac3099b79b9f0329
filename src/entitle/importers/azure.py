"""Azure VM inventory: ``az vm list``, Azure Resource Graph exports and ``az sql vm list``.

- ``az vm list --show-details -o json`` (a JSON array of VMs; ``az graph query … -o json``'s
  ``{"data": [...]}`` and the REST API's ``{"value": [...]}`` are read the same way): one virtual
  OSE per VM (``osProfile.computerName``, else ``name``), its vCPUs from
  ``hardwareProfile.vmSize`` (``data/cloud.toml``, ``--vcpus-map`` or a ``vcpus`` column; a
  ``vmSizeProperties.vCPUsAvailable`` wins), on the shared-hardware host ``azure-<location>``, or
  on its Azure Dedicated Host (``host.id``).
- An Azure Resource Graph CSV export of the same (``name``, ``location``,
  ``properties.hardwareProfile.vmSize`` or ``properties_hardwareProfile_vmSize`` …, or one
  ``properties`` column holding the JSON object).
- ``az sql vm list -o json`` (the SQL IaaS Agent extension: ``sqlServerLicenseType``,
  ``sqlImageOffer``, ``sqlImageSku``, ``virtualMachineResourceId``): how SQL Server is licensed
  on a VM — ``PAYG`` → model provider, ``AHUB`` → byol, ``DR`` → byol with a finding (a free
  passive replica only once ``passive_for`` names its primary).

Windows Server: edition and version from the marketplace image (``MicrosoftWindowsServer`` /
``WindowsServer`` / ``2022-datacenter-azure-edition``; SQL images ``MicrosoftSQLServer`` /
``sql2019-ws2019`` / ``enterprise``); ``licenseType`` ``Windows_Server`` (Azure Hybrid Benefit)
→ model byol, none → provider (license included). ``Windows_Client`` VMs (Windows 10/11) and
Linux VMs without SQL Server are skipped with their reason. Whatever is assumed — an edition the
image does not name, a SQL license type without the extension's record — is a finding.
Imports :mod:`entitle.source` and :mod:`entitle.importers` helpers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from entitle.importers.cloud import (
    is_json,
    placeholder_host,
    read_json,
    refuse_if_empty,
    shared_host,
    size_table,
    whole,
)
from entitle.importers.exports import read_export
from entitle.importers.names import host_id
from entitle.importers.result import ImportResult, Outcome
from entitle.source import Source

PROVIDER = "azure"
VM_TYPE = "microsoft.compute/virtualmachines"
SQL_VM_TYPE = "microsoft.sqlvirtualmachine/sqlvirtualmachines"
LINUX_OFFERS = re.compile(r"ubuntu|rhel|sles|linux", re.I)
SQL_MODELS = {"payg": "provider", "ahub": "byol", "dr": "byol"}
SQL_EDITIONS = (
    ("enterprise", "enterprise"),
    ("standard", "standard"),
    ("web", "web"),
    ("sqldev", "developer"),
    ("developer", "developer"),
    ("express", "express"),
)
MAX_DEPTH = 8  # properties.storageProfile.imageReference.sku is 4 deep
_YEAR = re.compile(r"(2008|2012|2016|2019|2022|2025)(-?r2)?", re.I)


def _flatten(value: Mapping[str, object], prefix: str = "", depth: int = 0) -> dict[str, str]:
    """A JSON object as dotted lower-case keys (lists, and objects nested deeper than any field
    read, are left out); ``properties.`` is dropped, so Resource Graph's and ``az vm list``'s
    shapes read alike."""
    cells: dict[str, str] = {}
    for key, item in value.items():
        name = f"{prefix}.{key.lower()}" if prefix else key.lower()
        if isinstance(item, Mapping):
            if depth < MAX_DEPTH:
                cells.update(_flatten(item, name, depth + 1))
        elif not isinstance(item, list):
            cells[name] = "" if item is None else str(item).strip()
    for name in [n for n in cells if n.startswith("properties.")]:
        cells.setdefault(name[len("properties.") :], cells[name])
    return cells


@dataclass
class Record:
    cells: dict[str, str]
    source: Source

    def get(self, *names: str) -> str:
        for name in names:
            if self.cells.get(name):
                return self.cells[name]
        return ""


@dataclass
class Inventory:
    vms: list[Record] = field(default_factory=list)
    sql: list[Record] = field(default_factory=list)


def _records_from_json(path: Path, out: Outcome, found: Inventory) -> None:
    doc = read_json(path, out)
    if doc is None:
        return
    data = doc.data
    if isinstance(data, dict):
        listed = data.get("data", data.get("value"))
        data = listed if isinstance(listed, list) else [data]
    if not isinstance(data, list):
        out.error(
            Source(doc.file, 1),
            "not az vm list output: expected a JSON array of VMs",
            "export with: az vm list --show-details -o json",
        )
        return
    for item in data:
        if not isinstance(item, dict):
            out.skip("not a JSON object in the array", Source(doc.file, 1))
            continue
        cells = _flatten(item)
        source = doc.where(str(item.get("id") or item.get("name") or ""))
        _classify(Record(cells, source), out, found)


def _records_from_csv(path: Path, out: Outcome, found: Inventory) -> None:
    export, problems = read_export(path, str(path))
    out.problems.extend(p for p in problems if p.severity == "error")
    for p in problems:
        if p.severity != "error":
            out.skip("row cut short or with extra fields", p.source)
    if export is None:
        return
    columns = {name.lower().replace("_", ".") for name in export.header}
    columns |= {c[len("properties.") :] for c in columns if c.startswith("properties.")}
    if not ({"hardwareprofile.vmsize", "sqlserverlicensetype", "properties"} & columns):
        out.error(
            export.header_source,
            "not an Azure VM export this importer knows",
            "give az vm list -o json, az sql vm list -o json, or a Resource Graph CSV with "
            "name, location and properties.hardwareProfile.vmSize; this file has "
            + ", ".join(export.header),
        )
        return
    for row in export.rows:
        cells: dict[str, str] = {}
        for name, value in row.cells.items():
            if name == "properties" and value.startswith("{"):
                try:
                    parsed = json.loads(value)
                except (json.JSONDecodeError, RecursionError):
                    out.skip("properties cell that is not JSON", row.source)
                    continue
                if isinstance(parsed, dict):
                    cells.update(_flatten({"properties": parsed}))
                continue
            key = name.replace("_", ".") if name not in {"vcpus"} else name
            cells[key] = value
            if key.startswith("properties."):
                cells.setdefault(key[len("properties.") :], value)
        _classify(Record(cells, row.source), out, found)


def _classify(record: Record, out: Outcome, found: Inventory) -> None:
    kind = record.get("type").lower()
    if kind == SQL_VM_TYPE or record.get("sqlserverlicensetype"):
        found.sql.append(record)
    elif kind == VM_TYPE or record.get("hardwareprofile.vmsize"):
        found.vms.append(record)
    else:
        out.skip("not a virtual machine (no hardwareProfile.vmSize)", record.source)


def import_azure(paths: Sequence[Path], vcpus_map: Mapping[str, int] | None = None) -> ImportResult:
    out = Outcome(PROVIDER)
    found = Inventory()
    for path in paths:
        if is_json(path):
            _records_from_json(path, out, found)
        else:
            _records_from_csv(path, out, found)
    if out.problems:
        return out.result()
    sizes = dict(size_table())
    sizes.update({k.lower(): v for k, v in (vcpus_map or {}).items()})
    sql = _SqlIndex(found.sql)
    vms = _Vms(out, sizes, sql)
    for record in found.vms:
        vms.add(record)
    vms.finish()
    for record in sql.unmatched():
        out.skip("az sql vm list row for a VM not in the VM inventory", record.source)
    first = Source(str(paths[0]), 1) if paths else Source("<no file>")
    refuse_if_empty(out, len(found.vms) + len(found.sql), "Azure records", first)
    return out.result()


class _SqlIndex:
    """SQL IaaS extension records, found by their VM's resource id (or, for a VM export without
    ids, by the VM's name, which the extension's resource shares)."""

    def __init__(self, records: list[Record]):
        self.records = records
        self.by_id: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        for i, record in enumerate(records):
            vm_id = record.get("virtualmachineresourceid").lower()
            if vm_id:
                self.by_id.setdefault(vm_id, i)
            name = record.get("name").lower() or vm_id.rsplit("/", 1)[-1]
            if name:
                self.by_name.setdefault(name, i)
        self.matched: set[int] = set()

    def find(self, vm_id: str, name: str) -> Record | None:
        i = self.by_id.get(vm_id.lower()) if vm_id else self.by_name.get(name.lower())
        if i is None:
            return None
        self.matched.add(i)
        return self.records[i]

    def unmatched(self) -> list[Record]:
        return [r for i, r in enumerate(self.records) if i not in self.matched]


def _windows_image(publisher: str, offer: str, sku: str) -> tuple[str | None, str | None]:
    """(edition, version) of Windows Server that a marketplace image names."""
    if publisher == "microsoftsqlserver":
        found = re.search(r"ws(2008|2012|2016|2019|2022|2025)(r2)?", offer)
        return None, (found.group(1) + (found.group(2) or "")) if found else None
    edition = next((e for e in ("datacenter", "standard", "essentials") if e in sku), None)
    found = _YEAR.search(sku) or _YEAR.search(offer)
    version = found.group(1) + ("r2" if found.group(2) else "") if found else None
    return edition, version


def _sql_image(offer: str, sku: str) -> tuple[str | None, str | None]:
    """(edition, version) of SQL Server from an image offer (sql2019-ws2019) and sku."""
    found = re.search(r"sql(2008|2012|2014|2016|2017|2019|2022|2025)(r2)?", offer)
    version = found.group(1) + (found.group(2) or "") if found else None
    edition = next((e for prefix, e in SQL_EDITIONS if sku.startswith(prefix)), None)
    return edition, version


def _identity(vm: Record) -> str:
    """What tells one VM from another in every export: its name in its resource group."""
    group = vm.get("resourcegroup").lower()
    if not group:
        found = re.search(r"/resourcegroups/([^/]+)/", vm.get("id").lower())
        group = found.group(1) if found else ""
    return f"{vm.get('name').lower()}@{group}"


class _Vms:
    """Turns VM records into rows, remembering hosts and what had to be assumed."""

    def __init__(self, out: Outcome, sizes: Mapping[str, int], sql: _SqlIndex):
        self.out, self.sizes, self.sql = out, sizes, sql
        self.names: dict[str, str] = {}  # OSE id -> the VM it was given to
        self.seen: set[str] = set()
        self.duplicates: list[str] = []
        self.shared: dict[str, Source] = {}
        self.dedicated: dict[str, Source] = {}
        self.unknown_sizes: dict[str, Source] = {}
        self.assumed_edition: list[str] = []
        self.assumed_sql: list[str] = []
        self.dr: list[str] = []
        self.no_version: list[str] = []

    def add(self, vm: Record) -> None:
        out = self.out
        name = vm.get("name")
        ose = host_id(vm.get("osprofile.computername") or name)
        if not ose:
            out.skip("VM without a name", vm.source)
            return
        identity = _identity(vm)
        if identity in self.seen:
            out.skip("the same VM again (in another export, or listed twice)", vm.source)
            return
        self.seen.add(identity)
        publisher = vm.get("storageprofile.imagereference.publisher").lower()
        offer = vm.get("storageprofile.imagereference.offer").lower()
        sku = vm.get("storageprofile.imagereference.sku").lower()
        license_type = vm.get("licensetype").lower()
        os_type = vm.get("storageprofile.osdisk.ostype").lower()
        sql = self.sql.find(vm.get("id"), name)
        if license_type == "windows_client" or publisher == "microsoftwindowsdesktop":
            out.skip("Windows client VM (Windows_Client, Windows 10/11): not a server", vm.source)
            return
        sql_offer = sql.get("sqlimageoffer").lower() if sql else ""
        sql_offer = sql_offer or (offer if publisher == "microsoftsqlserver" else "")
        linux = os_type == "linux" or bool(LINUX_OFFERS.search(sql_offer)) or "byos" in license_type
        windows = not linux and (
            os_type == "windows"
            or publisher in {"microsoftwindowsserver", "microsoftsqlserver"}
            or license_type == "windows_server"
        )
        if not windows and not sql_offer:
            reason = (
                "Linux VM without SQL Server: no Microsoft server license"
                if linux
                else "VM whose OS the export does not give (no osDisk.osType, image or licenseType)"
            )
            out.skip(reason, vm.source)
            return
        size = vm.get("hardwareprofile.vmsize")
        vcpus = whole(vm.get("hardwareprofile.vmsizeproperties.vcpusavailable", "vcpus"))
        vcpus = vcpus or self.sizes.get(size.lower())
        if vcpus is None:
            self.unknown_sizes.setdefault(size or "(blank)", vm.source)
            out.skip("VM size with no known vCPU count (give --vcpus-map)", vm.source)
            return
        ose = self._unique(ose, identity)
        cells = {"ose": ose, "host": self._host(vm, ose), "virtual": "yes", "vcpus": str(vcpus)}
        if vm.get("vmid"):
            cells["cloud_id"] = vm.get("vmid")
        if vm.get("powerstate"):
            cells["powerstate"] = vm.get("powerstate")
        out.add("oses", cells, vm.source)
        out.count("VMs")
        if windows:
            if publisher != "microsoftwindowsserver" and sql_offer:
                publisher, offer = "microsoftsqlserver", sql_offer
            self._windows(vm, ose, publisher, offer, sku, license_type)
        if sql_offer:
            self._sql(vm, ose, sql, sql_offer, sku)

    def _unique(self, ose: str, identity: str) -> str:
        """The OSE id, unless another VM has it: then the VM's name, or the id with a number
        (two VMs must not merge into one OSE; one VM in two exports stays one)."""
        owner = self.names.setdefault(ose, identity)
        if owner == identity:
            return ose
        name = identity.split("@", 1)[0]
        candidates = [host_id(name)] + [f"{ose}-{n}" for n in range(2, len(self.names) + 3)]
        unique = next(c for c in candidates if c and self.names.get(c, identity) == identity)
        self.names[unique] = identity
        self.duplicates.append(f"{ose} → {unique}")
        return unique

    def _host(self, vm: Record, ose: str) -> str:
        host_ref = vm.get("host.id")
        if host_ref:
            host = host_id(host_ref.rstrip("/").rsplit("/", 1)[-1])
            self.dedicated.setdefault(host, vm.source)
            return host
        if vm.get("hostgroup.id"):
            host = f"unknown-host-of-{ose}"
            self.dedicated.setdefault(host, vm.source)
            return host
        region = vm.get("location").lower().replace(" ", "")
        host = shared_host(PROVIDER, region)["host"]
        self.shared.setdefault(region, vm.source)
        return host

    def _windows(
        self, vm: Record, ose: str, publisher: str, offer: str, sku: str, license_type: str
    ) -> None:
        edition, version = _windows_image(publisher, offer, sku)
        if version is None:
            self.no_version.append(ose)
            self.out.skip(
                "Windows Server VM whose image names no version (add its software.csv row)",
                vm.source,
            )
            return
        if edition is None:
            edition = "datacenter"
            self.assumed_edition.append(ose)
        model = "byol" if license_type == "windows_server" else "provider"
        cells = {
            "ose": ose,
            "product": "windows-server",
            "edition": edition,
            "version": version,
            "model": model,
        }
        self.out.add("software", cells, vm.source)
        self.out.count(f"Windows Server VMs ({model})")

    def _sql(self, vm: Record, ose: str, sql: Record | None, sql_offer: str, sku: str) -> None:
        image_sku = sql.get("sqlimagesku").lower() if sql else ""
        edition, version = _sql_image(sql_offer, image_sku or sku)
        if version is None or edition is None:
            self.out.skip(
                "SQL Server VM whose image offer or sku names no version or edition",
                vm.source,
            )
            return
        license_type = sql.get("sqlserverlicensetype").lower() if sql else ""
        if license_type in SQL_MODELS:
            model = SQL_MODELS[license_type]
            if license_type == "dr":
                self.dr.append(ose)
        elif sql_offer.endswith("-byol"):
            model = "byol"
        else:
            model = "provider"
            self.assumed_sql.append(ose)
        cells = {
            "ose": ose,
            "product": "sql-server",
            "edition": edition,
            "version": version,
            "model": model,
        }
        self.out.add("software", cells, vm.source)
        self.out.count(f"SQL Server VMs ({model})")

    def finish(self) -> None:
        out = self.out
        for region, source in sorted(self.shared.items()):
            out.add("hosts", shared_host(PROVIDER, region), source)
        for host, source in sorted(self.dedicated.items()):
            out.add("hosts", placeholder_host(PROVIDER, host), source, weak=True)
        if self.dedicated:
            out.warn(
                "cores-unknown",
                f"{len(self.dedicated)} Azure Dedicated Host(s) whose cores az vm list does not "
                f"give (e.g. {', '.join(sorted(self.dedicated)[:3])}): counted as 1 processor of "
                "1 core, so the minimums apply; write the host's processors and cores (its SKU, "
                "from az vm host show and Microsoft's dedicated host SKU list) in hosts.csv",
            )
        if self.duplicates:
            out.warn(
                "duplicate-name",
                f"{len(self.duplicates)} VM(s) whose computer name another VM has: renamed "
                f"({', '.join(self.duplicates[:3])}); check which is which",
            )
        if self.unknown_sizes:
            sizes = ", ".join(sorted(self.unknown_sizes)[:5])
            out.warn(
                "vcpus-unknown",
                f"VM size(s) {sizes} not in the importer's size table: those VMs were skipped; "
                "give --vcpus-map FILE (columns size, vcpus) or a vcpus column",
                next(iter(self.unknown_sizes.values())),
            )
        if self.assumed_edition:
            out.warn(
                "edition-assumed",
                f"{len(self.assumed_edition)} Windows Server VM(s) whose image names no edition "
                f"(e.g. {', '.join(self.assumed_edition[:3])}): recorded as Datacenter, the "
                "edition of Azure's marketplace and SQL Server images; correct software.csv if "
                "the image was Standard",
            )
        if self.no_version:
            out.warn(
                "version-unknown",
                f"{len(self.no_version)} Windows Server VM(s) from an image that names no version "
                f"(a custom or gallery image, e.g. {', '.join(self.no_version[:3])}): no "
                "software.csv row written; add it by hand",
            )
        if self.assumed_sql:
            out.warn(
                "sql-license-type-assumed",
                f"{len(self.assumed_sql)} SQL Server VM(s) without an az sql vm list record (e.g. "
                f"{', '.join(self.assumed_sql[:3])}): taken as pay-as-you-go from the marketplace "
                "image (model provider); give az sql vm list -o json to read "
                "sqlServerLicenseType",
            )
        if self.dr:
            out.warn(
                "passive-primary-unknown",
                f"{len(self.dr)} SQL Server VM(s) licensed as a disaster-recovery replica "
                f"(sqlServerLicenseType DR, e.g. {', '.join(self.dr[:3])}): written as byol; "
                "set software.csv passive_for to the primary's OSE so the free passive right "
                "is checked",
            )
