"""Hyper-V inventory: ``Get-VM``, ``Get-VMProcessor``, ``Get-VMHost``, ``Win32_Processor``,
``Get-ClusterNode``, the guests' KVP data and SAM-style VM lists.

- ``Get-VM | Export-Csv`` (``Name``, ``ComputerName`` = the host, ``VMId``, ``ProcessorCount``,
  ``State``): oses.csv, one virtual OSE per VM.
- ``Get-VMProcessor | Export-Csv`` (``VMName``, ``VMId``, ``ComputerName``, ``Count``): the VM's
  vCPUs where Get-VM has none.
- The guests' KVP intrinsic items (``Msvm_KvpExchangeComponent.GuestIntrinsicExchangeItems``,
  exported per VM: ``VMName``, ``ComputerName``, ``FullyQualifiedDomainName``, ``OSName``) or a
  SAM-style VM list (``Get-HyperVVMList``: ``HyperV_Name``, ``Host``, ``GUID``, ``FQDN``,
  ``OSName``, ``EnabledState``): the guest's DNS name and OS, joined to Get-VM's VM by ``VMId``
  (= ``GUID``), else by host and VM name (:func:`_join`).
- ``Get-CimInstance Win32_Processor -ComputerName … | Export-Csv`` (``SystemName``,
  ``NumberOfCores``, ``Name``; one row per socket): hosts.csv processors, cores, CPU model.
- ``Get-VMHost | Export-Csv`` (``Name``/``ComputerName``, ``LogicalProcessorCount``): a host's
  size where Win32_Processor has none — logical processors, counted as 1 processor of that many
  cores (twice the cores with hyper-threading: an overcount, finding ``cores-assumed``).
- ``Get-ClusterNode | Export-Csv`` (``Name``, ``Cluster``): the cluster of each host.
- Live migrations from the ``Microsoft-Windows-Hyper-V-VMMS-Admin`` event log (``Get-WinEvent``
  filtered to the migration-completed events, ``Export-Csv``: ``TimeCreated``, ``MachineName`` =
  the host that logged it, taken as where the VM arrived, ``VMName`` or a ``Message`` naming the
  VM in quotes; optional ``SourceHost``): placements.csv (licensing-rules.md §7.1). Without it the
  import says that placements.csv is not filled.

Power states are written as Get-VM's names (``Running``, ``Off``, ``Saved``, ``Paused``), from
Hyper-V Manager's German labels or ``Msvm_ComputerSystem.EnabledState`` numbers too
(:data:`STATES`). VMs are told apart by ``VMId``, FQDN or name
(:func:`entitle.importers.names.vm_ids`). A host that runs VMs but whose processors no export
gives gets a placeholder (finding). Imports :mod:`entitle.catalog`, :mod:`entitle.source` and
:mod:`entitle.importers` helpers.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from entitle.catalog import Catalog
from entitle.importers.exports import Export, ExportRow, read_any
from entitle.importers.migrations import NO_HISTORY, Move, add_placements, dates_of
from entitle.importers.names import Vm, guid, host_id, vm_ids, windows_guest
from entitle.importers.result import ImportResult, Outcome
from entitle.source import Source

# Get-VM's State names (Microsoft.HyperV.PowerShell.VMState), Hyper-V Manager's de-DE labels and
# Msvm_ComputerSystem EnabledState numbers, as the state written to oses.csv.
STATES = {
    "running": "Running",
    "off": "Off",
    "saved": "Saved",
    "paused": "Paused",
    "wird ausgeführt": "Running",
    "aus": "Off",
    "gespeichert": "Saved",
    "angehalten": "Paused",
    "2": "Running",
    "3": "Off",
    "6": "Saved",
    "9": "Paused",
    "32768": "Paused",
    "32769": "Saved",
}


def _kind(export: Export) -> str | None:
    if export.has("TimeCreated", "MachineName") and (export.has("VMName") or export.has("Message")):
        return "migration"
    if export.has("SystemName", "NumberOfCores"):
        return "processor"
    if export.has("LogicalProcessorCount") and (export.has("Name") or export.has("ComputerName")):
        return "vmhost"
    if export.has("VMName", "Count"):
        return "vmprocessor"
    if export.has("Name", "Cluster") and not export.has("ProcessorCount"):
        return "cluster-node"
    if export.has("VMName", "FullyQualifiedDomainName") or export.has("VMName", "OSName"):
        return "kvp"
    if export.has("HyperV_Name") or (export.has("Host") and export.has("OSName")):
        return "vm-list"
    if export.has("Name", "ComputerName") and (
        export.has("ProcessorCount") or export.has("VMId") or export.has("State")
    ):
        return "vm"
    return None


def _whole(text: str) -> int | None:
    try:
        number = int(text.strip())
    except ValueError:
        return None
    return number if number >= 1 else None


@dataclass
class _Guest:
    """One VM as the exports together describe it."""

    name: str
    host: str
    source: Source
    vmid: str = ""
    fqdn: str = ""
    os: str = ""
    vcpus: str = ""
    state: str = ""
    seen: set[str] = field(default_factory=set)


def import_hyperv(paths: Sequence[Path], catalog: Catalog) -> ImportResult:
    out = Outcome("hyperv")
    found: dict[str, list[Export]] = defaultdict(list)
    unknown: list[Export] = []
    for path in paths:
        exports, problems = read_any(path)
        out.problems.extend(p for p in problems if p.severity == "error")
        for p in problems:
            if p.severity != "error":
                out.skip("row cut short or with extra fields", p.source)
        for export in exports:
            kind = _kind(export)
            if kind is None:
                unknown.append(export)
            else:
                found[kind].append(export)
    for export in unknown:  # Get-VMNetworkAdapter and the like: named, not a refusal
        if found:
            out.warn(
                "file-not-used",
                f"{export.file} skipped: not a Hyper-V export this importer reads",
                export.header_source,
            )
        else:
            out.error(
                export.header_source,
                "not a Hyper-V export this importer knows",
                "give Get-VM (Name, ComputerName, VMId, ProcessorCount, State), "
                "Get-VMProcessor (VMName, Count), Get-VMHost (Name, LogicalProcessorCount), "
                "Win32_Processor (SystemName, NumberOfCores), Get-ClusterNode (Name, "
                "Cluster), KVP items (VMName, FullyQualifiedDomainName, OSName), a VM list "
                "(HyperV_Name, Host, OSName) or migration events (TimeCreated, MachineName, "
                "VMName); this file has " + ", ".join(export.header),
            )
    if out.problems:
        return out.result()
    clusters = {
        host_id(r.get("name")): r.get("cluster") for e in found["cluster-node"] for r in e.rows
    }
    hosts = _processors(found["processor"], out)
    logical = _vmhosts(found["vmhost"], out)
    guests = _join(found, out)
    used = _write_vms(guests, catalog, out)
    if found["migration"]:
        names: dict[str, str] = {}
        for guest, ose in guests:
            names.setdefault(guest.name, ose)
        add_placements([m for e in found["migration"] for m in _moves(e.rows, names, out)], out)
    elif used:
        out.warn(
            "no-migration-history",
            NO_HISTORY.format(
                what="Get-VM",
                hint="the Hyper-V-VMMS-Admin live-migration events (Get-WinEvent | Export-Csv)",
            ),
            paths[0].name,
        )
    where = Source(paths[0].name) if paths else Source("hyperv")  # no file: nothing to write
    _write_hosts(hosts, logical, used, clusters, where, out)
    return out.result()


def _join(found: dict[str, list[Export]], out: Outcome) -> list[tuple[_Guest, str]]:
    """Get-VM's VMs with the KVP items, VM list rows and Get-VMProcessor counts that describe
    them (by VMId, else host and name), each with its OSE id."""
    guests: list[_Guest] = []
    by_id: dict[str, _Guest] = {}
    by_name: dict[tuple[str, str], _Guest] = {}

    def find(vmid: str, host: str, name: str) -> _Guest | None:
        known = by_id.get(guid(vmid)) if vmid else None
        return known or by_name.get((host, name.lower()))

    def add(guest: _Guest) -> None:
        guests.append(guest)
        if guest.vmid:
            by_id.setdefault(guid(guest.vmid), guest)
        by_name.setdefault((guest.host, guest.name.lower()), guest)

    for export in found["vm"]:
        for row in export.rows:
            name, host = row.get("name"), host_id(row.get("computername"))
            if not name or not host:
                out.skip("VM row without a VM or host name", row.source)
                continue
            vmid = row.get("vmid", "id")
            if find(vmid, host, name) is not None and vmid:
                out.skip("a VM met again (same VMId)", row.source)
                continue
            add(
                _Guest(
                    name,
                    host,
                    row.source,
                    vmid=vmid,
                    vcpus=row.get("processorcount"),
                    state=row.get("state"),
                )
            )
    for export in found["kvp"] + found["vm-list"]:
        for row in export.rows:
            name = row.get("vmname", "hyperv_name", "name")
            host = host_id(row.get("computername", "host", "pscomputername"))
            fqdn = row.get("fullyqualifieddomainname", "fqdn")
            if not (name or fqdn) or not host:
                out.skip("VM row without a VM or host name", row.source)
                continue
            vmid = row.get("vmid", "guid")
            guest = find(vmid, host, name)
            if guest is None:
                guest = _Guest(name or fqdn, host, row.source, vmid=vmid)
                add(guest)
            else:
                guest.seen.add("kvp")
            guest.fqdn = guest.fqdn or fqdn
            guest.os = guest.os or row.get("osname")
            guest.state = guest.state or row.get("enabledstate", "state")
    for export in found["vmprocessor"]:
        for row in export.rows:
            guest = find(row.get("vmid"), host_id(row.get("computername")), row.get("vmname"))
            if guest is None:
                out.skip("Get-VMProcessor row of a VM no Get-VM row lists", row.source)
            elif not _whole(guest.vcpus):
                guest.vcpus = row.get("count")
    joined = sum(1 for g in guests if "kvp" in g.seen)
    if joined:
        out.count("VMs joined to their KVP or VM list row", joined)
    vms = [Vm(g.name, g.fqdn, g.vmid, g.source) for g in guests]
    return [(g, ose) for g, ose in zip(guests, vm_ids(vms, out, "Hyper-V"), strict=True) if ose]


def _write_vms(
    guests: list[tuple[_Guest, str]], catalog: Catalog, out: Outcome
) -> dict[str, Source]:
    used: dict[str, Source] = {}
    no_os: list[str] = []
    for guest, ose in guests:
        used.setdefault(guest.host, guest.source)
        cells = {"ose": ose, "host": guest.host, "virtual": "yes"}
        vcpus = _whole(guest.vcpus)
        if vcpus:
            cells["vcpus"] = str(vcpus)
        if guest.state:
            cells["powerstate"] = STATES.get(guest.state.strip().lower(), guest.state.strip())
        out.add("oses", cells, guest.source)
        out.count("VMs")
        if windows_guest(out, ose, guest.os, catalog, guest.source):
            continue
        if not guest.os:
            no_os.append(ose)
    if no_os:
        out.warn(
            "os-unknown",
            f"{len(no_os)} Hyper-V VM(s) whose guest OS no export gives ({', '.join(no_os[:5])}"
            f"{' …' if len(no_os) > 5 else ''}): no software row, so nothing is licensed there "
            "— export the KVP items (running VMs report them) or import SIL/UAL from the VMs",
            guests[0][0].source,
        )
    return used


def _write_hosts(
    hosts: dict[str, dict[str, str]],
    logical: dict[str, tuple[int, Source]],
    used: dict[str, Source],
    clusters: dict[str, str],
    first: Source,
    out: Outcome,
) -> None:
    placeholders, assumed = [], []
    for host in sorted(set(hosts) | set(used) | set(logical)):
        cells = hosts.get(host)
        weak = False
        source = used.get(host, first)
        if cells is None and host in logical:
            count, source = logical[host]
            cells = {"host": host, "processors": "1", "cores_per_processor": str(count)}
            assumed.append(f"{host} ({count})")
            weak = True
        elif cells is None:
            cells = {
                "host": host,
                "processors": "1",
                "cores_per_processor": "1",
                "placeholder": "yes",
            }
            placeholders.append(host)
            weak = True
        if clusters.get(host):
            cells["cluster"] = clusters[host]
        out.add("hosts", cells, source, weak=weak)
    if assumed:
        out.warn(
            "cores-assumed",
            f"{len(assumed)} Hyper-V host(s) sized from Get-VMHost's LogicalProcessorCount "
            f"only: {', '.join(assumed[:3])}; counted as 1 processor of that many cores, twice "
            "the cores where hyper-threading is on — export Win32_Processor for the real count",
        )
    if placeholders:
        out.warn(
            "cores-unknown",
            f"{len(placeholders)} Hyper-V host(s) without a "
            f"Win32_Processor export (e.g. {', '.join(placeholders[:3])}): counted as 1 "
            "processor of 1 core, so the minimums apply",
        )


def _vmhosts(exports: list[Export], out: Outcome) -> dict[str, tuple[int, Source]]:
    hosts: dict[str, tuple[int, Source]] = {}
    for export in exports:
        for row in export.rows:
            host = host_id(row.get("name", "computername"))
            count = _whole(row.get("logicalprocessorcount"))
            if not host or count is None:
                out.skip("Get-VMHost row without a Name or LogicalProcessorCount", row.source)
            else:
                hosts[host] = (count, row.source)
                out.count("hosts (Get-VMHost)")
    return hosts


def _processors(exports: list[Export], out: Outcome) -> dict[str, dict[str, str]]:
    sockets: dict[str, list[ExportRow]] = defaultdict(list)
    for export in exports:
        for row in export.rows:
            host = host_id(row.get("systemname"))
            if not host or _whole(row.get("numberofcores")) is None:
                out.skip("Win32_Processor row without SystemName or NumberOfCores", row.source)
            else:
                sockets[host].append(row)
    hosts: dict[str, dict[str, str]] = {}
    for host, rows in sockets.items():
        cores = max(_whole(r.get("numberofcores")) or 1 for r in rows)
        cells = {"host": host, "processors": str(len(rows)), "cores_per_processor": str(cores)}
        if rows[0].get("name"):
            cells["cpu_model"] = " ".join(rows[0].get("name").split())
        hosts[host] = cells
        out.count("hosts (Win32_Processor)")
    return hosts


_QUOTED = re.compile(
    r"""['"\u2018\u2019\u201c\u201d]([^'"\u2018\u2019\u201c\u201d]+)['"\u2018\u2019\u201c\u201d]"""
)


def _moves(rows: Sequence[ExportRow], names: dict[str, str], out: Outcome) -> list[Move]:
    """Migration events as moves: the VM arrived on MachineName at TimeCreated."""
    moves = []
    days = dates_of(rows, "timecreated", out)
    for row, day in zip(rows, days, strict=True):
        vm_name = row.get("vmname")
        if not vm_name:
            quoted = _QUOTED.search(row.get("message"))
            vm_name = quoted.group(1) if quoted else ""
        ose = names.get(vm_name) or host_id(vm_name)
        host = host_id(row.get("machinename"))
        if not ose or not host or day is None:
            out.skip(
                "migration event without a VM name, a MachineName or a TimeCreated date",
                row.source,
            )
            continue
        moves.append(Move(ose, host, day, row.source, host_id(row.get("sourcehost"))))
    return moves
