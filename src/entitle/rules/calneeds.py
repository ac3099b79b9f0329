"""A CAL need (:class:`CalNeed`) and the CAL demand as columns (:class:`CalNeeds`).

The rules append each need to :class:`CalNeeds` as one entry of every column — a million access
rows make a million or more needs, and a record per need was most of the cost of reading them
back into the optimizer's columns (:mod:`entitle.optimize.calrows`). Whoever wants records
iterates: each :class:`CalNeed` is made then, from the columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import attrgetter, itemgetter
from typing import Any, overload


@dataclass(frozen=True, slots=True)
class CalNeed:
    right: str
    user: str | None
    device: str | None
    version: str | None
    ose: str | None = None
    host: str | None = None
    external: bool = False
    source: str = ""
    with_base: bool = True  # the access also needs the base right (false on pay-as-you-go)
    # the user already holds the base right through a subscription (CAL equivalency, §6.3):
    # on the user's side the additive right alone; on the device's side still with its base
    user_has_base: bool = False
    # the access row the need comes from, where ``source`` says more (an implied Windows Server
    # CAL, a request relayed by a front end); blank: ``source`` is the row
    row: str = ""

    @property
    def product(self) -> str:
        return self.right.split(":", 1)[0]


FIELDS = tuple(CalNeed.__dataclass_fields__)


class CalNeeds(Sequence[CalNeed]):
    """CAL needs as columns, one list per field of :class:`CalNeed`: entry i of each is need
    i. Appended to while the rules run, read only afterwards."""

    __slots__ = FIELDS

    right: list[str]
    user: list[str | None]
    device: list[str | None]
    version: list[str | None]
    ose: list[str | None]
    host: list[str | None]
    external: list[bool]
    source: list[str]
    with_base: list[bool]
    user_has_base: list[bool]
    row: list[str]

    def __init__(self, columns: Sequence[list[Any]] | None = None):
        for name, column in zip(FIELDS, columns or [[] for _ in FIELDS], strict=True):
            setattr(self, name, column)

    @classmethod
    def of(cls, needs: Iterable[CalNeed]) -> CalNeeds:
        """``needs`` as columns (itself if it is already)."""
        if isinstance(needs, CalNeeds):
            return needs
        records = needs if isinstance(needs, list | tuple) else list(needs)
        return cls([list(map(attrgetter(f), records)) for f in FIELDS])

    @classmethod
    def from_rows(cls, rows: list[tuple[Any, ...]]) -> CalNeeds:
        """From one tuple per need, its fields in :class:`CalNeed`'s order (a tuple and one
        append per need is what the rules can make fastest; the columns come in one pass)."""
        return cls([list(c) for c in zip(*rows, strict=True)]) if rows else cls()

    @classmethod
    def joined(cls, parts: Iterable[Sequence[CalNeed]]) -> CalNeeds:
        """The needs of ``parts``, one after the other."""
        out = [CalNeeds.of(p).columns() for p in parts]
        if not out:
            return cls()
        return cls([[x for part in same for x in part] for same in zip(*out, strict=True)])

    def append(
        self,
        right: str,
        user: str | None,
        device: str | None,
        version: str | None,
        ose: str | None = None,
        host: str | None = None,
        external: bool = False,
        source: str = "",
        with_base: bool = True,
        user_has_base: bool = False,
        row: str = "",
    ) -> None:
        self.right.append(right)
        self.user.append(user)
        self.device.append(device)
        self.version.append(version)
        self.ose.append(ose)
        self.host.append(host)
        self.external.append(external)
        self.source.append(source)
        self.with_base.append(with_base)
        self.user_has_base.append(user_has_base)
        self.row.append(row)

    def columns(self) -> list[list[Any]]:
        return [getattr(self, f) for f in FIELDS]

    def take(self, indices: Iterable[int]) -> CalNeeds:
        """The needs at ``indices``, in that order (each column gathered in C, by
        ``itemgetter``: the SQL CAL search takes a set of needs per trial)."""
        at = list(indices)
        if len(at) < 2:
            return CalNeeds([[column[i] for i in at] for column in self.columns()])
        get = itemgetter(*at)
        return CalNeeds([list(get(column)) for column in self.columns()])

    def where(self, keep: Iterable[bool]) -> CalNeeds:
        """The needs where ``keep`` is true, in their order."""
        mask = list(keep)
        return CalNeeds([list(compress(column, mask)) for column in self.columns()])

    def __len__(self) -> int:
        return len(self.right)

    @overload
    def __getitem__(self, i: int) -> CalNeed: ...

    @overload
    def __getitem__(self, i: slice) -> CalNeeds: ...

    def __getitem__(self, i: int | slice) -> CalNeed | CalNeeds:
        if isinstance(i, slice):
            return CalNeeds([column[i] for column in self.columns()])
        return CalNeed(*(column[i] for column in self.columns()))

    def __iter__(self) -> Iterator[CalNeed]:
        return map(CalNeed, *self.columns())

    def __add__(self, other: Iterable[CalNeed]) -> CalNeeds:
        more = CalNeeds.of(other)
        return CalNeeds([a + b for a, b in zip(self.columns(), more.columns(), strict=True)])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CalNeeds({list(self)!r})"
