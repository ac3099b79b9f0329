"""Software Inventory Logging: ``Get-SilComputer`` and ``Get-SilSoftware`` exports.

``Get-SilComputer`` (``MsftSil_Computer``) gives a server's name, processors, cores, processor
model, OS name and whether it is a VM (``VmGuid``, or a virtual ``SystemManufacturer``/``Model``):
hosts.csv, oses.csv and the Windows Server row of software.csv. ``NumberOfCores`` is read as the
server's total (Microsoft's example shows 1 processor, 4 cores); cores per processor is the total
divided by the processors, rounded up. ``Get-SilSoftware`` (``MsftSil_Software``: ID,
InstallDate, Name, Vendor, Version) adds the Microsoft server products the catalog knows, where
the name gives their edition (SQL Server names seldom do: those are reported, not guessed).
A software export names its server by ``PSComputerName``, ``--server``, or the one
``Get-SilComputer`` export in the same folder.
Imports :mod:`entitle.catalog`, :mod:`entitle.source` and :mod:`entitle.importers` helpers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from entitle.catalog import Catalog
from entitle.importers import sil_access, sil_sql
from entitle.importers.exports import Export, ExportRow, read_export, require
from entitle.importers.names import host_id, is_virtual, product_of, windows_os
from entitle.importers.result import ImportResult, Outcome
from entitle.importers.servers import SystemId, server_rows
from entitle.importers.sil_sql import SqlRows
from entitle.source import Source

COMPUTER = ("Name", "NumberOfProcessors", "NumberOfCores")
SOFTWARE = ("Name", "Vendor", "Version")


UAL_ACCESS = ("RoleGuid", "SampleDate", "UniqueUserAccessCount", "UniqueDeviceAccessCount")
REQUIRED = {"computer": COMPUTER, "software": SOFTWARE, "ualaccess": UAL_ACCESS}


def _kind(export: Export) -> str | None:
    cls = export.type_name.lower()
    if cls.endswith("msftsil_computer") or export.has("NumberOfCores", "OSName"):
        return "computer"
    if cls.endswith("msftsil_software") or export.has("Name", "Vendor", "Version"):
        return "software"
    if cls.endswith("msftsil_ualaccess") or export.has("SampleDate", "UniqueUserAccessCount"):
        return "ualaccess"
    if cls.endswith("msftsil_windowsupdate") or export.has("ID", "InstallDate"):
        return "windowsupdate"
    return None


def _whole(text: str) -> int | None:
    try:
        number = int(text.strip())
    except ValueError:
        return None
    return number if number >= 1 else None


def import_sil(
    paths: Sequence[Path], catalog: Catalog, *, server: str | None = None
) -> ImportResult:
    out = Outcome("sil")
    computers: list[Export] = []
    software: list[Export] = []
    access: list[Export] = []
    unused: list[Export] = []
    for path in paths:
        export, problems = read_export(path, str(path))
        out.problems.extend(p for p in problems if p.severity == "error")
        for p in problems:
            if p.severity != "error":
                out.skip("row cut short or with extra fields", p.source)
        if export is None:
            continue
        kind = _kind(export)
        if kind is None:
            unused.append(export)
            continue
        if kind == "windowsupdate":
            out.skip(
                "Get-SilWindowsUpdate: installed updates say nothing about licenses",
                export.header_source,
                len(export.rows),
            )
            continue
        cmdlet = {"computer": "Get-SilComputer", "software": "Get-SilSoftware"}.get(
            kind, "Get-SilUalAccess"
        )
        problem = require(export, REQUIRED[kind], cmdlet)
        if problem is not None:
            out.problems.append(problem)
            continue
        {"computer": computers, "software": software, "ualaccess": access}[kind].append(export)
    _unused(unused, bool(computers or software or access), out)
    if out.problems:
        return out.result()
    systems: dict[str, SystemId] = {}
    by_folder: dict[Path, set[str]] = {}
    for export in computers:
        for row in export.rows:
            _computer(row, catalog, systems, out)
            by_folder.setdefault(export.path.parent, set()).add(host_id(row.get("name")))
    sql: dict[tuple[str, str], SqlRows] = {}
    for export in software + access:
        names = by_folder.get(export.path.parent, set()) - {""}
        fallback = server or (next(iter(names)) if len(names) == 1 else None)
        if fallback is None and not export.has("PSComputerName"):
            what = "software list" if export in software else "access count"
            out.error(
                Source(export.file, 1),
                f"which server is this {what} from? It has no PSComputerName column",
                "give --server NAME, or put the server's Get-SilComputer export in the same folder",
            )
            continue
        for row in export.rows:
            ose = host_id(row.get("pscomputername") or fallback or "")
            if export in software:
                _software(row, ose, catalog, sql, out)
            else:
                sil_access.access_row(row, ose, catalog, out)
    sil_sql.rows_for(sql, catalog, out)
    server_rows({}, systems, {}, out)
    return out.result()


def _unused(unused: list[Export], used: bool, out: Outcome) -> None:
    """Files that are no SIL export this importer reads: skipped with a warning naming each
    while some file is read, else the refusal."""
    for export in unused:
        message = "not a Get-SilComputer, Get-SilSoftware or Get-SilUalAccess export"
        hint = (
            "Get-SilComputer has "
            + ", ".join(COMPUTER)
            + "; Get-SilSoftware has "
            + ", ".join(SOFTWARE)
            + "; this file has "
            + ", ".join(export.header)
        )
        if used:
            out.warn("file-not-used", f"{export.file} skipped: {message}", export.header_source)
        else:
            out.error(export.header_source, message, hint)


def _computer(row: ExportRow, catalog: Catalog, systems: dict[str, SystemId], out: Outcome) -> None:
    ose = host_id(row.get("name"))
    processors = _whole(row.get("numberofprocessors"))
    cores = _whole(row.get("numberofcores"))
    if not ose or processors is None or cores is None:
        out.skip(
            "Get-SilComputer row without a name, or processors or cores not a whole number",
            row.source,
        )
        return
    virtual = bool(row.get("vmguid")) or is_virtual(row.get("systemmanufacturer"), row.get("model"))
    per_processor = -(-cores // processors)
    systems[ose] = SystemId(
        ose, processors, per_processor, virtual, "", row.source, row.get("processorname")
    )
    out.count("computers (Get-SilComputer)")
    if windows_os(out, ose, row.get("osname"), catalog, row.source):
        out.count("operating systems")
    elif row.get("osname"):
        out.skip(
            "OS name without a Windows Server edition and version the catalog knows", row.source
        )


def _software(
    row: ExportRow, ose: str, catalog: Catalog, sql: dict[tuple[str, str], SqlRows], out: Outcome
) -> None:
    named = product_of(row.get("name"), catalog)
    if named is None or named.product == "windows-server":
        out.skip("not a server product the catalog licenses")
        return
    product = catalog.products[named.product]
    if named.version is None:
        out.skip(f"{product.name}: a version the catalog does not know", row.source)
        return
    if named.product == "sql-server":
        sil_sql.collect(row.get("name"), named, row.source, sql, ose, out)
        return
    if product.editions and named.edition is None:
        out.skip(f"{product.name}: the name gives no edition; add it to software.csv", row.source)
        return
    cells = {"ose": ose, "product": named.product, "version": named.version}
    if named.edition:
        cells["edition"] = named.edition
    out.add("software", cells, row.source)
    out.count("server products (Get-SilSoftware)")
