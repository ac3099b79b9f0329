"""The 90-day rule counts from the last assignment, the first one included (issue #12 item 3).

Product Terms, Universal License Terms (licensing-rules.md §1.7 for CALs, §7.1 for server
licenses): a license may not be reassigned "on a short-term basis (i.e. not within 90 days of
the last assignment)". Day arithmetic (docs/rules/reassignment.md): the day of the assignment
is day 0, days 1 to 89 are within 90 days, day 90 is the first day a move is allowed.

Worked by hand: assigned on 2025-01-10. January 10 → 31 is 21 days, + 28 (February 2025) = 49,
+ 31 (March) = 80, + 10 → April 10 = 90. So 2025-04-09 (day 89) is refused, naming 2025-04-10,
and 2025-04-10 (day 90) is allowed. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import text

from entitle.catalog import default_catalog
from entitle.ledger import moves, service
from entitle.ledger.importing import read_file
from entitle.ledger.rules import Holding, judge

from .kit import write_csv

FIRST = date(2025, 1, 10)
DAY_89, DAY_90 = date(2025, 4, 9), date(2025, 4, 10)
ANN, BOB, EVE = ("user", "ann"), ("user", "bob"), ("user", "eve")
CSV = """
id,product,license,edition,version,quantity,purchased,assigned_to
WS-1,windows-server,core,standard,2022,16,2025-01-10,hv01
CAL-1,windows-server,user-cal,,2022,5,2024-06-01,
"""


def filled(ledger: service.Ledger, tmp_path: Path) -> None:
    candidates, problems = read_file(write_csv(tmp_path, "e.csv", CSV), default_catalog(), {})
    assert problems == []
    assert service.import_candidates(ledger, candidates).added == 2


def test_the_pure_rule_counts_day_90_from_the_first_assignment() -> None:
    held = Holding(1, ANN, FIRST, clock=FIRST)
    refused = judge("user-cal", held, BOB, DAY_89, None)
    assert not refused.allowed and refused.allowed_from == DAY_90
    assert "last assigned on 2025-01-10" in refused.message and "(1 day later)" in refused.message
    assert judge("user-cal", held, BOB, DAY_90, None).allowed


def test_a_first_assignment_moves_on_day_90_not_day_89(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    filled(ledger, tmp_path)
    assert moves.assign(ledger, "CAL-1", ANN, 1, FIRST).ok
    refused = moves.reassign(ledger, "CAL-1", ANN, BOB, 1, DAY_89, None)
    assert not refused.ok and refused.allowed_from == DAY_90
    assert "allows the next reassignment from 2025-04-10" in refused.message
    done = moves.reassign(ledger, "CAL-1", ANN, BOB, 1, DAY_90, None)
    assert done.ok, done.message
    # ...and the move restarts the clock: bob's unit waits until 2025-07-09 (April 10 → 30 is
    # 20 days, + 31 (May) = 51, + 30 (June) = 81, + 9 → July 9 = 90).
    again = moves.reassign(ledger, "CAL-1", BOB, EVE, 1, date(2025, 7, 8), None)
    assert not again.ok and again.allowed_from == date(2025, 7, 9)


def test_the_day_after_the_first_assignment_is_refused(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    # The old ledger allowed this: the first assignment did not start the clock.
    filled(ledger, tmp_path)
    assert moves.assign(ledger, "CAL-1", ANN, 1, FIRST).ok
    refused = moves.reassign(ledger, "CAL-1", ANN, BOB, 1, date(2025, 1, 11), None)
    assert not refused.ok and refused.allowed_from == DAY_90
    assert "(89 days later)" in refused.message  # Jan 11 + 89 days = Apr 10, counted above


def test_an_imported_assignment_starts_the_clock_on_its_purchase_day(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    # WS-1 is assigned to hv01 from its purchase date 2025-01-10 (assigned_to), §7.1.
    filled(ledger, tmp_path)
    refused = moves.reassign(ledger, "WS-1", ("host", "hv01"), ("host", "hv02"), 16, DAY_89, None)
    assert not refused.ok and refused.allowed_from == DAY_90
    assert moves.reassign(ledger, "WS-1", ("host", "hv01"), ("host", "hv02"), 16, DAY_90, None).ok


def test_a_split_keeps_the_first_assignments_clock(ledger: service.Ledger, tmp_path: Path) -> None:
    # 2 CALs to ann on 2025-01-10; one moves on day 90 (the rest stays, split into a new row
    # dated 2025-04-10); the remaining unit still counts from 2025-01-10, so it may move too.
    filled(ledger, tmp_path)
    assert moves.assign(ledger, "CAL-1", ANN, 2, FIRST).ok
    assert moves.reassign(ledger, "CAL-1", ANN, BOB, 1, DAY_90, None).ok
    assert moves.reassign(ledger, "CAL-1", ANN, EVE, 1, date(2025, 4, 11), None).ok


def test_rows_written_before_the_fix_count_from_their_first_assignment(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    # A ledger written by the old code has no clock on first assignments (nor on the rows
    # split from them): the rule counts from the start of the chain's first row.
    filled(ledger, tmp_path)
    assert moves.assign(ledger, "CAL-1", ANN, 2, FIRST).ok
    with ledger.engine.begin() as conn:
        conn.execute(text("UPDATE assignments SET clock = NULL"))
    refused = moves.reassign(ledger, "CAL-1", ANN, BOB, 1, DAY_89, None)
    assert not refused.ok and refused.allowed_from == DAY_90
    assert moves.reassign(ledger, "CAL-1", ANN, BOB, 1, DAY_90, None).ok  # splits ann's row
    with ledger.engine.begin() as conn:  # as the old code wrote the split: no clock
        conn.execute(text("UPDATE assignments SET clock = NULL WHERE holder = 'ann'"))
    # ann's remaining unit still counts from 2025-01-10, not from the split on 2025-04-10.
    assert moves.reassign(ledger, "CAL-1", ANN, EVE, 1, date(2025, 4, 11), None).ok


def test_the_exceptions_still_move_at_once(ledger: service.Ledger, tmp_path: Path) -> None:
    # §1.7: end of employment, and a temporary reallocation for an absence, do not wait.
    filled(ledger, tmp_path)
    assert moves.assign(ledger, "CAL-1", ANN, 2, FIRST).ok
    left = moves.reassign(ledger, "CAL-1", ANN, BOB, 1, date(2025, 1, 11), "end-of-employment")
    assert left.ok, left.message
    lent = moves.reassign(ledger, "CAL-1", ANN, EVE, 1, date(2025, 1, 12), "absence")
    assert lent.ok, lent.message
    # §7.1: permanent hardware failure frees a server license the day after its assignment.
    died = moves.reassign(
        ledger,
        "WS-1",
        ("host", "hv01"),
        ("host", "hv02"),
        16,
        date(2025, 1, 11),
        "hardware-failure",
    )
    assert died.ok, died.message
