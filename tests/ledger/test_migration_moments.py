"""Migration 0007 (moments become ``DateTime(timezone=True)``): a database at 0006 holding rows
with moments as text, in both forms the code wrote, and an audit chain hashed over that text,
upgrades on both engines with every moment read back equal and the chain still verifying."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from entitle.ledger import audit, db
from entitle.ledger.models import Event
from entitle.web.models import (
    Invitation,
    Job,
    Organisation,
    PasswordReset,
    StoredEstate,
    User,
)

WEB = "2026-12-06T18:00:00Z"  # what the web wrote (seconds)
AT = ["2026-12-06T18:00:00.000000Z", "2026-12-06T18:00:01.250001Z", "2026-12-31T23:59:59.999999Z"]


def old_hash(prev: str, seq: int, at: str, action: str, entity: str, after: str | None) -> str:
    """An event's hash as 0006's code computed it: ``at`` is the stored text."""
    body = json.dumps(
        [prev, seq, at, "ann", action, entity, None, after],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def fill_0006(engine: Engine) -> None:
    """An agreement with its audit events (the chain as 0006 wrote it) and one row of every
    web table with a moment, the optional moments both set and unset."""
    agreement = json.dumps(
        {"id": 1, "number": "EA-1", "program": "ea"}, sort_keys=True, separators=(",", ":")
    )
    events = [
        ("ledger.init", "ledger", '{"schema":"0006"}'),
        ("agreement.create", "agreement:1", agreement),
        ("entitlement.annotate", "note:9", '{"note":"x"}'),
    ]
    with db.writer(engine).begin() as conn:
        conn.execute(text("INSERT INTO agreements (number, program) VALUES ('EA-1', 'ea')"))
        prev = audit.GENESIS
        for seq, ((action, entity, after), at) in enumerate(zip(events, AT, strict=True), 1):
            digest = old_hash(prev, seq, at, action, entity, after)
            conn.execute(
                text(
                    "INSERT INTO audit_events (seq, at, actor, action, entity, before, after, "
                    "prev_hash, hash) VALUES (:s, :at, 'ann', :a, :e, NULL, :af, :p, :h)"
                ),
                {"s": seq, "at": at, "a": action, "e": entity, "af": after, "p": prev, "h": digest},
            )
            prev = digest
        conn.execute(text("UPDATE ledger_head SET seq = 3, hash = :h WHERE id = 1"), {"h": prev})
        for statement in [
            f"INSERT INTO web_orgs (slug, name, created_at) VALUES ('a', 'A', '{WEB}')",
            "INSERT INTO web_users (email, name, password_hash, created_at) "
            "VALUES ('a@a.test', 'a', 'x', '2026-12-06T18:00:02+01:00')",
            f"INSERT INTO web_tokens (user_id, name, token_hash, created_at) "
            f"VALUES (1, 't', 'th', '{WEB}')",
            f"INSERT INTO web_estates (org_id, name, folder, files, uploaded_by, uploaded_at, "
            f"status) VALUES (1, 'e', 'org-1/estate-1', '[]', 'a@a.test', '{WEB}', 'ready')",
            f"INSERT INTO web_jobs (org_id, estate_id, kind, state, progress, message, "
            f"created_at) VALUES (1, 1, 'import', 'done', 100, 'done', '{WEB}')",
            "INSERT INTO web_invitations (org_id, email, role, token_hash, invited_by, "
            "created_at, expires_at, accepted_at) VALUES (1, 'b@a.test', 'viewer', 'i1', "
            f"'a@a.test', '{WEB}', '2026-12-13T18:00:00Z', NULL)",
            "INSERT INTO web_invitations (org_id, email, role, token_hash, invited_by, "
            "created_at, expires_at, accepted_at) VALUES (1, 'c@a.test', 'viewer', 'i2', "
            f"'a@a.test', '{WEB}', '2026-12-13T18:00:00Z', '2026-12-07T09:30:00Z')",
            "INSERT INTO web_password_resets (user_id, token_hash, created_at, expires_at, "
            f"used_at) VALUES (1, 'r1', '{WEB}', '2026-12-06T19:00:00Z', '2026-12-06T18:20:00Z')",
        ]:
            conn.execute(text(statement))


def moment(text_: str) -> datetime:
    return datetime.fromisoformat(text_).astimezone(UTC)


def test_moments_and_the_audit_chain_survive_the_migration(url: str) -> None:
    engine = db.open_engine(url)
    try:
        db.upgrade(engine, "0006")
        fill_0006(engine)
        db.upgrade(engine)
        with Session(engine) as session:
            ats = session.execute(select(Event.at).order_by(Event.seq)).scalars().all()
            assert ats == [moment(a) for a in AT]
            assert all(a.tzinfo is not None for a in ats)
            # every hash written over the text still holds, and the agreement its event
            assert audit.verify(session) == (3, [])
            org = session.execute(select(Organisation)).scalar_one()
            assert org.created_at == datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
            # 18:00:02 at +01:00 is 17:00:02 UTC
            assert session.execute(select(User.created_at)).scalar_one() == datetime(
                2026, 12, 6, 17, 0, 2, tzinfo=UTC
            )
            assert session.execute(select(StoredEstate.uploaded_at)).scalar_one() == moment(WEB)
            assert session.execute(select(Job.created_at)).scalar_one() == moment(WEB)
            invites = session.execute(select(Invitation).order_by(Invitation.id)).scalars().all()
            assert [(i.expires_at, i.accepted_at) for i in invites] == [
                (moment("2026-12-13T18:00:00Z"), None),
                (moment("2026-12-13T18:00:00Z"), moment("2026-12-07T09:30:00Z")),
            ]
            reset = session.execute(select(PasswordReset)).scalar_one()
            assert (reset.created_at, reset.expires_at, reset.used_at) == (
                moment(WEB),
                moment("2026-12-06T19:00:00Z"),
                moment("2026-12-06T18:20:00Z"),
            )
            # compared as moments, not as text: 17:00:02 UTC is before 18:00:00 UTC
            earlier = select(User.id).where(User.created_at < moment(WEB))
            assert session.execute(earlier).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_new_event_after_the_migration_extends_the_old_chain(url: str) -> None:
    engine = db.open_engine(url)
    try:
        db.upgrade(engine, "0006")
        fill_0006(engine)
        db.upgrade(engine)
        with Session(db.writer(engine)) as session, session.begin():
            chain = audit.lock(session, "bob")
            chain.append("entitlement.annotate", "note:9", None, {"note": "y"})
        with Session(engine) as session:
            assert audit.verify(session) == (4, [])
            event = session.execute(select(Event).where(Event.seq == 4)).scalar_one()
            assert event.at.tzinfo is not None
    finally:
        engine.dispose()


def test_an_event_whose_text_would_not_hash_the_same_stops_the_migration(url: str) -> None:
    """An ``at`` in another form (no microseconds) cannot be given back as the text its hash
    covers: the migration refuses and changes nothing."""
    engine = db.open_engine(url)
    try:
        db.upgrade(engine, "0006")
        fill_0006(engine)
        with db.writer(engine).begin() as conn:
            conn.execute(text("UPDATE audit_events SET at = '2026-12-06T18:00:00Z' WHERE seq = 1"))
        with pytest.raises(RuntimeError, match="audit_events 1: at '2026-12-06T18:00:00Z'"):
            db.upgrade(engine)
        assert db.current_revision(engine) == "0006"
        with engine.connect() as conn:
            assert (
                conn.execute(text("SELECT at FROM audit_events WHERE seq = 2")).scalar_one()
                == (AT[1])
            )
    finally:
        engine.dispose()


def test_the_downgrade_gives_the_text_back(url: str) -> None:
    engine = db.open_engine(url)
    try:
        db.upgrade(engine, "0006")
        fill_0006(engine)
        db.upgrade(engine, "0007")  # 0008 has no downgrade (it would change vouched rows)
        db.downgrade(engine, "0006")
        with engine.connect() as conn:
            ats = conn.execute(text("SELECT at FROM audit_events ORDER BY seq")).scalars().all()
            assert ats == AT
            orgs = conn.execute(text("SELECT created_at FROM web_orgs")).scalar_one()
            assert orgs == WEB
    finally:
        engine.dispose()
