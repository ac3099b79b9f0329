"""The audit trail: every change is an event chained to the one before by SHA-256.

An event holds who (actor), when (UTC), what (action and entity) and the row before and after,
as canonical JSON. Its hash covers all of that and the previous event's hash, so editing or
deleting any event breaks every link after it. The tip of the chain (last ``seq`` and hash) is
kept in ``ledger_head``; writers lock that row first, so two writers never fork the chain.
:func:`verify` recomputes the chain and compares every live row with the ``after`` of its last
event, and names the first event that was altered or removed.
Imports the ledger models and SQLAlchemy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from entitle.ledger.clock import iso, utc_now
from entitle.ledger.models import ALL_ORGS, ENTITIES, Base, EntitlementRow, Event, Head

GENESIS = "0" * 64


def canonical(data: Any) -> str:
    """The one JSON text of ``data`` that the hash sees: sorted keys, no spaces."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    before: str | None,
    after: str | None,
) -> str:
    """The hash of one event. The moment enters as :func:`~entitle.ledger.clock.iso` text, the
    text that was stored before moments were ``DateTime`` columns (migration 0007), so the
    hashes of events written then still verify."""
    body = canonical([prev_hash, seq, iso(at), actor, action, entity, before, after])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def row_state(row: Base) -> dict[str, Any]:
    """A row as plain JSON values, as its audit event records it. A product key appears only as
    a digest of its ciphertext: the audit trail never holds a key, even encrypted."""
    state: dict[str, Any] = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        if isinstance(value, date):
            value = value.isoformat()
        if column.key == "product_key" and value is not None:
            value = "sha256:" + hashlib.sha256(value.encode("ascii")).hexdigest()[:16]
        state[column.key] = value
    return state


def entity_of(row: Base) -> str:
    kind = next(name for name, model in ENTITIES.items() if isinstance(row, model))
    return f"{kind}:{row.id}"  # type: ignore[attr-defined]


class Chain:
    """Appends events inside one write transaction. Create it with :func:`lock`."""

    def __init__(self, session: Session, head: Head, actor: str):
        self.session = session
        self.head = head
        self.actor = actor
        self.at = utc_now()
        self.appended = 0

    def record(self, action: str, row: Base, before: dict[str, Any] | None = None) -> Event:
        """Append one event for ``row`` with its state now as ``after`` (flushed first, so
        its id is known)."""
        self.session.flush()
        return self.append(action, entity_of(row), before, row_state(row))

    def append(
        self,
        action: str,
        entity: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> Event:
        seq = self.head.seq + 1
        before_text = None if before is None else canonical(before)
        after_text = None if after is None else canonical(after)
        digest = event_hash(
            self.head.hash, seq, self.at, self.actor, action, entity, before_text, after_text
        )
        event = Event(
            seq=seq,
            at=self.at,
            actor=self.actor,
            action=action,
            entity=entity,
            before=before_text,
            after=after_text,
            prev_hash=self.head.hash,
            hash=digest,
        )
        self.session.add(event)
        self.head.seq, self.head.hash = seq, digest
        self.appended += 1
        return event


def lock(session: Session, actor: str) -> Chain:
    """Lock the chain's tip for this transaction (``SELECT … FOR UPDATE`` on PostgreSQL; on
    SQLite the transaction already holds the write lock from ``BEGIN IMMEDIATE``)."""
    head = session.execute(select(Head).where(Head.id == 1).with_for_update()).scalar_one()
    return Chain(session, head, actor)


@dataclass(frozen=True, slots=True)
class Tampering:
    """Something verify found: the event it concerns (``seq``) and what is wrong."""

    seq: int
    message: str

    def __str__(self) -> str:
        return f"event {self.seq}: {self.message}"


def verify(session: Session) -> tuple[int, list[Tampering]]:
    """Recompute the chain. Returns the number of events checked and what is wrong, first
    problem first (an empty list: the ledger is as its events say)."""
    found: list[Tampering] = []
    prev, expected = GENESIS, 1
    last: dict[str, Event] = {}
    for event in session.execute(select(Event).order_by(Event.seq)).scalars():
        if event.seq != expected:
            gone = f"{expected}" if event.seq == expected + 1 else f"{expected}–{event.seq - 1}"
            found.append(Tampering(expected, f"missing: event {gone} was removed"))
            return expected - 1, found
        if event.prev_hash != prev:
            found.append(Tampering(event.seq, "altered: its link to the event before is broken"))
            return event.seq, found
        digest = event_hash(
            event.prev_hash,
            event.seq,
            event.at,
            event.actor,
            event.action,
            event.entity,
            event.before,
            event.after,
        )
        if digest != event.hash:
            found.append(
                Tampering(
                    event.seq,
                    f"altered: its content ({event.action} {event.entity}) does not match its hash",
                )
            )
            return event.seq, found
        prev, expected = event.hash, expected + 1
        last[event.entity] = event
    count = expected - 1
    head = session.execute(select(Head).where(Head.id == 1)).scalar_one()
    if head.seq > count:
        gone = f"{count + 1}" if head.seq == count + 1 else f"{count + 1}–{head.seq}"
        found.append(
            Tampering(
                count + 1,
                f"missing: event {gone} was removed (the chain ends "
                f"at event {count}, the ledger head says {head.seq})",
            )
        )
    elif head.seq < count or head.hash != prev:
        found.append(
            Tampering(
                head.seq + 1,
                "the ledger head does not match the last event: "
                "events were appended outside the ledger",
            )
        )
    found.extend(_rows_against_events(session, last))
    return count, sorted(found, key=lambda t: t.seq)


def verify_engine(engine: Engine) -> tuple[int, str, list[Tampering]]:
    """:func:`verify` in its own session, with the hash of the chain's tip: write that hash down
    elsewhere (a report, a ticket) to anchor the chain against a rewrite of every event."""
    with Session(engine) as session:
        count, found = verify(session)
        head = session.execute(select(Head).where(Head.id == 1)).scalar_one()
        return count, head.hash, found


def _rows_against_events(session: Session, last: dict[str, Event]) -> list[Tampering]:
    """Every live row must equal the ``after`` of its last event, and every row an event says
    exists must exist. The chain is one for every organisation: so is this check."""
    found: list[Tampering] = []
    seen: set[str] = set()
    for kind, model in ENTITIES.items():
        every = select(model).execution_options(**{ALL_ORGS: True})
        for row in session.execute(every).scalars():
            entity = f"{kind}:{row.id}"  # type: ignore[attr-defined]
            seen.add(entity)
            named = f"{entity} ({row.ref})" if isinstance(row, EntitlementRow) else entity
            event = last.get(entity)
            if event is None or event.after is None:
                found.append(
                    Tampering(
                        max((e.seq for e in last.values()), default=0) + 1,
                        f"{named} has no audit event: it was inserted outside the ledger",
                    )
                )
                continue
            recorded = json.loads(event.after)
            state = row_state(row)
            changed = sorted(
                k for k in state.keys() | recorded.keys() if state.get(k) != recorded.get(k)
            )
            if changed:
                what = ", ".join(
                    f"{k} is {state.get(k)!r} but the event says {recorded.get(k)!r}"
                    for k in changed
                )
                found.append(
                    Tampering(
                        event.seq,
                        f"{named} was changed outside the ledger after this event ({what})",
                    )
                )
    for entity, event in last.items():
        if entity.split(":")[0] in ENTITIES and event.after is not None and entity not in seen:
            found.append(Tampering(event.seq, f"{entity} was deleted outside the ledger"))
    return found
