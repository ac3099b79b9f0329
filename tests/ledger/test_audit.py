"""The audit chain: every change is an event in the same transaction; verify passes on an
untouched ledger and names the event when a row or an event is edited or removed with plain SQL.
Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from entitle.catalog import default_catalog
from entitle.ledger import audit, moves, service
from entitle.ledger.importing import read_file
from entitle.ledger.models import Event

from .kit import ACTOR, write_csv

CSV = """
id,product,license,edition,version,quantity,purchased,assigned_to
WS-1,windows-server,core,standard,2022,16,2024-01-10,hv01
CAL-1,windows-server,user-cal,,2022,50,2024-01-10,
"""


def filled(ledger: service.Ledger, tmp_path: Path) -> None:
    """Events: 1 init, 2 WS-1, 3 CAL-1, 4 WS-1's assignment to hv01, 5 a CAL to ann."""
    candidates, problems = read_file(write_csv(tmp_path, "e.csv", CSV), default_catalog(), {})
    assert problems == []
    assert service.import_candidates(ledger, candidates).added == 2
    assert moves.assign(ledger, "CAL-1", ("user", "ann"), 1, date(2024, 2, 1)).ok


def check(ledger: service.Ledger) -> tuple[int, list[audit.Tampering]]:
    with Session(ledger.engine) as session:
        return audit.verify(session)


def sql(ledger: service.Ledger, statement: str) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(text(statement))


def test_every_change_is_an_event_with_who_when_before_and_after(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    filled(ledger, tmp_path)
    assert moves.reassign(
        ledger, "WS-1", ("host", "hv01"), ("host", "hv02"), 16, date(2024, 5, 1), None
    ).ok
    with Session(ledger.engine) as session:
        events = session.execute(select(Event).order_by(Event.seq)).scalars().all()
    assert [e.action for e in events] == [
        "ledger.init",
        "entitlement.import",
        "entitlement.import",
        "assignment.create",
        "assignment.create",
        "assignment.end",
        "assignment.move",
    ]
    assert {e.actor for e in events} == {ACTOR}
    assert all(e.at.utcoffset() == timedelta(0) for e in events)  # moments in UTC
    assert check(ledger) == (7, [])


def test_verify_names_the_event_after_a_row_is_edited(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    filled(ledger, tmp_path)
    sql(ledger, "UPDATE entitlements SET quantity = 500 WHERE ref = 'CAL-1'")
    count, found = check(ledger)
    assert count == 5
    assert found[0].seq == 3 and "quantity is 500 but the event says 50" in found[0].message


def test_verify_names_an_altered_event(ledger: service.Ledger, tmp_path: Path) -> None:
    filled(ledger, tmp_path)
    sql(ledger, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    _, found = check(ledger)
    assert found[0].seq == 3 and "altered" in found[0].message


def test_verify_names_a_removed_event(ledger: service.Ledger, tmp_path: Path) -> None:
    filled(ledger, tmp_path)
    sql(ledger, "DELETE FROM audit_events WHERE seq = 2")
    _, found = check(ledger)
    assert found[0].seq == 2 and "removed" in found[0].message


def test_verify_notices_the_last_event_removed(ledger: service.Ledger, tmp_path: Path) -> None:
    filled(ledger, tmp_path)
    sql(ledger, "DELETE FROM audit_events WHERE seq = 5")
    _, found = check(ledger)
    assert found[0].seq == 5 and "removed" in found[0].message


def test_verify_notices_a_row_inserted_or_deleted_behind_its_back(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    filled(ledger, tmp_path)
    sql(ledger, "DELETE FROM assignments WHERE holder = 'ann'")
    _, found = check(ledger)
    assert found[0].seq == 5 and "deleted outside the ledger" in found[0].message


def test_a_refused_move_writes_nothing(ledger: service.Ledger, tmp_path: Path) -> None:
    filled(ledger, tmp_path)
    assert moves.reassign(
        ledger, "WS-1", ("host", "hv01"), ("host", "hv02"), 16, date(2024, 5, 1), None
    ).ok
    refused = moves.reassign(
        ledger, "WS-1", ("host", "hv02"), ("host", "hv03"), 16, date(2024, 5, 2), None
    )
    assert not refused.ok and refused.allowed_from == date(2024, 7, 30)  # May 1 + 90 days
    assert check(ledger) == (7, [])


def test_a_return_without_a_count_takes_back_only_the_loaned_units(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    # ann holds 1 CAL of her own; bob's CAL covers her while he is away (§1.7, temporary).
    filled(ledger, tmp_path)
    assert moves.assign(ledger, "CAL-1", ("user", "bob"), 1, date(2024, 2, 1)).ok
    lent = moves.reassign(
        ledger, "CAL-1", ("user", "bob"), ("user", "ann"), None, date(2024, 3, 1), "absence"
    )
    assert lent.ok
    back = moves.reassign(ledger, "CAL-1", ("user", "ann"), None, None, date(2024, 3, 20), "return")
    assert back.ok and "moved 1 user-cal unit" in back.message and "to user bob" in back.message
    assert check(ledger)[1] == []
