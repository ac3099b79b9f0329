"""Hosts and OSEs from what servers say about themselves (UAL system ids, SIL computers).

A physical server is a host with one OSE of the same name. A virtual machine runs on the host a
Hyper-V export names; where none does, on a placeholder host sized like the VM. A server known
only from evidence gets a placeholder host of one one-core processor (so the minimums apply).
Placeholders are weak rows marked ``placeholder=yes`` that a later inventory import replaces.
Imports :mod:`entitle.source` and :mod:`entitle.importers.result`.
"""

from __future__ import annotations

from dataclasses import dataclass

from entitle.importers.result import Outcome
from entitle.source import Source


@dataclass(frozen=True, slots=True)
class SystemId:
    ose: str
    processors: int
    cores_per_processor: int
    virtual: bool
    uuid: str
    source: Source
    cpu_model: str = ""


def server_rows(
    servers: dict[str, Source],
    systems: dict[str, SystemId],
    vm_hosts: dict[str, tuple[str, Source]],
    out: Outcome,
) -> None:
    """hosts.csv and oses.csv rows for every server seen (``servers``: id → first seen)."""
    by_uuid = {s.uuid: s for s in systems.values() if s.uuid}
    placed: dict[str, str] = {}
    for uuid, (host, where) in vm_hosts.items():
        vm = by_uuid.get(uuid)
        if vm is None:
            out.skip("Get-UalHyperV VM whose UUID no Get-UalSystemId export names", where)
        else:
            placed[vm.ose] = host
            servers.setdefault(host, where)
    unknown_cores: list[str] = []
    unknown_host: list[str] = []
    for ose in sorted(set(servers) | set(systems)):
        system = systems.get(ose)
        where = system.source if system else servers[ose]
        if system is not None and not system.virtual:
            host_cells = {
                "host": ose,
                "processors": str(system.processors),
                "cores_per_processor": str(system.cores_per_processor),
            }
            if system.cpu_model:
                host_cells["cpu_model"] = system.cpu_model
            out.add("hosts", host_cells, where)
            out.add("oses", {"ose": ose, "host": ose, "virtual": "no"}, where)
        elif system is not None:
            vcpus = str(system.processors * system.cores_per_processor)
            placed_on = placed.get(ose)
            if placed_on is not None:
                out.add(
                    "oses", {"ose": ose, "host": placed_on, "virtual": "yes", "vcpus": vcpus}, where
                )
                if placed_on not in systems:
                    _placeholder(placed_on, placed_on, where, out)
                    unknown_cores.append(placed_on)
                continue
            host = f"unknown-host-of-{ose}"
            out.add(
                "oses",
                {"ose": ose, "host": host, "virtual": "yes", "vcpus": vcpus},
                where,
                weak=True,
            )
            _placeholder(host, host, where, out, system.processors, system.cores_per_processor)
            unknown_host.append(ose)
        elif ose not in placed.values():
            out.add("oses", {"ose": ose, "host": ose, "virtual": "no"}, where, weak=True)
            _placeholder(ose, ose, where, out)
            unknown_cores.append(ose)
    if unknown_host:
        out.warn(
            "vm-host-unknown",
            f"{len(unknown_host)} virtual machine(s) on a host no export "
            "names, given a placeholder host sized like the VM (e.g. "
            f"{', '.join(unknown_host[:3])}); import RVTools or Hyper-V inventory",
        )
    if unknown_cores:
        out.warn(
            "cores-unknown",
            f"{len(unknown_cores)} server(s) without a processor and core "
            f"count (e.g. {', '.join(unknown_cores[:3])}): counted as 1 processor of 1 core,"
            " so the minimums apply; import Get-UalSystemId, SIL, RVTools or Hyper-V "
            "inventory for them",
        )


def _placeholder(
    host: str, _ose: str, where: Source, out: Outcome, processors: int = 1, cores: int = 1
) -> None:
    out.add(
        "hosts",
        {
            "host": host,
            "processors": str(processors),
            "cores_per_processor": str(cores),
            "placeholder": "yes",
        },
        where,
        weak=True,
    )
