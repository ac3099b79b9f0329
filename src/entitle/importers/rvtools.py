"""VMware inventory from RVTools: the workbook (sheets ``vInfo``, ``vHost``, ``vCPU``,
``vCluster``) or its per-tab CSV export (``RVTools_tabvInfo.csv`` …), as RVTools 3.x and 4.x
write them, with the display headers (``VM``, ``# CPU``) or the database names of
``-DBColumnNames`` (``vInfoVMName``, ``vHostNumCpu``; :data:`ALIASES`).

- ``vHost``: hosts.csv (``Host``, ``# CPU``, ``Cores per CPU`` or ``# Cores``, ``CPU Model``,
  ``Cluster``).
- ``vInfo``: oses.csv, one virtual OSE per VM (``VM``, ``Host``, ``CPUs``, ``DNS Name``,
  ``VM UUID``/``SMBIOS UUID``), and a Windows Server row of software.csv for each Windows Server
  guest (``OS according to the VMware Tools``, else ``… the configuration file``). VMware's names
  carry no edition ("Microsoft Windows Server 2019 (64-bit)"): the row is written with a blank
  edition, which the rules license as the cheaper of Standard and Datacenter (finding
  ``edition-unknown``). Templates are left out; powered-off VMs are kept with their
  ``powerstate``. A VM whose host vHost does not list — or every VM of a vInfo-only export
  (``-c ExportvInfo2xlsx``) — runs on a host named by vInfo's ``Host`` and ``Cluster`` whose cores
  are unknown: a placeholder of 1 × 1 core with the finding ``cores-unknown``.
- ``vCPU``: the VM's vCPUs where ``vInfo`` has none; ``vCluster``: checks cluster names.
- ``vEvent`` (optional; RVTools' own tabs carry no history, so this is a tab or
  ``RVTools_tabvEvent.csv`` added from PowerCLI ``Get-VIEvent``: ``VM``, ``Host`` = where it
  arrived, ``Created Time``, optional ``Source Host`` and ``Event Type``): placements.csv, where
  each VM ran and when (vMotion, DRS; the 90-day rule, licensing-rules.md §7.1). Without it the
  import says that placements.csv is not filled.

VMs are told apart by their UUID, DNS name or VM name (:func:`entitle.importers.names.vm_ids`);
an OSE's id is the guest's short DNS name when VMware Tools reports one, else the VM name, so that
UAL, SIL and AD name the same OSE. RVTools sees no installed software: SQL Server on the VMs is
invisible to it, which the import says (finding ``sql-server-invisible``). Imports
:mod:`entitle.catalog`, :mod:`entitle.source` and :mod:`entitle.importers` helpers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from entitle.catalog import Catalog
from entitle.importers.exports import Export, ExportRow, read_any, require
from entitle.importers.migrations import NO_HISTORY, Move, add_placements, dates_of
from entitle.importers.names import Vm, host_id, vm_ids, windows_guest
from entitle.importers.result import ImportResult, Outcome
from entitle.source import Source

SHEETS = {
    "vinfo": ("VM", "Host"),
    "vhost": ("Host", "# CPU"),
    "vcpu": ("VM", "CPUs"),
    "vcluster": ("Name",),
    "vevent": ("VM", "Host", "Created Time"),
}
# The headers of RVTools' -DBColumnNames export (and of older versions), per sheet, as the
# display header they stand for (lower case). Sources: tests/fixtures/rvtools/SOURCE.md.
ALIASES: dict[str, dict[str, str]] = {
    "vinfo": {
        "vinfovmname": "vm",
        "vinfopowerstate": "powerstate",
        "vinfotemplate": "template",
        "vinfoguesthostname": "dns name",
        "vinfocpus": "cpus",
        "vinfohost": "host",
        "vinfocluster": "cluster",
        "vinfoos": "os according to the configuration file",
        "vinfoostools": "os according to the vmware tools",
        "vinfouuid": "vm uuid",
        "vinfosmbiosuuid": "smbios uuid",
        "uuid": "vm uuid",  # RVTools 3.x
        "bios uuid": "smbios uuid",
        "os": "os according to the configuration file",  # RVTools 3.x
    },
    "vhost": {
        "vhostname": "host",
        "vhostcluster": "cluster",
        "vhostcpumodel": "cpu model",
        "vhostnumcpu": "# cpu",
        "vhostcorespercpu": "cores per cpu",
        "vhostnumcpucores": "# cores",
        "#cpu": "# cpu",
        "#cores": "# cores",
    },
    "vcpu": {"vcpuvmname": "vm", "vcpucpus": "cpus", "vcpupowerstate": "powerstate"},
    "vcluster": {"vclustername": "name"},
    "vevent": {},
}
MIGRATION_TYPES = ("migrat", "relocat")  # VmMigratedEvent, DrsVmMigratedEvent, VmRelocatedEvent
TRUE = {"true", "yes", "1"}


def _sheet(export: Export) -> str | None:
    name = (export.sheet or Path(export.file).stem).lower().replace(" ", "")
    for sheet in SHEETS:
        if name.endswith(sheet):
            return sheet
    for sheet in SHEETS:  # a -DBColumnNames CSV saved under another name: vInfoVMName, vHostName
        if any(column.startswith(sheet) for column in export.columns):
            return sheet
    return None


def _canonical(export: Export, sheet: str) -> Export:
    """The export with each database or older header also present under its display name."""
    aliases = ALIASES[sheet]
    if not any(column in aliases for column in export.columns):
        return export
    header = tuple(export.header) + tuple(
        aliases[c.lower()]
        for c in export.header
        if c.lower() in aliases and aliases[c.lower()] not in export.columns
    )
    rows = tuple(
        ExportRow(
            {**{aliases.get(k, k): v for k, v in row.cells.items()}, **dict(row.cells)},
            row.source,
        )
        for row in export.rows
    )
    return replace(export, header=header, rows=rows)


def _whole(text: str) -> int | None:
    try:
        number = int(float(text.strip()))
    except ValueError:
        return None
    return number if number >= 1 else None


def import_rvtools(paths: Sequence[Path], catalog: Catalog) -> ImportResult:
    out = Outcome("rvtools")
    sheets: dict[str, Export] = {}
    for path in paths:
        exports, problems = read_any(path)
        out.problems.extend(p for p in problems if p.severity == "error")
        for export in exports:
            sheet = _sheet(export)
            if sheet is None:
                continue  # RVTools has 27 tabs; the others are not needed
            export = _canonical(export, sheet)
            problem = require(export, SHEETS[sheet], f"RVTools {sheet}")
            if problem is None and sheet == "vhost" and not export.has("Cores per CPU"):
                problem = require(export, ("# Cores",), "RVTools vhost (Cores per CPU or)")
            if problem is not None:
                out.problems.append(problem)
            else:
                sheets[sheet] = export
    if not out.problems and not ({"vinfo", "vhost"} & set(sheets)):
        out.error(
            Source(str(paths[0]) if paths else "<no file>"),
            "no vInfo or vHost sheet found",
            "give the RVTools workbook, or its RVTools_tabvInfo.csv and RVTools_tabvHost.csv files",
        )
    if out.problems:
        return out.result()
    clusters = {r.get("name") for r in sheets["vcluster"].rows} if "vcluster" in sheets else set()
    known: set[str] = set()
    if "vhost" in sheets:
        for row in sheets["vhost"].rows:
            known |= _host(row, clusters, out)
    names: dict[str, str] = {}
    if "vinfo" in sheets:
        names = _vms(sheets, known, catalog, out)
    if "vevent" in sheets:
        add_placements(_moves(sheets["vevent"].rows, names, out), out)
    elif "vinfo" in sheets:
        out.warn(
            "no-migration-history",
            NO_HISTORY.format(what="RVTools", hint="a vEvent tab (Get-VIEvent migrations)"),
            sheets["vinfo"].header_source,
        )
    return out.result()


def _vms(sheets: dict[str, Export], known: set[str], catalog: Catalog, out: Outcome) -> dict:
    """vInfo's VMs (templates left out): oses.csv, software.csv, placeholder hosts."""
    vinfo = sheets["vinfo"]
    vcpus = {r.get("vm"): r.get("cpus") for r in sheets["vcpu"].rows} if "vcpu" in sheets else {}
    rows = []
    for row in vinfo.rows:
        if row.get("template").lower() in TRUE:
            out.skip("template, not a VM", row.source)
        elif not row.get("vm") or not host_id(row.get("host")):
            out.skip("vInfo row without a VM or host name", row.source)
        else:
            rows.append(row)
    vms = [
        Vm(r.get("vm"), r.get("dns name"), r.get("vm uuid", "smbios uuid"), r.source) for r in rows
    ]
    names: dict[str, str] = {}
    placeholders: dict[str, Source] = {}
    windows: list[str] = []
    for row, ose in zip(rows, vm_ids(vms, out, "RVTools"), strict=True):
        if ose is None:
            out.skip("a VM met again (same UUID or DNS name)", row.source)
            continue
        names.setdefault(row.get("vm"), ose)
        host = host_id(row.get("host"))
        cells = {"ose": ose, "host": host, "virtual": "yes"}
        cpus = _whole(row.get("cpus") or vcpus.get(row.get("vm"), ""))
        if cpus:
            cells["vcpus"] = str(cpus)
        if row.get("powerstate"):
            cells["powerstate"] = row.get("powerstate")
        out.add("oses", cells, row.source)
        out.count("VMs (vInfo)")
        if host not in known and host not in placeholders:
            placeholders[host] = row.source
            _placeholder(host, row.get("cluster"), row.source, out)
        guest = row.get(
            "os according to the vmware tools", "os according to the configuration file"
        )
        if windows_guest(out, ose, guest, catalog, row.source):
            windows.append(ose)
    if placeholders:
        shown = ", ".join(f"{h} ({s})" for h, s in list(placeholders.items())[:3])
        why = (
            "this export has no vHost sheet (-c ExportvInfo2xlsx exports vInfo only)"
            if "vhost" not in sheets
            else "vHost does not list them"
        )
        out.warn(
            "cores-unknown",
            f"{len(placeholders)} ESXi host(s) named by vInfo whose cores are unknown, because "
            f"{why}: {shown}; counted as 1 processor of 1 core (the minimums apply) — export "
            "the vHost tab too, or write their cores in hosts.csv",
            next(iter(placeholders.values())),
        )
    if windows:
        out.warn(
            "sql-server-invisible",
            f"RVTools lists no installed software: SQL Server on the {len(windows)} Windows VM(s) "
            f"(e.g. {', '.join(windows[:3])}) is not seen — import SIL or UAL from them, or add "
            "their software.csv rows",
            vinfo.header_source,
        )
    return names


