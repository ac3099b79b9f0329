"""How an owned processor license (license kind ``processor``, bought before per-core licensing)
covers a per-core need on its host (licensing-rules.md §3.0, §3.4, §3.5, §5, §7.4).

A per-core need on a host is a number of *full licensings* of the host (Windows Server and System
Center Standard: one per 2 OSEs, stacked; Datacenter and SQL Server: one) of ``stack_cores`` core
licenses each. Processor licenses cover it when they cover every processor of the host
(``units_per_host`` units), and then each unit covers ``stacks_per_unit`` of the licensings: a
2-processor Windows Server 2012 R2 Standard license covers 2 OSEs (one Standard licensing), a
Datacenter license every OSE. So a 2 × 8-core host with four 2012 R2 VMs (2 licensings of 16
cores: 32) is covered by two Standard processor licenses, and a 4 × 8-core host with the same
VMs (2 licensings of 32 cores: 64) by two as well: max(ceil(4 / 2), ceil(4 / 2)) (§5).

Processor licenses whose Software Assurance reached a per-core version were converted into core
licenses before matching (:mod:`entitle.position.owned`); this module covers their own version
and earlier ones, their edition and lower ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from entitle.catalog.model import Catalog
from entitle.estate.records import Entitlement, Host
from entitle.rules.cores import physical_cores
from entitle.rules.demand import Need

PER_CORE_MODELS = ("per-core", "management")


@dataclass(frozen=True, slots=True)
class Fit:
    """How processor licenses cover one need."""

    units_per_host: int  # units that cover every processor of the host
    stack_cores: int  # core licenses of one full licensing of the host (in the need's units)
    stacks: int  # full licensings the need stands for
    stacks_per_unit: int  # licensings one unit covers once every processor is covered


def per_core(need: Need) -> bool:
    """Whether processor licenses may cover ``need`` at all (its host then decides)."""
    return need.license in ("core", "server-ml") and need.model in PER_CORE_MODELS


def native_fit(
    catalog: Catalog, e: Entitlement, version: str | None, need: Need, host: Host | None
) -> Fit | None:
    """How ``e`` (a processor license running ``version``) covers ``need``, or None if not."""
    if (
        e.license != "processor"
        or need.billed
        or e.product != need.product
        or not per_core(need)
        or host is None
        or host.processors is None
        or need.host != host.host
        or need.quantity <= 0
    ):
        return None
    if e.assigned_to is not None and e.assigned_to not in (need.host, need.ose):
        return None
    row = catalog.processor_license(e.product, e.edition, version or e.version)
    if row is None or not catalog.edition_covers(e.product, e.edition, need.edition):
        return None
    if (
        need.version is not None
        and version is not None
        and not catalog.version_covers(e.product, version, need.version)
    ):
        return None
    host_level = need.ose is None
    database = need.product == catalog.roles.database
    if database and host_level and (row.oses is not None or not row.host_vms):
        return None  # SQL VMs on a host: only unlimited-VM processor licenses (catalog choice)
    pack_rule = catalog.pack_rule(need.product)
    if database or pack_rule is None:
        stack_cores, stacks, per_stack = need.quantity, 1, 1
    else:
        stack_cores = physical_cores(
            host.processors, host.cores_per_processor, catalog.core_rule(pack_rule)
        )
        stacks = need.quantity // stack_cores
        if stacks < 1 or need.quantity % stack_cores:
            stack_cores, stacks = need.quantity, 1
        right = catalog.vm_right(need.product, "standard")
        per_stack = right.oses if right is not None and right.oses else 1
    per_unit = stacks if row.oses is None else max(1, row.oses // per_stack)
    return Fit(
        units_per_host=math.ceil(host.processors / row.processors),
        stack_cores=stack_cores,
        stacks=stacks,
        stacks_per_unit=min(per_unit, stacks),
    )
