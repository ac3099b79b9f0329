"""The catalog's Software Assurance rights and VM-history facts (table ``[sa_rights]``).

What Software Assurance (or a subscription) allows on the day of the position — License Mobility
within a server farm, SQL Server's passive failover copies — how long a license stays on a server
after a VM left it (the 90-day rule), and how far ahead a lapse of SA is reported (the next
true-up, a documented choice). licensing-rules.md §3.2, §3.5, §7.1–§7.3;
docs/rules/software-assurance-and-vm-history.md. The records are declared once; the file's
table is derived from them (catalog/filemodel.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from entitle.catalog.fields import rule
from entitle.catalog.filemodel import file_model, record_of

# `product:model` pairs a mobility row may name (the estate's models and the host-level ones).
MOBILITY_MODELS = ("per-core", "per-vm", "server-cal")


@dataclass(frozen=True, slots=True)
class Failover:
    """Passive failover copies allowed free per primary OSE whose licenses have active SA."""

    product: str
    ha: int = field(metadata=rule(ge=0))
    dr: int = field(metadata=rule(ge=0))
    azure_dr: int = field(metadata=rule(ge=0))
    source: str
    choice: str


@dataclass(frozen=True, slots=True)
class SaRights:
    # a license moves between servers at most once per this many days
    reassignment_days: int = field(metadata=rule(ge=1))
    reassignment_source: str
    reassignment_choice: str
    # a lapse of SA within this many days after the as-of date is reported
    true_up_days: int = field(metadata=rule(ge=0))
    true_up_choice: str
    # (product, model) that follow a VM only with SA; the file writes "product:model"
    mobility: tuple[tuple[str, str], ...] = field(metadata=rule(type=list[str]))
    mobility_source: str
    mobility_choice: str
    failover: tuple[Failover, ...] = field(metadata=rule(default_factory=list))

    def mobile_with_sa(self, product: str, model: str) -> bool:
        """Licenses of ``product`` used under ``model`` may follow a VM within a server farm
        when they have active SA; every other license stays on its server (90-day rule)."""
        return (product, model) in self.mobility

    def failover_for(self, product: str) -> Failover | None:
        for row in self.failover:
            if row.product == product:
                return row
        return None


# The [sa_rights] table as the file writes it, derived from the records (catalog/filemodel.py);
# the type checker reads it as the record.
if TYPE_CHECKING:
    SaRightsFile = SaRights
else:
    SaRightsFile = file_model(SaRights)


def check(data: Any, products: set[str]) -> list[str]:
    """Cross-checks of the validated table (:data:`SaRightsFile`): every product named exists,
    every mobility entry is ``product:model``."""
    problems = []
    for entry in data.mobility:
        product, _, model = entry.partition(":")
        if product not in products:
            problems.append(f"sa_rights.mobility: unknown product {product!r}")
        if model not in MOBILITY_MODELS:
            problems.append(
                f"sa_rights.mobility: {entry!r} must be product:model with a model among "
                + ", ".join(MOBILITY_MODELS)
            )
    for row in data.failover:
        if row.product not in products:
            problems.append(f"sa_rights.failover: unknown product {row.product!r}")
    return problems


def build(data: Any) -> SaRights | None:
    """The record of the validated table (:data:`SaRightsFile`), or None without one."""
    if data is None:
        return None
    pairs = tuple((p, m) for p, _, m in (entry.partition(":") for entry in data.mobility))
    return record_of(SaRights, data, mobility=pairs)


# Used when a catalog file has no [sa_rights] table (an older catalog given with --catalog):
# the Product Terms' 90 days, no mobility, no failover rights, a year to the next true-up.
DEFAULT = SaRights(
    reassignment_days=90,
    reassignment_source="licensing-rules.md §7.1",
    reassignment_choice="",
    true_up_days=365,
    true_up_choice="",
    mobility=(),
    mobility_source="",
    mobility_choice="",
    failover=(),
)
