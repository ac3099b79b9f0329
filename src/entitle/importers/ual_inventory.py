"""The small UAL exports: what each server is and runs, and who an address is.

- ``Get-UalOverview``: the roles a server has seen used, with their product names; each server's
  own overview is the authority for its role GUIDs.
- ``Get-UalSystemId``: processors and cores, and whether the server is a virtual machine.
- ``Get-UalHyperV`` (on a Hyper-V host): the VMs seen running there, by SMBIOS UUID.
- ``Get-UalDns`` or a DHCP/DNS table: address → host name.

:func:`entitle.importers.servers.server_rows` turns what these say into hosts and OSEs.
Imports :mod:`entitle.importers` helpers and :mod:`entitle.source`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from entitle.importers.exports import ExportRow
from entitle.importers.names import guid, host_id, is_address, is_virtual
from entitle.importers.result import Outcome
from entitle.importers.servers import SystemId
from entitle.importers.ual_files import NAME_COLUMNS, UalFile
from entitle.source import Source


@dataclass
class Inventory:
    overview: dict[tuple[str, str], tuple[str, str, Source]] = field(default_factory=dict)
    systems: dict[str, SystemId] = field(default_factory=dict)
    vm_hosts: dict[str, tuple[str, Source]] = field(default_factory=dict)  # VM UUID → host
    names: dict[str, str] = field(default_factory=dict)  # address → host id


def _server(row: ExportRow, f: UalFile) -> str:
    return host_id(row.get("pscomputername") or f.server or "")


def _whole(text: str) -> int | None:
    try:
        number = int(text.strip())
    except ValueError:
        return None
    return number if number >= 1 else None


def read_inventory(files: list[UalFile], out: Outcome) -> Inventory:
    inv = Inventory()
    for f in files:
        for row in f.export.rows:
            if f.kind == "overview":
                server = _server(row, f)
                if not server:
                    out.skip("overview row without a server name", row.source)
                    continue
                key = (server, guid(row.get("guid")))
                inv.overview[key] = (row.get("rolename"), row.get("productname"), row.source)
                out.count("overview roles")
            elif f.kind == "systemid":
                _system(row, inv, out)
            elif f.kind == "hyperv":
                host = _server(row, f)
                uuid = guid(row.get("uuid"))
                if host and uuid:
                    inv.vm_hosts[uuid] = (host, row.source)
                    out.count("Hyper-V VM sightings")
            elif f.kind in ("dns", "names"):
                ip = row.get("ipaddress", *NAME_COLUMNS[0]).lower()
                name = row.get("hostname", *NAME_COLUMNS[1])
                if not is_address(ip) or not name:
                    out.skip("address table row without an IP address and a host name", row.source)
                    continue
                device = host_id(name)
                if inv.names.get(ip, device) != device:
                    out.warn(
                        "address-reused",
                        f"{ip} names both {inv.names[ip]} and {device}; the later row is used",
                        row.source,
                    )
                inv.names[ip] = device
                out.count("address names")
    return inv


def _system(row: ExportRow, inv: Inventory, out: Outcome) -> None:
    ose = host_id(row.get("systemdnshostname"))
    processors = _whole(row.get("physicalprocessorcount"))
    cores = _whole(row.get("coresperphysicalprocessor"))
    if not ose:
        out.skip("Get-UalSystemId row without SystemDNSHostName", row.source)
        return
    if processors is None or cores is None:
        out.skip(
            "Get-UalSystemId row whose processor or core count is not a whole number", row.source
        )
        return
    virtual = is_virtual(row.get("systemmanufacturer"), row.get("systemproductname"))
    uuid = guid(row.get("systemsmbiosuuid"))
    inv.systems[ose] = SystemId(ose, processors, cores, virtual, uuid, row.source)
    out.count("servers described (Get-UalSystemId)")
