"""VMware inventory from RVTools: the workbook (sheets ``vInfo``, ``vHost``, ``vCPU``,
``vCluster``) or its per-tab CSV export (``RVTools_tabvInfo.csv`` …).

- ``vHost``: hosts.csv (``Host``, ``# CPU``, ``Cores per CPU``, ``CPU Model``, ``Cluster``).
- ``vInfo``: oses.csv, one virtual OSE per VM (``VM``, ``Host``, ``CPUs``, ``DNS Name``), and the
  Windows Server row of software.csv where the guest OS names an edition (``OS according to the
  VMware Tools``, else ``… the configuration file``). Templates are left out; powered-off VMs are
  kept (they may be started at any time) with their ``powerstate``.
- ``vCPU``: the VM's vCPUs where ``vInfo`` has none; ``vCluster``: checks cluster names.
- ``vEvent`` (optional; RVTools' own tabs carry no history, so this is a tab or
  ``RVTools_tabvEvent.csv`` added from PowerCLI ``Get-VIEvent``: ``VM``, ``Host`` = where it
  arrived, ``Created Time``, optional ``Source Host`` and ``Event Type``): placements.csv, where
  each VM ran and when (vMotion, DRS; the 90-day rule, licensing-rules.md §7.1). Without it the
  import says that placements.csv is not filled.

An OSE's id is the guest's DNS host name when VMware Tools reports one, else the VM name, so that
UAL, SIL and AD name the same OSE. Imports :mod:`entitle.catalog`, :mod:`entitle.source` and
:mod:`entitle.importers` helpers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from entitle.catalog import Catalog
from entitle.importers.exports import Export, ExportRow, read_any, require
from entitle.importers.migrations import NO_HISTORY, Move, add_placements, dates_of
from entitle.importers.names import host_id, product_of
from entitle.importers.result import ImportResult, Outcome
from entitle.source import Source

SHEETS = {
    "vinfo": ("VM", "Host", "CPUs"),
    "vhost": ("Host", "# CPU", "Cores per CPU"),
    "vcpu": ("VM", "CPUs"),
    "vcluster": ("Name",),
    "vevent": ("VM", "Host", "Created Time"),
}
MIGRATION_TYPES = ("migrat", "relocat")  # VmMigratedEvent, DrsVmMigratedEvent, VmRelocatedEvent
TRUE = {"true", "yes", "1"}


def _sheet(export: Export) -> str | None:
    name = (export.sheet or Path(export.file).stem).lower().replace(" ", "")
    for sheet in SHEETS:
        if name.endswith(sheet):
            return sheet
    return None


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
            problem = require(export, SHEETS[sheet], f"RVTools {sheet}")
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
    if "vhost" in sheets:
        for row in sheets["vhost"].rows:
            _host(row, clusters, out)
    vcpus = {r.get("vm"): r.get("cpus") for r in sheets["vcpu"].rows} if "vcpu" in sheets else {}
    if "vinfo" in sheets:
        for row in sheets["vinfo"].rows:
            _vm(row, vcpus, catalog, out)
    if "vevent" in sheets:
        names = {
            r.get("vm"): host_id(r.get("dns name") or r.get("vm"))
            for r in (sheets["vinfo"].rows if "vinfo" in sheets else ())
        }
        add_placements(_moves(sheets["vevent"].rows, names, out), out)
    elif "vinfo" in sheets:
        out.warn(
            "no-migration-history",
            NO_HISTORY.format(what="RVTools", hint="a vEvent tab (Get-VIEvent migrations)"),
            sheets["vinfo"].header_source,
        )
    return out.result()


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


def _host(row: ExportRow, clusters: set[str], out: Outcome) -> None:
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
        return
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


def _vm(row: ExportRow, vcpus: dict[str, str], catalog: Catalog, out: Outcome) -> None:
    if row.get("template").lower() in TRUE:
        out.skip("template, not a VM", row.source)
        return
    ose = host_id(row.get("dns name") or row.get("vm"))
    host = host_id(row.get("host"))
    if not ose or not host:
        out.skip("vInfo row without a VM or host name", row.source)
        return
    cells = {"ose": ose, "host": host, "virtual": "yes"}
    cpus = _whole(row.get("cpus") or vcpus.get(row.get("vm"), ""))
    if cpus:
        cells["vcpus"] = str(cpus)
    if row.get("powerstate"):
        cells["powerstate"] = row.get("powerstate")
    out.add("oses", cells, row.source)
    out.count("VMs (vInfo)")
    guest = row.get("os according to the vmware tools", "os according to the configuration file")
    named = product_of(guest, catalog)
    if named is None or named.product != "windows-server":
        return
    if named.version and named.edition:
        out.add(
            "software",
            {
                "ose": ose,
                "product": "windows-server",
                "edition": named.edition,
                "version": named.version,
            },
            row.source,
        )
        out.count("Windows Server guests")
    else:
        out.skip(
            "Windows Server guest whose OS name gives no edition (add it to software.csv "
            "or import SIL/UAL from the VM)",
            row.source,
        )