def _placeholder(host: str, cluster: str, source: Source, out: Outcome) -> None:
    cells = {"host": host, "processors": "1", "cores_per_processor": "1", "placeholder": "yes"}
    if cluster:
        cells["cluster"] = cluster
    out.add("hosts", cells, source, weak=True)
    out.count("hosts (vInfo, cores unknown)")


def _moves(rows: Sequence[ExportRow], names: dict[str, str], out: Outcome) -> list[Move]:
    """vEvent rows that are migrations, as moves (VM ids as vInfo names them)."""
    moves = []
    days = dates_of(rows, "created time", out)
    for row, day in zip(rows, days, strict=True):
        kind = row.get("event type").lower()
        if kind and not any(word in kind for word in MIGRATION_TYPES):
            out.skip("vEvent row that is not a migration", row.source)
            continue
        vm_name = row.get("vm")
        ose = names.get(vm_name) or host_id(vm_name)
        host = host_id(row.get("host"))
        if not ose or not host or day is None:
            out.skip("vEvent row without a VM, a host or a Created Time date", row.source)
            continue
        moves.append(Move(ose, host, day, row.source, host_id(row.get("source host"))))
    return moves


def _host(row: ExportRow, clusters: set[str], out: Outcome) -> set[str]:
    host = host_id(row.get("host"))
    processors = _whole(row.get("# cpu"))
    per = _whole(row.get("cores per cpu"))
    if per is None and processors and _whole(row.get("# cores")):
        per = -(-(_whole(row.get("# cores")) or 0) // processors)
    if not host or processors is None or per is None:
        out.skip(
            "vHost row without a host name, or # CPU or Cores per CPU not a whole number",
            row.source,
        )
        return set()
    cells = {"host": host, "processors": str(processors), "cores_per_processor": str(per)}
    if row.get("cpu model"):
        cells["cpu_model"] = row.get("cpu model")
    cluster = row.get("cluster")
    if cluster:
        cells["cluster"] = cluster
        if clusters and cluster not in clusters:
            out.warn(
                "unknown-cluster",
                f"host {host} names cluster {cluster}, which vCluster does not list",
                row.source,
            )
    out.add("hosts", cells, row.source)
    out.count("hosts (vHost)")
    return {host}
