"""Hyper-V inventory: ``Get-VM``, ``Win32_Processor``, ``Get-ClusterNode`` and SAM-style VM lists.

- ``Get-VM | Export-Csv`` (``Name``, ``ComputerName`` = the host, ``ProcessorCount``, ``State``):
  oses.csv, one virtual OSE per VM.
- ``Get-CimInstance Win32_Processor -ComputerName … | Export-Csv`` (``SystemName``,
  ``NumberOfCores``, ``Name``; one row per socket): hosts.csv processors (rows per host), cores
  per processor and CPU model. ``Get-VMHost`` gives only logical processors, which licensing
  cannot use.
- ``Get-ClusterNode | Export-Csv`` (``Name``, ``Cluster``): the cluster of each host.
- A SAM-style VM list (``Get-HyperVVMList``: ``HyperV_Name`` or ``FQDN``, ``Host``, ``OSName``):
  VMs with their guest OS (the Windows Server row of software.csv where it names an edition).
- Live migrations from the ``Microsoft-Windows-Hyper-V-VMMS-Admin`` event log (``Get-WinEvent``
  filtered to the migration-completed events, ``Export-Csv``: ``TimeCreated``, ``MachineName`` =
  the host that logged it, taken as where the VM arrived, ``VMName`` or a ``Message`` naming the
  VM in quotes; optional ``SourceHost``): placements.csv (licensing-rules.md §7.1). Without it the
  import says that placements.csv is not filled.

A host that runs VMs but whose processors no export gives gets a placeholder (finding).
Imports :mod:`entitle.catalog`, :mod:`entitle.source` and :mod:`entitle.importers` helpers.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from entitle.catalog import Catalog
from entitle.importers.exports import Export, ExportRow, read_any
from entitle.importers.migrations import NO_HISTORY, Move, add_placements, dates_of
from entitle.importers.names import host_id, windows_os
from entitle.importers.result import ImportResult, Outcome
from entitle.source import Source


def _kind(export: Export) -> str | None:
    if export.has("TimeCreated", "MachineName") and (export.has("VMName") or export.has("Message")):
        return "migration"
    if export.has("SystemName", "NumberOfCores"):
        return "processor"
    if export.has("Name", "Cluster") and not export.has("ProcessorCount"):
        return "cluster-node"
    if export.has("HyperV_Name") or (export.has("Host") and export.has("OSName")):
        return "vm-list"
    if export.has("Name", "ComputerName", "ProcessorCount"):
        return "vm"
    return None


def _whole(text: str) -> int | None:
    try:
        number = int(text.strip())
    except ValueError:
        return None
    return number if number >= 1 else None


def import_hyperv(paths: Sequence[Path], catalog: Catalog) -> ImportResult:
    out = Outcome("hyperv")
    found: dict[str, list[Export]] = defaultdict(list)
    for path in paths:
        exports, problems = read_any(path)
        out.problems.extend(p for p in problems if p.severity == "error")
        for p in problems:
            if p.severity != "error":
                out.skip("row cut short or with extra fields", p.source)
        for export in exports:
            kind = _kind(export)
            if kind is None:
                out.error(
                    export.header_source,
                    "not a Hyper-V export this importer knows",
                    "give Get-VM (Name, ComputerName, ProcessorCount), Win32_Processor "
                    "(SystemName, NumberOfCores), Get-ClusterNode (Name, Cluster), a VM "
                    "list (HyperV_Name, Host, OSName) or migration events (TimeCreated, "
                    "MachineName, VMName); this file has " + ", ".join(export.header),
                )
            else:
                found[kind].append(export)
    if out.problems:
        return out.result()
    clusters = {
        host_id(r.get("name")): r.get("cluster") for e in found["cluster-node"] for r in e.rows
    }
    hosts = _processors(found["processor"], out)
    used: dict[str, Source] = {}
    for export in found["vm"] + found["vm-list"]:
        for row in export.rows:
            _vm(row, catalog, used, out)
    if found["migration"]:
        names = {
            r.get("name", "hyperv_name"): host_id(r.get("fqdn", "name", "hyperv_name"))
            for e in found["vm"] + found["vm-list"]
            for r in e.rows
        }
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
    placeholders = []
    for host in sorted(set(hosts) | set(used)):
        cells = hosts.get(host)
        if cells is None:
            cells = {
                "host": host,
                "processors": "1",
                "cores_per_processor": "1",
                "placeholder": "yes",
            }
            placeholders.append(host)
        if clusters.get(host):
            cells["cluster"] = clusters[host]
        weak = cells.get("placeholder") == "yes"
        out.add("hosts", cells, used.get(host, Source(paths[0].name)), weak=weak)
    if placeholders:
        out.warn(
            "cores-unknown",
            f"{len(placeholders)} Hyper-V host(s) without a "
            f"Win32_Processor export (e.g. {', '.join(placeholders[:3])}): counted as 1 "
            "processor of 1 core, so the minimums apply",
        )
    return out.result()


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


def _vm(row: ExportRow, catalog: Catalog, used: dict[str, Source], out: Outcome) -> None:
    ose = host_id(row.get("fqdn", "name", "hyperv_name"))
    host = host_id(row.get("computername", "host"))
    if not ose or not host:
        out.skip("VM row without a VM or host name", row.source)
        return
    used.setdefault(host, row.source)
    cells = {"ose": ose, "host": host, "virtual": "yes"}
    vcpus = _whole(row.get("processorcount"))
    if vcpus:
        cells["vcpus"] = str(vcpus)
    state = row.get("state", "enabledstate")
    if state:
        cells["powerstate"] = state
    out.add("oses", cells, row.source)
    out.count("VMs")
    if windows_os(out, ose, row.get("osname"), catalog, row.source):
        out.count("Windows Server guests")


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
