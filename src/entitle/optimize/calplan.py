"""What the CAL optimizer gives back — a :class:`CalPlan` of :class:`Holding` records of
:class:`Resource` kinds — and its limits, without the optimizer: NumPy and SciPy are loaded
only once there is a demand to optimise (:func:`plan_cals`), so a command that plans no CAL
(``entitle calc``) starts without them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    pass

CENT = Decimal("0.01")
MILP_LIMIT = 4000  # nodes: up to this a MILP closes a gap, ties broken exactly
MILP_COST_LIMIT = 150_000  # nodes: up to this a MILP closes a gap, ties as HiGHS leaves them
FLOAT_EXACT = 2**53  # integers below this are exact in a double


@dataclass(frozen=True, slots=True)
class Resource:
    """A kind of license the plan can buy: (holder kind, what)."""

    holder: str  # user | device | ec
    what: str  # a right ("windows-server:cal"), a suite id, or a product (for an EC)

    def is_suite(self) -> bool:
        """Whether this is a CAL Suite (a right is named ``product:kind``, a suite by its id)."""
        return self.holder != "ec" and ":" not in self.what

    def license(self) -> tuple[str, str, str | None]:
        """(product, license kind, edition/level) of one unit of this resource."""
        if self.holder == "ec":
            return (self.what, "external-connector", None)
        if self.is_suite():
            return (self.what, f"{self.holder}-cal", None)
        product, _, kind = self.what.partition(":")
        if kind == "ml":
            return (product, "client-ml-user" if self.holder == "user" else "client-ml-ose", None)
        level = "enterprise" if kind == "cal-enterprise" else None
        return (product, f"{self.holder}-cal", level)


@dataclass(frozen=True, slots=True)
class Holding:
    resource: Resource
    holder: str  # user id, device id or host id
    version: str | None
    because: tuple[str, ...]  # sources of the needs it covers


class Holdings(Sequence[Holding]):
    """A plan's holdings as columns (entry i of each is holding i), sorted by resource, then
    holder: the optimizer fills them with array operations, and whoever wants records iterates."""

    __slots__ = ("because", "holder", "resource", "version")

    def __init__(
        self,
        resource: list[Resource],
        holder: list[str],
        version: list[str | None],
        because: list[tuple[str, ...]],
    ):
        self.resource, self.holder, self.version, self.because = resource, holder, version, because

    @classmethod
    def of(cls, holdings: Iterable[Holding]) -> Holdings:
        if isinstance(holdings, Holdings):
            return holdings
        rows = list(holdings)
        return cls(
            [h.resource for h in rows],
            [h.holder for h in rows],
            [h.version for h in rows],
            [h.because for h in rows],
        )

    def columns(self) -> tuple[list[Any], ...]:
        return self.resource, self.holder, self.version, self.because

    def __len__(self) -> int:
        return len(self.holder)

    @overload
    def __getitem__(self, i: int) -> Holding: ...

    @overload
    def __getitem__(self, i: slice) -> Holdings: ...

    def __getitem__(self, i: int | slice) -> Holding | Holdings:
        if isinstance(i, slice):
            return Holdings(*(c[i] for c in self.columns()))
        return Holding(*(c[i] for c in self.columns()))

    def __iter__(self) -> Iterator[Holding]:
        return map(Holding, *self.columns())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Holdings({list(self)!r})"


@dataclass(frozen=True, slots=True)
class CalPlan:
    holdings: Sequence[Holding]  # Holdings (columns) from the optimizer
    cost: Decimal  # cost of what must be bought (owned units free)
    lower_bound: Decimal
    method: str

    @property
    def status(self) -> str:
        if self.cost <= self.lower_bound:
            return "optimal"
        gap = (self.cost - self.lower_bound) / self.cost * 100 if self.cost else Decimal(0)
        return f"within {gap.quantize(Decimal('0.01'))}%"


NOTHING = CalPlan((), Decimal(0), Decimal(0), "nothing to cover")
