"""Core counting: the minimums per processor and per server, the core factor, per-VM minimums and
packs (licensing-rules.md §3.1, §3.2, §3.5, §3.6)."""

from __future__ import annotations

import math
from decimal import Decimal

from entitle.catalog.model import Catalog, CoreFactor, CoreRule


def physical_cores(
    processors: int | None,
    cores_per_processor: int | None,
    rule: CoreRule,
    factor: Decimal | None = None,
) -> int:
    """Core licenses for a physical server: all of its physical cores times the core factor
    where the rule uses one, rounded up once for the whole server ("the number of physical
    cores on the server multiplied by the applicable core factor", licensing-rules.md §3.5,
    §3.6), and at least ``min_per_processor`` per processor and ``min_per_server`` per server.

    >>> from entitle.catalog import default_catalog
    >>> physical_cores(2, 12, default_catalog().core_rule("windows"))
    24
    >>> physical_cores(4, 6, default_catalog().core_rule("sql"), Decimal("0.75"))  # not 4 × 5
    18

    Unknown hardware (``None``: a provider's shared host, which no rule counts by its cores;
    docs/rules/cloud-and-hybrid.md) counts as no processors.
    """
    processors, cores_per_processor = processors or 0, cores_per_processor or 0
    counted = math.ceil(
        Decimal(processors * cores_per_processor) * (1 if factor is None else factor)
    )
    return max(rule.min_per_server, processors * rule.min_per_processor, counted)


def factor_for(
    catalog: Catalog, rule: CoreRule, cpu_model: str | None, cores_per_processor: int | None
) -> CoreFactor | None:
    """The core factor row that applies (None where the rule has no core factor or no row
    matches, i.e. factor 1)."""
    if not rule.core_factor or cores_per_processor is None:
        return None
    return catalog.core_factor(cpu_model, cores_per_processor)


def per_vm_cores(vcpus: int | None, rule: CoreRule) -> int:
    """Core licenses for one VM licensed by its virtual cores: at least ``per_vm_min``."""
    return max(rule.per_vm_min, vcpus or 0)


def packs(quantity: int, pack_sizes: tuple[int, ...]) -> dict[int, int]:
    """The fewest packs that hold ``quantity`` core licenses: largest packs first, the rest
    rounded up to the smallest pack (packs of one price per core, licensing-rules.md §3.1).

    >>> packs(20, (16, 2))
    {16: 1, 2: 2}
    >>> packs(5, (2,))
    {2: 3}
    """
    sizes = sorted(pack_sizes, reverse=True)
    out: dict[int, int] = {}
    left = max(0, quantity)
    for size in sizes[:-1]:
        n, left = divmod(left, size)
        if n:
            out[size] = n
    smallest = sizes[-1]
    n = math.ceil(left / smallest)
    if n:
        out[smallest] = n
    return out


def standard_oses(catalog: Catalog, product: str) -> int:
    """OSEs one full licensing of a host with the Standard edition covers (catalog ``vm_rights``:
    2 for Windows Server and System Center, licensing-rules.md §3.1, §5)."""
    right = catalog.vm_right(product, "standard")
    if right is None or right.oses is None:
        raise ValueError(f"the catalog gives no Standard OSE count for {product}")
    return right.oses
