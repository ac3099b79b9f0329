"""The catalog's Software Assurance rights and VM-history facts (table ``[sa_rights]``).

What Software Assurance (or a subscription) allows on the day of the position — License Mobility
within a server farm, SQL Server's passive failover copies — how long a license stays on a server
after a VM left it (the 90-day rule), and how far ahead a lapse of SA is reported (the next
true-up, a documented choice). licensing-rules.md §3.2, §3.5, §7.1–§7.3;
docs/rules/software-assurance-and-vm-history.md. Imports only the standard library and pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

# `product:model` pairs a mobility row may name (the estate's models and the host-level ones).
MOBILITY_MODELS = ("per-core", "per-vm", "server-cal")


@dataclass(frozen=True, slots=True)
class Failover:
    """Passive failover copies allowed free per primary OSE whose licenses have active SA."""

    product: str
    ha: int
    dr: int
    azure_dr: int
    source: str
    choice: str


@dataclass(frozen=True, slots=True)
class SaRights:
    reassignment_days: int  # a license moves between servers at most once per this many days
    reassignment_source: str
    reassignment_choice: str
    true_up_days: int  # a lapse of SA within this many days after the as-of date is reported
    true_up_choice: str
    mobility: tuple[tuple[str, str], ...]  # (product, model) that follow a VM only with SA
    mobility_source: str
    mobility_choice: str
    failover: tuple[Failover, ...]

    def mobile_with_sa(self, product: str, model: str) -> bool:
        """Licenses of ``product`` used under ``model`` may follow a VM within a server farm
        when they have active SA; every other license stays on its server (90-day rule)."""
        return (product, model) in self.mobility

    def failover_for(self, product: str) -> Failover | None:
        for row in self.failover:
            if row.product == product:
                return row
        return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FailoverFile(_Strict):
    product: str
    ha: int = Field(ge=0)
    dr: int = Field(ge=0)
    azure_dr: int = Field(ge=0)
    source: str
    choice: str


class SaRightsFile(_Strict):
    reassignment_days: int = Field(ge=1)
    reassignment_source: str
    reassignment_choice: str
    true_up_days: int = Field(ge=0)
    true_up_choice: str
    mobility: list[str]
    mobility_source: str
    mobility_choice: str
    failover: list[FailoverFile] = []


def check(data: SaRightsFile, products: set[str]) -> list[str]:
    """Cross-checks: every product named exists, every mobility entry is ``product:model``."""
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


def build(data: SaRightsFile | None) -> SaRights | None:
    if data is None:
        return None
    return SaRights(
        reassignment_days=data.reassignment_days,
        reassignment_source=data.reassignment_source,
        reassignment_choice=data.reassignment_choice,
        true_up_days=data.true_up_days,
        true_up_choice=data.true_up_choice,
        mobility=tuple((p, m) for p, _, m in (entry.partition(":") for entry in data.mobility)),
        mobility_source=data.mobility_source,
        mobility_choice=data.mobility_choice,
        failover=tuple(Failover(**row.model_dump()) for row in data.failover),
    )


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
