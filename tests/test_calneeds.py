"""The CAL demand and the plan as columns (rules/calneeds.py, optimize/calplan.py): the records
read back are the records put in, in order, whichever way the columns were made."""

from __future__ import annotations

from entitle.optimize.calrows import rows_of
from entitle.rules.calneeds import CalNeed, CalNeeds

A = CalNeed("windows-server:cal", "ann", "pc1", "2022", "o1", "h1", False, "access.csv:2")
B = CalNeed("rds:cal", "bob", None, "2022", "o2", "h2", True, "access.csv:3", False, True, "r")
C = CalNeed("configuration-manager:ml", None, "pc2", None, source="managed.csv:2")


def test_records_in_are_records_out() -> None:
    needs = CalNeeds()
    for n in (A, B, C):
        needs.append(*(getattr(n, f) for f in CalNeed.__dataclass_fields__))
    assert list(needs) == [A, B, C]
    assert needs == (A, B, C) and needs == (A, B, C)
    assert len(needs) == 3 and needs[1] == B and list(needs[1:]) == [B, C]
    assert CalNeeds.of([A, B, C]) == needs
    assert list(needs.take([2, 0])) == [C, A]
    assert list(needs.take([1])) == [B] and list(needs.take([])) == []
    assert list(needs.where([True, False, True])) == [A, C]
    assert list(needs + (A,)) == [A, B, C, A]
    assert needs.right == ["windows-server:cal", "rds:cal", "configuration-manager:ml"]


def test_rows_of_columns_and_of_records_are_the_same() -> None:
    by_columns, by_records = rows_of(CalNeeds.of((A, B, C, A))), rows_of((A, B, C, A))
    for field in ("row_group", "first", "right", "user", "device", "host", "user_base"):
        assert getattr(by_columns, field).tolist() == getattr(by_records, field).tolist()
    assert by_columns.sources == ["access.csv:2", "access.csv:3", "managed.csv:2", "access.csv:2"]
    assert by_columns.row_group.tolist() == [0, 1, 2, 0]  # A twice: one group


def test_holdings_in_columns_read_back_as_records() -> None:
    """The plan's holdings (optimize/calplan.py) are columns too: the same records come back."""
    from entitle.optimize.calplan import Holding, Holdings, Resource

    a = Holding(Resource("user", "windows-server:cal"), "ann", "2022", ("access.csv:2",))
    b = Holding(Resource("ec", "windows-server"), "h1", None, ("access.csv:3", "access.csv:4"))
    held = Holdings.of([a, b])
    assert list(held) == [a, b] and held == (a, b) and held[1] == b and list(held[:1]) == [a]
    assert held.holder == ["ann", "h1"]
